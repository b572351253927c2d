"""Protrusion workflow of the plugin, free of Qt: settings form description, detection steps, layer tables.

Detection is :func:`surfscan.detect_protrusions`; this module describes its
settings for a form, runs it step by step for a progress display, and turns
its result into what napari layers need: a ``features`` table with one row
per label value (row 0 = background) and centroid points in pixel indices.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surfscan import Micrograph, Surface

__all__ = [
    "SettingField",
    "field_settings",
    "SETTING_FIELDS",
    "settings_from_form",
    "form_defaults",
    "ProtrusionResult",
    "protrusion_steps",
    "protrusion_remeasure_steps",
    "PROTRUSION_STEPS",
    "label_features",
    "centroid_pixels",
    "summary_text",
    "TABLE_COLUMNS",
]


@dataclass(frozen=True)
class SettingField:
    """One detection setting as a form shows it.

    ``kind`` is ``"choice"`` (``choices``), ``"float"`` (``minimum``,
    ``maximum``, ``decimals``, ``unit``; 0 means ``zero`` — None or "auto"),
    or ``"bool"``. ``label`` and ``tip`` are for people.
    """

    name: str
    label: str
    kind: str
    default: Any
    tip: str
    choices: tuple[str, ...] = ()
    unit: str = ""
    minimum: float = 0.0
    maximum: float = 1e6
    decimals: int = 2
    zero: Any = None
    zero_text: str = ""


#: The settings of :class:`surfscan.protrusions.ProtrusionSettings` in the order the form shows them.
SETTING_FIELDS: tuple[SettingField, ...] = (
    SettingField("polarity", "Objects are", "choice", "bright", "bright / raised objects, or dark / sunk ones",
                 choices=("bright", "dark")),
    SettingField("k", "Threshold k", "float", 0.0, "core threshold in robust noise rms, hysteresis to half of it "
                 "(auto: fitted to the texture)", minimum=0.0, maximum=100.0, decimals=1, zero="auto", zero_text="auto"),
    SettingField("h_abs_um", "Minimum height", "float", 0.0, "height maps: the threshold is at least this height",
                 unit="µm", maximum=1e4, decimals=3, zero=0.0, zero_text="none"),
    SettingField("min_area_um2", "Minimum area", "float", 0.0, "smallest object kept (auto: 9 pixels)",
                 unit="µm²", maximum=1e8, decimals=3, zero_text="auto"),
    SettingField("min_size_um", "Smallest size", "float", 0.0, "expected smallest diameter (auto: 3x the texture grain)",
                 unit="µm", maximum=1e5, decimals=2, zero_text="auto"),
    SettingField("max_size_um", "Largest size", "float", 0.0, "expected largest diameter (auto: no limit)",
                 unit="µm", maximum=1e5, decimals=2, zero_text="auto"),
    SettingField("max_aspect", "Max. elongation", "float", 3.0, "longer objects (scratches, crack rims) are not counted",
                 minimum=0.0, maximum=100.0, decimals=1, zero_text="no limit"),
    SettingField("form", "Form removal", "choice", "poly:2", "height maps: polynomial fitted on inliers only",
                 choices=("poly:2", "poly:3", "plane", "none")),
    SettingField("lambda_c_um", "Background λc", "float", 0.0, "robust background cut-off (auto: from the sizes)",
                 unit="µm", maximum=1e6, decimals=1, zero="auto", zero_text="auto"),
    SettingField("despike", "Remove spikes", "bool", True, "height maps: 3x3 median on single-pixel spikes"),
    SettingField("split", "Split touching", "bool", False, "watershed split of touching objects"),
    SettingField("pixel_size_um", "Pixel size", "float", 0.0, "SEM: override the file's calibration",
                 unit="µm", maximum=1e4, decimals=5, zero_text="from file"),
    SettingField("false_alarms_per_mm2", "False alarms", "float", 0.0, "SEM: how many texture blobs per mm² may "
                 "pass the threshold (auto: the detector's default)", unit="per mm²", maximum=1e9, decimals=2,
                 zero_text="auto"),
    SettingField("false_discovery_rate", "False discoveries", "float", 0.05, "SEM: once objects are found, the "
                 "texture may add this share of them (0: the budget of an image without objects)", maximum=0.5,
                 decimals=2, zero=0.0, zero_text="off"),
)

#: Columns shown in the object table, with header text.
TABLE_COLUMNS = {
    "id": "id",
    "x_um": "x (µm)",
    "y_um": "y (µm)",
    "area_um2": "area (µm²)",
    "equivalent_diameter_um": "diameter (µm)",
    "max_height_um": "height (µm)",
    "volume_um3": "volume (µm³)",
    "mean_contrast": "contrast",
    "aspect_ratio": "aspect",
    "touches_edge": "edge",
}


def form_defaults() -> dict[str, Any]:
    """Form values that stand for the library's default settings (None and "auto" shown as 0)."""
    from dataclasses import fields

    from surfscan.protrusions import ProtrusionSettings

    library = {f.name: getattr(ProtrusionSettings(), f.name) for f in fields(ProtrusionSettings)}
    out = {}
    for f in SETTING_FIELDS:
        value = library.get(f.name, f.default)
        if f.kind == "float":
            value = 0.0 if value is None or value == "auto" or value == f.zero else float(value)
        out[f.name] = value
    return out


def field_settings(fields: tuple[SettingField, ...], values: dict[str, Any]) -> dict[str, Any]:
    """Keyword settings from form values of ``fields`` (a float field's 0 -> its ``zero``; absent fields left out)."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.name in values:
            v = values[f.name]
            out[f.name] = (f.zero if float(v) == 0.0 else float(v)) if f.kind == "float" else v
    return out


def settings_from_form(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword settings for ``detect_protrusions`` from form values (0 -> the field's ``zero``)."""
    return field_settings(SETTING_FIELDS, values)


@dataclass(frozen=True)
class ProtrusionResult:
    """What one detection produced, ready for layers.

    Attributes
    ----------
    protrusions : surfscan.protrusions.Protrusions
        The library's result (``table``, ``labels``, ``summary``).
    features : DataFrame
        One row per label value 0..max (row 0 = background), for ``Labels.features``.
    points : ndarray (n, 2)
        Centroids in pixel indices (row, column), one per table row.
    spacing : tuple of float
        ``(dy, dx)`` in µm used to convert the centroids.
    """

    protrusions: Any
    features: pd.DataFrame
    points: np.ndarray
    spacing: tuple[float, float]

    @property
    def table(self) -> pd.DataFrame:
        """The object table (one row per protrusion)."""
        return self.protrusions.table


PROTRUSION_STEPS = 2


def _spacing(obj: Surface | Micrograph, settings: dict[str, Any], summary: dict[str, Any]) -> tuple[float, float]:
    """Row and column spacing in µm that the detector used."""
    if isinstance(obj, Surface):
        return obj.dy, obj.dx
    used = summary.get("settings", {}).get("pixel_size_um") or settings.get("pixel_size_um") or obj.pixel_size or 1.0
    return float(used), float(used)


def label_features(table: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """A features table with one row per label value, row 0 = background.

    Rows follow the label values 0..max(labels); ``index`` holds the label
    value (napari's Labels layer maps rows by it), the table's columns follow.
    Background (and any label without a table row) gets NaN numbers and
    False flags.
    """
    n = int(max(int(labels.max()) if labels.size else 0, int(table["id"].max()) if len(table) else 0))
    feats = table.set_index("id").reindex(pd.RangeIndex(0, n + 1, name="id"))
    for col in table.columns:
        if col != "id" and table[col].dtype == bool:
            feats[col] = feats[col].astype("boolean").fillna(False).astype(bool)
    feats = feats.reset_index()
    feats.insert(0, "index", feats["id"].to_numpy())
    return feats


def centroid_pixels(table: pd.DataFrame, spacing: tuple[float, float]) -> np.ndarray:
    """Centroids ``(row, column)`` in pixel indices from ``x_um``, ``y_um`` (x = column * dx)."""
    if len(table) == 0:
        return np.empty((0, 2))
    return np.column_stack([table["y_um"].to_numpy(float) / spacing[0], table["x_um"].to_numpy(float) / spacing[1]])


def protrusion_steps(obj: Surface | Micrograph, settings: dict[str, Any]) -> Generator[str, None, ProtrusionResult]:
    """Detect protrusions step by step (yields step names, returns a :class:`ProtrusionResult`)."""
    from surfscan.protrusions import detect_protrusions

    yield "detecting protrusions"
    found = detect_protrusions(obj, **settings)
    yield "building layers"
    return _result(found, obj, settings)


def protrusion_remeasure_steps(
    obj: Surface | Micrograph, labels: np.ndarray, settings: dict[str, Any]
) -> Generator[str, None, ProtrusionResult]:
    """Count and measure the objects of an edited label image step by step
    (:func:`surfscan.measure_protrusions_from_labels`; of the form's settings only
    ``polarity`` and ``pixel_size_um`` matter)."""
    from surfscan import measure_protrusions_from_labels

    yield "measuring protrusions from the labels"
    found = measure_protrusions_from_labels(obj, labels, polarity=settings.get("polarity", "bright"),
                                            pixel_size=settings.get("pixel_size_um"))
    yield "building layers"
    return _result(found, obj, settings)


def _result(found: Any, obj: Surface | Micrograph, settings: dict[str, Any]) -> ProtrusionResult:
    spacing = _spacing(obj, settings, found.summary)
    features = label_features(found.table, found.labels)
    return ProtrusionResult(found, features, centroid_pixels(found.table, spacing), spacing)


def summary_text(summary: dict[str, Any]) -> str:
    """``"12 protrusions · 3.4 per mm²"``."""
    count = int(summary.get("count", 0))
    density = summary.get("density_per_mm2")
    noun = "protrusion" if count == 1 else "protrusions"
    dens = f" · {density:.4g} per mm²" if density is not None else ""
    return f"{count} {noun}{dens}"

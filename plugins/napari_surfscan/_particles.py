"""Particle workflow of the plugin, free of Qt: settings form, measurement steps, layer tables, summary text.

All analysis is :func:`surfscan.measure_particles`; this module describes its
settings for a form, runs it step by step for a progress display and shapes
its result for napari: a ``features`` table with one row per label value
(row 0 = background), label colours by shape class (point-like / linear), an
ECD histogram and the summary as text and a small D-value table.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surfscan import Micrograph, SurfscanError

from ._protrusions import SettingField, field_settings, label_features

__all__ = [
    "SETTING_FIELDS",
    "THRESHOLD_METHODS",
    "GREY_LEVEL",
    "CLASS_COLORS",
    "TABLE_COLUMNS",
    "PARTICLE_STEPS",
    "ParticleResult",
    "form_defaults",
    "settings_from_form",
    "particle_steps",
    "particle_remeasure_steps",
    "editable_colormap",
    "NEW_LABEL_COLOR",
    "class_colormap",
    "ecd_histogram",
    "d_value_table",
    "summary_text",
    "fractions_text",
    "particles_csv",
]

#: Threshold choices offered in the form; :data:`GREY_LEVEL` uses the "grey_level" field.
GREY_LEVEL = "grey level"
THRESHOLD_METHODS = ("otsu", "li", "triangle", "yen", "isodata", GREY_LEVEL)

#: Label colours of the two shape classes (RGBA hex); the background is transparent.
CLASS_COLORS = {"point-like": "#33b5ffff", "linear": "#ff8c1aff"}
_TRANSPARENT = "#00000000"
#: Colour of labels painted since the last measurement (not yet in the table): visible while editing.
NEW_LABEL_COLOR = "#f5f5f5cc"
#: Colour of particles found but not measured because the image border cuts them.
BORDER_COLOR = "#8c8c8c99"

#: The settings of :func:`surfscan.measure_particles` in the order the form shows them.
SETTING_FIELDS: tuple[SettingField, ...] = (
    SettingField("polarity", "Particles are", "choice", "bright", "brighter or darker than the background",
                 choices=("bright", "dark")),
    SettingField("threshold", "Threshold", "choice", "otsu", "automatic threshold method, or a fixed grey level",
                 choices=THRESHOLD_METHODS),
    SettingField("grey_level", "Grey level", "float", 128.0, "the threshold when 'grey level' is chosen",
                 minimum=-1e9, maximum=1e9, decimals=1),
    SettingField("min_diameter_um", "Min. diameter", "float", 0.0, "smaller particles are noise (auto: 3 pixels)",
                 unit="µm", maximum=1e5, decimals=3, zero_text="auto"),
    SettingField("background_um", "Background", "float", 0.0, "subtract a Gaussian background this wide against "
                 "uneven shading (about 5x the largest particle); none by default",
                 unit="µm", maximum=1e6, decimals=1, zero_text="none"),
    SettingField("split", "Split touching", "bool", True, "distance-transform watershed split at necks"),
    SettingField("linear_above", "Linear above", "float", 2.0, "aspect ratio (Feret max / min) above which a "
                 "particle is linear", minimum=1.0, maximum=100.0, decimals=2, zero=0.0),
    SettingField("smooth_um", "Smoothing", "float", 0.0, "Gaussian smoothing before thresholding (auto: one pixel)",
                 unit="µm", maximum=1e4, decimals=3, zero_text="auto"),
    SettingField("exclude_border", "Exclude border", "bool", True, "particles cut by the image border are not "
                 "measured (their size is unknown)"),
    SettingField("pixel_size", "Pixel size", "float", 0.0, "override the layer's calibration",
                 unit="µm", maximum=1e4, decimals=5, zero_text="from layer"),
)

#: Columns shown in the particle table, with header text.
TABLE_COLUMNS = {
    "id": "id",
    "ecd_um": "ECD (µm)",
    "feret_max_um": "Feret max (µm)",
    "feret_min_um": "Feret min (µm)",
    "aspect_ratio": "aspect",
    "shape_class": "class",
    "area_um2": "area (µm²)",
    "x_um": "x (µm)",
    "y_um": "y (µm)",
}

PARTICLE_STEPS = 2


def form_defaults() -> dict[str, Any]:
    """Form values standing for the library's defaults (None shown as 0, i.e. "auto"/"none")."""
    from surfscan import measure_particles

    params = inspect.signature(measure_particles).parameters
    out: dict[str, Any] = {}
    for f in SETTING_FIELDS:
        value = params[f.name].default if f.name in params else f.default
        if f.name == "threshold" and not isinstance(value, str):
            value = GREY_LEVEL
        if f.kind == "float":
            value = 0.0 if value is None else float(value)
        out[f.name] = value
    return out


def settings_from_form(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword settings for the particle run from form values.

    ``threshold`` becomes the grey level when :data:`GREY_LEVEL` is chosen;
    zero lengths become None (the library's automatic choice); a zero
    ``pixel_size`` means "from the layer" and is left out.
    """
    out = field_settings(SETTING_FIELDS, values)
    out.pop("grey_level", None)
    if out.get("threshold") == GREY_LEVEL:
        out["threshold"] = float(values.get("grey_level", 128.0))
    if "pixel_size" in out and out["pixel_size"] is None:
        del out["pixel_size"]
    return out


@dataclass(frozen=True)
class ParticleResult:
    """What one particle measurement produced, ready for layers.

    Attributes
    ----------
    particles : surfscan.particles.Particles
        The library's result (``table``, ``labels``, ``summary``).
    features : DataFrame
        One row per label value 0..max (row 0 = background), for ``Labels.features``.
    colors : dict
        Label value -> RGBA hex colour by shape class (None and 0 transparent),
        for a direct label colormap.
    pixel_size : float
        µm per pixel the measurement used.
    """

    particles: Any
    features: pd.DataFrame
    colors: dict[Any, str]
    pixel_size: float

    @property
    def table(self) -> pd.DataFrame:
        """The particle table (one row per particle)."""
        return self.particles.table

    @property
    def summary(self) -> dict[str, Any]:
        """The library's summary dict."""
        return self.particles.summary


def class_colormap(table: pd.DataFrame, labels: np.ndarray | None = None) -> dict[Any, str]:
    """Label value -> colour of its shape class; background (0) and unlisted labels (None) transparent.

    Values of ``labels`` that are not in the table (particles cut by the image
    border) get :data:`BORDER_COLOR`.
    """
    colors: dict[Any, str] = {None: _TRANSPARENT, 0: _TRANSPARENT}
    if labels is not None:
        colors.update((int(v), BORDER_COLOR) for v in np.unique(labels) if v)
    for label, cls in zip(table["id"].to_numpy(), table["shape_class"].to_numpy()):
        colors[int(label)] = CLASS_COLORS.get(str(cls), _TRANSPARENT)
    return colors


def particle_steps(micrograph: Micrograph, settings: dict[str, Any]) -> Generator[str, None, ParticleResult]:
    """Measure particles step by step (yields step names, returns a :class:`ParticleResult`).

    ``settings`` are :func:`settings_from_form`'s; a ``pixel_size`` entry
    replaces the micrograph's calibration.
    """
    from surfscan import measure_particles

    micrograph, settings = _calibrated(micrograph, settings)
    yield "measuring particles"
    found = measure_particles(micrograph, **settings)
    yield "building layers"
    return _result(found, micrograph)


def particle_remeasure_steps(
    micrograph: Micrograph, labels: np.ndarray, settings: dict[str, Any]
) -> Generator[str, None, ParticleResult]:
    """Measure the particles of an edited label image step by step (:func:`surfscan.measure_particles_from_labels`).

    ``settings`` are the form's: only ``linear_above``, ``exclude_border`` and
    ``pixel_size`` matter (the segmentation settings do not: the labels replace
    the segmentation).
    """
    from surfscan import measure_particles_from_labels

    micrograph, settings = _calibrated(micrograph, settings)
    yield "measuring particles from the labels"
    found = measure_particles_from_labels(micrograph, labels, linear_above=settings.get("linear_above", 2.0),
                                          exclude_border=settings.get("exclude_border", True))
    yield "building layers"
    return _result(found, micrograph)


def _calibrated(micrograph: Micrograph, settings: dict[str, Any]) -> tuple[Micrograph, dict[str, Any]]:
    """The micrograph with the form's pixel size (when given) and the settings without it."""
    if not isinstance(micrograph, Micrograph):
        raise SurfscanError(f"particles are measured on SEM images, not on a {type(micrograph).__name__}")
    settings = dict(settings)
    pixel = settings.pop("pixel_size", None)
    if pixel:
        micrograph = micrograph.replace(pixel_size=float(pixel))
    return micrograph, settings


def _result(found: Any, micrograph: Micrograph) -> ParticleResult:
    return ParticleResult(found, label_features(found.table, found.labels), class_colormap(found.table, found.labels),
                          float(micrograph.pixel_size))


def editable_colormap(colors: dict[Any, str]) -> dict[Any, str]:
    """:func:`class_colormap` colours with labels not in the table (painted since) shown in :data:`NEW_LABEL_COLOR`."""
    return {**colors, None: NEW_LABEL_COLOR}


def ecd_histogram(table: pd.DataFrame, bins: int | None = None) -> pd.DataFrame:
    """Counts of equivalent circular diameters per bin, split by shape class.

    Bins are equal in width from the smallest to the largest ECD (``bins``
    of them; default about sqrt(n), between 5 and 30). Columns: ``lower_um``,
    ``upper_um``, ``point-like``, ``linear``, ``count``.
    """
    d = table["ecd_um"].to_numpy(float)
    if d.size == 0:
        return pd.DataFrame(columns=["lower_um", "upper_um", "point-like", "linear", "count"])
    n = bins or int(np.clip(round(np.sqrt(d.size)), 5, 30))
    edges = np.histogram_bin_edges(d, bins=n)
    out = pd.DataFrame({"lower_um": edges[:-1], "upper_um": edges[1:]})
    for cls in CLASS_COLORS:
        out[cls] = np.histogram(d[table["shape_class"].to_numpy() == cls], edges)[0]
    out["count"] = out["point-like"] + out["linear"]
    return out


def d_value_table(summary: dict[str, Any]) -> pd.DataFrame:
    """D10, D50, D90 in µm, number- and volume-weighted (NaN when no particle was measured)."""
    rows = []
    for d in ("d10", "d50", "d90"):
        rows.append({"": d.upper(), "number (µm)": float(summary.get(f"{d}_um", np.nan)),
                     "volume (µm)": float(summary.get(f"{d}_v_um", np.nan))})
    return pd.DataFrame(rows)


def summary_text(summary: dict[str, Any]) -> str:
    """``"57 particles · D50 2.44 µm"`` (number-weighted D50)."""
    count = int(summary.get("count", 0))
    noun = "particle" if count == 1 else "particles"
    d50 = summary.get("d50_um")
    return f"{count} {noun}" + (f" · D50 {d50:.3g} µm" if d50 is not None else "")


def fractions_text(summary: dict[str, Any]) -> str:
    """Shape classes, mean size and what was left out, in one line."""
    if not summary.get("count"):
        return "no particles measured"
    limit = summary.get("settings", {}).get("linear_above", 2.0)
    parts = [f"point-like {100 * summary['point_like_fraction']:.0f} % · linear (aspect > {limit:g}) "
             f"{100 * summary['linear_fraction']:.0f} %",
             f"mean ECD {summary['mean_ecd_um']:.3g} µm · mean aspect {summary.get('mean_aspect_ratio', np.nan):.2f}"]
    if summary.get("excluded_border"):
        parts.append(f"{summary['excluded_border']} cut by the border (grey) not measured")
    thr = summary.get("threshold") or {}
    if thr:
        parts.append(f"threshold {thr.get('value', np.nan):.4g} ({thr.get('method')})")
    return "\n".join(parts)


def particles_csv(result: ParticleResult) -> str:
    """The particle table as CSV (lengths in µm, as the column names say)."""
    return result.table.to_csv(index=False)

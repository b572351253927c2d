"""Settings and result of the protrusion detector."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._renamed import new_names, renamed_fields
from ..errors import SurfscanError

__all__ = ["ProtrusionSettings", "Protrusions", "percentiles", "K_GAUSSIAN", "K_FLOOR"]

_POLARITY = {"bright": 1, "up": 1, "dark": -1, "down": -1}
K_GAUSSIAN = 6.0  # k that keeps a Gaussian texture of a full field free of false detections
K_FLOOR = 3.0  # the automatic k never goes below this
#: Settings renamed to carry their unit: old name -> new name (the old ones warn for one release).
_RENAMED = {"h_abs": "h_abs_um", "min_area": "min_area_um2", "min_size": "min_size_um", "max_size": "max_size_um",
            "lambda_c": "lambda_c_um", "pixel_size": "pixel_size_um"}


@renamed_fields(_RENAMED)
@dataclass(frozen=True)
class ProtrusionSettings:
    """How protrusions are found. Lengths in µm, areas in µm².

    Attributes
    ----------
    polarity : {"bright", "dark"}
        ``"bright"`` (also ``"up"``): objects brighter than (SEM) or rising
        above (height map) their surroundings; ``"dark"`` (``"down"``): darker
        or sunk (pits).
    k : float or "auto"
        The core threshold is ``k`` times the robust noise rms (height maps:
        ``Sq_robust = 1.4826 * MAD`` of the levelled heights; SEM: the
        upper-side robust rms of the band-passed contrast). Objects grow by
        hysteresis down to half the core threshold. ``"auto"`` (default):
        height maps take the level that the texture's own peaks exceed 0.05
        times per map (an exponential fit to the upper tail of the blob
        maxima), in units of ``Sq_robust`` and held between 3 and 6, so a
        Gaussian texture gets 6 and a bounded, flattened one (a packed
        particle layer) a lower threshold; SEM images take 6 (the texture's
        extreme level is applied there in any case). The value used is in
        ``summary["settings"]["k"]``.
    h_abs_um : float
        Height maps: the core threshold is at least this height (µm).
    min_area_um2 : float or None
        Smallest object area kept (µm²); None = 9 pixels.
    min_size_um, max_size_um : float or None
        Expected protrusion diameters (µm). SEM: the band-pass is matched to
        them and objects whose equivalent diameter is below ``0.75 * min_size_um``
        or above ``2 * max_size_um`` are dropped; ``min_size_um=None`` = three times
        the texture grain measured on the image (at least 4 pixels). Height
        maps: a gate on the equivalent diameter when given.
    max_aspect : float or None
        Elongation limit (major / minor axis of the equivalent ellipse);
        longer objects (crack rims, scratches) are not counted.
    form : str
        Height maps: polynomial form removed, fitted on inliers only
        (``"poly:N"``, ``"plane"`` or ``"none"``).
    lambda_c_um : float, "auto" or None
        Cut-off (µm) of the robust Gaussian background removal (an L-filter
        that ignores the candidates). ``"auto"``: four times ``max_size_um`` when
        given, else an eighth of the shorter side of the field. None: none.
    despike : bool
        Height maps: replace single-pixel spikes by their 3 x 3 median first.
    split : bool
        Keep touching objects apart (off by default). Height maps: a
        watershed split; SEM: touching extents of separate detections are
        not merged into one object (an agglomerate then counts once per
        particle found in it).
    pixel_size_um : float or None
        SEM: pixel size in µm overriding the image's calibration (needed for
        uncalibrated images; give 1 to work in pixels).
    false_alarms_per_mm2 : float or None
        SEM: how many detections per mm² the substrate's texture alone may
        produce (the per-scale thresholds are set for it). None (default):
        0.01 per 1024 x 768-pixel field whatever the pixel size, since a
        texture's chance maxima scale with pixels, not area; the value used
        (per mm²) is in ``summary["settings"]``.
    false_discovery_rate : float
        SEM: once the first pass has found N objects, the budget of false
        detections is raised to this share of them (``max(budget, rate * N)``,
        a false-discovery-rate level as in source detection): among objects
        known to be there, faint ones of the same kind are counted rather than
        missed, while an image without objects keeps the budget above.
        Default 0.05; 0 keeps the budget above for every image.

    The names before the unit suffixes (``h_abs``, ``min_area``, ``min_size``,
    ``max_size``, ``lambda_c``, ``pixel_size``) are still accepted, with a
    DeprecationWarning, for one release.

    Examples
    --------
    >>> from surfscan import ProtrusionSettings
    >>> st = ProtrusionSettings(min_size_um=2.0, max_size_um=12.0, polarity="up")
    >>> st.min_size_um, st.sign
    (2.0, 1)
    """

    polarity: str = "bright"
    k: float | str = "auto"
    h_abs_um: float = 0.0
    min_area_um2: float | None = None
    min_size_um: float | None = None
    max_size_um: float | None = None
    max_aspect: float | None = 3.0
    form: str = "poly:2"
    lambda_c_um: float | str | None = "auto"
    despike: bool = True
    split: bool = False
    pixel_size_um: float | None = None
    false_alarms_per_mm2: float | None = None
    false_discovery_rate: float = 0.05

    def __post_init__(self) -> None:
        if str(self.polarity).lower() not in _POLARITY:
            raise SurfscanError(f"polarity must be 'bright' or 'dark' (or 'up'/'down'), not {self.polarity!r}")
        object.__setattr__(self, "polarity", str(self.polarity).lower())
        if isinstance(self.k, str):
            if self.k.strip().lower() != "auto":
                raise SurfscanError(f"protrusion setting k must be a positive number or 'auto', got {self.k!r}")
            object.__setattr__(self, "k", "auto")
        for name in ("k", "min_area_um2", "min_size_um", "max_size_um", "max_aspect", "pixel_size_um",
                     "false_alarms_per_mm2"):
            v = getattr(self, name)
            if name == "k" and v == "auto":
                continue
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise SurfscanError(f"protrusion setting {name} must be a positive number, got {v!r}")
        q = self.false_discovery_rate
        if isinstance(q, bool) or not (isinstance(q, (int, float)) and math.isfinite(q) and 0 <= q < 1):
            raise SurfscanError(f"protrusion setting false_discovery_rate must be a share from 0 to below 1, got {q!r}")
        if not (math.isfinite(self.h_abs_um) and self.h_abs_um >= 0):
            raise SurfscanError(f"protrusion setting h_abs_um must be a height >= 0 µm, got {self.h_abs_um!r}")
        lc = self.lambda_c_um
        if lc is not None and lc != "auto" and not (isinstance(lc, (int, float)) and math.isfinite(lc) and lc > 0):
            raise SurfscanError(f"protrusion setting lambda_c_um must be a length in µm, 'auto' or None, got {lc!r}")
        if self.min_size_um and self.max_size_um and self.min_size_um > self.max_size_um:
            raise SurfscanError(f"min_size_um {self.min_size_um} µm is larger than max_size_um {self.max_size_um} µm")

    @property
    def k_fixed(self) -> float | None:
        """``k`` as a number, or None when it is ``"auto"``."""
        return None if self.k == "auto" else float(self.k)

    @property
    def sign(self) -> int:
        """+1 for bright / up objects, -1 for dark / down ones."""
        return _POLARITY[self.polarity]

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> ProtrusionSettings:
        """Settings from keyword arguments, with a clear error for an unknown name (old names warn)."""
        kwargs = new_names(cls.__name__, kwargs, cls.RENAMED, stacklevel=4)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise SurfscanError(f"unknown protrusion setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**kwargs)


def percentiles(values: np.ndarray) -> dict[str, float | None]:
    """p10, p50, p90 and max of an array (None when empty)."""
    v = np.asarray(values, float)
    if v.size == 0:
        return {"p10": None, "p50": None, "p90": None, "max": None}
    p = np.percentile(v, [10, 50, 90])
    return {"p10": float(p[0]), "p50": float(p[1]), "p90": float(p[2]), "max": float(v.max())}


@dataclass(frozen=True, eq=False)
class Protrusions:
    """Protrusions found on a height map or an SEM image.

    Attributes
    ----------
    table : DataFrame
        One row per object: ``id`` (its value in :attr:`labels`), ``x_um``,
        ``y_um`` (centroid; x = column * dx), ``area_um2``,
        ``equivalent_diameter_um``, ``aspect_ratio``, ``touches_edge`` (touches
        the image border); height maps add ``touches_invalid`` (next to
        non-measured points), ``max_height_um`` and ``volume_um3`` (above the
        local background); SEM images add ``mean_contrast`` (mean relative
        brightness change over the local background, negative = darker).
    labels : ndarray of int32
        Label image, 0 = background, ``id`` = object.
    summary : dict
        ``count``, ``density_per_mm2`` (per mm² of measured area), sizes and
        heights (or contrasts) as percentiles, ``detection_limit`` (thresholds
        in physical units) and ``settings`` (as used, automatic values resolved).
    """

    table: pd.DataFrame
    labels: np.ndarray
    summary: dict[str, Any]
    image: np.ndarray | None = field(repr=False, default=None)
    display_range: tuple[float, float] = (0.0, 1.0)

    # ``image`` is what the overlay is drawn on (levelled heights in µm, or the
    # SEM image as stored); ``display_range`` maps it to black..white.

    @property
    def count(self) -> int:
        """Number of objects."""
        return int(self.summary["count"])

    @property
    def density_per_mm2(self) -> float:
        """Objects per mm² of measured area."""
        return float(self.summary["density_per_mm2"])

    def write_overlay(self, path: str | Path) -> Path:
        """Write a PNG: the image with object outlines (green; orange where touching the border)."""
        from .overlay import write_overlay

        return write_overlay(self, path)


def checked_cutoff_px(cutoff_um: float, pixel_um: float, setting: str = "lambda_c_um") -> float:
    """A background cut-off given in µm, in pixels; one clear error when it is shorter than two pixels.

    ``setting`` names where the cut-off came from in the message. A cut-off
    that short makes the background follow every pixel: nothing
    would be left to detect, and the error that followed ("flat", "no
    texture") would not say why.
    """
    px = cutoff_um / pixel_um
    if px < 2.0:
        raise SurfscanError(f"{setting} {cutoff_um:g} µm is shorter than two pixels ({2 * pixel_um:.4g} µm): the "
                            "background would follow every pixel and leave nothing to detect")
    return px

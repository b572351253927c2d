"""Particle size distribution of the active material from an SEM micrograph.

:func:`measure_particles` segments particles (smoothing, optional background
flattening, a hysteresis threshold: :mod:`surfscan.particle_foreground`),
splits touching particles the way a person does (along thin dark separation
lines and at necks, every length in units of the typical particle size found
on the image: :mod:`surfscan.particle_split`), leaves particles cut by the
image border out of the measurement (they stay in the label image), and
measures each other one: equivalent circular diameter, Feret max and min, aspect
ratio (Feret max / Feret min, >= 1) and class — "point-like" for an aspect
ratio <= 2 (the default ``linear_above``), "linear" above it.

The summary gives number-weighted and volume-weighted D10/D50/D90 of the
equivalent circular diameter (volume weight = ECD³, i.e. spheres of that
diameter) with the particle count they rest on, and a warning when the count
is too small for a stable D50, and a ``quality`` block
(:mod:`surfscan.particle_quality`) saying whether the automatic split can be
trusted. The method and its figures on real SEM images are in
``docs/particles.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from .errors import SurfscanError, SurfscanWarning
from .grey import to_grey
from .model import Micrograph
from .particle_foreground import particle_foreground
from .particle_quality import particle_quality
from .particle_split import dark_line_strength, merge_unseparated, split_touching, typical_radius
from .shapes import feret_diameters

__all__ = ["Particles", "measure_particles", "weighted_percentiles", "grey_image"]

_COLUMNS = [
    "id", "x_um", "y_um", "area_um2", "ecd_um", "feret_max_um", "feret_min_um",
    "aspect_ratio", "orientation_deg", "shape_class",
]


@dataclass(frozen=True)
class Particles:
    """Result of :func:`measure_particles`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per particle not touching the border: ``id`` (label value),
        centroid ``x_um``/``y_um``, ``area_um2``, ``ecd_um`` (equivalent
        circular diameter), ``feret_max_um``, ``feret_min_um``,
        ``aspect_ratio`` (Feret max / min), ``orientation_deg`` (of the Feret
        max, from the x axis) and ``shape_class`` ("point-like" or "linear").
    labels : ndarray of int32
        Label image of every particle found (0 = background), those cut by
        the image border included: with ``exclude_border`` (the default)
        they are not in the table nor in the statistics, and
        ``summary["excluded_border"]`` counts them.
    summary : dict
        ``count``, ``mean_ecd_um``, ``d10_um``/``d50_um``/``d90_um``
        (number-weighted), ``d10_v_um``/``d50_v_um``/``d90_v_um``
        (volume-weighted), ``point_like_fraction``, ``linear_fraction``,
        ``excluded_border``, ``threshold`` (grey level and method),
        ``typical_radius_um`` (the particle scale the split used),
        ``quality`` (see :func:`surfscan.particle_quality.particle_quality`),
        ``settings`` and ``warnings``.
    """

    table: pd.DataFrame
    labels: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)


def grey_image(image: np.ndarray) -> np.ndarray:
    """A float32 grey image from an 8/16-bit, float or RGB(A) image (:func:`surfscan.grey.to_grey`)."""
    return to_grey(image).astype(np.float32, copy=False)


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, q: list[float]) -> list[float]:
    """Percentiles ``q`` (0-100) of ``values`` with ``weights``, interpolated on the cumulative weight.

    The cumulative distribution is taken at each value's mid-weight, the
    convention of number-based D-values (it reduces to :func:`numpy.percentile`'s
    ``"hazen"`` method for equal weights).
    """
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cw = np.cumsum(w)
    p = (cw - 0.5 * w) / cw[-1] * 100.0
    return [float(np.interp(qq, p, v)) for qq in q]


def _measure(labels: np.ndarray, px: float, linear_above: float) -> pd.DataFrame:
    """One row per label value (ascending): centroid, area, ECD, Feret diameters and class (lengths in µm).

    The pixels are grouped by label with one sort (row-major within each
    particle), so the per-particle work is the Feret hull alone: a field of
    73 000 particles took 8 s through ``regionprops``.
    """
    flat = labels.ravel()
    where = np.flatnonzero(flat)
    order = np.argsort(flat[where], kind="stable")
    where = where[order]
    ids, starts, counts = np.unique(flat[where], return_index=True, return_counts=True)
    if ids.size == 0:
        return pd.DataFrame(columns=_COLUMNS)
    rr, cc = np.divmod(where, labels.shape[1])
    cy = np.add.reduceat(rr, starts) / counts
    cx = np.add.reduceat(cc, starts) / counts
    coords = np.column_stack([rr, cc])
    feret = np.array([feret_diameters(coords[a:a + n]) for a, n in zip(starts, counts)]).reshape(-1, 3)
    fmax, fmin, angle = feret[:, 0], feret[:, 1], feret[:, 2]
    with np.errstate(divide="ignore"):
        ar = np.where(fmin > 0, fmax / np.where(fmin > 0, fmin, 1.0), np.inf)
    area = counts.astype(np.float64)
    return pd.DataFrame({
        "id": ids.astype(int), "x_um": cx * px, "y_um": cy * px, "area_um2": area * px * px,
        "ecd_um": 2.0 * np.sqrt(area / np.pi) * px, "feret_max_um": fmax * px, "feret_min_um": fmin * px,
        "aspect_ratio": ar, "orientation_deg": angle,
        "shape_class": np.where(ar > linear_above, "linear", "point-like"),
    }, columns=_COLUMNS)


def _summary(table: pd.DataFrame, min_count: int) -> dict[str, Any]:
    n = len(table)
    out: dict[str, Any] = {"count": n, "warnings": []}
    if n == 0:
        out["warnings"].append("no particles found")
        return out
    d = table["ecd_um"].to_numpy()
    out["mean_ecd_um"] = float(d.mean())
    out["d10_um"], out["d50_um"], out["d90_um"] = weighted_percentiles(d, np.ones_like(d), [10, 50, 90])
    out["d10_v_um"], out["d50_v_um"], out["d90_v_um"] = weighted_percentiles(d, d**3, [10, 50, 90])
    out["point_like_fraction"] = float((table["shape_class"] == "point-like").mean())
    out["linear_fraction"] = 1.0 - out["point_like_fraction"]
    out["mean_aspect_ratio"] = float(table["aspect_ratio"].replace(np.inf, np.nan).mean())
    if n < min_count:
        out["warnings"].append(f"only {n} particles measured: D50 is not stable below about {min_count}")
    return out


#: Line strength (:func:`surfscan.particle_split.dark_line_strength`) that marks a separation line.
LINE_LEVEL = 0.1
#: Hessian scale of the line filter as a fraction of the typical particle radius (at least 0.7 px).
LINE_SIGMA = 0.06
#: The finest Hessian scale of the line filter (pixels).
LINE_SIGMA_MIN = 0.7
#: Neighbours with no line between them merge when their boundary is wider than this times the smaller one's
#: inscribed diameter.
MERGE_WIDTH = 1.0
#: ... and the mean line strength along their boundary is below this.
MERGE_LINE_LEVEL = 0.1


def _split_particles(fg, neck_depth: float, separation_lines: float | None) -> tuple[np.ndarray, float]:
    """Labels of the particles in foreground ``fg`` and the typical radius (pixels) they were split with.

    The typical radius comes from the foreground cut along dark lines found
    at the finest scale (0.7 px); the line filter is then rerun at a scale
    proportional to that radius when it is larger (see :mod:`surfscan.particle_split`).
    """
    if separation_lines is None or separation_lines <= 0:
        radius = typical_radius(fg.mask)
        lines, level = np.zeros_like(fg.signal), np.inf
    else:
        level = float(separation_lines)
        lines = dark_line_strength(fg.flat, fg.background, fg.contrast, sigma_px=LINE_SIGMA_MIN)
        radius = typical_radius(fg.mask & ~(lines > level))
        for _ in range(2):  # the line scale follows the particle scale, which the lines help to measure
            sigma = LINE_SIGMA * radius
            if sigma <= LINE_SIGMA_MIN:
                break
            lines = dark_line_strength(fg.flat, fg.background, fg.contrast, sigma_px=sigma,
                                       local_px=sigma / LINE_SIGMA_MIN * 3)
            radius = typical_radius(fg.mask & ~(lines > level))
    labels = split_touching(fg.mask, lines, radius, line_level=level, neck_depth=neck_depth)
    return merge_unseparated(labels, lines, line_level=min(level, MERGE_LINE_LEVEL), width=MERGE_WIDTH), radius


def measure_particles(
    micrograph: Micrograph,
    *,
    polarity: str = "bright",
    threshold: float | str = "otsu",
    smooth_um: float | None = None,
    background_um: float | None = None,
    min_diameter_um: float | None = None,
    split: bool = True,
    neck_depth: float = 0.10,
    separation_lines: float | None = 0.12,
    hysteresis: float = 0.3,
    exclude_border: bool = True,
    linear_above: float = 2.0,
    min_count: int = 50,
) -> Particles:
    """Segment and measure particles in an SEM image.

    Parameters
    ----------
    micrograph : Micrograph
        Calibrated SEM image (information bar already removed by the reader).
    polarity : {"bright", "dark"}
        Particles brighter (SE/BSE of dense material) or darker than the background.
    threshold : str or float
        ``"otsu"`` (default), ``"li"``, ``"triangle"``, ``"isodata"``, ``"yen"``, or a grey
        level: the high level of the hysteresis threshold.
    smooth_um : float, optional
        Gaussian smoothing before thresholding (µm); default one pixel.
    background_um : float, optional
        Subtract a Gaussian background of this width (µm) to even out
        shading; default none (give about 5x the largest particle when the
        illumination is uneven).
    min_diameter_um : float, optional
        Particles with a smaller equivalent diameter are noise; default 3 pixels.
    split : bool
        Split touching particles (dark separation lines, necks, watershed).
    neck_depth : float
        How deep a neck must be to split at it: the ``h`` of the h-maxima
        markers of the distance map, as a fraction of the typical particle
        radius measured on the image (and at least 0.5 px). Smaller splits more.
    separation_lines : float or None
        Strength of a thin dark line (Hessian valley curvature over the
        local particle brightness, dimensionless; about 0.12 for a clear
        line) above which touching particles are cut apart; None or 0 uses
        the distance map alone.
    hysteresis : float
        Low threshold as a fraction (0..1) of the way from the background
        level to the threshold: dim particles connected to bright ones are
        kept down to it (1 = a single threshold).
    exclude_border : bool
        Leave particles touching the image border out of the table and the
        statistics (their size is unknown); they stay in ``labels``.
    linear_above : float
        Aspect ratio above which a particle is "linear" (default 2).
    min_count : int
        Fewer particles than this give a warning that D50 is unstable (and
        an unreliable ``quality``).

    Returns
    -------
    Particles
        Table, label image and summary (lengths in µm).

    Examples
    --------
    >>> import surfscan as ss
    >>> p = ss.measure_particles(ss.read("sample_images/sem_anode_protrusions_100x.tif"))
    >>> p.summary["count"], round(p.summary["d50_um"], 1)      # number-based D50 in µm
    (426, 5.3)
    """
    if not isinstance(micrograph, Micrograph):
        raise SurfscanError(f"measure_particles needs an SEM image (Micrograph), not {type(micrograph).__name__}")
    if polarity not in ("bright", "dark"):
        raise SurfscanError(f"polarity must be 'bright' or 'dark', not {polarity!r}")
    from skimage import morphology, segmentation

    px = micrograph.require_pixel_size("the particle size distribution")
    grey = grey_image(micrograph.image)
    if grey.ndim != 2 or grey.size == 0:
        raise SurfscanError(f"measure_particles needs a 2-D grey or RGB image, not one of shape {grey.shape}")
    if not np.isfinite(grey).all():
        raise SurfscanError("the SEM image holds NaN or infinite grey values; particles cannot be thresholded")
    smooth_px = 1.0 if smooth_um is None else smooth_um / px
    bg_px = 0.0 if background_um is None else background_um / px
    fg = particle_foreground(grey, polarity=polarity, threshold=threshold, smooth_px=smooth_px,
                             background_px=bg_px, hysteresis=hysteresis)
    min_area_px = np.pi / 4 * (3.0 if min_diameter_um is None else min_diameter_um / px) ** 2
    mask = fg.mask
    if min_area_px > 1:
        mask = morphology.remove_small_objects(mask, max_size=max(int(min_area_px) - 1, 1))
    fg = type(fg)(mask, fg.flat, fg.signal, fg.high, fg.low, fg.background)
    if split:
        labels, radius_px = _split_particles(fg, neck_depth, separation_lines)
    else:
        labels, radius_px = ndimage.label(mask)[0].astype(np.int32), typical_radius(mask)
    areas = np.bincount(labels.ravel())
    small = np.flatnonzero(areas < min_area_px)
    labels[np.isin(labels, small[small > 0])] = 0
    # particles cut by the border stay in the label image (they were found) but are not measured
    measured = segmentation.clear_border(labels) if exclude_border else labels
    table = _measure(measured, px, linear_above)
    summary = _summary(table, min_count)
    summary["excluded_border"] = len(np.unique(labels[labels > 0])) - len(table) if exclude_border else 0
    high = fg.high if polarity == "bright" else -fg.high
    summary["threshold"] = {"value": high, "method": threshold if isinstance(threshold, str) else "fixed",
                            "low": fg.low if polarity == "bright" else -fg.low}
    summary["typical_radius_um"] = radius_px * px
    summary["quality"] = particle_quality(measured, mask, micrograph.image, min_count, grey)
    summary["settings"] = {
        "polarity": polarity, "threshold": threshold, "smooth_um": smooth_px * px, "background_um": bg_px * px or None,
        "min_diameter_um": np.sqrt(min_area_px * 4 / np.pi) * px, "split": split, "neck_depth": neck_depth,
        "separation_lines": separation_lines, "hysteresis": hysteresis, "exclude_border": exclude_border,
        "linear_above": linear_above, "pixel_size_um": px,
    }
    for w in summary["warnings"]:
        warnings.warn(f"{micrograph.meta.get('source_file', 'image')}: {w}", SurfscanWarning, stacklevel=2)
    return Particles(table, labels, summary)

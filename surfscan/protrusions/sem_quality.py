"""Detection-limit curve and the quality block of an SEM protrusion result.

Detection limit
    For a dome of diameter ``D`` (a spherical-cap brightness profile, relative
    peak contrast C), the normalised LoG response at scale ``sigma`` is
    ``C g(D / sigma)``, with the gain ``g`` computed once numerically. The
    smallest detectable peak contrast is ``min_i t_i / g(D / sigma_i)`` over
    the scales ``i`` (``t_i`` their thresholds). The curve gives it at
    diameters from the smallest to the largest scale, as a relative contrast
    and in units of the texture rms (robust rms of the flattened contrast
    over object-free pixels). Flat-topped discs answer more strongly than
    domes of the same peak contrast, so for them the curve errs on the safe
    side.

Quality
    ``agglomeration_index``: mean number of scale-space detections merged
    into one reported object (1 = every object seen once; large = clumps).
    ``split_fraction``: fraction of the detected area in objects assembled
    from two or more detections. ``reliable`` is False, with the reasons,
    when objects cover more than 50 % of the field (the background and the
    texture statistics rest on too little substrate), when less than 25 %
    of the field is object-free after the margins around objects, when the
    substrate search left less than 25 % and the statistics came from the
    whole field (a two-phase texture or a covered field, see
    :mod:`.substrate`), when the background brightness varies by more than a
    factor 4 across the field (charging, saturation or a field edge: the
    flattening is doubtful), or when the texture is so strong that even the
    largest objects need a peak contrast above 1 (twice the background
    brightness) unless the objects found stand clearly above it (median
    mean contrast at least twice the lowest limit).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from .scalespace import Scale

__all__ = ["dome_gain", "detection_limit_curve", "quality_block"]

_GAIN_SIGMA = 6.0
_MAX_RATIO = 16.0
MAX_COVERAGE = 0.5
MIN_QUIET = 0.25
MAX_BACKGROUND_RATIO = 4.0


@functools.lru_cache(maxsize=1)
def _gain_table() -> tuple[np.ndarray, np.ndarray]:
    ratios = np.geomspace(0.5, _MAX_RATIO, 48)
    gains = np.empty_like(ratios)
    s = _GAIN_SIGMA
    for k, q in enumerate(ratios):
        rad = q * s / 2
        n = int(2 * rad + 10 * s) | 1
        c = n // 2
        yy, xx = np.mgrid[:n, :n].astype(np.float32)
        r2 = ((yy - c) ** 2 + (xx - c) ** 2) / max(rad * rad, 1e-6)
        dome = np.sqrt(np.clip(1 - r2, 0, None)).astype(np.float32)
        sm = cv2.GaussianBlur(dome, (0, 0), sigmaX=s)
        lap = cv2.Laplacian(sm, cv2.CV_32F, ksize=1)
        gains[k] = -s * s * float(lap[c, c])
    return ratios, gains


def dome_gain(ratio: np.ndarray | float) -> np.ndarray:
    """Normalised LoG response at the centre of a unit-contrast dome of diameter ``ratio * sigma`` (0 beyond the table)."""
    ratios, gains = _gain_table()
    q = np.asarray(ratio, float)
    g = np.interp(np.log(q), np.log(ratios), gains, left=0.0, right=0.0)
    return np.maximum(g, 0.0)


def detection_limit_curve(scales: list[Scale], texture_rms: float, px: float, n: int = 12) -> dict:
    """Minimum detectable peak contrast against diameter (µm), relative and in texture rms units."""
    sig = np.array([s.sigma_px for s in scales])
    thr = np.array([s.threshold for s in scales])
    d_px = np.geomspace(2 * math.sqrt(2) * sig.min(), 2 * math.sqrt(2) * sig.max(), n)
    g = dome_gain(d_px[:, None] / sig[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(g > 0.02, thr[None, :] / g, np.inf).min(axis=1)
    rel = [float(v) if math.isfinite(v) else None for v in need]
    in_rms = [None if v is None or texture_rms <= 0 else v / texture_rms for v in rel]
    return {"diameter_um": [float(d * px) for d in d_px], "min_contrast": rel, "min_contrast_texture_rms": in_rms}


def quality_block(
    detections: np.ndarray,
    areas_px: np.ndarray,
    field_px: int,
    quiet_fraction: float,
    background: tuple[float, float, float],
    curve: dict,
    contrasts: np.ndarray | None = None,
    substrate_left: float | None = None,
) -> dict:
    """The ``quality`` block (see the module notes).

    Parameters
    ----------
    detections, areas_px : ndarray
        Per reported object: merged detections and area (pixels).
    field_px : int
        Pixels in the image.
    quiet_fraction : float
        Share of the field free of objects and their margins (statistics came from there).
    background : (low, median, high)
        Percentiles (1, 50, 99) of the estimated background brightness (grey levels).
    curve : dict
        The detection-limit curve.
    contrasts : ndarray, optional
        Per reported object: its mean relative contrast (absolute value).
    substrate_left : float, optional
        The share of the field the substrate search left when it was under
        a quarter and the statistics came from the whole field instead
        (:attr:`.substrate.Substrate.whole_field`).
    """
    n = int(detections.size)
    agg = float(detections.mean()) if n else 0.0
    total = float(areas_px.sum())
    split = float(areas_px[detections >= 2].sum() / total) if total > 0 else 0.0
    coverage = total / max(field_px, 1)
    reasons = []
    if coverage > MAX_COVERAGE:
        reasons.append(f"objects cover {coverage:.0%} of the field (> {MAX_COVERAGE:.0%}): background and texture "
                       "statistics rest on too little substrate")
    if quiet_fraction < MIN_QUIET:
        reasons.append(f"only {quiet_fraction:.0%} of the field is object-free (< {MIN_QUIET:.0%}): thresholds are "
                       "uncertain")
    if substrate_left is not None:
        reasons.append(f"only {substrate_left:.0%} of the field lies near the substrate's grey level (< {MIN_QUIET:.0%}): "
                       "a texture of two phases (a porous coating) or a field covered by objects; the thresholds "
                       "come from the whole field, which undercounts a covered field")
    lo, _, hi = background
    if lo <= 0 or hi / max(lo, 1e-12) > MAX_BACKGROUND_RATIO:
        reasons.append(f"the background brightness varies from {lo:.3g} to {hi:.3g} grey levels across the field "
                       f"(> x{MAX_BACKGROUND_RATIO:g}): the flattening is doubtful")
    finite = [v for v in curve["min_contrast"] if v is not None]
    found = np.abs(np.asarray(contrasts, float)) if contrasts is not None else np.zeros(0)
    clear = found.size > 0 and float(np.median(found)) >= 2.0 * min(finite, default=np.inf)
    if (not finite or min(finite) > 1.0) and not clear:
        reasons.append("the texture is too strong for the size range: even the largest objects need a peak "
                       "contrast above 1 (twice the background brightness), and the objects found are not "
                       "clearly above that")
    return {
        "agglomeration_index": agg,
        "split_fraction": split,
        "detection_limit_curve": curve,
        "reliable": not reasons,
        "reasons": reasons,
    }

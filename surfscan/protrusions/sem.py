"""Protrusions on SEM images.

1. Grey levels as float32 (colour images converted to grey); the pixel size
   comes from the calibration or the ``pixel_size`` setting, otherwise the
   image is refused (densities per mm² need a scale).
2. Background flattening: ``contrast = image / background - 1`` with a
   robust large-scale background (cut-off ``lambda_c``), which removes
   directional shading and vignetting and expresses every object as a
   relative brightness change. Polarity ``dark`` flips the sign.
3. Band-pass: the flattened contrast smoothed by a Gaussian of
   ``sigma = min_size / 5`` (the grain texture averages out, an object of
   ``min_size`` keeps 96 % of its peak); the background sets the upper end.
4. Noise: the upper-side robust rms of the band-passed contrast over
   non-candidate pixels (``1.4826 * median(v - median | v > median)``), which
   follows the long bright tail of a skewed grain texture.
5. Hysteresis at ``k * noise`` (core) and half of it (extent), a second
   background pass that ignores what the first found, then gates: equivalent
   diameter between ``min_size / 2`` and ``2 * max_size``, area, elongation
   (``max_aspect``) so crack rims and scratches are not counted. Objects
   touching the border are kept and flagged.

``min_size`` defaults to three times the grain of the texture, measured on
the image from the correlation of neighbouring pixels (at least 4 pixels).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import SurfscanError
from ..model import Micrograph
from .regions import (
    MAD_TO_SIGMA,
    apply_gates,
    blob_peaks,
    hysteresis_labels,
    measure_regions,
    object_table,
    relabel,
    robust_background,
    split_touching,
    subsample,
    tail_threshold,
    upper_sigma,
)
from .result import K_GAUSSIAN, Protrusions, ProtrusionSettings, percentiles

__all__ = ["detect_on_micrograph", "texture_grain_px", "grey_levels"]

_SMOOTH_PER_SIZE = 0.2  # band-pass sigma = min_size / 5
_OPEN_PER_SIZE = 0.8  # grey opening by a disc of 0.8 x min_size
_MIN_SIZE_PX = 4.0
_GRAIN_FACTOR = 3.0


def grey_levels(image: np.ndarray) -> np.ndarray:
    """The image as float32 grey levels (RGB(A) converted with the usual luma weights)."""
    a = np.asarray(image)
    if a.ndim == 3:
        a = a[..., :3].astype(np.float32)
        return cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise SurfscanError(f"an SEM image needs numeric grey levels, not {a.dtype}")
    out = a.astype(np.float32)
    if not np.isfinite(out).all():
        raise SurfscanError("the SEM image holds NaN or infinite grey levels")
    return out


def texture_grain_px(contrast: np.ndarray) -> float:
    """Grain diameter (pixels, FWHM of a speck) of a texture, from its robust pixel-to-pixel correlation.

    For a Gaussian-correlated texture the correlation at lag ``d`` is
    ``rho(d) = A exp(-d² / (2 l²))``, where ``A < 1`` when white noise is
    added; ``rho(2) / rho(1) = exp(-3 / (2 l²))`` does not depend on ``A``.
    The variances come from the MAD (so sparse objects do not count); the
    grain diameter is ``2.355 l / sqrt 2`` (the FWHM of the speck whose
    autocorrelation has width ``l``). Returns at least 0.5.
    """
    rows = contrast[:: max(1, contrast.shape[0] // 192)]
    var0 = _robust_var(rows.ravel())
    if var0 <= 0:
        return 0.5
    rho = []
    for lag in (1, 2):
        d = rows[:, lag:] - rows[:, :-lag]
        rho.append(1.0 - _robust_var(d.ravel()) / (2 * var0))
    if rho[0] <= 0.05 or rho[1] <= 0 or rho[1] >= rho[0]:
        return 0.5 if rho[0] <= 0.05 or rho[1] <= 0 else float(contrast.shape[1])
    ell = math.sqrt(-3.0 / (2.0 * math.log(rho[1] / rho[0])))
    return max(0.5, 2.355 * ell / math.sqrt(2.0))


def _robust_var(v: np.ndarray) -> float:
    if v.size > 100_000:
        v = v[:: v.size // 100_000]
    med = float(np.median(v))
    return (MAD_TO_SIGMA * float(np.median(np.abs(v - med)))) ** 2


def _flatten(grey: np.ndarray, weight: np.ndarray | None, cutoff_px: float, sign: int) -> tuple[np.ndarray, float]:
    """Relative contrast ``sign * (grey / background - 1)`` and the median background level."""
    bg = robust_background(grey, weight, cutoff_px)
    level = float(np.median(bg[:: 8, :: 8]))
    floor = max(1e-3 * abs(level), 1e-6)
    np.maximum(bg, floor, out=bg)
    flat = grey / bg
    flat -= 1.0
    if sign < 0:
        np.negative(flat, out=flat)
    return flat, level


def _opening_px(dmin_px: float) -> int:
    """Diameter (odd, pixels) of the disc used by the grey opening: about 0.8 x the smallest object."""
    return max(3, int(round(_OPEN_PER_SIZE * dmin_px)) | 1)


def _band(flat: np.ndarray, sigma_px: float, open_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-smoothed contrast and its grey opening by a disc (features narrower than the disc removed)."""
    smooth = cv2.GaussianBlur(flat, (0, 0), sigmaX=sigma_px, borderType=cv2.BORDER_REFLECT)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (open_px, open_px))
    return smooth, cv2.morphologyEx(smooth, cv2.MORPH_OPEN, disc, borderType=cv2.BORDER_REFLECT)


def _peak_gain(diameter_px: float, sigma_px: float, open_px: int) -> float:
    """Peak response of a noise-free soft disc of this diameter and contrast 1 through :func:`_band`."""
    n = int(2 * diameter_px + 8 * sigma_px + 2 * open_px + 8)
    yy, xx = np.mgrid[:n, :n]
    r = np.hypot(yy - n / 2, xx - n / 2)
    edge = max(0.5, 0.04 * diameter_px)
    disc = (0.5 * (1 - np.tanh((r - diameter_px / 2) / edge))).astype(np.float32)
    return float(_band(disc, sigma_px, open_px)[1].max())


def _k(st: ProtrusionSettings) -> float:
    """The noise multiple: as given, or 6 for ``"auto"`` (the texture's extreme level is applied in any case)."""
    return K_GAUSSIAN if st.k_fixed is None else st.k_fixed


def _cutoff_px(m: Micrograph, st: ProtrusionSettings, px: float) -> float:
    if st.lambda_c is None:
        raise SurfscanError("SEM images need a background removal: lambda_c must be a length in µm or 'auto'")
    if st.lambda_c != "auto":
        return float(st.lambda_c) / px
    if st.max_size:
        return 4.0 * st.max_size / px
    return min(m.shape) / 8.0


def _first_pass(grey: np.ndarray, st: ProtrusionSettings, px: float, lam_px: float) -> tuple[np.ndarray, float | None, float]:
    """Quiet mask (no object candidates) for the final background, the texture grain and min_size (pixels).

    Runs on a half-resolution copy (the mask only steers a background with
    a long cut-off); the grain is measured on full-resolution rows.
    """
    ny, nx = grey.shape
    half = cv2.resize(grey, (max(1, nx // 2), max(1, ny // 2)), interpolation=cv2.INTER_AREA)
    bg_half = robust_background(half, None, lam_px / 2)
    grain = None
    if st.min_size is None:
        step = max(1, ny // 192)
        bg_rows = cv2.resize(bg_half, (nx, ny), interpolation=cv2.INTER_LINEAR)[::step]
        grain = texture_grain_px(st.sign * (grey[::step] / np.maximum(bg_rows, 1e-6) - 1.0))
    dmin = st.min_size / px if st.min_size else max(_MIN_SIZE_PX, _GRAIN_FACTOR * grain)
    flat = st.sign * (half / np.maximum(bg_half, 1e-6) - 1.0)
    smooth = cv2.GaussianBlur(flat, (0, 0), sigmaX=max(0.5, _SMOOTH_PER_SIZE * dmin / 2))
    med, noise = upper_sigma(subsample(smooth))
    quiet = (np.abs(smooth - med) <= _k(st) * noise / 2).view(np.uint8)
    quiet = cv2.resize(quiet, (nx, ny), interpolation=cv2.INTER_NEAREST).view(bool)
    return quiet, grain, dmin


def _contrast(grey: np.ndarray, st: ProtrusionSettings, px: float, lam_px: float) -> dict:
    """Flattening (background without candidates), band-pass and noise; the arrays and numbers detection needs."""
    quiet, grain, dmin = _first_pass(grey, st, px, lam_px)
    sigma, open_px = max(0.5, _SMOOTH_PER_SIZE * dmin), _opening_px(dmin)
    flat, level = _flatten(grey, quiet, lam_px, st.sign)
    smooth, band = _band(flat, sigma, open_px)
    sample = subsample(band)
    med0, noise0 = upper_sigma(sample)
    med, noise = upper_sigma(sample[np.abs(sample - med0) <= _k(st) * noise0 / 2])
    band -= med
    tail = tail_threshold(blob_peaks(band, noise))
    return {"flat": flat, "band": band, "noise": noise, "tail": tail, "level": level, "grain_px": grain,
            "dmin_px": dmin, "sigma_px": sigma, "open_px": open_px}


def detect_on_micrograph(m: Micrograph, st: ProtrusionSettings) -> Protrusions:
    """Protrusions (bright or dark objects) on an SEM image; see the module notes."""
    px = float(st.pixel_size) if st.pixel_size else m.require_pixel_size("protrusion detection")
    grey = grey_levels(m.image)
    lam_px = _cutoff_px(m, st, px)
    c = _contrast(grey, st, px, lam_px)
    k = _k(st)
    thr = max(k * c["noise"], c["tail"])
    if thr <= 0:
        raise SurfscanError("the SEM image has no texture or noise (robust rms 0): nothing to threshold against")
    bp = c["band"]
    labels, keep = hysteresis_labels(bp, thr, thr / 2)
    if st.split and keep.any():
        labels, n = relabel(labels, keep)
        labels, n = split_touching(labels, bp, thr, max(3.0, c["dmin_px"] / 2))
        keep = np.arange(n + 1) > 0
    stats, ids = measure_regions(labels, keep, c["flat"])
    table = object_table(stats, px, px)
    table["mean_contrast"] = stats.total / np.maximum(stats.area_px, 1) * st.sign
    dmin_um = c["dmin_px"] * px
    min_area = st.min_area if st.min_area is not None else 9 * px * px
    dmax = 2 * st.max_size if st.max_size else None
    labels, table = apply_gates(labels, keep.size, ids, table, min_area, dmin_um / 2, dmax, st.max_aspect)
    area_mm2 = grey.size * px * px * 1e-6
    gain = _peak_gain(c["dmin_px"], c["sigma_px"], c["open_px"])
    limit = thr / gain
    resolved = {**st.__dict__, "k": k, "pixel_size": px, "min_size": dmin_um, "lambda_c": lam_px * px, "min_area": min_area}
    for name in ("h_abs", "form", "despike"):
        resolved.pop(name)
    summary = {
        "kind": "sem",
        "count": len(table),
        "count_touching_edge": int(table["touches_edge"].sum()),
        "density_per_mm2": len(table) / area_mm2,
        "valid_area_mm2": area_mm2,
        "area_fraction": float(table["area_um2"].sum() * 1e-6 / area_mm2),
        "equivalent_diameter_um": percentiles(table["equivalent_diameter_um"]),
        "mean_contrast": percentiles(np.abs(table["mean_contrast"])),
        "detection_limit": {
            "contrast_threshold": limit,
            "contrast_threshold_large_objects": thr,
            "grow_threshold": thr / 2,
            "noise_rms": c["noise"],
            "texture_tail_threshold": c["tail"],
            "grey_level_threshold": limit * c["level"],
            "background_grey_level": c["level"],
            "min_size_um": dmin_um,
            "texture_grain_um": None if c["grain_px"] is None else c["grain_px"] * px,
            "bandpass_sigma_um": c["sigma_px"] * px,
            "opening_diameter_um": c["open_px"] * px,
            "statement": (
                f"objects of at least {dmin_um:.3g} µm whose peak relative contrast exceeds {limit:.3g} "
                f"({limit * c['level']:.3g} grey levels at the median background {c['level']:.4g}); larger "
                f"objects from {thr:.3g} (the larger of {k:g} x the robust noise rms {c['noise']:.3g} and the "
                f"texture's extreme level {c['tail']:.3g})"
            ),
        },
        "settings": resolved,
    }
    lo, hi = np.percentile(grey[::4, ::4], [0.5, 99.5])
    return Protrusions(table, labels, summary, grey, (float(lo), float(max(hi, lo + 1e-6))))

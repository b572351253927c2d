"""Protrusions on height maps.

1. Form: a 2-D Legendre polynomial fitted on inliers only (iterated, points
   further than 3 robust rms from the fit are dropped), on a subsampled grid.
2. Background (``lambda_c_um``): a robust Gaussian L-filter that ignores
   candidates, pits and NaN (see :func:`.regions.robust_background`),
   done twice: a first pass with twice the cut-off (points further than 3
   robust rms left out), then the cut-off itself, excluding what the first
   pass found above half the core threshold (``k="auto"``: above 1.5 rms);
   the coarse first pass cannot follow wide objects that rise only a few
   rms, so they are excluded in the second.
3. Spikes: a pixel that differs from its 3 x 3 median by more than
   ``max(6 Sq_robust, half its own height)`` is replaced by that median
   (a smooth bump's top differs from its median by far less than half
   its height; a lone spike by all of it).
4. Threshold: ``h_thr = max(h_abs_um, k * Sq_robust)`` with ``Sq_robust =
   1.4826 * MAD`` of the levelled heights over measured non-candidate
   points; an object is an 8-connected region above ``h_thr / 2`` that holds
   a point above ``h_thr`` (hysteresis), measured points only, so NaN holes
   never create or bridge objects. ``k="auto"`` (default) follows the
   texture's own upper tail (:func:`texture_k`): 6 for a Gaussian texture,
   down to 3 for a bounded, flattened one.
5. Gates: area, optional diameter range, elongation; optional watershed split.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
from numpy.polynomial import legendre

from ..errors import SurfscanError
from ..model import Surface
from .regions import (
    apply_gates,
    blob_peaks,
    hysteresis_labels,
    measure_regions,
    object_table,
    relabel,
    robust_background,
    robust_sigma,
    split_touching,
    subsample,
    tail_threshold,
)
from .result import K_FLOOR, K_GAUSSIAN, Protrusions, ProtrusionSettings, checked_cutoff_px, percentiles

__all__ = ["detect_on_height_map", "remove_form_robust", "texture_k"]

_FIT_POINTS = 25_000
_CLIP = 3.0
_TAIL_Q = (0.5, 0.75)  # blob-peak quantiles of the texture's tail fit


def _degree(form: str) -> int | None:
    f = (form or "none").strip().lower()
    if f == "none":
        return None
    if f == "plane":
        return 1
    if f.startswith("poly") and f[4:].lstrip(":").isdigit():
        deg = int(f[4:].lstrip(":"))
        if deg <= 8:
            return deg
    raise SurfscanError(f"protrusion setting form must be 'plane', 'poly:N' (N <= 8) or 'none', not {form!r}")


def remove_form_robust(z: np.ndarray, valid: np.ndarray, degree: int, iterations: int = 8) -> np.ndarray:
    """Heights minus a polynomial of total degree ``degree`` fitted on inliers only.

    The fit runs on a regular subsample (about 60,000 points); after each
    fit, points further than 3 robust rms (1.4826 MAD) from it are left out
    of the next. Returns float32 with 0 at non-measured points.
    """
    ny, nx = z.shape
    step = max(1, int(math.sqrt(z.size / _FIT_POINTS)))
    px = legendre.legvander(np.linspace(-1.0, 1.0, nx) if nx > 1 else np.zeros(1), degree)
    py = legendre.legvander(np.linspace(-1.0, 1.0, ny) if ny > 1 else np.zeros(1), degree)
    terms = [(i, j) for j in range(degree + 1) for i in range(degree + 1) if i + j <= degree]
    sx, sy = px[::step], py[::step]
    design = np.stack([(sy[:, j][:, None] * sx[:, i][None, :]).ravel() for i, j in terms], axis=1)
    zs = z[::step, ::step].ravel()
    measured = valid[::step, ::step].ravel()
    if np.count_nonzero(measured) < 2 * len(terms):
        raise SurfscanError(f"too few measured points to fit a degree-{degree} form")
    inliers = measured
    coef = np.zeros(len(terms))
    for _ in range(iterations):
        a = design[inliers]
        coef = np.linalg.lstsq(a.T @ a, a.T @ zs[inliers], rcond=None)[0]
        res = zs - design @ coef
        med, s = robust_sigma(res[measured])
        new = measured & (np.abs(res - med) <= _CLIP * max(s, 1e-12))
        if np.array_equal(new, inliers) or np.count_nonzero(new) < 2 * len(terms):
            break
        inliers = new
    cmat = np.zeros((degree + 1, degree + 1))
    for (i, j), c in zip(terms, coef):
        cmat[j, i] = c
    form = (py.astype(np.float32) @ cmat.astype(np.float32)) @ px.T.astype(np.float32)
    out = z.astype(np.float32) - form
    out[~valid] = 0.0
    return out


def _despike(h: np.ndarray, sq: float) -> tuple[np.ndarray, int]:
    """Replace single-pixel spikes (up or down) by their 3 x 3 median, in place; returns (h, count)."""
    ys, xs = np.nonzero(np.abs(h) > 5.0 * sq)  # a spike differs from its median by > 6 sq
    if ys.size == 0:
        return h, 0
    med = cv2.medianBlur(h, 3)[ys, xs]
    v = h[ys, xs]
    d = np.abs(v - med)
    spikes = (d > 6.0 * sq) & (d > 0.5 * np.abs(v))
    h[ys[spikes], xs[spikes]] = med[spikes]
    return h, int(np.count_nonzero(spikes))


def texture_k(h: np.ndarray, valid: np.ndarray, sq: float, centre: float = 0.0) -> tuple[float, float]:
    """Automatic ``k`` and the texture's extreme level (µm above ``centre``) of heights ``h``.

    ``h`` is float32 with 0 at non-measured points (``valid`` False);
    ``centre`` is its median and ``sq`` its robust rms.

    The peaks of the texture are the maxima of the 8-connected blobs above
    ``1 x sq`` on a 2 x 2 max-pooled copy (quicker; a blob keeps its
    maximum); :func:`.regions.tail_threshold` fits their upper tail with an
    exponential through the median and the 75th percentile of the peaks
    below ``3 sq``, ranked from the bottom (a map may hold only a few
    hundred blobs, of which protrusions can be a tenth or more; above
    ``3 sq`` they do not enter the fit) and returns the level the texture's
    peaks exceed 0.05 times per map. That tail is heavier than a Gaussian one, so
    for a Gaussian texture the level lies above ``7 sq`` and ``k`` is capped
    at 6 (what a Gaussian texture needs); a bounded texture, flattened at
    the top as a packed particle layer is, gets ``level / sq``, never below
    3. Fewer than 50 blobs: 6.
    """
    if sq <= 0:
        return K_GAUSSIAN, 0.0
    if centre + sq <= 0:  # non-measured points (0) could reach the blob level: mask them
        h = np.where(valid, h, np.float32(centre - 1e30)).astype(np.float32)
    pooled = cv2.dilate(h, np.ones((2, 2), np.uint8), borderType=cv2.BORDER_REPLICATE)[::2, ::2]
    peaks = blob_peaks(pooled, centre + sq) - centre
    level = tail_threshold(peaks, quantiles=_TAIL_Q, ceiling=K_FLOOR * sq)
    if level <= 0:
        return K_GAUSSIAN, level
    return min(K_GAUSSIAN, max(K_FLOOR, level / sq)), level


def _levelled(surface: Surface, st: ProtrusionSettings) -> tuple[np.ndarray, np.ndarray, dict]:
    """Heights above the local background (polarity applied), valid mask and what was found on the way."""
    valid = surface.valid
    if not valid.any():
        raise SurfscanError("the height map has no measured points")
    deg = _degree(st.form)
    if deg is None:
        r = np.where(valid, surface.z, 0.0).astype(np.float32)
    else:
        r = remove_form_robust(surface.z, valid, deg)
    if st.sign < 0:
        r = -r
    lam_um, where = _cutoff_um(surface, st)
    lam_px = None if lam_um is None else checked_cutoff_px(lam_um, math.sqrt(surface.dx * surface.dy), where)
    med0, s0 = robust_sigma(subsample(r, valid))
    bg = np.zeros_like(r)
    if lam_px:
        # first pass: twice the cut-off, so wide objects that are only a few rms high are not followed
        bg = robust_background(r, valid & (np.abs(r - med0) <= _CLIP * s0), 2 * lam_px)
        h = r - bg
        h[~valid] = 0.0
    else:
        h = r
    med1, s1 = robust_sigma(subsample(h, valid))
    n_spikes = 0
    if st.despike:
        h -= med1
        h, n_spikes = _despike(h, s1)
        h += med1
    if lam_px:  # second pass: the background ignores candidates and pits found by the first
        # (above half the core threshold; with k auto, the lowest it can be: 3 x rms)
        quiet = max(st.h_abs_um, (st.k_fixed or K_FLOOR) * s1) / 2
        bg2 = robust_background(r, valid & (np.abs(h - med1) <= quiet), lam_px)
        bg2 -= bg
        h -= bg2
    h[~valid] = 0.0
    half = max(st.h_abs_um, (st.k_fixed or K_GAUSSIAN) * s1) / 2  # auto: first with the highest k
    med, sq, k, tail = _threshold_scale(h, valid, med1, half, st)
    h -= med
    h[~valid] = 0.0
    info = {"sq_robust": sq, "lambda_c_um": lam_um, "spikes_removed": n_spikes, "k": k,
            "texture_level_um": tail}
    return h, valid, info


def _threshold_scale(
    h: np.ndarray, valid: np.ndarray, centre: float, half: float, st: ProtrusionSettings
) -> tuple[float, float, float, float | None]:
    """``(median, Sq_robust, k, texture level in µm or None)`` of the levelled heights.

    ``Sq_robust`` comes from the points within ``h_thr / 2`` of the median
    (candidates and pits left out); with ``k="auto"`` the texture level is
    read first (:func:`texture_k`), and ``Sq_robust`` again with its ``h_thr``.
    """
    hs = subsample(h, valid)
    med, sq = robust_sigma(hs[np.abs(hs - centre) <= half])
    if st.k_fixed is not None:
        return med, sq, st.k_fixed, None
    _, tail = texture_k(h, valid, sq, med)
    if tail > 0:
        half = max(st.h_abs_um, min(K_GAUSSIAN * sq, max(K_FLOOR * sq, tail))) / 2
        med, sq = robust_sigma(hs[np.abs(hs - centre) <= half])
    k = K_GAUSSIAN if tail <= 0 or sq <= 0 else min(K_GAUSSIAN, max(K_FLOOR, tail / sq))
    return med, sq, k, (tail if tail > 0 else None)


def _cutoff_um(surface: Surface, st: ProtrusionSettings) -> tuple[float | None, str]:
    """The background cut-off (µm; None: no background removal) and where it came from, for messages."""
    if st.lambda_c_um is None:
        return None, "lambda_c_um"
    if st.lambda_c_um != "auto":
        return float(st.lambda_c_um), "lambda_c_um"
    if st.max_size_um:
        return 4.0 * st.max_size_um, "the automatic lambda_c_um (4 x max_size_um)"
    rows, cols = surface.shape
    return min(surface.size_um) / 8.0, f"the automatic lambda_c_um (1/8 of the map's shorter side, {cols} x {rows} points)"


def detect_on_height_map(surface: Surface, st: ProtrusionSettings) -> Protrusions:
    """Protrusions (or, with ``polarity="dark"``, pits) on a height map; see the module notes."""
    h, valid, info = _levelled(surface, st)
    sq, k = info["sq_robust"], info["k"]
    thr = max(st.h_abs_um, k * sq)
    if thr <= 0:
        raise SurfscanError("the height map is flat (robust rms 0): set h_abs_um to give a threshold")
    labels, keep = hysteresis_labels(h, thr, thr / 2, valid)
    dx, dy = surface.dx, surface.dy
    if st.split and keep.any():
        labels, n = relabel(labels, keep)
        labels, n = split_touching(labels, h, thr, max(3.0, (st.min_size_um or 0) / 2 / math.sqrt(dx * dy)))
        keep = np.arange(n + 1) > 0
    invalid = ~valid if surface.has_invalid else None
    stats, ids = measure_regions(labels, keep, h, invalid)
    table = object_table(stats, dx, dy)
    table["touches_invalid"] = stats.touches_invalid
    table["max_height_um"] = stats.peak * st.sign
    table["volume_um3"] = stats.total * dx * dy * st.sign
    min_area = st.min_area_um2 if st.min_area_um2 is not None else 9 * dx * dy
    labels, table = apply_gates(labels, keep.size, ids, table, min_area, st.min_size_um, st.max_size_um, st.max_aspect)
    valid_mm2 = np.count_nonzero(valid) * dx * dy * 1e-6
    resolved = {**dataclasses.asdict(st), "k": k, "lambda_c_um": info["lambda_c_um"], "min_area_um2": min_area}
    resolved.pop("pixel_size_um")
    summary = {
        "kind": "height",
        "count": len(table),
        "count_touching_edge": int(table["touches_edge"].sum()),
        "density_per_mm2": len(table) / valid_mm2 if valid_mm2 else float("nan"),
        "valid_area_mm2": valid_mm2,
        "area_fraction": float(table["area_um2"].sum() * 1e-6 / valid_mm2) if valid_mm2 else 0.0,
        "equivalent_diameter_um": percentiles(table["equivalent_diameter_um"]),
        "max_height_um": percentiles(np.abs(table["max_height_um"])),
        "detection_limit": {
            "height_threshold_um": thr,
            "grow_threshold_um": thr / 2,
            "sq_robust_um": sq,
            "k": k,
            "k_source": "given" if st.k_fixed is not None else "auto",
            "texture_level_um": info["texture_level_um"],
            "min_area_um2": min_area,
            "statement": (
                f"protrusions rising at least {thr:.3g} µm ({k:.3g} x Sq_robust {sq:.3g} µm"
                + (f", at least h_abs_um {st.h_abs_um:g} µm" if st.h_abs_um else "")
                + f") above the local background and covering at least {min_area:.3g} µm² are counted"
            ),
        },
        "spikes_removed": info["spikes_removed"],
        "settings": resolved,
    }
    return Protrusions(table, labels, summary, h, (-2 * thr, 2 * thr))

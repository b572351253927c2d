"""Building blocks shared by the height-map and SEM detectors.

Robust statistics on subsamples, a robust large-scale background (normalised
convolution on a coarse grid, candidates excluded), hysteresis labelling,
an optional watershed split, and per-object measurement with size and
shape gates. Everything works on float32 images in pixel units; the
callers convert to µm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from ..filters import gaussian_kernel

__all__ = [
    "robust_sigma",
    "upper_sigma",
    "blob_peaks",
    "tail_threshold",
    "subsample",
    "robust_background",
    "hysteresis_labels",
    "split_touching",
    "RegionStats",
    "measure_regions",
    "relabel",
    "object_table",
    "apply_gates",
]

MAD_TO_SIGMA = 1.4826  # rms of a normal distribution = 1.4826 x its median absolute deviation
_SAMPLE = 150_000  # points used for robust statistics
_TAIL_Q = (0.5, 0.9)  # blob-maximum quantiles that fit a texture's tail
_FLAT_BEYOND_FIELDS = 200.0  # a background cut-off longer than this many fields is capped there


def subsample(a: np.ndarray, mask: np.ndarray | None = None, n: int = _SAMPLE) -> np.ndarray:
    """About ``n`` values of ``a`` on a regular grid (where ``mask`` is True), as a 1-D array."""
    step = max(1, int(math.sqrt(a.size / n)))
    v = a[::step, ::step]
    if mask is not None:
        v = v[mask[::step, ::step]]
    return v.ravel()


def robust_sigma(values: np.ndarray) -> tuple[float, float]:
    """``(median, 1.4826 * MAD)`` of a 1-D array; (0, 0) when it is empty."""
    if values.size == 0:
        return 0.0, 0.0
    med = float(np.median(values))
    return med, MAD_TO_SIGMA * float(np.median(np.abs(values - med)))


def upper_sigma(values: np.ndarray) -> tuple[float, float]:
    """``(median, sigma_up)``: the rms estimated from the upper half only.

    ``sigma_up = 1.4826 * median(v - median | v > median)`` equals the rms
    for a symmetric distribution and follows the longer upper tail of a
    right-skewed one (sparse bright grains), so thresholds built on it are
    not fooled by a narrow core with a long bright tail.
    """
    if values.size == 0:
        return 0.0, 0.0
    med = float(np.median(values))
    up = values[values > med] - med
    if up.size == 0:
        return med, 0.0
    return med, MAD_TO_SIGMA * float(np.median(up))


def tail_threshold(
    peaks: np.ndarray, expected: float = 0.05, quantiles: tuple[float, float] = _TAIL_Q, ceiling: float | None = None
) -> float:
    """Level that the texture's blobs exceed ``expected`` times per image, from their upper tail.

    ``peaks`` holds one value per blob (the maximum of each region above
    the median + 1 noise rms), tens of thousands on a full image, so a few
    hundred real objects barely move its median and 90th percentile. The
    tail above the median is modelled as exponential, ``P(peak > t) = 0.5
    exp(-(t - q50) / beta)`` with ``beta = (q90 - q50) / ln 5``, and solved
    for ``n_blobs P = expected``. An exponential tail is heavier than a
    Gaussian one, so for Gaussian textures the level errs on the safe (high)
    side; it follows skewed textures whose bright grains a rms-based
    threshold would count. ``quantiles`` (default 0.5, 0.9) are the two
    fitted.

    With a ``ceiling``, peaks above it (where the objects are) do not enter
    at all: the quantiles are ranks counted from the bottom of a texture
    population of ``n`` blobs, ``n`` = the peaks below the ceiling plus the
    number above it that the fitted tail predicts (a few iterations), so
    objects can be a large share of the blobs. Fewer than 50 peaks: 0.
    """
    qa, qb = quantiles
    if ceiling is None:
        if peaks.size < 50:
            return 0.0
        lo, hi = np.quantile(peaks, [qa, qb])
        n = float(peaks.size)
    else:
        below = np.sort(peaks[peaks <= ceiling])
        if below.size < 50:
            return 0.0
        n = float(below.size)
        for _ in range(8):
            lo, hi = (below[min(below.size - 1, int(q * n))] for q in (qa, qb))
            beta = max(float(hi - lo), 1e-12) / math.log((1 - qa) / (1 - qb))
            n = below.size + n * (1 - qa) * math.exp(-(ceiling - lo) / beta)
    beta = max(float(hi - lo), 0.0) / math.log((1 - qa) / (1 - qb))
    return float(lo) + beta * math.log(max(n * (1 - qa) / expected, 1.0))


def blob_peaks(band: np.ndarray, level: float) -> np.ndarray:
    """The highest value of each 8-connected region of ``band`` above ``level`` (one value per blob)."""
    mask = band > level
    n, lab = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    top = np.full(n, -np.inf, np.float32)
    np.maximum.at(top, lab[mask], band[mask])
    return top[1:]


def robust_background(image: np.ndarray, weight: np.ndarray | None, cutoff_px: float) -> np.ndarray:
    """Large-scale background of ``image``: a Gaussian low-pass over the points where ``weight`` is True.

    The low-pass uses the ISO 16610-61 weighting function (cut-off
    ``cutoff_px`` pixels, 50 % transmission there) evaluated as a normalised
    convolution ``G*(w z) / G*(w)`` on a coarse grid of block means (blocks of
    about a sixth of the cut-off), then bilinearly interpolated back. Points
    with weight 0 (protrusions, pits, NaN) do not pull the background; a
    region with no weight at all within reach gets the overall median.

    Returns
    -------
    ndarray of float32, same shape as ``image``.
    """
    ny, nx = image.shape
    # beyond a few hundred fields the background is the weighted mean either way (the folded kernel is flat
    # to 0.3 %); the cap only keeps the kernel's length finite for an absurd cut-off
    cutoff_px = min(float(cutoff_px), _FLAT_BEYOND_FIELDS * max(nx, ny))
    block = max(1, int(cutoff_px / 6))
    cy, cx = max(1, round(ny / block)), max(1, round(nx / block))
    if weight is None:
        w = np.ones((cy, cx), np.float32)
        num = cv2.resize(image, (cx, cy), interpolation=cv2.INTER_AREA)
    else:
        wf = weight.astype(np.float32)
        num = cv2.resize(image * wf, (cx, cy), interpolation=cv2.INTER_AREA)
        w = cv2.resize(wf, (cx, cy), interpolation=cv2.INTER_AREA)
    kx = gaussian_kernel(cutoff_px, nx / cx).astype(np.float32)
    ky = gaussian_kernel(cutoff_px, ny / cy).astype(np.float32)
    num_s = _smooth_reflect(num, kx, ky)
    w_s = _smooth_reflect(w, kx, ky)
    ok = w_s > 1e-3 * max(float(w_s.max()), 1e-12)
    coarse = np.where(ok, num_s / np.where(ok, w_s, 1.0), 0.0).astype(np.float32)
    if not ok.all():
        coarse[~ok] = float(np.median(coarse[ok])) if ok.any() else 0.0
    return cv2.resize(coarse, (nx, ny), interpolation=cv2.INTER_LINEAR)


def _fold(k: np.ndarray, n: int) -> np.ndarray:
    """The kernel ``k`` (odd length, centred) on a signal of ``n`` samples mirrored at both ends.

    The mirrored signal repeats every ``2 n`` samples, so taps ``2 n`` apart
    meet the same values: a kernel longer than that is summed onto one period
    (offsets ``-n..n``, the two ends sharing the weight of their class). The
    result is the same and the cost no longer grows with the kernel: a
    cut-off thousands of times the field once ran for many minutes.
    """
    h = k.size // 2
    if h <= 2 * n:
        return k
    period = 2 * n
    folded = np.bincount(np.arange(-h, h + 1) % period, weights=k.astype(np.float64), minlength=period)
    out = folded[np.arange(-n, n + 1) % period]
    out[0] *= 0.5
    out[-1] *= 0.5
    return out.astype(k.dtype)


def _smooth_reflect(a: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    """Separable filter with mirrored borders (repeated when the kernel is longer than the grid)."""
    kx, ky = _fold(kx, a.shape[1]), _fold(ky, a.shape[0])
    hy, hx = ky.size // 2, kx.size // 2
    padded = np.pad(a, ((hy, hy), (hx, hx)), mode="symmetric")
    out = cv2.sepFilter2D(padded, -1, kx, ky, borderType=cv2.BORDER_CONSTANT)
    return out[hy : hy + a.shape[0], hx : hx + a.shape[1]]


def hysteresis_labels(
    signal: np.ndarray, high: float, low: float, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Objects: 8-connected regions above ``low`` that hold at least one point above ``high``.

    Returns
    -------
    labels : ndarray of int32
        Every region above ``low`` (0 = background).
    keep : ndarray of bool
        ``keep[label]`` is True for the regions that reach ``high``.
    """
    mask = signal >= low
    if valid is not None:
        mask &= valid
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    keep = np.zeros(n, bool)
    if n > 1:
        ys, xs = np.nonzero(mask)
        lab = labels[ys, xs]
        keep[lab[signal[ys, xs] >= high]] = True
    keep[0] = False
    return labels, keep


def relabel(labels: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, int]:
    """Keep the labels where ``keep[label]`` is True, renumbered 1..n in order."""
    lut = np.zeros(keep.size, np.int32)
    n = int(np.count_nonzero(keep))
    lut[keep] = np.arange(1, n + 1, dtype=np.int32)
    return lut[labels], n


def split_touching(labels: np.ndarray, signal: np.ndarray, depth: float, min_distance_px: float) -> tuple[np.ndarray, int]:
    """Split objects with several peaks by a watershed on ``-signal``.

    A peak seeds its own object when it is a local maximum within
    ``min_distance_px`` and rises at least ``depth`` above the saddle to its
    neighbour (an h-maximum); each object keeps at least one seed.
    """
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    out = np.zeros_like(labels)
    n = 0
    slices = _object_slices(labels)
    pad = max(1, int(math.ceil(min_distance_px)))
    for lab, sl in enumerate(slices, start=1):
        if sl is None:
            continue
        ys = slice(max(0, sl[0].start - pad), sl[0].stop + pad)
        xs = slice(max(0, sl[1].start - pad), sl[1].stop + pad)
        obj = labels[ys, xs] == lab
        sig = np.where(obj, signal[ys, xs], float(signal[ys, xs][obj].min())).astype(np.float64)
        peaks = h_maxima(sig, depth).astype(bool) & obj
        size = 2 * pad + 1
        peaks &= cv2.dilate(sig.astype(np.float32), np.ones((size, size), np.uint8)) <= sig + 1e-12
        m, markers = cv2.connectedComponents(peaks.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
        if m <= 2:
            part = obj.astype(np.int32)
            m = 2
        else:
            part = watershed(-sig, markers, mask=obj)
        target = out[ys, xs]
        target[part > 0] = part[part > 0] + n
        n += m - 1
    return out, n


def _object_slices(labels: np.ndarray) -> list:
    from scipy import ndimage

    return ndimage.find_objects(labels)


@dataclass
class RegionStats:
    """Per-object measurements in pixel units (arrays indexed by label - 1)."""

    area_px: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    var_x: np.ndarray
    var_y: np.ndarray
    cov_xy: np.ndarray
    peak: np.ndarray
    total: np.ndarray
    touches_edge: np.ndarray
    touches_invalid: np.ndarray

    def aspect_ratio(self, dx: float = 1.0, dy: float = 1.0) -> np.ndarray:
        """Major / minor axis of the equivalent ellipse (second moments, pixel extent included)."""
        vx = self.var_x * dx * dx + dx * dx / 12
        vy = self.var_y * dy * dy + dy * dy / 12
        cxy = self.cov_xy * dx * dy
        mean = (vx + vy) / 2
        diff = np.sqrt(((vx - vy) / 2) ** 2 + cxy**2)
        return np.sqrt((mean + diff) / np.maximum(mean - diff, 1e-30))


def measure_regions(
    labels: np.ndarray, keep: np.ndarray, signal: np.ndarray, invalid: np.ndarray | None = None
) -> tuple[RegionStats, np.ndarray]:
    """Area, centroid, second moments, peak and sum of ``signal`` and edge contact of the kept labels.

    Returns the statistics (arrays in the order of the kept labels) and the
    kept label values.
    """
    ny, nx = labels.shape
    ids = np.flatnonzero(keep)
    n = ids.size
    compact = np.full(keep.size, -1, np.int64)
    compact[ids] = np.arange(n)
    ys, xs = np.nonzero(labels)
    lab = compact[labels[ys, xs]]
    sel = lab >= 0
    ys, xs, lab = ys[sel], xs[sel], lab[sel]
    val = signal[ys, xs].astype(np.float64)
    cnt = np.bincount(lab, minlength=n).astype(np.float64)
    safe = np.maximum(cnt, 1)
    xf, yf = xs.astype(np.float64), ys.astype(np.float64)
    cx, cy = np.bincount(lab, xf, n) / safe, np.bincount(lab, yf, n) / safe
    dxp, dyp = xf - cx[lab], yf - cy[lab]
    var_x = np.bincount(lab, dxp * dxp, n) / safe
    var_y = np.bincount(lab, dyp * dyp, n) / safe
    cov = np.bincount(lab, dxp * dyp, n) / safe
    peak = np.full(n, -np.inf)
    np.maximum.at(peak, lab, val)
    total = np.bincount(lab, val, n)
    border = (xs == 0) | (ys == 0) | (xs == nx - 1) | (ys == ny - 1)
    edge = np.bincount(lab[border], minlength=n) > 0
    touch_inv = np.zeros(n, bool)
    if invalid is not None and n:
        near = cv2.dilate(invalid.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        touch_inv = np.bincount(lab[near[ys, xs]], minlength=n) > 0
    return RegionStats(cnt, cx, cy, var_x, var_y, cov, peak, total, edge, touch_inv), ids


def object_table(stats: RegionStats, dx: float, dy: float) -> pd.DataFrame:
    """The columns every detector reports, in µm (x = column * dx, y = row * dy)."""
    area = stats.area_px * dx * dy
    return pd.DataFrame(
        {
            "id": np.arange(1, stats.area_px.size + 1, dtype=np.int32),
            "x_um": stats.cx * dx,
            "y_um": stats.cy * dy,
            "area_um2": area,
            "equivalent_diameter_um": np.sqrt(4 * area / np.pi),
            "aspect_ratio": stats.aspect_ratio(dx, dy),
            "touches_edge": stats.touches_edge,
        }
    )


def apply_gates(
    labels: np.ndarray,
    n_labels: int,
    ids: np.ndarray,
    table: pd.DataFrame,
    min_area: float,
    min_diameter: float | None,
    max_diameter: float | None,
    max_aspect: float | None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Keep the objects (label values ``ids`` of ``n_labels``, rows of ``table``) inside the area, diameter and
    elongation limits; returns the label image renumbered 1..n and the table with ``id`` set."""
    keep = table["area_um2"].to_numpy() >= min_area
    d = table["equivalent_diameter_um"].to_numpy()
    if min_diameter:
        keep &= d >= min_diameter
    if max_diameter:
        keep &= d <= max_diameter
    if max_aspect:
        keep &= table["aspect_ratio"].to_numpy() <= max_aspect
    flags = np.zeros(n_labels, bool)
    flags[ids[keep]] = True
    labels, n = relabel(labels, flags)
    table = table[keep].reset_index(drop=True)
    table["id"] = np.arange(1, n + 1, dtype=np.int32)
    return labels, table

"""Geometry on the autocorrelation for Sal, Str and Std, in numpy; imported lazily by :mod:`.spatial`.

The autocorrelation is stored as its upper half plane ``half[ty, k]`` with
``ty = 0 .. ny-1`` and ``tx = k - (nx-1)``; the lower half follows from
``acf(-t) = acf(t)``. Positions in the full lag plane are ``(ty + ny-1,
tx + nx-1)``, the zero lag at ``(ny-1, nx-1)`` as in a ``'full'`` correlation.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage

from ._native import compiled

_FIRST_CROP = 64  # half-size (lags) of the first window searched for the thresholded region; doubled as needed
_SAMPLES_PER_BATCH = 1 << 17  # spline samples evaluated at once (bounds the temporaries to a few MiB)
_CROSS = ndimage.generate_binary_structure(2, 1)  # 4-connectivity


def window(half: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Full-plane ACF values in rows r0..r1-1 and columns c0..c1-1 (NaN stays NaN)."""
    ny, w = half.shape
    out = np.empty((r1 - r0, c1 - c0), dtype=half.dtype)
    lo = min(max(ny - 1 - r0, 0), r1 - r0)  # rows of the window in the lower half plane (r < ny-1)
    if lo:
        # full row r < ny-1 is half row ny-1-r, columns mirrored
        out[:lo] = half[ny - 1 - r0 : ny - 1 - (r0 + lo) : -1, w - 1 - c0 : (w - 1 - c1 if c1 < w else None) : -1]
    if lo < r1 - r0:
        out[lo:] = half[r0 + lo - (ny - 1) : r1 - (ny - 1), c0:c1]
    return out


def threshold_region(half: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """The 4-connected region above ``threshold`` around the zero lag and its edge.

    Returns ``(edge_rows, edge_cols, touches_border, touches_undefined)``: the
    full-plane positions of the points outside the region that have a
    4-neighbour inside it, whether the region reaches the largest lag, and
    whether it borders an undefined (NaN) lag. The search starts on a small
    window around the zero lag and widens it, along each axis separately,
    until the region stays inside: a region that does not reach the window's
    edge (where the window is not at the border of the lag plane) is the
    whole region, since a path out of the window crosses that edge.
    """
    ny, w = half.shape
    nrows = 2 * ny - 1
    cr, cc = ny - 1, (w - 1) // 2
    size_r = size_c = _FIRST_CROP
    while True:
        r0, r1 = max(cr - size_r, 0), min(cr + size_r + 1, nrows)
        c0, c1 = max(cc - size_c, 0), min(cc + size_c + 1, w)
        win = window(half, r0, r1, c0, c1)
        labels, _ = ndimage.label(win > threshold, structure=_CROSS)
        centre = labels[cr - r0, cc - c0]
        if centre == 0:  # the zero lag itself is not above the threshold (a flat map): no region
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, False, False
        region = labels == centre
        rows = np.flatnonzero(region.any(axis=1))
        cols = np.flatnonzero(region.any(axis=0))
        grow_r = (rows[0] == 0 and r0 > 0) or (rows[-1] == win.shape[0] - 1 and r1 < nrows)
        grow_c = (cols[0] == 0 and c0 > 0) or (cols[-1] == win.shape[1] - 1 and c1 < w)
        if not (grow_r or grow_c):
            break
        size_r, size_c = size_r * (2 if grow_r else 1), size_c * (2 if grow_c else 1)
    border = bool(rows[0] + r0 == 0 or rows[-1] + r0 == nrows - 1 or cols[0] + c0 == 0 or cols[-1] + c0 == w - 1)
    edge = ndimage.binary_dilation(region, structure=_CROSS) & ~region
    undefined = bool(np.isnan(win[edge]).any())
    edge &= ~np.isnan(win)
    er, ec = np.nonzero(edge)
    return er.astype(np.int64) + r0, ec.astype(np.int64) + c0, border, undefined


def _bspline(coef: np.ndarray, y: np.ndarray, x: np.ndarray, c=None) -> np.ndarray:
    """Cubic B-spline interpolation of prefiltered coefficients at points (y, x), clamped coefficient indices.

    ``c``: the compiled kernels (:mod:`._native`), or None for scipy.
    """
    if c is None:
        return ndimage.map_coordinates(coef, [y, x], order=3, prefilter=False, mode="nearest")
    y = np.ascontiguousarray(y, dtype=np.float64)
    out = np.empty(y.shape)
    c.spline_values(coef, coef.shape[0], coef.shape[1], y.ravel(), np.ascontiguousarray(x, dtype=np.float64).ravel(),
                    out.ravel())
    return out


def decay_lengths(
    coef: np.ndarray, cy: float, cx: float, edge_y: np.ndarray, edge_x: np.ndarray, threshold: float, dy: float,
    dx: float, backend: str | None = None,
) -> np.ndarray:
    """Distance (µm) from the zero lag to where the ACF meets ``threshold`` towards each edge point.

    ``coef`` holds cubic B-spline coefficients of a window of the ACF in which
    the zero lag is at ``(cy, cx)`` and the edge points at ``(edge_y, edge_x)``.
    Along each ray the sample closest to the threshold is found on a grid of
    at most half a pixel (at least 1000 samples), then refined by bisection
    where the ACF crosses the threshold next to it. ``backend``: the spline
    is evaluated by scipy (``"numpy"``) or by the compiled kernels (``"c"``;
    None: :func:`._native.default_backend`); the two differ by rounding only.
    """
    c = compiled(backend)
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    vy = np.ascontiguousarray(edge_y - cy, dtype=np.float64)
    vx = np.ascontiguousarray(edge_x - cx, dtype=np.float64)
    steps = np.maximum(1000, (2 * np.maximum(np.abs(vy), np.abs(vx))).astype(np.int64) + 1)
    t_best = np.empty(vy.size)
    if c is not None:
        c.ray_search(coef, coef.shape[0], coef.shape[1], float(cy), float(cx), vy, vx, steps, float(threshold), t_best)
    else:
        for n in np.unique(steps):  # rays with the same number of samples are sampled together
            t = np.arange(n) / (n - 1)
            same = np.flatnonzero(steps == n)
            for k in range(0, same.size, max(1, _SAMPLES_PER_BATCH // int(n))):
                rays = same[k : k + max(1, _SAMPLES_PER_BATCH // int(n))]
                values = _bspline(coef, cy + np.outer(vy[rays], t), cx + np.outer(vx[rays], t))
                t_best[rays] = np.argmin(np.abs(values - threshold), axis=1) / (n - 1)
    h = 1.0 / (steps - 1)

    def f(t: np.ndarray, rays: np.ndarray) -> np.ndarray:
        return _bspline(coef, cy + t * vy[rays], cx + t * vx[rays], c) - threshold

    everyone = np.arange(vy.size)
    f0 = f(t_best, everyone)
    pending = np.ones(vy.size, dtype=bool)
    for side in (-1.0, 1.0):  # refine inside the neighbouring interval that brackets the threshold
        t1 = t_best + side * h
        ok = pending & (t1 >= 0.0) & (t1 <= 1.0)
        rays = np.flatnonzero(ok)
        f1 = f(t1[rays], rays)
        bracket = ~((f0[rays] == 0.0) | (f0[rays] * f1 > 0.0))
        rays = rays[bracket]
        lo, hi, flo = t_best[rays], t1[rays], f0[rays]
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            fm = f(mid, rays)
            same = fm * flo > 0.0
            lo = np.where(same, mid, lo)
            flo = np.where(same, fm, flo)
            hi = np.where(same, hi, mid)
        t_best[rays] = 0.5 * (lo + hi)
        pending[rays] = False
    return t_best * np.hypot(vy * dy, vx * dx)


@functools.lru_cache(maxsize=4)
def angle_bins(ny: int, nx: int, dy: float, dx: float, nbins: int) -> np.ndarray:
    """Bin of every ``rfft2`` frequency of an ``ny x nx`` map: the angle atan2(-fy, fx) folded to [0, 180) degrees.

    The Nyquist column of an even ``nx`` stands for -f_N, as it appears once in
    the full plane. Cached (read-only) for the last few map geometries, since a
    batch measures many maps of one size.
    """
    fy = np.fft.fftfreq(ny, d=dy)
    fx = np.fft.rfftfreq(nx, d=dx)
    if nx % 2 == 0:
        fx[-1] = -fx[-1]
    step = 180.0 / nbins
    angle = np.degrees(np.arctan2(-fy[:, None], fx[None, :])) % 180.0
    bins = np.minimum((angle / step).astype(np.intp), nbins - 1).ravel()
    bins.flags.writeable = False
    return bins


def angular_spectrum(amp: np.ndarray, bins: np.ndarray, wcol: np.ndarray, nbins: int) -> np.ndarray:
    """Sum ``wcol[j] * amp[i, j]`` into the angle ``bins`` of :func:`angle_bins`."""
    return np.bincount(bins, weights=(amp * wcol[None, :]).ravel(), minlength=nbins)

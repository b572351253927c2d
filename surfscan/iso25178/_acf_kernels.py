"""Compiled (numba) loops for Sal and Str; imported lazily by :mod:`.spatial`.

The autocorrelation is stored as its upper half plane ``half[ty, k]`` with
``ty = 0 .. ny-1`` and ``tx = k - (nx-1)``; the lower half follows from
``acf(-t) = acf(t)``. Positions in the full lag plane are ``(ty + ny-1,
tx + nx-1)``, the zero lag at ``(ny-1, nx-1)`` as in a ``'full'`` correlation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _value(half: np.ndarray, r: int, c: int) -> float:
    """ACF at full-plane position (r, c) read from the upper half plane."""
    ny = half.shape[0]
    if r >= ny - 1:
        return half[r - (ny - 1), c]
    return half[(ny - 1) - r, half.shape[1] - 1 - c]


@njit(cache=True, nogil=True)
def threshold_region(half: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """The 4-connected region above ``threshold`` around the zero lag and its edge.

    Returns ``(edge_rows, edge_cols, touches_border, touches_undefined)``: the
    full-plane positions of the points outside the region that have a
    4-neighbour inside it, whether the region reaches the largest lag, and
    whether it borders an undefined (NaN) lag.
    """
    ny, w = half.shape
    nrows = 2 * ny - 1
    state = np.zeros((nrows, w), dtype=np.uint8)  # 1 in region, 2 edge
    stack = np.empty(nrows * w if nrows * w < 1 << 22 else 1 << 22, dtype=np.int64)
    top = 0
    cr, cc = ny - 1, (w - 1) // 2
    state[cr, cc] = 1
    stack[top] = cr * w + cc
    top += 1
    er = np.empty(1024, dtype=np.int64)
    ec = np.empty(1024, dtype=np.int64)
    nedge = 0
    border = False
    undefined = False
    dr = (-1, 1, 0, 0)
    dc = (0, 0, -1, 1)
    while top > 0:
        top -= 1
        p = stack[top]
        r = p // w
        c = p - r * w
        if r == 0 or r == nrows - 1 or c == 0 or c == w - 1:
            border = True
        for k in range(4):
            rr = r + dr[k]
            c2 = c + dc[k]
            if rr < 0 or rr >= nrows or c2 < 0 or c2 >= w or state[rr, c2] != 0:
                continue
            v = _value(half, rr, c2)
            if v > threshold:
                state[rr, c2] = 1
                if top == stack.size:
                    grown = np.empty(stack.size * 2, dtype=np.int64)
                    grown[:top] = stack[:top]
                    stack = grown
                stack[top] = rr * w + c2
                top += 1
            else:
                state[rr, c2] = 2
                if math.isnan(v):
                    undefined = True
                    continue
                if nedge == er.size:
                    er2 = np.empty(er.size * 2, dtype=np.int64)
                    ec2 = np.empty(er.size * 2, dtype=np.int64)
                    er2[:nedge] = er[:nedge]
                    ec2[:nedge] = ec[:nedge]
                    er, ec = er2, ec2
                er[nedge] = rr
                ec[nedge] = c2
                nedge += 1
    return er[:nedge], ec[:nedge], border, undefined


@njit(cache=True, nogil=True, inline="always")
def _bspline(coef: np.ndarray, y: float, x: float) -> float:
    """Cubic B-spline interpolation of prefiltered coefficients at (y, x), clamped indices."""
    iy = int(math.floor(y))
    ix = int(math.floor(x))
    ty = y - iy
    tx = x - ix
    wy0 = (1 - ty) ** 3 / 6
    wy1 = (3 * ty**3 - 6 * ty**2 + 4) / 6
    wy2 = (-3 * ty**3 + 3 * ty**2 + 3 * ty + 1) / 6
    wy3 = ty**3 / 6
    wx0 = (1 - tx) ** 3 / 6
    wx1 = (3 * tx**3 - 6 * tx**2 + 4) / 6
    wx2 = (-3 * tx**3 + 3 * tx**2 + 3 * tx + 1) / 6
    wx3 = tx**3 / 6
    ny, nx = coef.shape
    s = 0.0
    for a in range(4):
        r = min(max(iy - 1 + a, 0), ny - 1)
        wy = wy0 if a == 0 else (wy1 if a == 1 else (wy2 if a == 2 else wy3))
        row = 0.0
        for b in range(4):
            c = min(max(ix - 1 + b, 0), nx - 1)
            wx = wx0 if b == 0 else (wx1 if b == 1 else (wx2 if b == 2 else wx3))
            row += wx * coef[r, c]
        s += wy * row
    return s


@njit(cache=True, nogil=True)
def decay_lengths(
    coef: np.ndarray, cy: float, cx: float, edge_y: np.ndarray, edge_x: np.ndarray, threshold: float, dy: float, dx: float
) -> np.ndarray:
    """Distance (µm) from the zero lag to where the ACF meets ``threshold`` towards each edge point.

    ``coef`` holds cubic B-spline coefficients of a window of the ACF in which
    the zero lag is at ``(cy, cx)`` and the edge points at ``(edge_y, edge_x)``.
    Along each ray the sample closest to the threshold is found on a grid of
    at most half a pixel (at least 1000 samples), then refined by bisection
    where the ACF crosses the threshold next to it.
    """
    n = edge_y.size
    out = np.empty(n)
    for i in range(n):
        vy = edge_y[i] - cy
        vx = edge_x[i] - cx
        steps = max(1000, int(2 * max(abs(vy), abs(vx))) + 1)
        best_k = 0
        best = math.inf
        for k in range(steps):
            t = k / (steps - 1)
            d = abs(_bspline(coef, cy + t * vy, cx + t * vx) - threshold)
            if d < best:
                best = d
                best_k = k
        t_best = best_k / (steps - 1)
        # refine inside the neighbouring interval that brackets the threshold
        h = 1.0 / (steps - 1)
        f0 = _bspline(coef, cy + t_best * vy, cx + t_best * vx) - threshold
        for side in (-1.0, 1.0):
            t1 = t_best + side * h
            if t1 < 0.0 or t1 > 1.0:
                continue
            f1 = _bspline(coef, cy + t1 * vy, cx + t1 * vx) - threshold
            if f0 == 0.0 or f0 * f1 > 0.0:
                continue
            lo, hi, flo = t_best, t1, f0
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                fm = _bspline(coef, cy + mid * vy, cx + mid * vx) - threshold
                if fm * flo > 0.0:
                    lo, flo = mid, fm
                else:
                    hi = mid
            t_best = 0.5 * (lo + hi)
            break
        out[i] = t_best * math.hypot(vy * dy, vx * dx)
    return out


@njit(cache=True, nogil=True)
def window(half: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Full-plane ACF values in rows r0..r1-1 and columns c0..c1-1 (NaN stays NaN)."""
    out = np.empty((r1 - r0, c1 - c0))
    for r in range(r0, r1):
        for c in range(c0, c1):
            out[r - r0, c - c0] = _value(half, r, c)
    return out


@njit(cache=True, nogil=True)
def angular_spectrum(amp: np.ndarray, fy: np.ndarray, fx: np.ndarray, wcol: np.ndarray, nbins: int) -> np.ndarray:
    """Sum ``wcol[j] * amp[i, j]`` into bins of the angle atan2(-fy, fx) folded to [0, 180) degrees."""
    out = np.zeros(nbins)
    step = 180.0 / nbins
    for i in range(amp.shape[0]):
        for j in range(amp.shape[1]):
            a = math.degrees(math.atan2(-fy[i], fx[j])) % 180.0
            b = int(a / step)
            if b >= nbins:
                b = nbins - 1
            out[b] += wcol[j] * amp[i, j]
    return out

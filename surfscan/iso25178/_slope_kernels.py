"""Compiled (numba) loops for Sdq and Sdr; imported lazily by :mod:`.hybrid`.

Every kernel reads the height map once, row by row, and skips non-measured
(NaN) points as its caller documents. ``cache=True`` keeps the compiled code
on disk, so only the first call on a machine pays the JIT cost (about 1 s).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def slope_sums(z: np.ndarray) -> tuple[float, int, float, int]:
    """Sums of squared forward differences along x and y over measured pairs.

    Returns ``(sum_dx2, n_x, sum_dy2, n_y)`` (differences in height units, not
    divided by the spacing); a pair with a NaN end is skipped.
    """
    ny, nx = z.shape
    sx = 0.0
    sy = 0.0
    nxp = 0
    nyp = 0
    for i in range(ny):
        for j in range(nx):
            a = z[i, j]
            if math.isnan(a):
                continue
            if j + 1 < nx:
                b = z[i, j + 1]
                if not math.isnan(b):
                    sx += (b - a) * (b - a)
                    nxp += 1
            if i + 1 < ny:
                b = z[i + 1, j]
                if not math.isnan(b):
                    sy += (b - a) * (b - a)
                    nyp += 1
    return sx, nxp, sy, nyp


@njit(cache=True, nogil=True, inline="always")
def _excess(a: float, b: float) -> float:
    """sqrt(a + b) - sqrt(b) without cancellation (a >= 0, b > 0)."""
    rb = math.sqrt(b)
    return a / (math.sqrt(a + b) + rb)


@njit(cache=True, nogil=True)
def iso_area(z: np.ndarray, dx: float, dy: float) -> tuple[float, int]:
    """Developed minus projected area over the grid cells whose four corners are measured.

    Each cell is split along both diagonals and the two triangulations are
    averaged (ISO 25178-2:2021, eq. D.15): half the sum of the four corner
    triangles. The excess over the flat cell is summed directly, so a nearly
    flat map keeps its precision. Returns ``(excess_area, number_of_cells)``.
    """
    ny, nx = z.shape
    qz = (dx * dy) * (dx * dy)
    total = 0.0
    cells = 0
    for i in range(ny - 1):
        for j in range(nx - 1):
            z00 = z[i, j]
            z01 = z[i, j + 1]
            z10 = z[i + 1, j]
            z11 = z[i + 1, j + 1]
            if math.isnan(z00) or math.isnan(z01) or math.isnan(z10) or math.isnan(z11):
                continue
            xb = (dy * (z01 - z00)) ** 2
            xt = (dy * (z11 - z10)) ** 2
            yl = (dx * (z10 - z00)) ** 2
            yr = (dx * (z11 - z01)) ** 2
            total += _excess(xb + yl, qz) + _excess(xb + yr, qz) + _excess(xt + yr, qz) + _excess(xt + yl, qz)
            cells += 1
    return 0.25 * total, cells


@njit(cache=True, nogil=True)
def _edge_strip(z: np.ndarray, step: float, along_rows: bool, index: int) -> float:
    """Sum of sqrt(1 + (dz/step)^2) - 1 along one border row or column (flat mirror outside)."""
    s = 0.0
    n = z.shape[1] if along_rows else z.shape[0]
    inv = 1.0 / (step * step)
    for k in range(n - 1):
        if along_rows:
            d = z[index, k + 1] - z[index, k]
        else:
            d = z[k + 1, index] - z[k, index]
        s += _excess(d * d * inv, 1.0)
    return s


@njit(cache=True, nogil=True)
def gwyddion_area(z: np.ndarray, dx: float, dy: float) -> float:
    """Developed minus projected area as Gwyddion 2.62 computes it (pixel-centred, no NaN allowed).

    Every cell between four samples is cut into four triangles that meet at the
    cell centre, whose height is the mean of the corners. Along the border a
    half-pixel strip is added that is tilted only along the border (the height
    is mirrored outwards), and the four corner quarter-pixels count as flat, so
    that a flat map has exactly ``nx * ny * dx * dy``.
    """
    ny, nx = z.shape
    ix2 = 1.0 / (dx * dx)
    iy2 = 1.0 / (dy * dy)
    total = 0.0
    for i in range(ny - 1):
        for j in range(nx - 1):
            z1 = z[i, j]
            z2 = z[i, j + 1]
            z3 = z[i + 1, j + 1]
            z4 = z[i + 1, j]
            c = 0.5 * (z1 + z2 + z3 + z4)
            total += (
                _excess((z1 - z2) ** 2 * ix2 + (z1 + z2 - c) ** 2 * iy2, 1.0)
                + _excess((z2 - z3) ** 2 * iy2 + (z2 + z3 - c) ** 2 * ix2, 1.0)
                + _excess((z3 - z4) ** 2 * ix2 + (z3 + z4 - c) ** 2 * iy2, 1.0)
                + _excess((z1 - z4) ** 2 * iy2 + (z1 + z4 - c) ** 2 * ix2, 1.0)
            )
    # each border strip segment counts two of the four quarter triangles
    strips = 2.0 * (
        _edge_strip(z, dx, True, 0)
        + _edge_strip(z, dx, True, ny - 1)
        + _edge_strip(z, dy, False, 0)
        + _edge_strip(z, dy, False, nx - 1)
    )
    return (total + strips) * dx * dy / 4.0  # the flat corner quarter-pixels add no excess

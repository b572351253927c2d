"""Sums over neighbouring points for Sdq and Sdr, in blocks of rows; imported lazily by :mod:`.hybrid`.

Every function reads the height map once, a block of rows at a time (the
temporaries of one block stay in cache), and skips non-measured (NaN) points
as its caller documents. Sdq's sums and Sdr's ISO area share one pass,
since both need the squared neighbour differences. Sums are pairwise (numpy), so they are at least as
precise as one running sum.
"""

from __future__ import annotations

import numpy as np

_BLOCK_ROWS = 128  # rows per block: a few 128 x 2048 float64 temporaries (2 MiB each) at a time


def _blocks(ny: int, overlap: int):
    """Row ranges ``(r0, r1)`` covering ``0 .. ny`` with ``overlap`` extra rows at the end of each block."""
    for r0 in range(0, max(ny - overlap, 1), _BLOCK_ROWS):
        yield r0, min(r0 + _BLOCK_ROWS + overlap, ny)


def _excess(a: np.ndarray, root_b: float) -> np.ndarray:
    """``sqrt(a + b) - sqrt(b)`` without cancellation, in place on ``a`` (``a >= 0``, ``root_b = sqrt(b) > 0``)."""
    t = a + root_b * root_b
    np.sqrt(t, out=t)
    t += root_b
    np.divide(a, t, out=a)
    return a


def _finite_sum(a: np.ndarray, holes: bool) -> tuple[float, int]:
    """Sum of the finite entries of ``a`` and their number (all of them when the map has no holes)."""
    if not holes:
        return float(np.sum(a)), a.size
    finite = ~np.isnan(a)
    return float(np.sum(a, where=finite)), int(np.count_nonzero(finite))


def slope_and_area(
    z: np.ndarray, dx: float, dy: float, holes: bool, area: bool = True
) -> tuple[float, int, float, int, float, int]:
    """Sums of squared differences (Sdq) and the developed area (Sdr, ISO convention) in one pass over the map.

    Returns ``(sum_dx2, n_x, sum_dy2, n_y, excess_area, number_of_cells)``.
    The first four are the sums of squared forward differences along x and y
    over measured pairs (height units, not divided by the spacing); a pair
    with a NaN end is skipped. The last two are the developed minus projected
    area over the grid cells whose four corners are measured: each cell is
    split along both diagonals and the two triangulations are averaged
    (ISO 25178-2:2021, eq. D.15), half the sum of the four corner triangles;
    the excess over the flat cell is summed directly, so a nearly flat map
    keeps its precision. ``area=False`` skips the area (``0.0, 0``).
    ``holes`` says whether ``z`` holds NaN.
    """
    ny, nx = z.shape
    root = dx * dy
    sx = sy = total = 0.0
    nxp = nyp = cells = 0
    for r0, r1 in _blocks(ny, 1):
        top, bottom = z[r0 : r1 - 1], z[r0 + 1 : r1]
        xb = np.diff(top, axis=1)
        xb *= xb
        yv = bottom - top
        yv *= yv
        s, n = _finite_sum(xb, holes)  # rows r0 .. r1-2; the next block starts at r1-1
        sx, nxp = sx + s, nxp + n
        if r1 == ny:  # the last row has no block after it
            s, n = _finite_sum(np.square(np.diff(z[-1])), holes)
            sx, nxp = sx + s, nxp + n
        s, n = _finite_sum(yv, holes)
        sy, nyp = sy + s, nyp + n
        if not area or yv.size == 0 or nx < 2:
            continue
        xt = np.diff(bottom, axis=1)
        xt *= dy
        xt *= xt
        xb *= dy * dy
        yv *= dx * dx
        yl, yr = yv[:, :-1], yv[:, 1:]
        cell = _excess(xb + yl, root)
        cell += _excess(xb + yr, root)
        cell += _excess(xt + yr, root)
        cell += _excess(xt + yl, root)
        s, n = _finite_sum(cell, holes)
        total, cells = total + s, cells + n
    return sx, nxp, sy, nyp, 0.25 * total, cells


def _edge_strip(line: np.ndarray, step: float) -> float:
    """Sum of sqrt(1 + (dz/step)^2) - 1 along one border row or column (flat mirror outside)."""
    d = np.diff(line) / step
    return float(np.sum(_excess(d * d, 1.0)))


def _centre_triangle(p: np.ndarray, q: np.ndarray, c: np.ndarray, along: float, across: float) -> np.ndarray:
    """Excess area (in units of the flat quarter cell) of the triangle from edge p-q to the cell centre."""
    d = (p - q) * along
    m = (p + q - c) * across
    d *= d
    m *= m
    d += m
    return _excess(d, 1.0)


def gwyddion_area(z: np.ndarray, dx: float, dy: float) -> float:
    """Developed minus projected area as Gwyddion 2.62 computes it (pixel-centred, no NaN allowed).

    Every cell between four samples is cut into four triangles that meet at the
    cell centre, whose height is the mean of the corners. Along the border a
    half-pixel strip is added that is tilted only along the border (the height
    is mirrored outwards), and the four corner quarter-pixels count as flat, so
    that a flat map has exactly ``nx * ny * dx * dy``.
    """
    ny, nx = z.shape
    ix, iy = 1.0 / dx, 1.0 / dy
    total = 0.0
    for r0, r1 in _blocks(ny, 1):
        z1, z2 = z[r0 : r1 - 1, :-1], z[r0 : r1 - 1, 1:]
        z4, z3 = z[r0 + 1 : r1, :-1], z[r0 + 1 : r1, 1:]
        c = 0.5 * (z1 + z2 + z3 + z4)
        cell = _centre_triangle(z1, z2, c, ix, iy)
        cell += _centre_triangle(z2, z3, c, iy, ix)
        cell += _centre_triangle(z3, z4, c, ix, iy)
        cell += _centre_triangle(z1, z4, c, iy, ix)
        total += float(np.sum(cell))
    # each border strip segment counts two of the four quarter triangles
    strips = 2.0 * (
        _edge_strip(z[0], dx) + _edge_strip(z[-1], dx) + _edge_strip(z[:, 0], dy) + _edge_strip(z[:, -1], dy)
    )
    return (total + strips) * dx * dy / 4.0  # the flat corner quarter-pixels add no excess

"""Form removal: plane, polynomial and scan-line (row) levelling.

Every fit uses measured points only (NaN excluded) and, when ``mask`` is
given, only the points where ``mask`` is True; the fitted form is then
subtracted from the whole map. Non-measured points stay NaN.

The plane fit never builds an N x 3 design matrix: on a regular grid the
least-squares normal equations need only row and column sums, which are
accumulated block by block so each block of rows stays in cache.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from .errors import SurfscanError
from .model import Surface

__all__ = ["level", "level_plane", "level_polynomial", "level_rows", "fit_plane", "METHODS"]

#: Levelling methods accepted by :func:`level`.
METHODS = ("plane", "poly:N", "rows", "none")

_BLOCK_ROWS = 32


def _fit_mask(surface: Surface, mask: np.ndarray | None) -> np.ndarray | None:
    """Combined fit mask (valid & user mask), or None when every point is used."""
    if mask is None:
        return surface.valid if surface.has_invalid else None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != surface.shape:
        raise SurfscanError(f"the levelling mask has shape {mask.shape}, the surface {surface.shape}")
    return mask & surface.valid


def _centred(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) - (n - 1) / 2.0


def _plane_full(z: np.ndarray) -> tuple[float, float, float] | None:
    """Plane coefficients (a, bx, by) in pixel units on centred indices; None if NaN found."""
    ny, nx = z.shape
    rowsum = np.empty(ny)
    colsum = np.zeros(nx)
    for r0 in range(0, ny, _BLOCK_ROWS):
        blk = z[r0 : r0 + _BLOCK_ROWS]
        blk.sum(axis=1, out=rowsum[r0 : r0 + blk.shape[0]])
        colsum += blk.sum(axis=0)
    total = rowsum.sum()
    if not np.isfinite(total):
        return None
    xc, yc = _centred(nx), _centred(ny)
    sxx, syy = float(xc @ xc), float(yc @ yc)
    a = total / z.size
    bx = float(colsum @ xc) / (ny * sxx) if sxx > 0 else 0.0
    by = float(rowsum @ yc) / (nx * syy) if syy > 0 else 0.0
    return a, bx, by


def _plane_masked(z: np.ndarray, m: np.ndarray) -> tuple[float, float, float]:
    ny, nx = z.shape
    xc, yc = _centred(nx), _centred(ny)
    mf = m.astype(np.float64)
    z0 = np.where(m, z, 0.0)
    rowcnt, colcnt = mf.sum(axis=1), mf.sum(axis=0)
    n = rowcnt.sum()
    if n < 3:
        raise SurfscanError(f"cannot fit a plane to {int(n)} measured points (need at least 3)")
    sx, sy = colcnt @ xc, rowcnt @ yc
    sxx, syy = colcnt @ (xc * xc), rowcnt @ (yc * yc)
    sxy = yc @ (mf @ xc)
    sz = z0.sum()
    sxz, syz = z0.sum(axis=0) @ xc, z0.sum(axis=1) @ yc
    g = np.array([[n, sx, sy], [sx, sxx, sxy], [sy, sxy, syy]])
    rhs = np.array([sz, sxz, syz])
    coef, *_ = np.linalg.lstsq(g, rhs, rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def fit_plane(surface: Surface, mask: np.ndarray | None = None) -> tuple[float, float, float]:
    """Least-squares plane ``z = c + gx * x + gy * y`` over measured points.

    Parameters
    ----------
    surface : Surface
    mask : ndarray of bool, optional
        Fit only where True (for example a reference region).

    Returns
    -------
    c : float
        Height of the plane at the centre of the map, µm.
    gx, gy : float
        Slopes along x (columns) and y (rows), µm/µm.

    Examples
    --------
    >>> import surfscan as ss
    >>> z0, ax, ay = ss.fit_plane(ss.read("sample_images/electrode_A_good_site2.x3p"))
    >>> round(z0, 2), round(100 * ax, 2), round(100 * ay, 2)   # µm, and the tilt in % along x and y
    (12.46, 0.38, 0.5)
    """
    fm = _fit_mask(surface, mask)
    coef = _plane_full(surface.z) if fm is None else None
    if coef is None:
        coef = _plane_masked(surface.z, surface.valid if fm is None else fm)
    a, bx, by = coef
    return a, bx / surface.dx, by / surface.dy


def level_plane(surface: Surface, mask: np.ndarray | None = None) -> Surface:
    """Subtract the least-squares plane fitted over measured points (or ``mask``).

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level_plane(ss.read("sample_images/electrode_A_good_site2.x3p"))
    >>> round(ss.roughness(s, ["Sa"])["Sa"], 3)             # µm
    0.07
    """
    z = surface.z
    ny, nx = z.shape
    fm = _fit_mask(surface, mask) if (mask is not None or surface.has_invalid_if_known() is not None) else None
    coef = _plane_full(z) if fm is None else None  # None: NaN found (or a mask) -> masked fit
    all_valid = coef is not None
    if coef is None:
        coef = _plane_masked(z, surface.valid if fm is None else fm)
    a, bx, by = coef
    px = a + bx * _centred(nx)
    py = by * _centred(ny)
    out = np.empty_like(z)
    for r0 in range(0, ny, _BLOCK_ROWS):
        o = out[r0 : r0 + _BLOCK_ROWS]
        np.subtract(z[r0 : r0 + _BLOCK_ROWS], px, out=o)
        o -= py[r0 : r0 + _BLOCK_ROWS, None]
    result = surface.replace(z=out, step="level plane", zero_mean=True)
    return result.known_all_valid() if all_valid else result


def level_polynomial(surface: Surface, degree: int, mask: np.ndarray | None = None) -> Surface:
    """Subtract a least-squares 2-D polynomial of total degree ``degree``.

    The basis is products of Legendre polynomials ``P_i(x) P_j(y)`` with
    ``i + j <= degree`` on coordinates scaled to [-1, 1], which keeps the
    normal equations well conditioned for high degrees. The normal equations
    are assembled from matrix products over the grid (no design matrix with
    one row per point).

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level_polynomial(ss.read("sample_images/electrode_A_good_site2.x3p"), 2)
    >>> round(ss.roughness(s, ["Sa"])["Sa"], 3)             # µm: the sample has no curvature to remove
    0.07
    """
    degree = int(degree)
    if degree < 0 or degree > 12:
        raise SurfscanError(f"polynomial degree must be between 0 and 12, got {degree}")
    if degree == 1 and mask is None:
        out = level_plane(surface)
        out.meta["history"][-1] = "level poly:1"
        return out
    z = surface.z
    ny, nx = z.shape
    k = degree + 1
    px = legendre.legvander(np.linspace(-1.0, 1.0, nx) if nx > 1 else np.zeros(1), degree)  # (nx, k)
    py = legendre.legvander(np.linspace(-1.0, 1.0, ny) if ny > 1 else np.zeros(1), degree)  # (ny, k)
    terms = [(i, j) for j in range(k) for i in range(k) if i + j <= degree]
    fm = _fit_mask(surface, mask)
    if fm is None:
        r = py.T @ (z @ px)  # r[j, i] = sum_y Py_j sum_x Px_i z
        gx, gy = px.T @ px, py.T @ py
        g = np.array([[gx[i, kx] * gy[j, ky] for (kx, ky) in terms] for (i, j) in terms])
    else:
        if np.count_nonzero(fm) < len(terms):
            raise SurfscanError(f"cannot fit a degree-{degree} polynomial to {np.count_nonzero(fm)} points")
        mf = fm.astype(np.float64)
        r = py.T @ (np.where(fm, z, 0.0) @ px)
        pp = (px[:, :, None] * px[:, None, :]).reshape(nx, k * k)  # Px_i * Px_k
        q = mf @ pp  # (ny, k*k)
        yy = (py[:, :, None] * py[:, None, :]).reshape(ny, k * k)  # Py_j * Py_l
        full = yy.T @ q  # [(j,l), (i,kx)]
        full = full.reshape(k, k, k, k)  # j, l, i, kx
        g = np.array([[full[j, ky, i, kx] for (kx, ky) in terms] for (i, j) in terms])
    rhs = np.array([r[j, i] for (i, j) in terms])
    coef, *_ = np.linalg.lstsq(g, rhs, rcond=None)
    cmat = np.zeros((k, k))
    for (i, j), c in zip(terms, coef):
        cmat[j, i] = c
    form = py @ cmat @ px.T
    return surface.replace(z=z - form, step=f"level poly:{degree}", zero_mean=True)


def level_rows(surface: Surface, mask: np.ndarray | None = None) -> Surface:
    """Median row alignment: subtract from each row the median of its measured points.

    Removes scan-line offsets (and with them any tilt along y). Rows with no
    usable point are left unchanged.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> rows = ss.level_rows(ss.read("sample_images/electrode_A_good_site2.x3p"))
    >>> bool(np.allclose(np.nanmedian(rows.z, axis=1), 0.0))   # every scan line now has zero median
    True
    """
    z = surface.z
    fm = _fit_mask(surface, mask)
    if fm is None:
        med = np.median(z, axis=1)
    else:
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(np.where(fm, z, np.nan), axis=1)
        med = np.where(np.isnan(med), 0.0, med)
    return surface.replace(z=z - med[:, None], step="level rows")


def level(surface: Surface, method: str = "plane", mask: np.ndarray | None = None) -> Surface:
    """Remove the form of a surface.

    Parameters
    ----------
    surface : Surface
    method : str
        ``"plane"`` (least-squares plane), ``"poly:N"`` (2-D polynomial of
        total degree N), ``"rows"`` (median row alignment) or ``"none"``.
    mask : ndarray of bool, optional
        Fit on this region only (True = use); the form is removed everywhere.

    Returns
    -------
    Surface
        A new surface; ``meta["history"]`` records the step.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> s = ss.read("sample_images/electrode_A_good_site2.x3p")  # a 12 µm offset and a tilt
    >>> flat = ss.level(s, "poly:2")
    >>> round(float(np.nanmean(s.z)), 1), abs(round(float(np.nanmean(flat.z)), 6))
    (12.5, 0.0)
    >>> flat.meta["history"][-1]
    'level poly:2'
    """
    if not isinstance(surface, Surface):
        raise SurfscanError(f"level needs a height map (Surface), not {type(surface).__name__}")
    m = (method or "none").strip().lower()
    if m == "none":
        return surface
    if m == "plane":
        return level_plane(surface, mask)
    if m == "rows":
        return level_rows(surface, mask)
    if m.startswith("poly"):
        deg = m[4:].lstrip(":")
        if not deg.isdigit():
            raise SurfscanError(f"polynomial levelling is written 'poly:N' (for example poly:2), not {method!r}")
        return level_polynomial(surface, int(deg), mask)
    raise SurfscanError(f"unknown levelling method {method!r}; use one of {', '.join(METHODS)}")

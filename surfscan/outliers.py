"""Outlier (spike) removal and filling of non-measured points, as operators ``Surface -> Surface``.

:func:`remove_outliers` marks outliers as not measured (NaN);
:func:`fill_nonmeasured` gives every non-measured point a value. Both record
what they did in ``meta`` (``outliers_removed`` / ``points_filled``, and a
line in ``meta["history"]``), so the count travels with the result.

Outlier methods
    ``"median"`` (default)
        1. Residual ``r`` of each point against the median of its
           ``size x size`` neighbourhood (5 x 5 pixels by default, the centre
           included). A spike, or a cluster of spikes smaller than about half
           the window, does not move the local median, so its residual is its
           full height; features wider than the window (protrusions, grains)
           follow the median. For the median only, a non-measured neighbour
           takes the mean of the measured points in its own window.
        2. Global noise level ``sigma = 1.4826 * MAD`` of all residuals (MAD =
           median absolute deviation from their median ``c``: the standard
           deviation for Gaussian residuals, not inflated by the spikes),
           floored at the point-to-point noise (the robust sigma of the
           differences between horizontal neighbours over sqrt 2; a tilt does
           not change it), because on a very smooth surface the residuals at
           crests are tiny but systematic. Points with ``|r - c| > k * sigma``
           (``k = 6`` by default) are candidates.
        3. A candidate stays an outlier only if ``|r - c|`` also exceeds ``k``
           times the local scale, 1.4826 times the median ``|r - c|`` of its
           own window (its own value is one of ``size²``): on steep or rough
           parts of a map every residual is larger, and a point only as far
           out as its neighbours is not a spike.
        4. ... and only if fewer than two of its 8 neighbours lie within half
           its residual of its own height: the corner of a plateau, or a ridge
           or trench one or two pixels wide, stands out from the local median
           too but continues in its neighbours; a spike (or a pair of spike
           pixels) stands alone.

        This is the residual-against-local-median test of Gwyddion's and
        MountainsMap's spike removal with MAD thresholds; a tall but smooth
        feature is never removed. Robust statistics are estimated on up to
        2**18 evenly strided values.
    ``"global"``
        ``|z - median(z)| > k * sigma`` with ``sigma = 1.4826 * MAD`` of the
        heights themselves: removes points far outside the height
        distribution (dropouts to the stage, saturation spikes) on a levelled
        surface; it also removes real extreme features, so it is not the
        default.

Fill methods
    ``"thinplate"`` (default)
        The filled values minimise the thin-plate bending energy ``sum(z_xx²
        + 2 z_xy² + z_yy²)`` (second differences with the pixel spacings) of
        every stencil that touches a hole, with the measured points fixed:
        the discrete biharmonic fill, which carries the slope and curvature
        of the rim into the hole, exact for linear and quadratic surfaces
        (holes inside the map; linear ones at the border too). Sparse least
        squares (normal equations, SuperLU), for the heights minus their
        least-squares plane. About 3 times the cost of ``"harmonic"``; above
        300 000 non-measured points the harmonic fill is used instead, with
        a warning.
    ``"harmonic"``
        The filled values solve Laplace's equation (the 5-point Laplacian
        with weights ``1/dx²`` and ``1/dy²``) with the measured points around
        each hole as boundary values; where a hole touches the border of the
        map the surface carries on straight across it (zero second
        difference; zero slope at corners), solved for the heights minus their
        least-squares plane (so a tilt carries on into holes at the border):
        the smoothest surface through the hole's rim, exact for any linear
        surface (border holes included) and any (discretely) harmonic
        surface such as ``x² - y²`` (holes inside the map). One sparse solve
        (SuperLU) for all holes.
    ``"nearest"``
        Each point takes the value of the nearest measured point (Euclidean
        distance in pixels).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

from .errors import SurfscanError, SurfscanWarning
from .model import Surface

__all__ = ["remove_outliers", "fill_nonmeasured", "OUTLIER_METHODS", "FILL_METHODS"]

OUTLIER_METHODS = ("median", "global")
FILL_METHODS = ("thinplate", "harmonic", "nearest")
_MAD_TO_SIGMA = 1.4826
_THIN_PLATE_MAX = 300_000  # unknowns; above, the sparse factorisation gets slow and large


def _check_surface(surface: Surface, what: str) -> None:
    if not isinstance(surface, Surface):
        raise SurfscanError(f"{what} needs a height map (Surface), not {type(surface).__name__}")
    if surface.has_invalid and not surface.valid.any():
        raise SurfscanError(f"{what}: the surface has no measured points")


def _nearest_filled(z: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """``z`` with each non-measured point replaced by its nearest measured point."""
    idx = ndimage.distance_transform_edt(invalid, return_distances=False, return_indices=True)
    return z[tuple(idx)]


def _masked_mean_filled(z: np.ndarray, invalid: np.ndarray, size: int) -> np.ndarray:
    """``z`` with each non-measured point replaced by the mean of the measured points in its window.

    Points with no measured point in their window get the map's median; no measured point's
    window reaches them. Few holes: the window is summed at the holes only; many: by box filters
    (float32 about the median; they only feed the median).
    """
    ny, nx = z.shape
    idx = np.flatnonzero(invalid.ravel())
    sample = _subsample(z)
    finite = np.isfinite(sample)
    ref = _median(sample[finite]) if finite.any() else 0.0
    half = size // 2
    if idx.size * size * size < z.size:  # gather the window around each hole
        rows, cols = np.divmod(idx, nx)
        num = np.zeros(idx.size)
        den = np.zeros(idx.size)
        for dr in range(-half, half + 1):
            r2 = rows + dr
            for dc in range(-half, half + 1):
                c2 = cols + dc
                inside = (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx)
                v = z[np.where(inside, r2, 0), np.where(inside, c2, 0)]
                ok = inside & ~np.isnan(v)
                num += np.where(ok, v - ref, 0.0)
                den += ok
    else:
        import cv2

        zz = np.where(invalid, np.float32(0.0), (z - ref).astype(np.float32))
        num = cv2.boxFilter(zz, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT).ravel()[idx]
        w = (~invalid).astype(np.float32)
        den = cv2.boxFilter(w, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT).ravel()[idx]
    out = z.copy()
    out.ravel()[idx] = ref + np.where(den > 0.5, num / np.maximum(den, 0.5), 0.0)
    return out


def _local_median(z: np.ndarray, size: int) -> np.ndarray:
    """Median of each ``size x size`` neighbourhood (borders replicated); OpenCV for 3 and 5, else scipy."""
    if size in (3, 5):
        import cv2

        ref = _median(z[:: max(1, z.shape[0] // 64), :: max(1, z.shape[1] // 64)])
        med = cv2.medianBlur(np.ascontiguousarray(z - ref, dtype=np.float32), size)
        return med.astype(np.float64) + ref
    return ndimage.median_filter(z, size=size, mode="nearest")


def _local_scale_test(flags: np.ndarray, r: np.ndarray, k: float, sigma: float, size: int) -> None:
    """Unflag (in place) points whose residual is within ``k`` times the local robust scale.

    The local scale is 1.4826 times the median of ``|r|`` over the point's ``size x size``
    neighbourhood (the point's own spike is one value of ``size²`` and does not move it), never
    below the global ``sigma``: on steep or rough parts of a map the residuals are larger
    everywhere, and a point that is only as far out as its neighbours is not a spike.
    """
    ny, nx = r.shape
    idx = np.flatnonzero(flags.ravel())
    if idx.size == 0:
        return
    rows, cols = np.divmod(idx, nx)
    half = size // 2
    window = np.full((idx.size, size * size), np.nan)
    j = 0
    for dr in range(-half, half + 1):
        r2 = rows + dr
        for dc in range(-half, half + 1):
            c2 = cols + dc
            inside = (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx)
            window[:, j] = np.where(inside, np.abs(r[np.where(inside, r2, 0), np.where(inside, c2, 0)]), np.nan)
            j += 1
    with np.errstate(invalid="ignore"):
        local = _MAD_TO_SIGMA * np.nanmedian(window, axis=1)
    scale = np.fmax(local, sigma)
    flags.ravel()[idx[np.abs(r.ravel()[idx]) <= k * scale]] = False


def _keep_features(flags: np.ndarray, z: np.ndarray, r: np.ndarray) -> None:
    """Unflag (in place) points with two or more of their 8 neighbours at a similar height.

    A spike (or a pair of spike pixels) stands alone: every neighbour is closer to the local median
    than to it. The corner of a plateau, a ridge or a trench one or two pixels wide also has a large
    residual against the local median, but it continues in at least two neighbours whose heights are
    within half its residual of its own; those are features, not outliers.
    """
    ny, nx = z.shape
    idx = np.flatnonzero(flags.ravel())
    if idx.size == 0:
        return
    rows, cols = np.divmod(idx, nx)
    zc, tol = z.ravel()[idx], 0.5 * np.abs(r.ravel()[idx])
    similar = np.zeros(idx.size, dtype=np.int64)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 and dc == 0:
                continue
            r2, c2 = rows + dr, cols + dc
            inside = (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx)
            v = z[np.where(inside, r2, 0), np.where(inside, c2, 0)]
            with np.errstate(invalid="ignore"):
                similar += inside & (np.abs(v - zc) < tol)
    flags.ravel()[idx[similar >= 2]] = False


def _subsample(v: np.ndarray, limit: int = 1 << 18) -> np.ndarray:
    """At most about ``limit`` evenly strided values of ``v`` (robust statistics need no more)."""
    v = v.ravel()
    return v[:: max(1, v.size // limit)]


def _median(v: np.ndarray) -> float:
    v = np.array(v, dtype=np.float64).ravel()  # a copy: partition works in place
    return float(np.partition(v, v.size // 2)[v.size // 2])


def _robust_sigma(r: np.ndarray) -> tuple[float, float]:
    """(median, 1.4826 * MAD) of finite values of ``r``, estimated on up to 2**18 strided values."""
    v = _subsample(r)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 0.0
    centre = _median(v)
    return centre, _MAD_TO_SIGMA * _median(np.abs(v - centre))


def remove_outliers(surface: Surface, method: str = "median", k: float = 6.0, size: int = 5) -> Surface:
    """Mark outliers (spikes) as non-measured points.

    Parameters
    ----------
    surface : Surface
        Heights in µm (levelled or not: the local median follows a tilt).
    method : {"median", "global"}
        Residual against the local median (default) or distance from the
        global median; see the module docstring.
    k : float
        Threshold in robust standard deviations (1.4826 MAD); 6 by default,
        which flags about 2 points in a billion of a Gaussian residual.
    size : int
        Side of the median window in pixels (odd, >= 3; ``"median"`` only).

    Returns
    -------
    Surface
        A new surface with the outliers set to NaN; ``meta["outliers_removed"]``
        holds how many points were removed, ``meta["history"]`` the step.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> z = np.random.default_rng(0).normal(0, 0.1, (64, 64)); z[10, 20] = 5.0
    >>> out = remove_outliers(ss.Surface(z, 1.0, 1.0))
    >>> out.meta["outliers_removed"], bool(np.isnan(out.z[10, 20]))
    (1, True)

    >>> s = ss.read("sample_images/electrode_A_good_site2.x3p")
    >>> remove_outliers(s).meta["outliers_removed"]         # the sample has no spikes
    0
    """
    _check_surface(surface, "remove_outliers")
    if method not in OUTLIER_METHODS:
        raise SurfscanError(f"outlier method must be one of {', '.join(OUTLIER_METHODS)}, not {method!r}")
    if not (math.isfinite(k) and k > 0):
        raise SurfscanError(f"the outlier threshold k must be a positive number of robust sigmas, got {k!r}")
    if not (isinstance(size, (int, np.integer)) and size >= 3 and size % 2 == 1):
        raise SurfscanError(f"the median window size must be an odd number of pixels >= 3, got {size!r}")
    z = surface.z
    invalid = ~surface.valid if surface.has_invalid else None
    if method == "global":
        r = z
        label = f"global median, k={k:g}"
    else:
        base = z if invalid is None else _masked_mean_filled(z, invalid, int(size))
        r = z - _local_median(base, int(size))
        label = f"local median {size}x{size} px, k={k:g}"
    centre, sigma = _robust_sigma(r)  # r is NaN where z is
    if method == "median":  # floor: the point-to-point noise, so a smooth surface's crests are not spikes
        rows = z[:: max(1, z.size // (1 << 18)), :]
        sigma = max(sigma, _robust_sigma(np.diff(rows, axis=1))[1] / math.sqrt(2))
    with np.errstate(invalid="ignore"):  # NaN compares False: non-measured points are never flagged
        flags = (r > centre + k * sigma) | (r < centre - k * sigma)
    if method == "median":
        _local_scale_test(flags, r - centre, k, sigma, int(size))
        _keep_features(flags, z, r - centre)
    count = int(np.count_nonzero(flags))
    out = z.copy() if count else z
    if count:
        out[flags] = np.nan
    result = surface.replace(
        z=out,
        step=f"remove_outliers {label}: {count} points",
        outliers_removed=count + int(surface.meta.get("outliers_removed", 0)),
    )
    if not count and invalid is None:
        result.known_all_valid()
    return result


def _harmonic(z: np.ndarray, invalid: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Solve the 5-point Laplace equation on the non-measured points, for ``z`` minus a plane.

    At the map border the second difference across the border is taken as zero (the surface
    carries on straight): a border point's equation drops that axis and keeps the other one;
    at a corner (or where no term would be left) the missing neighbours are simply left out
    (zero slope across the border).
    """
    from scipy import sparse  # imported on first use: keeps `import surfscan` cheap
    from scipy.sparse.linalg import spsolve

    ny, nx = z.shape
    unknown = np.flatnonzero(invalid.ravel())  # sorted
    m = unknown.size
    rows, cols = np.divmod(unknown, nx)
    plane = _plane(z, invalid)
    edge_x = (cols == 0) ^ (cols == nx - 1)  # exactly one x neighbour outside
    edge_y = (rows == 0) ^ (rows == ny - 1)
    has_x, has_y = nx > 1, ny > 1
    drop_x = edge_x & ~edge_y & has_y
    drop_y = edge_y & ~edge_x & has_x
    zf = z.ravel()
    diag = np.zeros(m)
    rhs = np.zeros(m)
    ii, jj, vv = [], [], []
    for drow, dcol, w in ((0, 1, 1 / dx**2), (0, -1, 1 / dx**2), (1, 0, 1 / dy**2), (-1, 0, 1 / dy**2)):
        r2, c2 = rows + drow, cols + dcol
        inside = (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx) & ~(drop_x if dcol else drop_y)
        src = np.flatnonzero(inside)
        nb = r2[inside] * nx + c2[inside]
        diag[src] += w
        pos = np.minimum(np.searchsorted(unknown, nb), m - 1)
        known = unknown[pos] != nb
        rhs[src[known]] += w * (zf[nb[known]] - plane(r2[inside][known], c2[inside][known]))
        ii.append(src[~known])
        jj.append(pos[~known])
        vv.append(np.full(int(np.count_nonzero(~known)), -w))
    ii.append(np.arange(m))
    jj.append(np.arange(m))
    vv.append(diag)
    a = sparse.csc_matrix((np.concatenate(vv), (np.concatenate(ii), np.concatenate(jj))), shape=(m, m))
    solution = spsolve(a, rhs, permc_spec="MMD_AT_PLUS_A")
    out = z.copy()
    out.ravel()[unknown] = np.atleast_1d(solution) + plane(rows, cols)
    return out


def _thin_plate(z: np.ndarray, invalid: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Minimise the thin-plate energy sum(z_xx² + 2 z_xy² + z_yy²) over the non-measured points.

    Second differences along x and y at every point whose two neighbours on that axis are in the
    map, the mixed difference on every 2 x 2 cell; only the terms that involve a non-measured point
    enter. Solved as sparse least squares (normal equations, SuperLU) for ``z`` minus a plane.
    """
    from scipy import sparse  # imported on first use: keeps `import surfscan` cheap
    from scipy.sparse.linalg import splu

    ny, nx = z.shape
    unknown = np.flatnonzero(invalid.ravel())  # sorted
    m = unknown.size
    urow, ucol = np.divmod(unknown, nx)
    plane = _plane(z, invalid)
    zf = z.ravel()
    rows_i, cols_j, vals, rhs_parts = [], [], [], []
    n_rows = 0
    stencils = (
        ([(0, -1), (0, 0), (0, 1)], [1.0, -2.0, 1.0], 1 / dx**2),
        ([(-1, 0), (0, 0), (1, 0)], [1.0, -2.0, 1.0], 1 / dy**2),
        ([(0, 0), (0, 1), (1, 0), (1, 1)], [1.0, -1.0, -1.0, 1.0], math.sqrt(2) / (dx * dy)),
    )
    for offsets, coefs, scale in stencils:
        # centres of the stencils that touch an unknown point
        cand = np.unique(np.concatenate([(urow - dr) * nx + (ucol - dc) for dr, dc in offsets]))
        crow, ccol = np.divmod(cand, nx)
        ok = np.ones(cand.size, bool)
        for dr, dc in offsets:
            r2, c2 = crow + dr, ccol + dc
            ok &= (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx)
        ok &= (crow >= 0) & (crow < ny) & (ccol >= 0) & (ccol < nx)
        crow, ccol = crow[ok], ccol[ok]
        k = crow.size
        rhs = np.zeros(k)
        for (dr, dc), cf in zip(offsets, coefs):
            r2, c2 = crow + dr, ccol + dc
            flat = r2 * nx + c2
            pos = np.minimum(np.searchsorted(unknown, flat), m - 1)
            is_unknown = unknown[pos] == flat
            rows_i.append(n_rows + np.flatnonzero(is_unknown))
            cols_j.append(pos[is_unknown])
            vals.append(np.full(int(is_unknown.sum()), cf * scale))
            known = ~is_unknown
            rhs[known] -= cf * scale * (zf[flat[known]] - plane(r2[known], c2[known]))
        rhs_parts.append(rhs)
        n_rows += k
    a = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_j))), shape=(n_rows, m))
    if np.any(np.diff(a.tocsc().indptr) == 0):  # a point no term reaches (a map one pixel wide)
        return None
    b = np.concatenate(rhs_parts)
    normal = (a.T @ a).tocsc()
    rhs = a.T @ b
    lu = splu(normal, permc_spec="MMD_AT_PLUS_A")
    solution = lu.solve(rhs)
    solution += lu.solve(rhs - normal @ solution)  # one step of iterative refinement (squared condition)
    out = z.copy()
    out.ravel()[unknown] = np.atleast_1d(solution) + plane(urow, ucol)
    return out


def _plane(z: np.ndarray, invalid: np.ndarray):
    """Least-squares plane through (up to about 2**18 strided) measured points, as ``f(rows, cols)``."""
    ny, nx = z.shape
    step = max(1, z.size // (1 << 18))
    flat = np.arange(0, z.size, step)
    flat = flat[~invalid.ravel()[flat]]
    if flat.size < 3:
        flat = np.flatnonzero(~invalid.ravel())
    r, c = np.divmod(flat, nx)
    a = np.column_stack([np.ones(flat.size), c - nx / 2, r - ny / 2])
    coef = np.linalg.lstsq(a.T @ a, a.T @ z.ravel()[flat], rcond=None)[0]  # 3 x 3 normal equations (rank-safe)
    return lambda rows, cols: coef[0] + coef[1] * (cols - nx / 2) + coef[2] * (rows - ny / 2)


def fill_nonmeasured(surface: Surface, method: str = "thinplate") -> Surface:
    """Give every non-measured (NaN) point a value.

    Parameters
    ----------
    surface : Surface
        Heights in µm with NaN holes (spikes removed by :func:`remove_outliers`,
        dropouts of the instrument).
    method : {"thinplate", "harmonic", "nearest"}
        Smoothest surface in the thin-plate sense (default; continues the
        slopes and curvatures of the rim), in the membrane (Laplace) sense,
        or the nearest measured value; see the module docstring.

    Returns
    -------
    Surface
        A new NaN-free surface; ``meta["points_filled"]`` holds how many points
        were filled, ``meta["history"]`` the step.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> yy, xx = np.mgrid[0:20, 0:30] * 1.0
    >>> z = 0.5 * xx - 0.25 * yy; z[5:9, 10:15] = np.nan
    >>> f = fill_nonmeasured(ss.Surface(z, 1.0, 1.0))
    >>> f.meta["points_filled"], bool(np.allclose(f.z, 0.5 * xx - 0.25 * yy))
    (20, True)

    >>> s = ss.read("sample_images/electrode_A_good_site2.x3p")
    >>> int((~s.valid).sum()), fill_nonmeasured(s).meta["points_filled"]
    (245, 245)
    """
    _check_surface(surface, "fill_nonmeasured")
    if method not in FILL_METHODS:
        raise SurfscanError(f"fill method must be one of {', '.join(FILL_METHODS)}, not {method!r}")
    if not surface.has_invalid:
        return surface.replace(step=f"fill_nonmeasured {method}: 0 points", points_filled=0).known_all_valid()
    invalid = ~surface.valid
    count = int(np.count_nonzero(invalid))
    if method == "nearest":
        z = _nearest_filled(surface.z, invalid)
    elif method == "thinplate" and count <= _THIN_PLATE_MAX:
        z = _thin_plate(surface.z, invalid, surface.dx, surface.dy)
        if z is None or not np.isfinite(z).all():
            method, z = "harmonic", _harmonic(surface.z, invalid, surface.dx, surface.dy)
    else:
        if method == "thinplate":
            warnings.warn(
                f"{count} non-measured points: more than {_THIN_PLATE_MAX} for the thin-plate fill, "
                "filled by the (faster) harmonic method",
                SurfscanWarning,
                stacklevel=2,
            )
            method = "harmonic"
        z = _harmonic(surface.z, invalid, surface.dx, surface.dy)
    filled = surface.replace(
        z=z,
        step=f"fill_nonmeasured {method}: {count} points",
        points_filled=count + int(surface.meta.get("points_filled", 0)),
    )
    return filled.known_all_valid()

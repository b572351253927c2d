"""Merge tree for the feature parameters, in vectorised numpy; used by :mod:`.feature`.

Dales of ``h`` are found as the steepest-descent basins of ``h`` (hills are
the dales of ``h = -z``). Flooding ``h`` from below, two components first meet
at the lowest saddle between them, so the merge tree of the flooding follows
from the basin adjacency graph alone: its edges, each with the saddle of a
touching point pair, taken in increasing saddle height (Kruskal). At each
merge the component with the higher pit dies (elder rule); its depth below the
saddle is its Wolf local depth. A component that dies shallower than the
pruning threshold is merged into the motif on the other side of that saddle;
one that dies deeper, and every component that never dies, is a significant
motif. This is the same result as watershed followed by Wolf pruning.

Kruskal's sequential union-find is replaced by Borůvka-like rounds, each a few
whole-array operations: a component first meets another one at its lowest
remaining edge, and it dies there exactly when its pit is higher than the pit
of the component across (the one across holds that pit or a lower one). So in
every round each component whose pit is higher than the pit across its lowest
edge is contracted into that neighbour, with the same death level and the same
motif assignment as in the sequential order; the edges are relabelled and the
ones inside a component dropped, until no edge is left. Orders are total:
points by (height, flat index), edges by (saddle height, position in the
edge arrays), so ties resolve the same way on every run.

Every pass over the points works on blocks of rows (cache friendly) or whole
arrays; the numpy code needs no compiler.

Compiled kernels: where the optional C extension :mod:`._ckernels` was built
at install time (``setup.py``; a compiler is needed then, not at run time),
the public functions below run its sequential versions of the same steps
(pointer following, a union-find Kruskal, one pass per measure) instead of
the numpy rounds: the same results, in O(n) per pass. ``SURFSCAN_PURE_NUMPY=1``
in the environment selects numpy even when the extension is there; every
function also takes ``backend="numpy"`` or ``"c"``. Both produce the same
basins, the same edges in the same order (sorted by basin pair), and so the
same merge tree and motif measures, ties included
(``tests/test_merge_tree.py``, ``tests/test_ckernels.py``); :mod:`._native`
loads the extension.
"""

from __future__ import annotations

import numpy as np

from ._native import available as compiled_available
from ._native import compiled as _compiled
from ._native import default_backend

__all__ = [
    "descent_pointers", "resolve_basins", "adjacency", "prune", "rim_points", "motif_measures", "default_backend",
    "compiled_available",
]

# 3x3 neighbourhood offsets (row, column) in increasing flat-index order: a strict comparison keeps the first
# of equal neighbours, so ties go to the smaller index
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1))
# the four forward neighbours (right, down-left, down, down-right): each 8-adjacent pair once
_FORWARD = ((0, 1), (1, -1), (1, 0), (1, 1))
_BLOCK_ROWS = 256  # rows per block of the descent search and the pair gathering: temporaries of a few MiB
_PARALLEL_EDGES = 3  # edges per component above which repeated component pairs are removed


def _extreme3(a: np.ndarray, axis: int, extreme) -> tuple[np.ndarray, np.ndarray]:
    """Extreme of each point and its two neighbours along ``axis`` (``a`` padded by one there), and its offset.

    ``extreme`` is ``np.minimum`` or ``np.maximum``; the offset (-1, 0 or +1,
    int8) is that of the first of equal values.
    """
    n = a.shape[axis] - 2
    before, here, after = (a[k : k + n] if axis == 0 else a[:, k : k + n] for k in range(3))
    value = extreme(extreme(before, here), after)
    first = before == value
    second = here == value
    second |= first
    # -1 where the first one is the extreme, else 0 where the second one is, else +1
    offset = np.subtract(1, second, dtype=np.int8)
    offset -= first
    return value, offset


def descent_pointers(z: np.ndarray, backend: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every point, its lowest and its highest 8-neighbour, itself included (-1 where NaN).

    Ties are broken by the smaller flat index, so the order (height, index) is
    total and there are no plateaus. One pass serves both dales (``low``) and
    hills (``high``). Returns two flat int32 arrays. ``backend``: ``"c"``,
    ``"numpy"`` or None (:func:`default_backend`).
    """
    c = _compiled(backend)
    if c is None:
        return _descent_pointers_numpy(z)
    z = np.ascontiguousarray(z, dtype=np.float64)
    low = np.empty(z.size, dtype=np.int32)
    high = np.empty(z.size, dtype=np.int32)
    c.descent(z, z.shape[0], z.shape[1], low, high)
    return low, high


def _descent_pointers_numpy(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`descent_pointers` in numpy. The 3 x 3 search is
    separable: the extreme of three along each row, then the extreme of those
    three rows; taking the first of equals in both steps gives the smallest
    (row, column) offset, i.e. the smallest flat index. Blocks of rows keep
    the temporaries small.
    """
    ny, nx = z.shape
    low = np.empty((ny, nx), dtype=np.int32)
    high = np.empty((ny, nx), dtype=np.int32)
    for r0 in range(0, ny, _BLOCK_ROWS):
        r1 = min(r0 + _BLOCK_ROWS, ny)
        lo, hi = max(r0 - 1, 0), min(r1 + 1, ny)  # one row of context above and below
        block = z[lo:hi]
        nan = np.isnan(block)
        index = np.arange(r0 * nx, r1 * nx, dtype=np.int32).reshape(r1 - r0, nx)
        for out, fill, extreme in ((low, np.inf, np.minimum), (high, -np.inf, np.maximum)):
            # rows r0-1 .. r1, those outside the map filled; a non-measured point is never chosen
            zf = np.pad(np.where(nan, fill, block), ((int(r0 == 0), int(r1 == ny)), (1, 1)), constant_values=fill)
            row_best, dj = _extreme3(zf, 1, extreme)  # (rows + 2, nx): the extreme of three along every row
            _, di = _extreme3(row_best, 0, extreme)  # (rows, nx): the extreme of three of those rows
            column = np.where(di < 0, dj[:-2], np.where(di > 0, dj[2:], dj[1:-1]))  # the chosen row's offset
            pointer = out[r0:r1]
            np.multiply(di, nx, out=pointer, dtype=np.int32, casting="unsafe")
            pointer += index
            pointer += column
            pointer[nan[r0 - lo : r0 - lo + r1 - r0]] = -1
    return low.ravel(), high.ravel()


def _roots(pointer: np.ndarray) -> np.ndarray:
    """Follow ``pointer`` (every chain ends at a self-pointing root) to the root, by pointer jumping."""
    root = pointer
    while True:
        jumped = root[root]
        if np.array_equal(jumped, root):
            return jumped
        root = jumped


def resolve_basins(down: np.ndarray, backend: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Basins of the descent pointers ``down`` (a point pointing to itself is a pit; -1 not measured).

    Returns ``(basin, pit)``: the basin id of every point (-1 where not
    measured, int32) and the flat index of each basin's pit (int64). Ids
    follow the raster order of the pits.
    """
    c = _compiled(backend)
    if c is not None:
        down = np.ascontiguousarray(down, dtype=np.int32)
        basin = np.empty(down.size, dtype=np.int32)
        pit = np.frombuffer(c.basins(down, basin), dtype=np.int64)
        return basin, pit
    n = down.size
    index = np.arange(n, dtype=down.dtype)
    measured = down >= 0
    pointer = np.where(measured, down, index)
    pit = np.flatnonzero(measured & (pointer == index))
    ids = np.full(n, -1, dtype=np.int32)
    ids[pit] = np.arange(pit.size, dtype=np.int32)
    basin = ids[_roots(pointer)]
    return basin, pit.astype(np.int64)


def _first_in_runs(key: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """Positions of the first lowest ``hs`` in every run of equal consecutive ``key`` values."""
    if key.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.empty(key.size, dtype=bool)
    starts[0] = True
    np.not_equal(key[1:], key[:-1], out=starts[1:])
    run = np.cumsum(starts, dtype=np.int32)
    run -= 1
    run_min = np.minimum.reduceat(hs, np.flatnonzero(starts))
    candidate = np.flatnonzero(hs == run_min[run])
    first = np.empty(candidate.size, dtype=bool)
    first[:1] = True
    run = run[candidate]
    np.not_equal(run[1:], run[:-1], out=first[1:])
    return candidate[first]


def _touching_pairs(z: np.ndarray, basin: np.ndarray, r0: int, r1: int, sign: float, nb: int, holes: bool):
    """Touching point pairs of different basins whose first point lies in rows r0..r1-1, thinned along boundaries.

    Yields ``(a, b, saddle)`` per neighbour direction: the basins of the two
    points and the higher of their two values of ``h = sign * z``. Of
    consecutive pairs of the same two basins (visited column by column for the
    horizontal neighbours, row by row for the others) only the lowest is kept.
    ``holes`` says whether some points are not measured (basin -1).
    """
    ny, nx = z.shape
    for di, dj in _FORWARD:
        r1d = min(r1, ny - di)
        if r1d <= r0:
            continue
        cols_p = slice(max(-dj, 0), nx - max(dj, 0))
        cols_q = slice(max(dj, 0), nx - max(-dj, 0))
        bp, bq = basin[r0:r1d, cols_p], basin[r0 + di : r1d + di, cols_q]
        zp, zq = z[r0:r1d, cols_p], z[r0 + di : r1d + di, cols_q]
        if di == 0:  # a vertical boundary: visit its pairs down the columns
            bp, bq, zp, zq = bp.T, bq.T, zp.T, zq.T
        cross = bp != bq
        if holes:
            cross &= bp >= 0
            cross &= bq >= 0
        where = np.nonzero(cross)  # one scan of the mask; the pairs are few next to the points
        a, b = bp[where], bq[where]
        hs = np.maximum(zp[where], zq[where]) if sign > 0 else np.negative(np.minimum(zp[where], zq[where]))
        keep = _first_in_runs(a.astype(np.int64) * nb + b, hs)
        yield a[keep], b[keep], hs[keep]


def adjacency(
    z: np.ndarray, basin: np.ndarray, sign: float, backend: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges of the merge graph: every pair of 8-adjacent basins once, with its lowest saddle.

    Returns ``(a, b, saddle)`` with ``a < b`` the two basins (int32) and
    ``saddle`` the lowest level at which flooding ``h = sign * z`` joins them:
    the minimum over their touching point pairs of the higher of the two
    values. The edges are sorted by ``(a, b)``.
    """
    nb = int(basin.max()) + 1 if basin.size else 0
    c = _compiled(backend)
    if c is None:
        return _adjacency_numpy(z, basin, sign, nb)
    z = np.ascontiguousarray(z, dtype=np.float64)
    basin = np.ascontiguousarray(basin, dtype=np.int32)
    lo, hi, saddle = c.adjacency(z, basin, z.shape[0], z.shape[1], float(sign), nb)
    return np.frombuffer(lo, dtype=np.int32), np.frombuffer(hi, dtype=np.int32), np.frombuffer(saddle)


def _adjacency_numpy(z: np.ndarray, basin: np.ndarray, sign: float, nb: int):
    """:func:`adjacency` in numpy. The pairs are gathered in blocks of rows (cache-sized temporaries) and
    merged into the edges found so far whenever they outnumber them, which
    keeps the memory to a few times the number of edges.
    """
    ny, nx = z.shape
    b2 = basin.reshape(ny, nx)
    holes = bool(basin.min() < 0)
    lo = hi = np.empty(0, dtype=np.int32)
    level = np.empty(0)
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    waiting = 0
    for r0 in range(0, ny, _BLOCK_ROWS):
        for a, b, hs in _touching_pairs(z, b2, r0, min(r0 + _BLOCK_ROWS, ny), sign, nb, holes):
            pending.append((np.minimum(a, b), np.maximum(a, b), hs))
            waiting += a.size
        if waiting > max(lo.size, 1 << 18) or r0 + _BLOCK_ROWS >= ny:
            lo = np.concatenate([lo, *(p[0] for p in pending)])
            hi = np.concatenate([hi, *(p[1] for p in pending)])
            level = np.concatenate([level, *(p[2] for p in pending)])
            pending, waiting = [], 0
            keep = _lowest_per_pair(lo, hi, level, nb, in_position_order=False)
            lo, hi, level = lo[keep], hi[keep], level[keep]
    return lo, hi, level


def _flood_rank(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Rank of each point in the flooding order (height, then flat index)."""
    rank = np.empty(points.size, dtype=np.int64)
    rank[np.lexsort((points, h[points]))] = np.arange(points.size)
    return rank


def _first_edges(nb: int, u: np.ndarray, v: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """For every component, the position of its first edge in the order (saddle height, position); -1 if none."""
    low = np.full(nb, np.inf)
    np.minimum.at(low, u, hs)
    np.minimum.at(low, v, hs)
    first = np.full(nb, u.size, dtype=np.int64)
    for end in (u, v):
        tie = np.flatnonzero(hs == low[end])
        np.minimum.at(first, end[tie], tie)
    first[first == u.size] = -1
    return first


def _lowest_per_pair(u: np.ndarray, v: np.ndarray, hs: np.ndarray, nb: int, in_position_order: bool = True) -> np.ndarray:
    """Positions of the first edge (saddle height, then position) of every component pair.

    In position order, or with ``in_position_order=False`` in the order of the
    pairs ``(min(u, v), max(u, v))``.
    """
    n = u.size
    key = np.minimum(u, v).astype(np.int64) * nb + np.maximum(u, v)
    shift = max(n - 1, 1).bit_length()
    if (nb * nb) << shift < 2**63:  # pair and position in one int64: a plain (vectorised) sort groups the pairs
        packed = np.sort((key << shift) | np.arange(n))
        position = packed & ((1 << shift) - 1)
        key = packed >> shift
    else:
        position = np.argsort(key, kind="stable")  # equal keys keep their position order
        key = key[position]
    first = position[_first_in_runs(key, hs[position])]
    return np.sort(first) if in_position_order else first


def prune(
    z: np.ndarray, pit: np.ndarray, ea: np.ndarray, eb: np.ndarray, saddle: np.ndarray, sign: float, threshold: float,
    backend: str | None = None,
) -> np.ndarray:
    """Wolf pruning by the elder rule over the edges ``(ea, eb, saddle)`` taken in increasing saddle order.

    Edges are ordered by saddle height, then by their position in the
    arrays. When an edge joins two components, the one with the higher pit
    dies at the saddle; if its depth below the saddle is under ``threshold``
    it is merged into the motif of the basin across the edge, otherwise it is
    significant. Returns, for each basin, the significant motif (a basin id)
    it belongs to.
    """
    c = _compiled(backend)
    if c is not None:
        motif = np.empty(pit.size, dtype=np.int32)
        hpit = np.ascontiguousarray(sign * z.ravel()[pit], dtype=np.float64)
        edges = (np.ascontiguousarray(x, dtype=t) for x, t in ((ea, np.int32), (eb, np.int32), (saddle, np.float64)))
        c.prune(hpit, *edges, float(threshold), motif)
        return motif
    h = sign * z.ravel()
    nb = pit.size
    pit_rank = _flood_rank(h, pit)
    basins = np.arange(nb, dtype=np.int32)
    parent = basins.copy()
    # a component is named by its basin with the lowest pit; edges hold component names and their basins
    keep = np.flatnonzero(ea != eb)
    a, b = ea[keep].astype(np.int32), eb[keep].astype(np.int32)
    u, v, hs = a, b, saddle[keep]
    alive = nb
    contracted = False  # adjacency() gives one edge per basin pair; only contraction repeats pairs
    while u.size:
        if contracted and u.size > _PARALLEL_EDGES * alive:  # only the first edge between two components can join
            keep = _lowest_per_pair(u, v, hs, nb)
            u, v, a, b, hs = u[keep], v[keep], a[keep], b[keep], hs[keep]
        first = _first_edges(nb, u, v, hs)
        node = np.flatnonzero(first >= 0).astype(np.int32)
        e = first[node]
        on_u = u[e] == node
        other = np.where(on_u, v[e], u[e])
        dies = pit_rank[node] > pit_rank[other]
        node, e, other, on_u = node[dies], e[dies], other[dies], on_u[dies]
        alive -= node.size
        across = np.where(on_u, b[e], a[e])
        shallow = hs[e] - h[pit[node]] < threshold
        parent[node[shallow]] = across[shallow]
        into = basins.copy()
        into[node] = other
        into = _roots(into)
        u, v = into[u], into[v]
        keep = np.flatnonzero(u != v)
        u, v, a, b, hs = u[keep], v[keep], a[keep], b[keep], hs[keep]
        contracted = True
    return _roots(parent)


def rim_points(z: np.ndarray) -> np.ndarray:
    """Flat indices of the measured points on the border or next to a non-measured point (8-neighbourhood)."""
    ny, nx = z.shape
    unmeasured = np.isnan(z)
    rim = np.zeros((ny, nx), dtype=bool)
    rim[0, :] = rim[-1, :] = rim[:, 0] = rim[:, -1] = True
    if unmeasured.any():
        padded = np.pad(unmeasured, 1)
        for di, dj in _OFFSETS:
            rim |= padded[1 + di : 1 + di + ny, 1 + dj : 1 + dj + nx]
    rim &= ~unmeasured
    return np.flatnonzero(rim)


def motif_measures(
    z: np.ndarray, basin: np.ndarray, motif: np.ndarray, edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    rim: np.ndarray, sign: float, backend: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per basin id: point count, touches the edge (border or a non-measured neighbour),
    pour level (lowest connecting level of ``h = sign*z`` on its boundary) and volume below it.

    ``edges`` are the touching point pairs of :func:`adjacency` and ``rim``
    the points of :func:`rim_points`. Only entries of significant motifs
    (``motif[b] == b``) are meaningful. A pair of points in two motifs
    connects both at the higher of the two heights, its saddle; a rim point
    closes its motif at its own height. The volume is the sum over the
    motif's points of ``max(level - h, 0)`` (height units times points;
    multiply by dx*dy).
    """
    nb = motif.size
    c = _compiled(backend)
    if c is not None:
        count, edge = np.empty(nb, dtype=np.int64), np.empty(nb, dtype=bool)
        level, volume = np.empty(nb), np.empty(nb)
        ea, eb, saddle = (np.ascontiguousarray(x, dtype=t) for x, t in zip(edges, (np.int32, np.int32, np.float64)))
        c.measures(
            np.ascontiguousarray(z, dtype=np.float64).ravel(), float(sign), np.ascontiguousarray(basin, dtype=np.int32),
            np.ascontiguousarray(motif, dtype=np.int32), ea, eb, saddle, np.ascontiguousarray(rim, dtype=np.int64),
            count, edge, level, volume,
        )
        return count, edge, level, volume
    h = sign * z.ravel()
    measured = basin >= 0
    count = np.bincount(motif, weights=np.bincount(basin[measured], minlength=nb), minlength=nb).astype(np.int64)
    edge = np.zeros(nb, dtype=bool)
    level = np.full(nb, np.inf)
    rim_motif = motif[basin[rim]]
    edge[rim_motif] = True
    np.minimum.at(level, rim_motif, h[rim])
    ea, eb, saddle = edges
    ma, mb = motif[ea], motif[eb]
    cross = np.flatnonzero(ma != mb)
    np.minimum.at(level, ma[cross], saddle[cross])
    np.minimum.at(level, mb[cross], saddle[cross])
    point_motif = motif[np.where(measured, basin, 0)]
    depth = level[point_motif] - h  # NaN at non-measured points, which the comparisons below drop
    fill = (depth > 0) & (depth < np.inf)
    # float64 also when nothing is filled (bincount of no points gives int64)
    volume = np.bincount(point_motif[fill], weights=depth[fill], minlength=nb).astype(np.float64, copy=False)
    return count, edge, level, volume

"""Compiled (numba) merge tree for the feature parameters; imported lazily by :mod:`.feature`.

Dales of ``h`` are found as the steepest-descent basins of ``h`` (hills are
the dales of ``h = -z``), in two raster passes. Flooding ``h`` from below, two
components first meet at the lowest saddle between them, so the merge tree of
the flooding is obtained from the basin adjacency graph alone: its edges,
each with the lowest saddle of its basin pair, are taken in increasing saddle
height with a union-find (Kruskal). At each merge the component with the
higher pit dies (elder rule); its depth below the saddle is its Wolf local
depth. A component that dies shallower than the pruning threshold is merged
into the motif on the other side of that saddle; one that dies deeper, and
every component that never dies, is a significant motif. This is the same
result as watershed followed by Wolf pruning, with every pass over the
points in raster order (cache friendly) and the random-access work confined
to the small graph.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, a: int) -> int:
    root = a
    while parent[root] != root:
        root = parent[root]
    while parent[a] != root:
        nxt = parent[a]
        parent[a] = root
        a = nxt
    return root


@njit(cache=True, nogil=True)
def _grow(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True, inline="always")
def _lower(flat: np.ndarray, sign: float, q: int, p: int) -> bool:
    """True when point q comes before point p in the flooding order (h, then index)."""
    hq = sign * flat[q]
    hp = sign * flat[p]
    return hq < hp or (hq == hp and q < p)


@njit(cache=True, nogil=True)
def descent_pointers(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every point, its lowest and its highest 8-neighbour, itself included (-1 where NaN).

    Ties are broken by the smaller flat index, so the order (height, index) is
    total and there are no plateaus. One pass serves both dales (``low``) and
    hills (``high``).
    """
    ny, nx = z.shape
    flat = z.ravel()
    low = np.empty(flat.size, dtype=np.int32)
    high = np.empty(flat.size, dtype=np.int32)
    for i in range(ny):
        i0 = max(i - 1, 0)
        i1 = min(i + 2, ny)
        for j in range(nx):
            p = i * nx + j
            if math.isnan(flat[p]):
                low[p] = -1
                high[p] = -1
                continue
            j0 = max(j - 1, 0)
            j1 = min(j + 2, nx)
            lo = p
            hi = p
            lo_h = math.inf
            hi_h = -math.inf
            for ii in range(i0, i1):  # increasing index: strict comparisons keep the first of equals
                row = ii * nx
                for jj in range(j0, j1):
                    q = row + jj
                    hq = flat[q]  # NaN compares false and is never chosen
                    if hq < lo_h:
                        lo_h = hq
                        lo = q
                    if hq > hi_h:
                        hi_h = hq
                        hi = q
            low[p] = lo
            high[p] = hi
    return low, high


@njit(cache=True, nogil=True)
def resolve_basins(down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Basins of the descent pointers ``down`` (a point pointing to itself is a pit).

    Returns ``(basin, pit)``: the basin id of every point (-1 where not
    measured) and the flat index of each basin's pit. Ids are given in raster
    order of first appearance, so neighbouring basins have close ids.
    """
    n = down.size
    basin = np.full(n, -1, dtype=np.int32)
    pit = np.empty(max(16, n // 8), dtype=np.int64)
    nb = 0
    for p in range(n):
        if down[p] < 0 or basin[p] >= 0:
            continue
        q = p
        while basin[q] < 0 and down[q] != q:
            q = down[q]
        b = basin[q]
        if b < 0:
            if nb == pit.size:
                pit = _grow(pit, 2 * nb)
            b = nb
            pit[nb] = q
            basin[q] = b
            nb += 1
        q = p
        while basin[q] < 0:
            basin[q] = b
            q = down[q]
    return basin, pit[:nb].copy()


_SLOTS = 8


@njit(cache=True, nogil=True)
def adjacency(z: np.ndarray, basin: np.ndarray, nb: int, sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges of the basin adjacency graph with their saddles.

    For each pair of 8-adjacent basins, the saddle is the point pair where
    they connect lowest: the minimum over their touching point pairs of the
    later point (in flooding order). Returns ``(a, b, saddle)`` with ``a < b``
    and ``saddle`` the flat index of that point. Each basin keeps its first
    eight higher-id neighbours in fixed slots (cache friendly because
    neighbouring basins have close ids); further ones go to a spill list that
    is reduced by sorting.
    """
    ny, nx = z.shape
    flat = z.ravel()
    nbr = np.full(nb * _SLOTS, -1, dtype=np.int32)
    sad = np.empty(nb * _SLOTS, dtype=np.int64)
    spill_a = np.empty(1024, dtype=np.int64)
    spill_s = np.empty(1024, dtype=np.int64)
    nspill = 0
    for i in range(ny):
        for j in range(nx):
            p = i * nx + j
            bp = basin[p]
            if bp < 0:
                continue
            for k in range(4):
                ii = i + (0, 1, 1, 1)[k]
                jj = j + (1, -1, 0, 1)[k]
                if ii >= ny or jj < 0 or jj >= nx:
                    continue
                q = ii * nx + jj
                bq = basin[q]
                if bq < 0 or bq == bp:
                    continue
                a = min(bp, bq)
                b = max(bp, bq)
                s = p if _lower(flat, sign, q, p) else q
                base = a * _SLOTS
                done = False
                for t in range(_SLOTS):
                    cur = nbr[base + t]
                    if cur == b:
                        if _lower(flat, sign, s, sad[base + t]):
                            sad[base + t] = s
                        done = True
                        break
                    if cur < 0:
                        nbr[base + t] = b
                        sad[base + t] = s
                        done = True
                        break
                if not done:
                    if nspill == spill_a.size:
                        spill_a = _grow(spill_a, 2 * nspill)
                        spill_s = _grow(spill_s, 2 * nspill)
                    spill_a[nspill] = np.int64(a) * nb + b
                    spill_s[nspill] = s
                    nspill += 1
    ne = 0
    for t in range(nbr.size):
        if nbr[t] >= 0:
            ne += 1
    ea = np.empty(ne + nspill, dtype=np.int32)
    eb = np.empty(ne + nspill, dtype=np.int32)
    es = np.empty(ne + nspill, dtype=np.int64)
    e = 0
    for t in range(nbr.size):
        if nbr[t] >= 0:
            ea[e] = t // _SLOTS
            eb[e] = nbr[t]
            es[e] = sad[t]
            e += 1
    if nspill:
        order = np.argsort(spill_a[:nspill])
        last = -1
        for r in order:
            key = spill_a[r]
            if key != last:
                ea[e] = key // nb
                eb[e] = key - (key // nb) * nb
                es[e] = spill_s[r]
                e += 1
                last = key
            elif _lower(flat, sign, spill_s[r], es[e - 1]):
                es[e - 1] = spill_s[r]
    return ea[:e], eb[:e], es[:e]


@njit(cache=True, nogil=True)
def prune(
    z: np.ndarray, pit: np.ndarray, ea: np.ndarray, eb: np.ndarray, es: np.ndarray, order: np.ndarray,
    sign: float, threshold: float,
) -> np.ndarray:
    """Wolf pruning by the elder rule over the adjacency edges taken in ``order`` (increasing saddle).

    When an edge joins two components, the one with the higher pit dies at the
    saddle; if its depth below the saddle is under ``threshold`` it is merged
    into the motif of the basin across the edge, otherwise it is significant.
    Returns, for each basin, the significant motif (a basin id) it belongs to.
    """
    flat = z.ravel()
    nb = pit.size
    uf = np.arange(nb).astype(np.int32)
    parent = np.arange(nb).astype(np.int32)
    for r in order:
        a = ea[r]
        b = eb[r]
        ra = _find(uf, a)
        rb = _find(uf, b)
        if ra == rb:
            continue
        if _lower(flat, sign, pit[ra], pit[rb]):
            young, elder, across = rb, ra, a
        else:
            young, elder, across = ra, rb, b
        if sign * flat[es[r]] - sign * flat[pit[young]] < threshold:
            parent[young] = across
        uf[young] = elder
    for i in range(nb):
        parent[i] = _find(parent, i)
    return parent


@njit(cache=True, nogil=True)
def motif_measures(
    z: np.ndarray, basin: np.ndarray, motif: np.ndarray, sign: float, has_nan: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per basin id: point count, touches the edge (border or a non-measured neighbour),
    pour level (lowest connecting level of ``h = sign*z`` on its boundary) and volume below it.

    Only entries of significant motifs (``motif[b] == b``) are meaningful.
    The volume is the sum over the motif's points of ``max(level - h, 0)``
    (height units times points; multiply by dx*dy).
    """
    ny, nx = z.shape
    flat = z.ravel()
    nb = motif.size
    count = np.zeros(nb, dtype=np.int64)
    edge = np.zeros(nb, dtype=np.bool_)
    level = np.full(nb, math.inf)
    volume = np.zeros(nb)
    for i in range(ny):
        for j in range(nx):
            p = i * nx + j
            b = basin[p]
            if b < 0:
                continue
            m = motif[b]
            hp = sign * flat[p]
            count[m] += 1
            if i == 0 or j == 0 or i == ny - 1 or j == nx - 1:
                edge[m] = True
                level[m] = min(level[m], hp)
            for k in range(8 if has_nan else 4):  # backward neighbours only to find NaN
                ii = i + (0, 1, 1, 1, 0, -1, -1, -1)[k]
                jj = j + (1, -1, 0, 1, -1, 1, 0, -1)[k]
                if ii < 0 or ii >= ny or jj < 0 or jj >= nx:
                    continue
                bq = basin[ii * nx + jj]
                if bq < 0:  # a non-measured neighbour: the motif is incomplete
                    edge[m] = True
                    level[m] = min(level[m], hp)
                    continue
                if k >= 4:  # backward pairs were seen from the other point
                    continue
                mq = motif[bq]
                if mq != m:
                    s = max(hp, sign * flat[ii * nx + jj])
                    level[m] = min(level[m], s)
                    level[mq] = min(level[mq], s)
    for p in range(flat.size):
        b = basin[p]
        if b < 0:
            continue
        m = motif[b]
        d = level[m] - sign * flat[p]
        if d > 0 and d < math.inf:
            volume[m] += d
    return count, edge, level, volume

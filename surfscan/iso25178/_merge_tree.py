"""Compiled (numba) merge tree for the feature parameters; imported lazily by :mod:`.feature`.

Dales of ``h`` are segmented by flooding the points in increasing ``h``
(hills are the dales of ``h = -z``). Each point joins the basin of its lowest
already-flooded 8-neighbour (steepest descent), or starts a new basin when it
has none (a pit). Where a point touches two flooded components, they meet at
a saddle of level ``h``: the component with the higher pit dies there (elder
rule) and its depth below the saddle is its Wolf local depth. A component
that dies shallower than the pruning threshold is merged into the motif on
the other side of that saddle; one that dies deeper, and every component
that never dies, is a significant motif. This gives the Wolf-pruned
watershed in one pass, O(N alpha(N)) after the sort.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


@njit(cache=True, nogil=True)
def sort_keys(z: np.ndarray, zmin: float, zmax: float) -> tuple[np.ndarray, int]:
    """uint64 keys ``quantised height << bits | flat index`` of the measured points (NaN skipped).

    Sorting the keys sorts the points by height to ``(zmax - zmin) / 2**(64 -
    bits)`` (about 1e-13 of the range for a few million points); ties are
    broken by index. Returns ``(keys, bits)``.
    """
    flat = z.ravel()
    n = flat.size
    bits = 1
    while (1 << bits) < n:
        bits += 1
    levels = float(2 ** (64 - bits) - 2048)  # stay below 2**64 after float rounding
    scale = levels / (zmax - zmin) if zmax > zmin else 0.0
    keys = np.empty(n, dtype=np.uint64)
    m = 0
    for i in range(n):
        v = flat[i]
        if math.isnan(v):
            continue
        q = np.uint64((v - zmin) * scale)
        keys[m] = (q << np.uint64(bits)) | np.uint64(i)
        m += 1
    return keys[:m], bits


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


@njit(cache=True, nogil=True)
def flood(z: np.ndarray, order: np.ndarray, sign: float, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wolf-pruned watershed of ``h = sign * z`` visiting points in ``order`` (increasing h).

    Returns ``(basin, motif, pit)``: the basin of every point (-1 where not
    measured), the significant motif each basin belongs to (a basin id whose
    motif is itself) and the flat index of each basin's pit.
    """
    ny, nx = z.shape
    flat = z.ravel()
    basin = np.full(flat.size, -1, dtype=np.int32)
    cap = max(1024, order.size // 16)
    uf = np.empty(cap, dtype=np.int32)
    parent = np.empty(cap, dtype=np.int32)
    pit = np.empty(cap, dtype=np.int64)
    pit_h = np.empty(cap)
    nb = 0
    for p in order:
        i = p // nx
        j = p - i * nx
        hp = sign * flat[p]
        best = -1
        best_h = math.inf
        for di, dj in _NEIGHBOURS:
            ii = i + di
            jj = j + dj
            if ii < 0 or ii >= ny or jj < 0 or jj >= nx:
                continue
            q = ii * nx + jj
            if basin[q] >= 0 and sign * flat[q] < best_h:
                best_h = sign * flat[q]
                best = q
        if best < 0:
            if nb == uf.size:
                uf = _grow(uf, 2 * nb)
                parent = _grow(parent, 2 * nb)
                pit = _grow(pit, 2 * nb)
                pit_h = _grow(pit_h, 2 * nb)
            uf[nb] = nb
            parent[nb] = nb
            pit[nb] = p
            pit_h[nb] = hp
            basin[p] = nb
            nb += 1
            continue
        own = basin[best]
        basin[p] = own
        rp = _find(uf, own)
        for di, dj in _NEIGHBOURS:
            ii = i + di
            jj = j + dj
            if ii < 0 or ii >= ny or jj < 0 or jj >= nx:
                continue
            other = basin[ii * nx + jj]
            if other < 0:
                continue
            rq = _find(uf, other)
            if rq == rp:
                continue
            if pit_h[rq] > pit_h[rp] or (pit_h[rq] == pit_h[rp] and rq > rp):
                young, elder, across = rq, rp, own
            else:
                young, elder, across = rp, rq, other
            if hp - pit_h[young] < threshold:
                parent[young] = across
            uf[young] = elder
            rp = elder
    motif = parent[:nb].copy()
    for b in range(nb):
        motif[b] = _find(motif, b)
    return basin, motif, pit[:nb].copy()


@njit(cache=True, nogil=True)
def motif_measures(
    z: np.ndarray, basin: np.ndarray, motif: np.ndarray, sign: float
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
            for di, dj in _NEIGHBOURS:
                ii = i + di
                jj = j + dj
                if ii < 0 or ii >= ny or jj < 0 or jj >= nx:
                    continue
                bq = basin[ii * nx + jj]
                if bq < 0:
                    edge[m] = True
                    level[m] = min(level[m], hp)
                    continue
                mq = motif[bq]
                if mq != m:
                    level[m] = min(level[m], max(hp, sign * flat[ii * nx + jj]))
    for p in range(flat.size):
        b = basin[p]
        if b < 0:
            continue
        m = motif[b]
        d = level[m] - sign * flat[p]
        if d > 0 and d < math.inf:
            volume[m] += d
    return count, edge, level, volume

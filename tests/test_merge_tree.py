"""The whole-array merge tree (surfscan.iso25178._merge_tree) against a plain sequential flooding.

The reference floods the points one by one in (height, index) order with a
union-find and the elder rule, the textbook construction of Wolf pruning; it
shares no code with the implementation. The significant pits (the motifs that
survive pruning) must be the same, with non-measured points and with ties, for
the numpy code and for the compiled kernels (``backend="c"``, skipped where
they are not built; tests/test_ckernels.py compares the two step by step).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from surfscan.iso25178 import _merge_tree as mt

BACKENDS = [
    "numpy",
    pytest.param("c", marks=pytest.mark.skipif(not mt.compiled_available(), reason="compiled kernels not built")),
]
_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def significant_pits_by_flooding(z: np.ndarray, threshold: float) -> set[int]:
    """Pits of the dales that die at least ``threshold`` below their saddle, or never die."""
    ny, nx = z.shape
    flat = z.ravel()
    order = [int(p) for p in np.lexsort((np.arange(flat.size), flat)) if not np.isnan(flat[p])]
    parent = {}
    pit = {}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    significant = set()
    rank = {p: k for k, p in enumerate(order)}
    for p in order:
        i, j = divmod(p, nx)
        roots = set()
        for di, dj in _NEIGHBOURS:
            ii, jj = i + di, j + dj
            if 0 <= ii < ny and 0 <= jj < nx and (q := ii * nx + jj) in parent:
                roots.add(find(q))
        parent[p] = p
        pit[p] = p
        if not roots:
            continue
        elder = min(roots, key=lambda r: rank[pit[r]])
        for r in roots - {elder}:
            if flat[p] - flat[pit[r]] >= threshold:
                significant.add(pit[r])
            parent[r] = elder
        parent[p] = elder
    significant |= {pit[r] for r in {find(p) for p in order}}
    return significant


def significant_pits(z: np.ndarray, threshold: float, backend: str) -> set[int]:
    low, _ = mt.descent_pointers(z, backend)
    basin, pit = mt.resolve_basins(low, backend)
    ea, eb, es = mt.adjacency(z, basin, 1.0, backend)
    motif = mt.prune(z, pit, ea, eb, es, 1.0, threshold, backend)
    return {int(pit[b]) for b in np.flatnonzero(motif == np.arange(motif.size))}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(6))
def test_significant_pits_equal_a_sequential_flooding(seed: int, backend: str) -> None:
    rng = np.random.default_rng(seed)
    z = gaussian_filter(rng.normal(size=(48, 57)), 1.0 + seed % 3)
    if seed % 2:
        z[rng.random(z.shape) < 0.03] = np.nan  # holes split and border the dales
    if seed >= 4:
        z = np.round(z * 20) / 20  # many equal heights: ties resolved by the point index
    z = np.ascontiguousarray(z)
    for fraction in (0.0, 0.02, 0.1, 0.3):
        threshold = fraction * float(np.nanmax(z) - np.nanmin(z))
        assert significant_pits(z, threshold, backend) == significant_pits_by_flooding(z, threshold), (seed, fraction)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["random-walk", "sparse"])
@pytest.mark.parametrize("holes", [False, True])
def test_noisy_maps_equal_a_sequential_flooding(kind: str, holes: bool, backend: str) -> None:
    # many small basins: a Brownian profile in every row, or pixel noise on a flat with a few bumps
    rng = np.random.default_rng(21)
    if kind == "random-walk":
        z = np.cumsum(rng.normal(size=(40, 52)), axis=1)
    else:
        z = 0.01 * rng.normal(size=(40, 52))
        yy, xx = np.mgrid[:40, :52]
        for cy, cx, r in ((10, 12, 3.0), (28, 40, 5.0), (30, 8, 2.0)):
            z += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    if holes:
        z[rng.random(z.shape) < 0.05] = np.nan
    z = np.ascontiguousarray(z)
    for fraction in (0.0, 0.01, 0.05, 0.2):
        threshold = fraction * float(np.nanmax(z) - np.nanmin(z))
        assert significant_pits(z, threshold, backend) == significant_pits_by_flooding(z, threshold), fraction


@pytest.mark.parametrize("backend", BACKENDS)
def test_hills_are_the_dales_of_the_negated_map(backend: str) -> None:
    rng = np.random.default_rng(11)
    z = np.ascontiguousarray(gaussian_filter(rng.normal(size=(40, 40)), 2.0))
    _, high = mt.descent_pointers(z, backend)
    basin, pit = mt.resolve_basins(high, backend)
    ea, eb, es = mt.adjacency(z, basin, -1.0, backend)
    motif = mt.prune(z, pit, ea, eb, es, -1.0, 0.05 * float(np.ptp(z)), backend)
    peaks = {int(pit[b]) for b in np.flatnonzero(motif == np.arange(motif.size))}
    assert peaks == significant_pits_by_flooding(-z, 0.05 * float(np.ptp(z)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_motif_measures_count_every_point_and_close_at_the_saddle(backend: str) -> None:
    # two dales separated by a ridge of height 1 with its lowest point (0.5) in the middle
    z = np.ones((5, 9))
    z[1:4, 1:4] = [[0.4, 0.3, 0.4], [0.3, 0.0, 0.3], [0.4, 0.3, 0.4]]
    z[1:4, 5:8] = [[0.6, 0.5, 0.6], [0.5, 0.2, 0.5], [0.6, 0.5, 0.6]]
    z[2, 4] = 0.5
    low, _ = mt.descent_pointers(z, backend)
    basin, pit = mt.resolve_basins(low, backend)
    edges = mt.adjacency(z, basin, 1.0, backend)
    motif = mt.prune(z, pit, *edges, 1.0, 0.0, backend)
    count, edge, level, volume = mt.motif_measures(z, basin, motif, edges, mt.rim_points(z), 1.0, backend)
    assert count[motif == np.arange(motif.size)].sum() == z.size
    assert edge.all()  # both dales reach the border of the map
    by_pit = {int(p): b for b, p in enumerate(pit)}
    left, right = by_pit[2 * 9 + 2], by_pit[2 * 9 + 6]
    assert level[left] == pytest.approx(0.5) and level[right] == pytest.approx(0.5)
    # the left dale holds 0.5 - h over its points below 0.5; the right one 0.5 - 0.2 at its pit only
    assert volume[right] == pytest.approx(0.3)
    assert volume[left] == pytest.approx(4 * 0.1 + 4 * 0.2 + 0.5)

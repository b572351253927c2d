"""ISO 25178-2 feature parameters: Spd, Spc, S10z, S5p, S5v, Sda, Sha, Sdv, Shv.

Segmentation
    Watershed segmentation into hills (peaks) and dales (pits) with Wolf
    pruning, 8-connected: a motif whose local height (peak down to its lowest
    col for a hill, pit up to its pour point for a dale) is below ``pruning`` %
    of Sz (option ``pruning``, default 5 %, ISO 25178-3) is merged into the
    neighbour across that saddle; the motif keeps the higher peak / deeper
    pit. surfscan builds the merge tree of the flooding from the basin
    adjacency graph (saddles in increasing height, elder rule, computed in
    whole-array rounds, :mod:`._merge_tree`, or sequentially by the optional
    compiled kernels, with the same result), which gives the same
    significant peaks and pits as steepest-descent watershed followed by Wolf
    pruning (as surfalize 0.19 computes it); ties between equal heights are
    broken by point index. A pruned basin joins the motif across the saddle
    where its component first meets a higher (hills) / deeper (dales) one
    (elder rule); surfalize's
    incremental region-adjacency merging can attach a few such basins near
    motif boundaries elsewhere, so with edge exclusion the two can differ by a
    motif or two on maps with pixel-level noise (Spd within 1.5 % in the
    cross-checks; identical on smooth maps).
Edge motifs
    Motifs that touch the border of the map, or a non-measured (NaN) point,
    are incomplete and excluded by default (option ``exclude_edge=True``, as
    MountainsMap does). Non-measured points belong to no motif.
Attributes
    Heights are relative to the mean of the measured points. The area of a
    motif is its number of points times dx*dy (pixel-centred). The volume of a
    dale is the volume it holds filled up to its pour point (the lowest level
    at which it connects to another motif or the border); the volume of a hill
    is the material above its col (the highest level at which it connects).
    Curvature at a peak is ``-(d2z/dx2 + d2z/dy2) / 2`` by central differences
    (peaks on the border or next to NaN are skipped).
Parameters
    ``Spd`` significant hills per unit area (1/µm²): the area is that of the
    measured points, pixel-centred ``n_points*dx*dy``; option
    ``area_convention="point"`` uses ``(nx-1)*(ny-1)*dx*dy`` as surfalize.
    ``Spc`` mean peak curvature (1/µm). ``S5p``/``S5v`` mean height of the five
    highest peaks / depth of the five deepest pits (µm; the mean of those
    available when fewer than five), ``S10z = S5p + S5v``. ``Sha``/``Sda`` mean
    hill/dale area (µm²), ``Shv``/``Sdv`` mean hill/dale volume (µm³).
    A parameter that needs at least one significant motif raises
    :class:`~surfscan.errors.UndefinedParameterError` when there is none
    (``roughness(..., undefined="nan")`` turns that into NaN and a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SurfscanError, UndefinedParameterError
from .registry import Context, intermediate, parameter

__all__ = ["Motifs", "motifs"]


@dataclass(frozen=True)
class Motifs:
    """Significant hills or dales kept after pruning and edge exclusion.

    Attributes
    ----------
    extrema : ndarray of int64
        Flat index of each motif's peak (hills) or pit (dales).
    heights : ndarray
        Height of that point above the mean plane (µm; negative for most pits).
    areas : ndarray
        Motif areas (µm²).
    volumes : ndarray
        Hill volume above the col / dale volume below the pour point (µm³).
    """

    extrema: np.ndarray
    heights: np.ndarray
    areas: np.ndarray
    volumes: np.ndarray

    @property
    def count(self) -> int:
        return int(self.extrema.size)


def _options(ctx: Context) -> tuple[float, bool]:
    pruning = float(ctx.option("pruning", 5.0))
    if not 0.0 <= pruning < 100.0:
        raise SurfscanError(f"option pruning is a percentage of Sz, 0 <= pruning < 100, not {pruning}")
    return pruning, bool(ctx.option("exclude_edge", True))


def motifs(ctx: Context, kind: str) -> Motifs:
    """The significant ``"hill"`` or ``"dale"`` motifs under the call's options (cached)."""
    pruning, exclude_edge = _options(ctx)

    def compute() -> Motifs:
        from . import _merge_tree as mt

        s = ctx.surface
        z = np.ascontiguousarray(s.z)
        vals = ctx.values
        vmin, vmax = float(vals.min()), float(vals.max())
        sign = -1.0 if kind == "hill" else 1.0
        low, high = ctx.cached("descent_pointers", lambda: mt.descent_pointers(z))
        basin, pit = mt.resolve_basins(high if kind == "hill" else low)
        edges = mt.adjacency(z, basin, sign)
        motif = mt.prune(z, pit, *edges, sign, pruning / 100.0 * (vmax - vmin))
        rim = ctx.cached("rim_points", lambda: mt.rim_points(z))
        count, edge, _level, volume = mt.motif_measures(z, basin, motif, edges, rim, sign)
        keep = motif == np.arange(motif.size)
        if exclude_edge:
            keep &= ~edge
        ids = np.flatnonzero(keep)
        extrema = pit[ids]
        return Motifs(
            extrema=extrema,
            heights=z.ravel()[extrema] - float(np.mean(vals)),
            areas=count[ids] * (s.dx * s.dy),
            volumes=volume[ids] * (s.dx * s.dy),
        )

    return ctx.cached(f"motifs_{kind}_{pruning!r}_{exclude_edge}", compute)


@intermediate(["Spd", "Spc", "S5p", "S10z", "Sha", "Shv"], start=0)  # the longest; it computes the descent
def _hills(ctx: Context) -> Motifs:
    return motifs(ctx, "hill")


@intermediate(["S5v", "S10z", "Sda", "Sdv"], start=3)  # after the ACF, when the shared descent is ready
def _dales(ctx: Context) -> Motifs:
    return motifs(ctx, "dale")


def _require(m: Motifs, kind: str) -> Motifs:
    if m.count == 0:
        raise UndefinedParameterError(
            f"no significant {kind} (Wolf pruning at the 'pruning' % of Sz, edge motifs excluded unless "
            "exclude_edge=False); the map is too small or too smooth for feature parameters"
        )
    return m


def _evaluation_area(ctx: Context) -> float:
    s = ctx.surface
    conv = str(ctx.option("area_convention", "pixel"))
    if conv == "pixel":
        return ctx.values.size * s.dx * s.dy
    if conv == "point":
        ny, nx = s.shape
        if nx < 2 or ny < 2:
            raise SurfscanError("area_convention='point' needs at least 2 x 2 points")
        return (nx - 1) * (ny - 1) * s.dx * s.dy
    raise SurfscanError(f"option area_convention must be 'pixel' or 'point', not {conv!r}")


@parameter("Spd", "1/um2", "feature", "Density of peaks: significant hills per unit area (Wolf pruning 5 % of Sz)")
def spd(ctx: Context) -> float:
    return motifs(ctx, "hill").count / _evaluation_area(ctx)


@parameter("Spc", "1/um", "feature", "Arithmetic mean peak curvature of the significant hills")
def spc(ctx: Context) -> float:
    m = _require(motifs(ctx, "hill"), "hill")
    s = ctx.surface
    z = s.z
    ny, nx = z.shape
    i, j = np.divmod(m.extrema, nx)
    inside = (i > 0) & (i < ny - 1) & (j > 0) & (j < nx - 1)
    i, j = i[inside], j[inside]
    d2x = (z[i, j + 1] - 2 * z[i, j] + z[i, j - 1]) / s.dx**2
    d2y = (z[i + 1, j] - 2 * z[i, j] + z[i - 1, j]) / s.dy**2
    curv = -0.5 * (d2x + d2y)
    curv = curv[np.isfinite(curv)]
    if curv.size == 0:
        raise UndefinedParameterError("no significant peak away from the border and from non-measured points")
    return float(np.mean(curv))


def _five(values: np.ndarray) -> float:
    return float(np.mean(np.sort(values)[::-1][:5]))


@parameter("S5p", "um", "feature", "Five-point peak height: mean height of the five highest significant peaks")
def s5p(ctx: Context) -> float:
    return _five(_require(motifs(ctx, "hill"), "hill").heights)


@parameter("S5v", "um", "feature", "Five-point pit depth: mean depth of the five deepest significant pits")
def s5v(ctx: Context) -> float:
    return _five(-_require(motifs(ctx, "dale"), "dale").heights)


@parameter("S10z", "um", "feature", "Ten-point height: S5p + S5v")
def s10z(ctx: Context) -> float:
    return s5p(ctx) + s5v(ctx)


def _mean_of(kind: str, attribute: str):
    """The parameter function: the mean of ``attribute`` over the significant motifs of ``kind``."""

    def mean(ctx: Context) -> float:
        return float(np.mean(getattr(_require(motifs(ctx, kind), kind), attribute)))

    return mean


# (name, unit, motif kind, attribute, description): the mean area and volume parameters
_MEANS = (
    ("Sda", "um2", "dale", "areas", "Mean dale area of the significant dales"),
    ("Sha", "um2", "hill", "areas", "Mean hill area of the significant hills"),
    ("Sdv", "um3", "dale", "volumes", "Mean dale volume: fluid each significant dale holds up to its pour point"),
    ("Shv", "um3", "hill", "volumes", "Mean hill volume: material of each significant hill above its col"),
)
for _name, _unit, _kind, _attribute, _description in _MEANS:
    parameter(_name, _unit, "feature", _description)(_mean_of(_kind, _attribute))

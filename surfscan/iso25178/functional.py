"""ISO 25178-2 functional parameters from the areal material ratio curve.

All of them come from ONE ascending sort of the measured heights (relative to
their mean, the reference plane), kept in the per-call :class:`Context` cache,
so a full set costs one sort plus a few sums over parts of it.

The material ratio curve
    The sorted heights ``v[0] <= ... <= v[N-1]`` define the inverse curve
    ``Smc(mr) = v at position (1 - mr/100) * (N - 1)``, linearly interpolated
    (``numpy.quantile``'s default); ``Smr(c)`` is its inverse (also linear
    between samples), 100 % at and below the lowest point, 0 % at and above the
    highest. Non-measured (NaN) points are left out: the curve is that of the
    measured area.
Volumes (µm³/µm², which equals ml/m²)
    ``Vm(p) = 1/100 * integral_0^p (Smc(q) - Smc(p)) dq``, the material above
    the height where the material ratio is ``p``; ``Vv(p) = 1/100 *
    integral_p^100 (Smc(p) - Smc(q)) dq``, the void below it (ISO 25178-2),
    integrated exactly over the interpolated curve (a sum over the sorted
    heights in the range). ``Spk``/``Svk`` use the same integrals for the areas of the
    peak and dale zones.
Sk family (ISO 25178-2 Annex B / ISO 13565-2)
    The curve is sampled at 10 001 material ratios (0.01 % steps). The central
    region is the 40 % wide window whose secant has the smallest gradient (the
    first such window); the equivalent straight line is the least-squares fit
    of the curve inside that window. ``Sk`` is the height difference of that
    line between 0 % and 100 %, ``Smr1``/``Smr2`` the material ratios at those
    two heights, ``Spk``/``Svk`` the heights of the triangles with the areas of
    the peak/dale zones (0 when a zone is empty).
Spq, Svq, Smq (ISO 13565-3, areal analogues)
    Heights are plotted against the standard normal quantile of their material
    ratio (Gaussian probability scale) between 0.5 % and 99.5 %; two lines
    meeting at a break point are fitted by least squares (break point chosen
    on a grid of 400 positions). ``Spq`` is the slope of the upper (plateau)
    line, ``Svq`` of the lower (dale) line, both in µm per standard deviation
    (both equal Sq for a Gaussian surface); ``Smq`` is the material ratio at
    the break, in %. On a single-process (Gaussian) surface the break is not
    meaningful and Smq should not be read.

Options (``roughness(s, names, **options)``; defaults as in MountainsMap and
ISO 25178-3)
    ``smr_c`` (1.0 µm) and ``smr_from`` (``"peak"``: c is measured downwards
    from the highest point, MountainsMap's "c = 1 µm under the highest peak";
    ``"mean"``: c is a height above the mean plane) for Smr.
    ``smc_mr`` (10 %) for Smc. ``sxp_p``, ``sxp_q`` (2.5 %, 50 %) for Sxp.
    ``volume_p`` (10 %) for Vm, Vv, Vmp, Vmc, Vvc; ``volume_q`` (80 %) for
    Vmc, Vvc, Vvv. ``sdc_p``, ``sdc_q`` (2.5 %, 50 %) for Sdc, which lives with
    Spkx, Svkx, Sak1, Sak2 (ISO 25178-2:2021) in :mod:`.functional_2021`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from ..errors import SurfscanError, UndefinedParameterError
from .registry import Context, intermediate, parameter

__all__ = ["MaterialCurve", "material_curve", "equivalent_line"]

#: Width of the equivalent straight line's window, % (ISO 13565-2).
LINE_WIDTH = 40.0
_SAMPLES = 10001
_PROB_SAMPLES = 2000
_PROB_RANGE = (0.5, 99.5)


@dataclass(frozen=True)
class MaterialCurve:
    """Sorted heights (ascending, relative to the mean)."""

    v: np.ndarray

    @property
    def n(self) -> int:
        return self.v.size

    def height(self, mr: float | np.ndarray) -> float | np.ndarray:
        """Smc: height (µm) at which the material ratio is ``mr`` (%)."""
        mr = np.asarray(mr, dtype=float)
        pos = np.clip(1.0 - mr / 100.0, 0.0, 1.0) * (self.n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, self.n - 1)
        out = self.v[lo] + (pos - lo) * (self.v[hi] - self.v[lo])
        return float(out) if out.ndim == 0 else out

    def ratio(self, c: float) -> float:
        """Smr: material ratio (%) at height ``c`` (µm, relative to the mean)."""
        v = self.v
        if c >= v[-1]:
            return 0.0
        if c <= v[0]:
            return 100.0
        i = int(np.searchsorted(v, c, side="right")) - 1  # v[i] <= c < v[i+1]
        pos = i + (c - v[i]) / (v[i + 1] - v[i])
        return 100.0 * (1.0 - pos / (self.n - 1))

    def _position(self, mr: float) -> float:
        return min(max(1.0 - mr / 100.0, 0.0), 1.0) * (self.n - 1)

    def _at(self, t: float) -> float:
        k = min(int(t), self.n - 2)
        return float(self.v[k] + (t - k) * (self.v[k + 1] - self.v[k]))

    def excess(self, mr_a: float, mr_b: float, ref: float) -> float:
        """Integral of (Smc(q) - ref) dq from mr_a to mr_b (% µm), exact for the interpolated curve.

        Summed over the sorted heights in that range only, relative to ``ref``,
        so a thin zone is not lost to cancellation.
        """
        if self.n < 2:
            return 0.0
        tb, ta = self._position(mr_b), self._position(mr_a)
        if ta <= tb:
            return 0.0
        wa, wb = self._at(ta) - ref, self._at(tb) - ref
        k0, k1 = math.ceil(tb), math.floor(ta)
        if k0 > k1:
            total = 0.5 * (ta - tb) * (wa + wb)
        else:
            w = self.v[k0 : k1 + 1] - ref
            total = float(np.sum(w)) - 0.5 * float(w[0] + w[-1])
            total += 0.5 * (k0 - tb) * (wb + float(w[0])) + 0.5 * (ta - k1) * (float(w[-1]) + wa)
        return total * 100.0 / (self.n - 1)

    def material_volume(self, p: float) -> float:
        """Vm(p) = 1/100 * integral_0^p (Smc(q) - Smc(p)) dq (µm³/µm²)."""
        return self.excess(0.0, p, self.height(p)) / 100.0

    def void_volume(self, p: float) -> float:
        """Vv(p) = 1/100 * integral_p^100 (Smc(p) - Smc(q)) dq (µm³/µm²)."""
        return -self.excess(p, 100.0, self.height(p)) / 100.0


@intermediate(["functional"], start=4)
def material_curve(ctx: Context) -> MaterialCurve:
    """The (cached) material ratio curve of the measured heights."""

    def compute() -> MaterialCurve:
        vals = ctx.values
        v = np.sort(vals)
        v -= float(np.mean(vals))
        return MaterialCurve(v)

    return ctx.cached("material_curve", compute)


def _percent(ctx: Context, name: str, default: float) -> float:
    value = float(ctx.option(name, default))
    if not 0.0 <= value <= 100.0:
        raise SurfscanError(f"option {name} is a material ratio in %, 0..100, not {value}")
    return value


@parameter("Smr", "%", "functional", "Areal material ratio at height c (default 1 µm under the highest peak; options smr_c, smr_from)")
def smr(ctx: Context) -> float:
    curve = material_curve(ctx)
    c = float(ctx.option("smr_c", 1.0))
    origin = str(ctx.option("smr_from", "peak"))
    if origin == "peak":
        return curve.ratio(float(curve.v[-1]) - c)
    if origin == "mean":
        return curve.ratio(c)
    raise SurfscanError(f"option smr_from must be 'peak' or 'mean', not {origin!r}")


@parameter("Smc", "um", "functional", "Inverse areal material ratio: height above the mean plane where the ratio is mr (option smc_mr, 10 %)")
def smc(ctx: Context) -> float:
    return material_curve(ctx).height(_percent(ctx, "smc_mr", 10.0))


@parameter("Sxp", "um", "functional", "Peak extreme height: Smc(p) - Smc(q) (options sxp_p 2.5 %, sxp_q 50 %)")
def sxp(ctx: Context) -> float:
    curve = material_curve(ctx)
    return curve.height(_percent(ctx, "sxp_p", 2.5)) - curve.height(_percent(ctx, "sxp_q", 50.0))


def _vm(ctx: Context, p: float) -> float:
    return material_curve(ctx).material_volume(p)


def _vv(ctx: Context, p: float) -> float:
    return material_curve(ctx).void_volume(p)


@parameter("Vm", "um3/um2", "functional", "Material volume above the height of material ratio p (option volume_p, 10 %)")
def vm(ctx: Context) -> float:
    return _vm(ctx, _percent(ctx, "volume_p", 10.0))


@parameter("Vv", "um3/um2", "functional", "Void volume below the height of material ratio p (option volume_p, 10 %)")
def vv(ctx: Context) -> float:
    return _vv(ctx, _percent(ctx, "volume_p", 10.0))


@parameter("Vmp", "um3/um2", "functional", "Peak material volume: Vm(p), p = 10 % (option volume_p)")
def vmp(ctx: Context) -> float:
    return _vm(ctx, _percent(ctx, "volume_p", 10.0))


@parameter("Vmc", "um3/um2", "functional", "Core material volume: Vm(q) - Vm(p), 10 % / 80 % (options volume_p, volume_q)")
def vmc(ctx: Context) -> float:
    return _vm(ctx, _percent(ctx, "volume_q", 80.0)) - _vm(ctx, _percent(ctx, "volume_p", 10.0))


@parameter("Vvc", "um3/um2", "functional", "Core void volume: Vv(p) - Vv(q), 10 % / 80 % (options volume_p, volume_q)")
def vvc(ctx: Context) -> float:
    return _vv(ctx, _percent(ctx, "volume_p", 10.0)) - _vv(ctx, _percent(ctx, "volume_q", 80.0))


@parameter("Vvv", "um3/um2", "functional", "Dale void volume: Vv(q), q = 80 % (option volume_q)")
def vvv(ctx: Context) -> float:
    return _vv(ctx, _percent(ctx, "volume_q", 80.0))


def equivalent_line(ctx: Context) -> tuple[float, float]:
    """Heights (µm) of the equivalent straight line at 0 % and at 100 % material ratio."""

    def compute() -> tuple[float, float]:
        curve = material_curve(ctx)
        mr = np.linspace(0.0, 100.0, _SAMPLES)
        h = curve.height(mr)
        w = int(round(LINE_WIDTH / 100.0 * (_SAMPLES - 1)))
        secant = h[w:] - h[:-w]  # all negative or zero; the flattest is the largest
        start = int(np.argmax(secant))
        x = mr[start : start + w + 1]
        y = h[start : start + w + 1]
        xm, ym = x.mean(), y.mean()
        slope = float(np.dot(x - xm, y - ym) / np.dot(x - xm, x - xm))
        intercept = float(ym - slope * xm)
        return intercept, intercept + 100.0 * slope

    return ctx.cached("equivalent_line", compute)


@parameter("Sk", "um", "functional", "Core height: height span of the 40 % equivalent straight line")
def sk(ctx: Context) -> float:
    upper, lower = equivalent_line(ctx)
    return upper - lower


@parameter("Smr1", "%", "functional", "Peak material ratio: material ratio at the top of the core")
def smr1(ctx: Context) -> float:
    return material_curve(ctx).ratio(equivalent_line(ctx)[0])


@parameter("Smr2", "%", "functional", "Dale material ratio: material ratio at the bottom of the core")
def smr2(ctx: Context) -> float:
    return material_curve(ctx).ratio(equivalent_line(ctx)[1])


@parameter("Spk", "um", "functional", "Reduced peak height: height of the triangle with the area of the peaks above the core")
def spk(ctx: Context) -> float:
    curve = material_curve(ctx)
    upper = equivalent_line(ctx)[0]
    mr1 = curve.ratio(upper)
    area = curve.excess(0.0, mr1, upper)  # % * µm, the peak zone above the core
    return 2.0 * area / mr1 if mr1 > 0 and area > 0 else 0.0


@parameter("Svk", "um", "functional", "Reduced dale depth: height of the triangle with the area of the dales below the core")
def svk(ctx: Context) -> float:
    curve = material_curve(ctx)
    lower = equivalent_line(ctx)[1]
    mr2 = curve.ratio(lower)
    area = -curve.excess(mr2, 100.0, lower)  # % * µm, the dale zone below the core
    return 2.0 * area / (100.0 - mr2) if mr2 < 100 and area > 0 else 0.0


def _hinge_fit(q: np.ndarray, h: np.ndarray) -> tuple[float, float, float]:
    """Two lines meeting at a break point, least squares; returns (upper slope, lower slope, break q).

    The break point is searched on 400 positions between 10 % and 90 % of the
    range of ``q`` (ascending); for each, the model ``c + s_lo*min(q-qb, 0) +
    s_up*max(q-qb, 0)`` is solved from running sums (normal equations).
    """
    span = q[-1] - q[0]
    qb = np.linspace(q[0] + 0.1 * span, q[-1] - 0.1 * span, 400)
    m = np.searchsorted(q, qb)  # points below the break
    cs = lambda x: np.concatenate(([0.0], np.cumsum(x)))  # noqa: E731
    c1, cq, cq2, ch, cqh = cs(np.ones_like(q)), cs(q), cs(q * q), cs(h), cs(q * h)
    n = q.size
    lo_n, lo_q, lo_q2, lo_h, lo_qh = c1[m], cq[m], cq2[m], ch[m], cqh[m]
    up_n, up_q, up_q2, up_h, up_qh = n - lo_n, cq[-1] - lo_q, cq2[-1] - lo_q2, ch[-1] - lo_h, cqh[-1] - lo_qh
    sa = lo_q - lo_n * qb  # sum of min(q - qb, 0)
    sb = up_q - up_n * qb
    saa = lo_q2 - 2 * qb * lo_q + lo_n * qb**2
    sbb = up_q2 - 2 * qb * up_q + up_n * qb**2
    sah = lo_qh - qb * lo_h
    sbh = up_qh - qb * up_h
    a = np.zeros((qb.size, 3, 3))
    a[:, 0, 0] = n
    a[:, 0, 1] = a[:, 1, 0] = sa
    a[:, 0, 2] = a[:, 2, 0] = sb
    a[:, 1, 1] = saa
    a[:, 2, 2] = sbb
    rhs = np.stack([np.full(qb.size, ch[-1]), sah, sbh], axis=1)
    coef = np.linalg.solve(a, rhs[:, :, None])[:, :, 0]
    err = float(np.dot(h, h)) - np.einsum("ij,ij->i", coef, rhs)  # residual sum of squares
    best = int(np.argmin(err))
    return float(coef[best, 2]), float(coef[best, 1]), float(qb[best])


def probability_fit(ctx: Context) -> tuple[float, float, float]:
    """(Spq, Svq, Smq) from the Gaussian probability plot of the heights."""

    def compute() -> tuple[float, float, float]:
        curve = material_curve(ctx)
        if curve.n < 10 or curve.v[-1] == curve.v[0]:
            raise UndefinedParameterError("needs at least 10 measured points with some relief")
        lo, hi = _PROB_RANGE
        q = np.linspace(ndtri(lo / 100.0), ndtri(hi / 100.0), _PROB_SAMPLES)
        h = curve.height(100.0 * (1.0 - ndtr(q)))  # quantile q <-> material ratio 1 - Phi(q)
        upper, lower, qb = _hinge_fit(q, h)
        return upper, lower, 100.0 * (1.0 - float(ndtr(qb)))

    return ctx.cached("probability_fit", compute)


@parameter("Spq", "um", "functional", "Plateau root mean square roughness: slope of the upper line of the probability plot")
def spq(ctx: Context) -> float:
    return probability_fit(ctx)[0]


@parameter("Svq", "um", "functional", "Dale root mean square roughness: slope of the lower line of the probability plot")
def svq(ctx: Context) -> float:
    return probability_fit(ctx)[1]


@parameter("Smq", "%", "functional", "Material ratio at the plateau-to-dale transition of the probability plot")
def smq(ctx: Context) -> float:
    return probability_fit(ctx)[2]


# The ISO 25178-2:2021 additions (Sdc, Spkx, Svkx, Sak1, Sak2) build on this module and register
# right after its parameters, so that they list with the functional family.
from . import functional_2021  # noqa: E402, F401

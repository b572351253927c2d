"""ISO 25178-2 height parameters: Sa, Sq, Sp, Sv, Sz, Ssk, Sku.

All are computed over the measured (non-NaN) points, about the mean height
of those points (the reference plane of a levelled surface). ``Sku`` is the
kurtosis (3 for a Gaussian surface), not the excess kurtosis; ``Sp`` and
``Sv`` are the highest peak above and the deepest valley below the mean,
both positive numbers; ``Sz = Sp + Sv``.

The residual statistics are accumulated over blocks of about 64 k points so
that each block stays in cache: the map is read once after plane or
polynomial levelling (whose residuals have zero mean by construction, which
the pass verifies), twice otherwise (mean, then moments).
"""

from __future__ import annotations

import numpy as np

from .registry import Context, parameter

_BLOCK = 1 << 16


def _accumulate(v: np.ndarray, m0: float, order: int) -> dict[str, float]:
    """One blocked pass: sums of z, |z - m0|, (z - m0)^2 (and ^3, ^4), min and max."""
    s1 = s_abs = s2 = s3 = s4 = 0.0
    vmin, vmax = np.inf, -np.inf
    n = v.size
    buf = np.empty(min(_BLOCK, n))
    sq = np.empty_like(buf) if order > 2 else buf
    for start in range(0, n, _BLOCK):
        blk = v[start : start + _BLOCK]
        s1 += float(blk.sum())
        vmin = min(vmin, float(blk.min()))
        vmax = max(vmax, float(blk.max()))
        r = blk
        if m0 != 0.0:
            r = buf[: blk.size]
            np.subtract(blk, m0, out=r)
        s2 += float(np.dot(r, r))
        if order > 2:
            r2 = sq[: blk.size]
            np.multiply(r, r, out=r2)
            s3 += float(np.dot(r2, r))
            s4 += float(np.dot(r2, r2))
        a = buf[: blk.size]
        np.abs(r, out=a)
        s_abs += float(a.sum())
    return {"s1": s1, "abs": s_abs, "s2": s2, "s3": s3, "s4": s4, "min": vmin, "max": vmax}


def _zero_mean(surface) -> bool:
    """True when the last step was a least-squares fit with a constant term (residual mean is 0)."""
    return bool(getattr(surface, "zero_mean", False))


def _moments(ctx: Context, order: int) -> dict[str, float]:
    """Mean, min, max and the central absolute/2nd (and 3rd/4th) moments of the valid heights.

    One pass when the surface is known to have zero mean (plane or polynomial
    levelling), else two (mean, then moments). The residual centre ``m0``
    used in the pass is accepted only when it equals the exact mean to
    1e-12 of Sa; otherwise the pass is repeated about the exact mean.
    """
    key = f"moments{order}"
    if order <= 2 and (full := ctx.known("moments4")) is not None:
        return full

    def compute() -> dict[str, float]:
        surf = ctx.surface
        known_finite = ctx.known("values") is not None or surf.has_invalid_if_known() is False
        v = ctx.values if known_finite else surf.z.reshape(-1)
        m0 = 0.0 if _zero_mean(surf) else None
        if m0 is None:
            m0 = float(np.mean(v))
            if not np.isfinite(m0):
                v = ctx.values
                m0 = float(np.mean(v))
        acc = _accumulate(v, m0, order)
        if not np.isfinite(acc["s1"]) and not known_finite:
            v = ctx.values  # NaN present: the valid points only
            acc = _accumulate(v, m0, order)
        n = v.size
        mean = acc["s1"] / n
        if abs(mean - m0) > 1e-12 * max(acc["abs"] / n, np.finfo(float).tiny):
            m0 = mean
            acc = _accumulate(v, m0, order)
        d = mean - m0  # moments about the exact mean from those about m0
        m2 = max(acc["s2"] / n - d * d, 0.0)
        out = {"n": n, "mean": mean, "min": acc["min"] - mean, "max": acc["max"] - mean,
               "abs": acc["abs"] / n, "m2": m2}
        if order > 2:
            r2, r3, r4 = acc["s2"] / n, acc["s3"] / n, acc["s4"] / n
            out["m3"] = r3 - 3 * d * r2 + 2 * d**3
            out["m4"] = r4 - 4 * d * r3 + 6 * d * d * r2 - 3 * d**4
        return out

    return ctx.cached(key, compute)


def _want4(ctx: Context) -> int:
    names = ctx.option("_requested", ())
    return 4 if ("Ssk" in names or "Sku" in names) else 2


@parameter("Sa", "um", "height", "Arithmetic mean height: mean absolute deviation from the mean plane")
def sa(ctx: Context) -> float:
    return _moments(ctx, _want4(ctx))["abs"]


@parameter("Sq", "um", "height", "Root mean square height")
def sq(ctx: Context) -> float:
    return float(np.sqrt(_moments(ctx, _want4(ctx))["m2"]))


@parameter("Sp", "um", "height", "Maximum peak height above the mean plane")
def sp(ctx: Context) -> float:
    return _moments(ctx, _want4(ctx))["max"]


@parameter("Sv", "um", "height", "Maximum pit depth below the mean plane (positive)")
def sv(ctx: Context) -> float:
    return -_moments(ctx, _want4(ctx))["min"]


@parameter("Sz", "um", "height", "Maximum height: Sp + Sv")
def sz(ctx: Context) -> float:
    m = _moments(ctx, _want4(ctx))
    return m["max"] - m["min"]


def _require_relief(ctx: Context, name: str) -> float:
    from ..errors import UndefinedParameterError

    m2 = _moments(ctx, 4)["m2"]
    if m2 <= 0:
        raise UndefinedParameterError(f"{name} is undefined for a perfectly flat surface (Sq = 0)")
    return m2


@parameter("Ssk", "1", "height", "Skewness of the height distribution (0 for a symmetric one)")
def ssk(ctx: Context) -> float:
    m2 = _require_relief(ctx, "Ssk")
    return _moments(ctx, 4)["m3"] / m2**1.5


@parameter("Sku", "1", "height", "Kurtosis of the height distribution (3 for a Gaussian one, not excess)")
def sku(ctx: Context) -> float:
    m2 = _require_relief(ctx, "Sku")
    return _moments(ctx, 4)["m4"] / m2**2

"""ISO 25178-2 height parameters: Sa, Sq, Sp, Sv, Sz, Ssk, Sku.

All are computed over the measured (non-NaN) points, about the mean height
of those points (the reference plane of a levelled surface). ``Sku`` is the
kurtosis (3 for a Gaussian surface), not the excess kurtosis; ``Sp`` and
``Sv`` are the highest peak above and the deepest valley below the mean,
both positive numbers; ``Sz = Sp + Sv``.

The residual statistics are accumulated over blocks of about 64 k points so
that each block stays in cache: the map is read twice (mean, then moments).
"""

from __future__ import annotations

import numpy as np

from .registry import Context, parameter

_BLOCK = 1 << 16


def _moments(ctx: Context, order: int) -> dict[str, float]:
    """Mean, min, max and the central absolute/2nd (and 3rd/4th) moments."""
    key = f"moments{order}"

    def compute() -> dict[str, float]:
        v = ctx.values
        n = v.size
        mean = float(np.mean(v))
        s_abs = s2 = s3 = s4 = 0.0
        vmin, vmax = np.inf, -np.inf
        buf = np.empty(min(_BLOCK, n))
        sq = np.empty_like(buf)
        for start in range(0, n, _BLOCK):
            blk = v[start : start + _BLOCK]
            r = buf[: blk.size]
            r2 = sq[: blk.size]
            np.subtract(blk, mean, out=r)
            vmin = min(vmin, float(r.min()))
            vmax = max(vmax, float(r.max()))
            np.multiply(r, r, out=r2)
            s2 += float(r2.sum())
            if order > 2:
                s4 += float(np.dot(r2, r2))
                s3 += float(np.dot(r2, r))
            np.abs(r, out=r)
            s_abs += float(r.sum())
        out = {"n": n, "mean": mean, "min": vmin, "max": vmax, "abs": s_abs / n, "m2": s2 / n}
        if order > 2:
            out.update(m3=s3 / n, m4=s4 / n)
        return out

    if order <= 2 and "moments4" in ctx._cache:
        return ctx._cache["moments4"]
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
    from ..errors import SurfscanError

    m2 = _moments(ctx, 4)["m2"]
    if m2 <= 0:
        raise SurfscanError(f"{name} is undefined for a perfectly flat surface (Sq = 0)")
    return m2


@parameter("Ssk", "1", "height", "Skewness of the height distribution (0 for a symmetric one)")
def ssk(ctx: Context) -> float:
    m2 = _require_relief(ctx, "Ssk")
    return _moments(ctx, 4)["m3"] / m2**1.5


@parameter("Sku", "1", "height", "Kurtosis of the height distribution (3 for a Gaussian one, not excess)")
def sku(ctx: Context) -> float:
    m2 = _require_relief(ctx, "Sku")
    return _moments(ctx, 4)["m4"] / m2**2

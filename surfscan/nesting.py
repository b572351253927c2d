"""ISO 25178-3 nesting indices: choose the S-filter and L-filter cut-offs of a height map, and check a user's.

The cut-offs (nesting indices) are taken from the preferred series
``..., 0.8, 2.5, 8, 25, 80, 250, 800 µm, ...`` (``2.5 * 10**k`` and
``8 * 10**k``; neighbours differ by about sqrt(10)), with the L-filter three,
four or five steps above the S-filter, i.e. ``lambda_c / lambda_s`` of about
30, 100 or 300 (exactly 31.25 or 32, 100, 312.5 or 320). The table, its source and the choices
made here are in ``docs/filters.md``.

:func:`choose_filters` picks:

* ``lambda_s``: the smallest series value of at least 2 sampling distances
  (the coarser of ``dx``, ``dy``), so the S-filter never works below the
  instrument's sampling and removes as little real texture as it can.
* ``lambda_c``: the largest of the three paired values (ratio 300, then 100,
  then 30) that is at most half the shorter side of the field, so at least
  two cut-off lengths fit in the field; when none does, the largest paired
  value that fits in the whole field (the reason says so).

A user's own cut-offs are checked where they are applied
(:func:`surfscan.filters.gaussian_filter`): a :class:`~surfscan.errors.SurfscanWarning`,
one line naming the file, when ``lambda_s`` is below 2 sampling distances or
``lambda_c`` is longer than the measured field.
"""

from __future__ import annotations

import math

from .errors import SurfscanError
from .model import Surface

__all__ = ["PREFERRED_SERIES", "RATIO_STEPS", "preferred_series", "choose_filters"]

#: Mantissas of the preferred nesting-index series (µm): 2.5 * 10**k and 8 * 10**k.
PREFERRED_SERIES = (2.5, 8.0)

#: lambda_c lies this many series steps above lambda_s: 5 -> ratio ~300, 4 -> 100, 3 -> ~30 (tried in this order).
RATIO_STEPS = (5, 4, 3)

#: lambda_s is at least this many sampling distances.
MIN_PIXELS_S = 2.0

#: lambda_c is at most this fraction of the shorter side of the field (first try, then the fallback).
FIELD_FRACTIONS_C = (0.5, 1.0)


def preferred_series(low: float = 1e-3, high: float = 1e6) -> list[float]:
    """The preferred nesting-index values (µm) between ``low`` and ``high``, ascending.

    >>> preferred_series(0.5, 300)
    [0.8, 2.5, 8.0, 25.0, 80.0, 250.0]
    """
    out = []
    for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in PREFERRED_SERIES:
            v = float(f"{m * 10.0 ** k:.6g}")  # 0.8, not 0.8000000000000002
            if low <= v <= high:
                out.append(v)
    return out


def _geometry(surface: Surface) -> tuple[float, float]:
    """(sampling distance, shorter side of the field), both in µm."""
    ny, nx = surface.shape
    return max(surface.dx, surface.dy), min(nx * surface.dx, ny * surface.dy)


def _name(surface: Surface) -> str:
    return str(surface.meta.get("source_file") or "surface")


def choose_filters(surface: Surface) -> tuple[float, float, str]:
    """Choose the S-filter and L-filter cut-offs of a height map from its sampling and field size.

    Parameters
    ----------
    surface : Surface
        The height map; only its shape and ``dx``, ``dy`` (µm) are used.

    Returns
    -------
    lambda_s : float
        S-filter nesting index in µm (a preferred-series value >= 2 sampling distances).
    lambda_c : float
        L-filter nesting index in µm (a preferred-series value, ``lambda_c / lambda_s`` >= 30,
        at most half the shorter side of the field where possible).
    reason : str
        One line saying how they were chosen.

    Raises
    ------
    SurfscanError
        When the field is too small for any pair (fewer than 60 to 190
        sampling distances on its shorter side, depending on where the
        sampling falls in the series).

    Examples
    --------
    >>> import numpy as np
    >>> s = Surface(np.zeros((768, 1024)), 0.28, 0.28)  # 287 x 215 µm field
    >>> choose_filters(s)[:2]
    (0.8, 80.0)
    """
    pixel, field = _geometry(surface)
    if not (pixel > 0 and math.isfinite(pixel)):
        raise SurfscanError(f"{_name(surface)}: filters 'auto' needs a positive sampling distance, got {pixel} µm")
    series = preferred_series(pixel, max(field, pixel) * 10)
    i = next(j for j, v in enumerate(series) if v >= MIN_PIXELS_S * pixel * (1 - 1e-9))
    for frac in FIELD_FRACTIONS_C:
        for steps in RATIO_STEPS:
            if i + steps < len(series) and series[i + steps] <= frac * field * (1 + 1e-9):
                ls, lc = series[i], series[i + steps]
                fits = "half the" if frac < 1 else "only once in the"
                reason = (f"ISO 25178-3 preferred series: lambda_s {ls:g} µm = {ls / pixel:.1f} sampling distances "
                          f"of {pixel:.4g} µm, lambda_c {lc:g} µm (ratio {lc / ls:.0f}; fits {fits} "
                          f"{field:.4g} µm field)")
                return ls, lc, reason
    raise SurfscanError(
        f"{_name(surface)}: field {field:.4g} µm with {pixel:.4g} µm sampling is too small for filters 'auto' "
        f"(lambda_c >= 30 lambda_s >= 60 sampling distances must fit in the field); give --lambda-s/--lambda-c"
    )

"""The profile operator chain: form removal, ISO 16610-21 Gaussian filter, ISO 21920-3 default cut-offs.

Gaussian profile filter (ISO 16610-21)
    Weighting function ``s(x) = exp(-pi (x / (alpha lambda_c))**2) / (alpha
    lambda_c)`` with ``alpha = sqrt(ln 2 / pi)``: 50 % transmission at the
    cut-off wavelength. The kernel is truncated at ``+-lambda_c`` and
    normalised (the same sampled kernel as the areal filter,
    :func:`surfscan.filters.gaussian_kernel`). The ends of the profile and
    non-measured points are handled by normalised convolution
    (``G*(w z) / G*(w)``, ``w`` = 1 on measured points), so no run-in or
    run-out length is lost; ISO 16610-21 lets the user choose the end
    treatment, and this one keeps the mean line unbiased at the ends.
    A closed profile (one that wraps around smoothly, such as whole periods
    of a synthesised profile: :func:`is_closed`) is filtered around the
    loop instead, by the Gaussian's exact transfer function
    ``exp(-pi (alpha lambda f)²)``, so a sinusoid comes out scaled by
    exactly its transmission.
    The S-filter (``lambda_s``) keeps the low-pass output, the L-filter
    (``lambda_c``) the residual (roughness profile).

Default cut-offs (ISO 21920-3)
    When no ``lambda_c`` is given it is chosen from the profile's Rz as in the
    table below (the non-periodic-profile rule of ISO 21920-3, the values of
    ISO 4288:1996 Table 1, with the ``lambda_s`` that ISO 3274 pairs with
    each cut-off). Rz is first measured on the unfiltered profile, then with
    the chosen cut-off until the choice is stable (at most 4 rounds). The
    standard defines the evaluation length as ``n_sampling * lambda_c``; a
    profile shorter than that has no standard default, so no filter is
    applied and a warning says so (pass ``lambda_c`` explicitly; the series
    continues downwards in 1 : 3.16 steps: 25, 8, 2.5 µm). ``lambda_s`` is
    not applied when it is shorter than two sample spacings (the
    instrument's sampling already limits the short wavelengths), which is
    recorded in the settings.

    ============  =============  =============
    Rz (µm)       lambda_c (µm)  lambda_s (µm)
    ============  =============  =============
    <= 0.1        80             2.5
    0.1 - 0.5     250            2.5
    0.5 - 10      800            2.5
    10 - 50       2500           8
    > 50          8000           25
    ============  =============  =============

    ``lambda_c = "none"`` (or 0) turns the L-filter off, ``lambda_s = "none"``
    the S-filter. A ``lambda_c`` given without ``lambda_s`` gets the
    ``lambda_s`` that ISO 3274 pairs with it when it is a series value
    (2.5 µm up to 800 µm, 8 µm at 2500 µm, 25 µm at 8000 µm; continued as
    0.8 / 0.25 / 0.08 µm for 25 / 8 / 2.5 µm), else none.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import ndimage

from .errors import SurfscanError, SurfscanWarning
from .filters import ALPHA, gaussian_kernel
from .profiles import Profile

__all__ = [
    "gaussian_profile_filter",
    "is_closed",
    "remove_form",
    "default_cutoffs",
    "resolve_operators",
    "CUTOFF_TABLE",
    "CUTOFF_SERIES",
]

#: ISO 21920-3 / ISO 4288 non-periodic rule: (upper Rz bound µm, lambda_c µm, lambda_s µm).
CUTOFF_TABLE: tuple[tuple[float, float, float], ...] = (
    (0.1, 80.0, 2.5),
    (0.5, 250.0, 2.5),
    (10.0, 800.0, 2.5),
    (50.0, 2500.0, 8.0),
    (math.inf, 8000.0, 25.0),
)

#: The cut-off series (µm), with the lambda_s paired with each; the three shortest continue it downwards.
CUTOFF_SERIES: tuple[tuple[float, float], ...] = (
    (2.5, 0.08),
    (8.0, 0.25),
    (25.0, 0.8),
    (80.0, 2.5),
    (250.0, 2.5),
    (800.0, 2.5),
    (2500.0, 8.0),
    (8000.0, 25.0),
)

_FFT_TAPS = 129


def _smooth(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    if k.size <= _FFT_TAPS:
        return ndimage.correlate1d(a, k, mode="constant", cval=0.0)
    from scipy import signal

    return signal.fftconvolve(a, k, mode="same")  # k is symmetric: convolution = correlation


def _border_weight(n: int, k: np.ndarray) -> np.ndarray:
    """``G * 1`` on ``n`` points with zeros beyond the ends, from the kernel's cumulative sum."""
    h = k.size // 2
    kc = np.concatenate(([0.0], np.cumsum(k)))
    i = np.arange(n)
    lo = np.maximum(0, h - i)
    hi = np.minimum(2 * h, n - 1 - i + h)
    return kc[hi + 1] - kc[lo]


def _lowpass(z: np.ndarray, cutoff: float, spacing: float) -> np.ndarray:
    k = gaussian_kernel(cutoff, spacing, z.size)
    valid = ~np.isnan(z)
    if valid.all():
        return _smooth(z, k) / _border_weight(z.size, k)
    w = valid.astype(np.float64)
    num = _smooth(np.where(valid, z, 0.0), k)
    den = _smooth(w, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[(den <= 1e-12) | ~valid] = np.nan
    return out


def is_closed(z: np.ndarray) -> bool:
    """True when a profile wraps around smoothly (whole periods of a synthesised or closed profile).

    The step from the last point to the first is at most 3 times the rms step between neighbours
    and at most a third of the rms difference between two points far apart (sqrt 2 times the
    standard deviation); a measured
    open profile's ends differ like points a profile apart.
    """
    n = z.size
    if n < 8 or np.isnan(z).any():
        return False

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean(a * a)))

    wrap, step = abs(float(z[-1] - z[0])), rms(np.diff(z))
    far = math.sqrt(2) * float(np.std(z))  # rms difference of two points far apart
    return wrap <= 3 * step and 3 * wrap <= far


def _lowpass_closed(z: np.ndarray, cutoff: float, spacing: float) -> np.ndarray:
    """The Gaussian applied to the periodic extension: its exact transfer function ``exp(-pi (alpha lambda f)²)``."""
    f = np.fft.rfftfreq(z.size, spacing)  # cycles per µm
    return np.fft.irfft(np.fft.rfft(z) * np.exp(-np.pi * (ALPHA * cutoff * f) ** 2), n=z.size)


def gaussian_profile_filter(profile: Profile, cutoff: float, kind: str = "high", closed: bool | None = None) -> Profile:
    """ISO 16610-21 Gaussian profile filter.

    Parameters
    ----------
    profile : Profile
    cutoff : float
        Cut-off wavelength in µm: ``lambda_c`` for the L-filter
        (``kind="high"``, returns the roughness profile) or ``lambda_s`` for
        the S-filter (``kind="low"``, removes the shorter wavelengths).
    kind : {"high", "low"}
    closed : bool or None
        Treat the profile as closed (periodic: the filter wraps around, ISO
        16610-21's closed-profile case, applied by its exact transfer
        function) or open (normalised convolution at the ends). None
        (default) decides with :func:`is_closed`.

    Returns
    -------
    Profile
        Filtered heights (µm), NaN where the input was NaN.
    """
    cutoff = float(cutoff)
    if not (cutoff > 0 and math.isfinite(cutoff)):
        raise SurfscanError(f"the profile cut-off must be a positive length in µm, got {cutoff!r}")
    if kind not in ("high", "low"):
        raise SurfscanError(f"filter kind must be 'high' (L-filter) or 'low' (S-filter), not {kind!r}")
    if closed is None:
        closed = is_closed(profile.z)
    if closed and np.isnan(profile.z).any():
        raise SurfscanError("a closed (periodic) profile filter needs a profile without non-measured points")
    low = (
        _lowpass_closed(profile.z, cutoff, profile.spacing) if closed else _lowpass(profile.z, cutoff, profile.spacing)
    )
    out = profile.z - low if kind == "high" else low
    name = "L-filter" if kind == "high" else "S-filter"
    ends = "closed profile" if closed else "open profile"
    return profile.replace(z=out, step=f"ISO 16610-21 gaussian {name} {cutoff:g} um ({ends})")


def remove_form(profile: Profile, form: str = "none") -> Profile:
    """F-operator: subtract the least-squares line (``"line"``), or nothing (``"none"``, the default of
    :func:`~surfscan.profile_parameters.profile_roughness`: a profile from a levelled map needs none)."""
    if form == "none":
        return profile
    z = profile.z
    valid = ~np.isnan(z)
    if not valid.any():
        raise SurfscanError("the profile has no measured points")
    if form != "line":
        raise SurfscanError(f"form must be 'line' or 'none', not {form!r}")
    x = np.arange(z.size, dtype=np.float64)
    xv, zv = x[valid], z[valid]
    xm, zm = xv.mean(), zv.mean()
    sxx = float(np.dot(xv - xm, xv - xm))
    slope = float(np.dot(xv - xm, zv - zm) / sxx) if sxx > 0 else 0.0
    return profile.replace(z=z - (zm + slope * (x - xm)), step="form: least-squares line removed")


def _rz(profile: Profile, lambda_c: float | None, n_sampling: int) -> float:
    z = profile.z if lambda_c is None else gaussian_profile_filter(profile, lambda_c).z
    parts = [p[~np.isnan(p)] for p in np.array_split(z, n_sampling)]
    return float(np.mean([p.max() - p.min() for p in parts if p.size]))


def default_cutoffs(profile: Profile, n_sampling: int = 5) -> tuple[float | None, float | None, str]:
    """ISO 21920-3 default ``(lambda_c, lambda_s, note)`` in µm for a form-removed profile.

    The cut-off comes from the profile's Rz (table in the module docstring),
    measured first unfiltered, then with the chosen cut-off until the choice
    is stable (at most 4 rounds). When the profile is shorter than
    ``n_sampling`` times that cut-off, ISO 21920-3 gives no default: both
    cut-offs are None (no filter) and a :class:`SurfscanWarning` says so.
    """
    lambda_c: float | None = None
    for _ in range(4):
        rz = _rz(profile, lambda_c, n_sampling)
        want = next(row for row in CUTOFF_TABLE if rz <= row[0])
        if want[1] == lambda_c or n_sampling * want[1] > profile.length_um * (1 + 1e-9):
            break
        lambda_c = want[1]
    if n_sampling * want[1] > profile.length_um * (1 + 1e-9):
        warnings.warn(
            f"ISO 21920-3 asks for lambda_c = {want[1]:g} µm (Rz {rz:.3g} µm) but the profile is only "
            f"{profile.length_um:g} µm long, shorter than {n_sampling} sampling lengths of {want[1]:g} µm: "
            "no S- or L-filter applied (give lambda_c to filter)",
            SurfscanWarning,
            stacklevel=3,
        )
        return (
            None,
            None,
            f"ISO 21920-3 table wants {want[1]:g} um (Rz {rz:.3g} um), longer than the profile allows: none",
        )
    return want[1], want[2], f"ISO 21920-3 table (Rz {rz:.3g} um)"


def _cutoff_arg(value: float | str | None, name: str) -> float | str | None:
    if value is None or (isinstance(value, str) and value.lower() == "none"):
        return None if value is None else "none"
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SurfscanError(f"{name} must be a length in µm, 'none' or None (ISO default), not {value!r}") from None
    if v == 0:
        return "none"
    if not (v > 0 and math.isfinite(v)):
        raise SurfscanError(f"{name} must be a positive length in µm, got {value!r}")
    return v


def resolve_operators(
    profile: Profile,
    lambda_c: float | str | None = None,
    lambda_s: float | str | None = None,
    n_sampling: int = 5,
    form: str = "none",
) -> tuple[Profile, dict[str, Any]]:
    """Apply the operator chain (F-operator, S-filter, L-filter) and say what was applied.

    Parameters
    ----------
    profile : Profile
    lambda_c, lambda_s : float, "none" or None
        Cut-offs in µm; None = the ISO 21920-3 default (module docstring),
        ``"none"`` = no such filter.
    n_sampling : int
        Number of sampling lengths in the evaluation length.
    form : {"none", "line"}
        F-operator: nothing (default; the mean line is then the mean) or the
        least-squares line.

    Returns
    -------
    roughness_profile : Profile
    settings : dict
        ``form``, ``lambda_c_um``, ``lambda_s_um``, ``cutoff_source``,
        ``n_sampling``, ``sampling_length_um``, ``evaluation_length_um``,
        ``filter_ends`` (``"open"``, ``"closed"`` or None when nothing was filtered).
    """
    if not isinstance(profile, Profile):
        raise SurfscanError(f"profile roughness needs a Profile, not {type(profile).__name__}")
    if not (isinstance(n_sampling, (int, np.integer)) and 1 <= n_sampling <= profile.n // 2):
        raise SurfscanError(
            f"n_sampling must be an integer from 1 to {profile.n // 2} (half the points), got {n_sampling!r}"
        )
    measured = int(np.count_nonzero(~np.isnan(profile.z)))
    if measured < 2:
        raise SurfscanError(f"the profile has {measured} measured point(s); profile roughness needs at least 2")
    lc, ls = _cutoff_arg(lambda_c, "lambda_c"), _cutoff_arg(lambda_s, "lambda_s")
    p = remove_form(profile, form)
    source = "given"
    if lc is None:
        lc, default_ls, source = default_cutoffs(p, n_sampling)
        if ls is None:
            ls = default_ls
    if ls is None:  # lambda_c given (or none) and no lambda_s: ISO 3274 pairing when lambda_c is a series value
        ls = dict(CUTOFF_SERIES).get(lc) if isinstance(lc, float) else None
    lc = None if lc == "none" else lc
    ls = None if ls == "none" else ls
    if ls is not None and ls < 2 * profile.spacing:
        source += f"; lambda_s {ls:g} um < 2 sample spacings: not applied"
        ls = None
    closed = is_closed(p.z)  # decided once, on the form-removed profile
    if ls is not None:
        p = gaussian_profile_filter(p, ls, "low", closed=closed)
    if lc is not None:
        p = gaussian_profile_filter(p, lc, "high", closed=closed)
    settings = {
        "form": form,
        "lambda_s_um": ls,
        "lambda_c_um": lc,
        "cutoff_source": source,
        "n_sampling": int(n_sampling),
        "sampling_length_um": profile.length_um / n_sampling,
        "evaluation_length_um": profile.length_um,
        "filter_ends": None if lc is None and ls is None else ("closed" if closed else "open"),
    }
    return p, settings

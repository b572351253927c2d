"""ISO 21920-2 profile roughness parameters (Ra, Rz, Rk, ...).

``profile_roughness(profile)`` first applies the operator chain of
:mod:`surfscan.profile_filter` (optional least-squares line, ISO 16610-21
Gaussian S- and L-filters with the ISO 21920-3 default cut-offs unless
given), then
computes the parameters on the roughness profile ``z`` (µm, relative to the
mean line) over the measured (non-NaN) points.

Definitions (``N`` measured points of the evaluation length)

- ``Ra = mean |z|``, ``Rq = sqrt(mean z^2)``, ``Rsk = mean z^3 / Rq^3``,
  ``Rku = mean z^4 / Rq^4`` (kurtosis, 3 for a Gaussian profile). Without an
  L-filter the mean line is the mean of the (form-removed) profile, as in
  surfalize; with one it is the filter's mean line.
- The evaluation length is split into ``n_sampling`` sampling lengths of
  (nearly) equal point counts (``numpy.array_split``, the first ones one
  point longer when ``N`` is not a multiple; surfalize does the same).
  ``Rp``, ``Rv``: the mean over the sampling lengths of the highest peak
  and of the deepest valley (a positive number); ``Rz``: the mean of
  ``max - min`` per sampling length; ``Rt = max - min`` over the
  evaluation length.
- ``Rdq``: root mean square of the forward differences ``(z[i+1] - z[i]) /
  spacing`` over pairs of measured points (as surfalize and surfscan's Sdq).
- ``RSm``: mean width of the profile elements. An element is a peak (the
  profile above ``+h``) followed by a valley (below ``-h``) with the height
  discrimination ``h = 10 % of Rz`` (ISO 21920-2 default); element
  boundaries are the upward mean-line crossings (linearly interpolated)
  just before each new peak, so crossings inside the ``+-h`` band do not
  start an element. Elements narrower than 1 % of the sampling length are
  merged with the next. Undefined (NaN) with fewer than two elements.
- Material ratio (ISO 21920-2 / ISO 13565-2), from the sorted heights as in
  :mod:`surfscan.iso25178.functional`: ``Rmr`` = material ratio (%) at the
  depth ``rmr_c`` (µm, default 1 µm, as surfscan's Smr) below the highest
  peak; ``Rdc`` = height difference between the material ratios
  ``rdc_p`` and ``rdc_q`` (defaults 2.5 % and 50 %, as Sxp and surfalize);
  ``Rk``, ``Rpk``, ``Rvk``, ``Rmr1``, ``Rmr2`` by the 40 % equivalent
  straight line of ISO 13565-2 (same code as Sk, Spk, Svk, Smr1, Smr2).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .errors import SurfscanError
from .iso25178 import functional
from .iso25178.registry import Context
from .model import Surface
from .profile_filter import resolve_operators
from .profiles import Profile

__all__ = ["profile_roughness", "profile_roughness_with_settings", "resolve_profile_names", "PROFILE_PARAMETERS"]

#: name -> (unit, description)
PROFILE_PARAMETERS: dict[str, tuple[str, str]] = {
    "Rp": ("um", "Maximum peak height, mean over the sampling lengths"),
    "Rv": ("um", "Maximum valley depth, mean over the sampling lengths"),
    "Rz": ("um", "Maximum height of the profile, mean over the sampling lengths"),
    "Rt": ("um", "Total height of the profile over the evaluation length"),
    "Ra": ("um", "Arithmetic mean deviation"),
    "Rq": ("um", "Root mean square deviation"),
    "Rsk": ("1", "Skewness"),
    "Rku": ("1", "Kurtosis (3 for a Gaussian profile)"),
    "Rdq": ("1", "Root mean square slope (forward differences)"),
    "RSm": ("um", "Mean width of the profile elements (height discrimination 10 % of Rz)"),
    "Rmr": ("%", "Material ratio at depth rmr_c below the highest peak (default 1 µm)"),
    "Rdc": ("um", "Height difference between the material ratios rdc_p and rdc_q (2.5 %, 50 %)"),
    "Rk": ("um", "Core roughness depth (ISO 13565-2)"),
    "Rpk": ("um", "Reduced peak height (ISO 13565-2)"),
    "Rvk": ("um", "Reduced valley depth (ISO 13565-2)"),
    "Rmr1": ("%", "Material ratio at the top of the core"),
    "Rmr2": ("%", "Material ratio at the bottom of the core"),
}


class _Calc:
    """Per-call cache of the roughness profile's derived arrays."""

    def __init__(self, z: np.ndarray, spacing: float, n_sampling: int, options: dict[str, Any], centre: bool) -> None:
        self.z_full = z
        valid = ~np.isnan(z)
        if np.count_nonzero(valid) < 2:
            raise SurfscanError("the profile has fewer than 2 measured points")
        v = z[valid]
        if centre:
            mean = float(np.mean(v))
            v = v - mean
            self.z_full = z - mean
        self.v = v
        self.spacing = spacing
        self.n_sampling = n_sampling
        self.options = options
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def moments(self) -> tuple[float, float, float, float]:
        def compute() -> tuple[float, float, float, float]:
            v = self.v
            v2 = v * v
            return (
                float(np.mean(np.abs(v))),
                float(np.mean(v2)),
                float(np.dot(v2, v)) / v.size,
                float(np.dot(v2, v2)) / v.size,
            )

        return self.cached("moments", compute)

    def sections(self) -> tuple[np.ndarray, np.ndarray]:
        def compute() -> tuple[np.ndarray, np.ndarray]:
            parts = np.array_split(self.z_full, self.n_sampling)
            if any(np.isnan(p).all() for p in parts):
                raise SurfscanError("a sampling length of the profile has no measured point")
            return np.array([np.nanmax(p) for p in parts]), np.array([np.nanmin(p) for p in parts])

        return self.cached("sections", compute)

    def context(self) -> Context:
        def compute() -> Context:
            surf = Surface(self.v[np.newaxis, :], self.spacing, self.spacing).known_all_valid()
            return Context(surf)

        return self.cached("context", compute)

    def curve(self) -> functional.MaterialCurve:
        return functional.material_curve(self.context())


def _rq(c: _Calc) -> float:
    return math.sqrt(c.moments()[1])


def _rsk(c: _Calc) -> float:
    m2 = c.moments()[1]
    return c.moments()[2] / m2**1.5 if m2 > 0 else math.nan


def _rku(c: _Calc) -> float:
    m2 = c.moments()[1]
    return c.moments()[3] / m2**2 if m2 > 0 else math.nan


def _rdq(c: _Calc) -> float:
    d = np.diff(c.z_full)
    d = d[~np.isnan(d)]
    return math.sqrt(float(np.dot(d, d)) / d.size) / c.spacing if d.size else math.nan


def _rz(c: _Calc) -> float:
    hi, lo = c.sections()
    return float(np.mean(hi - lo))


def _rsm(c: _Calc) -> float:
    z = c.z_full
    valid = ~np.isnan(z)
    if not valid.all():  # spacing parameters need a continuous profile: bridge holes linearly
        idx = np.arange(z.size)
        z = np.interp(idx, idx[valid], z[valid])
    h = 0.1 * _rz(c)
    label = np.where(z > h, 1, np.where(z < -h, -1, 0))
    where = np.flatnonzero(label)
    lab = label[where]
    starts = np.flatnonzero((lab[:-1] == -1) & (lab[1:] == 1))
    if starts.size < 2:
        return math.nan
    b = where[starts + 1]  # first point above +h of each new peak
    up = np.flatnonzero((z[:-1] <= 0) & (z[1:] > 0))  # upward mean-line crossings between j and j+1
    j = up[np.searchsorted(up, b, side="left") - 1]
    x = j + (0.0 - z[j]) / (z[j + 1] - z[j])
    widths = np.diff(x) * c.spacing
    min_width = 0.01 * len(c.z_full) / c.n_sampling * c.spacing
    merged, acc = [], 0.0
    for w in widths:
        acc += w
        if acc >= min_width:
            merged.append(acc)
            acc = 0.0
    return float(np.mean(merged)) if merged else math.nan


def _rmr(c: _Calc) -> float:
    depth = float(c.options.get("rmr_c", 1.0))
    curve = c.curve()
    return curve.ratio(float(curve.v[-1]) - depth)


def _rdc(c: _Calc) -> float:
    p, q = float(c.options.get("rdc_p", 2.5)), float(c.options.get("rdc_q", 50.0))
    if not (0 <= p <= 100 and 0 <= q <= 100):
        raise SurfscanError(f"rdc_p and rdc_q are material ratios in %, 0..100, got {p}, {q}")
    curve = c.curve()
    return float(curve.height(p) - curve.height(q))


def _areal(fn: Callable[[Context], float]) -> Callable[[_Calc], float]:
    return lambda c: float(fn(c.context()))


_FUNCTIONS: dict[str, Callable[[_Calc], float]] = {
    "Rp": lambda c: float(np.mean(c.sections()[0])),
    "Rv": lambda c: float(-np.mean(c.sections()[1])),
    "Rz": _rz,
    "Rt": lambda c: float(np.max(c.v) - np.min(c.v)),
    "Ra": lambda c: c.moments()[0],
    "Rq": _rq,
    "Rsk": _rsk,
    "Rku": _rku,
    "Rdq": _rdq,
    "RSm": _rsm,
    "Rmr": _rmr,
    "Rdc": _rdc,
    "Rk": _areal(functional.sk),
    "Rpk": _areal(functional.spk),
    "Rvk": _areal(functional.svk),
    "Rmr1": _areal(functional.smr1),
    "Rmr2": _areal(functional.smr2),
}


def resolve_profile_names(names: str | Iterable[str] | None) -> list[str]:
    """Parameter names (case-insensitive, comma-separated or a list; None or "all" = every one) -> canonical names."""
    if names is None:
        return list(PROFILE_PARAMETERS)
    lookup = {k.lower(): k for k in PROFILE_PARAMETERS}
    wanted = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    unknown = [n for n in wanted if n not in PROFILE_PARAMETERS and n.lower() not in lookup and n.lower() != "all"]
    if unknown:
        raise SurfscanError(f"unknown profile parameter {unknown[0]!r}; known: {', '.join(PROFILE_PARAMETERS)}")
    out = [[*PROFILE_PARAMETERS] if n.lower() == "all" else [n if n in PROFILE_PARAMETERS else lookup[n.lower()]]
           for n in wanted]
    return list(dict.fromkeys(name for group in out for name in group))


def profile_roughness_with_settings(
    profile: Profile, names: str | Iterable[str] | None = None, **kwargs: Any
) -> tuple[dict[str, float], dict[str, Any]]:
    """Like :func:`profile_roughness` (the same arguments), also returning the operator chain applied (a dict)."""
    bound = inspect.signature(profile_roughness).bind(profile, names, **kwargs)  # its defaults, one place
    bound.apply_defaults()
    a = bound.arguments
    return _measured(profile, names, a["lambda_c"], a["lambda_s"], a["n_sampling"], a["form"], a["options"])


def _measured(profile: Profile, names: str | Iterable[str] | None, lambda_c: float | str | None,
              lambda_s: float | str | None, n_sampling: int, form: str,
              options: dict[str, float]) -> tuple[dict[str, float], dict[str, Any]]:
    """The parameters and the operator chain (see :func:`profile_roughness`)."""
    selected = resolve_profile_names(names)
    unknown = set(options) - {"rmr_c", "rdc_p", "rdc_q"}
    if unknown:
        raise SurfscanError(f"unknown profile roughness option(s) {sorted(unknown)}; known: rmr_c, rdc_p, rdc_q")
    rough, settings = resolve_operators(profile, lambda_c, lambda_s, n_sampling, form)
    calc = _Calc(rough.z, rough.spacing, n_sampling, options, centre=settings["lambda_c_um"] is None)
    out = {}
    for name in selected:
        try:
            out[name] = float(_FUNCTIONS[name](calc))
        except SurfscanError as exc:
            raise SurfscanError(f"{name}: {exc}") from exc
    settings["options"] = {
        "rmr_c_um": options.get("rmr_c", 1.0),
        "rdc_p": options.get("rdc_p", 2.5),
        "rdc_q": options.get("rdc_q", 50.0),
    }
    return out, settings


def profile_roughness(
    profile: Profile,
    names: str | Iterable[str] | None = None,
    lambda_c: float | str | None = None,
    lambda_s: float | str | None = None,
    n_sampling: int = 5,
    *,
    form: str = "none",
    **options: float,
) -> dict[str, float]:
    """ISO 21920-2 profile roughness parameters.

    Parameters
    ----------
    profile : Profile
        Heights in µm (see :func:`surfscan.profile`).
    names : str or list of str, optional
        Parameter names (``["Ra", "Rz"]``, a comma-separated string, or
        None / ``"all"`` for every one of :data:`PROFILE_PARAMETERS`).
    lambda_c, lambda_s : float, "none" or None
        L- and S-filter cut-offs in µm (ISO 16610-21 Gaussian). None picks
        the ISO 21920-3 default from the table in
        :mod:`surfscan.profile_filter`; ``"none"`` applies no such filter.
    n_sampling : int
        Number of sampling lengths in the evaluation length (5 by default)
        for Rp, Rv and Rz.
    form : {"none", "line"}
        F-operator applied first: none (default: a profile of a levelled map
        is already form-free; the mean line is then the profile's mean) or
        the least-squares line.
    **options
        ``rmr_c`` (µm below the highest peak, 1.0) for Rmr; ``rdc_p``,
        ``rdc_q`` (%, 2.5 and 50) for Rdc.

    Returns
    -------
    dict of str to float
        Values in the units of :data:`PROFILE_PARAMETERS` (µm for heights).
        RSm is NaN when the profile holds fewer than two elements.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1000) * 0.1
    >>> p = Profile(np.sin(2 * np.pi * x / 10.0), spacing=0.1)
    >>> r = profile_roughness(p, ["Rq", "Rz", "RSm"], lambda_c="none")
    >>> round(r["Rq"], 6), round(r["Rz"], 4), round(r["RSm"], 6)
    (0.707107, 2.0, 10.0)

    >>> import surfscan as ss
    >>> p = ss.profile(ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane"), "row:300")
    >>> {k: round(v, 3) for k, v in ss.profile_roughness(p, ["Ra", "Rq", "Rz"]).items()}
    {'Ra': 0.06, 'Rq': 0.071, 'Rz': 0.258}
    """
    return _measured(profile, names, lambda_c, lambda_s, n_sampling, form, options)[0]

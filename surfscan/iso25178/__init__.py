"""ISO 25178-2 areal surface texture parameters.

``roughness(surface, names=None)`` computes parameters by name or by family;
``parameters()`` lists the registry (name, unit, family, description).
Families live in one module each and register on import.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from ..errors import SurfscanError, SurfscanWarning, UndefinedParameterError
from ..model import Surface
from .registry import Context, Parameter, get_parameter, intermediates_for, parameter, registry

__all__ = [
    "roughness", "parameters", "registry_units", "resolve_names", "threads", "limit_threads", "Parameter", "Context",
    "parameter", "FAMILIES",
]

#: Below this many points the intermediates are computed one after the other (threads would not pay).
PARALLEL_MIN_POINTS = 1 << 17

#: Parameter families, in the order the standard lists them.
FAMILIES = ["height", "hybrid", "spatial", "functional", "feature"]

for _fam in FAMILIES:
    try:
        importlib.import_module(f"{__name__}.{_fam}")
    except ModuleNotFoundError as _exc:  # a family module not written yet
        if _exc.name != f"{__name__}.{_fam}":
            raise


def registry_units() -> dict[str, str]:
    """Parameter name -> unit string."""
    return {p.name: p.unit for p in registry().values()}


def parameters() -> list[Parameter]:
    """The parameter registry: one :class:`Parameter` (name, unit, family, description) each.

    Examples
    --------
    >>> import surfscan as ss
    >>> sa = ss.parameters()[0]
    >>> sa.name, sa.unit, sa.family
    ('Sa', 'um', 'height')
    >>> sorted({p.family for p in ss.parameters()})
    ['feature', 'functional', 'height', 'hybrid', 'spatial']
    """
    return list(registry().values())


def resolve_names(names: str | Iterable[str] | None) -> list[str]:
    """Expand a parameter selection into registered names.

    ``None`` or ``"all"`` means every parameter; a family name (``"height"``)
    means that family; names may be given as one comma-separated string.
    """
    reg = registry()
    if names is None:
        return list(reg)
    if isinstance(names, str):
        names = [n for n in names.split(",")]
    out: list[str] = []
    for raw in names:
        n = raw.strip()
        if not n:
            continue
        if n.lower() == "all":
            out.extend(reg)
        elif n.lower() in FAMILIES:
            out.extend(p.name for p in reg.values() if p.family == n.lower())
        else:
            out.append(get_parameter(n).name)
    return list(dict.fromkeys(out))


_THREADS_HERE: ContextVar[int | None] = ContextVar("surfscan_roughness_threads", default=None)


@contextlib.contextmanager
def limit_threads(n: int) -> Iterator[None]:
    """Let :func:`roughness` calls in this thread (or task) use at most ``n`` threads.

    The batch runs every file under ``limit_threads(1)``: its worker
    processes, or a Dask cluster's worker threads, already use every core.
    """
    token = _THREADS_HERE.set(max(1, int(n)))
    try:
        yield
    finally:
        _THREADS_HERE.reset(token)


def threads() -> int:
    """Threads :func:`roughness` may use: the :func:`limit_threads` in force, else ``SURFSCAN_THREADS`` if set,
    else the CPU count (at most 4)."""
    here = _THREADS_HERE.get()
    if here is not None:
        return here
    value = os.environ.get("SURFSCAN_THREADS", "")
    if value.strip():
        try:
            return max(1, int(value))
        except ValueError:
            raise SurfscanError(f"SURFSCAN_THREADS must be a whole number of threads, not {value!r}") from None
    return max(1, min(4, os.cpu_count() or 1))


def _prepare(ctx: Context, names: list[str]) -> None:
    """Compute the intermediates ``names`` need side by side; a failure is left for the parameter to report."""
    jobs = intermediates_for(names)
    workers = min(len(jobs), threads())
    if workers < 2 or ctx.surface.z.size < PARALLEL_MIN_POINTS:
        return

    def run(job) -> None:
        try:
            job(ctx)
        except SurfscanError:
            pass  # raised again, with the parameter's name, when the parameter is evaluated

    with ThreadPoolExecutor(workers, thread_name_prefix="surfscan-roughness") as pool:
        list(pool.map(run, jobs))


def roughness(
    surface: Surface, names: str | Iterable[str] | None = None, *, undefined: str = "raise", **options: Any
) -> dict[str, float]:
    """Compute ISO 25178-2 parameters of a (levelled, filtered) surface.

    Parameters
    ----------
    surface : Surface
        Heights in µm; NaN points are excluded from every parameter.
    names : str or list of str, optional
        Parameter names (``["Sa", "Sz"]``), families (``"height"``), a
        comma-separated string, or ``None``/``"all"`` for every parameter.
    undefined : {"raise", "nan"}
        What to do when a parameter is undefined for this surface
        (:class:`~surfscan.errors.UndefinedParameterError`, e.g. S5p with no
        significant peak): raise (default), or report NaN and warn
        (:class:`~surfscan.errors.SurfscanWarning` naming the parameter and the
        reason), so that one undefined parameter does not cost the others.
    **options
        Per-parameter settings documented by each family (for example
        ``convention="gwyddion"`` for Sdq/Sdr).

    Returns
    -------
    dict of str to float
        Values in the unit given by :func:`parameters` (µm for heights).

    Raises
    ------
    SurfscanError
        When a parameter cannot be computed (for example no measured point);
        the message names the parameter.

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> {k: round(v, 3) for k, v in ss.roughness(s, ["Sa", "Sq", "Sz", "Ssk"]).items()}
    {'Sa': 0.07, 'Sq': 0.084, 'Sz': 0.902, 'Ssk': 0.386}
    """
    if not isinstance(surface, Surface):
        raise SurfscanError(f"roughness needs a height map (Surface), not {type(surface).__name__}")
    if undefined not in ("raise", "nan"):
        raise SurfscanError(f"undefined must be 'raise' or 'nan', not {undefined!r}")
    selected = resolve_names(names)
    ctx = Context(surface, dict(options, _requested=tuple(selected)))
    _prepare(ctx, selected)
    out: dict[str, float] = {}
    reg = registry()
    for name in selected:
        try:
            out[name] = float(reg[name].function(ctx))
        except UndefinedParameterError as exc:
            if undefined != "nan":
                raise UndefinedParameterError(f"{name}: {exc}") from exc
            warnings.warn(f"{name} is undefined for this surface: {exc}", SurfscanWarning, stacklevel=2)
            out[name] = math.nan
        except SurfscanError as exc:
            raise SurfscanError(f"{name}: {exc}") from exc
    return out

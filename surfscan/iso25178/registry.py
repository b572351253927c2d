"""The parameter registry: name, unit, family, description and function.

Each family module (``height``, ``hybrid``, ...) decorates its functions with
:func:`parameter`. A parameter function takes a :class:`Context`, which holds
the surface and caches intermediate results (valid heights, the mean, the
sorted heights, ...) so that one roughness call computes each of them once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SurfscanError
from ..model import Surface

__all__ = ["Parameter", "Context", "parameter", "registry", "get_parameter", "intermediate", "intermediates_for"]


@dataclass(frozen=True)
class Parameter:
    """One ISO 25178-2 parameter.

    Attributes
    ----------
    name : str
        As printed in the standard (``"Sa"``, ``"Vmp"``).
    unit : str
        ``"um"``, ``"um2"``, ``"um3/um2"``, ``"%"``, ``"%*um"``, ``"1/um2"``, ``"deg"`` or ``"1"``.
    family : str
        ``"height"``, ``"hybrid"``, ``"spatial"``, ``"functional"`` or ``"feature"``.
    description : str
        One line in the user's words.
    function : callable
        ``function(ctx: Context) -> float``.
    """

    name: str
    unit: str
    family: str
    description: str
    function: Callable[[Context], float]


_REGISTRY: dict[str, Parameter] = {}


def parameter(name: str, unit: str, family: str, description: str) -> Callable:
    """Decorator that registers a parameter function under ``name``."""

    def deco(fn: Callable[[Context], float]) -> Callable[[Context], float]:
        _REGISTRY[name] = Parameter(name, unit, family, description, fn)
        return fn

    return deco


_INTERMEDIATES: list[tuple[int, frozenset[str], Callable[[Context], Any]]] = []


def intermediate(names: Iterable[str], start: int = 0) -> Callable:
    """Decorator that registers ``fn(ctx)``, which computes (and caches) an intermediate the named parameters need.

    ``names`` are parameter names or family names (``"functional"``).
    ``start`` orders the work: lower starts earlier (the longest first, so
    that the threads finish together).

    :func:`~surfscan.iso25178.roughness` runs the intermediates a call needs
    side by side in threads before it evaluates the parameters; independent
    intermediates (the hills and the dales, the ACF, the material ratio
    curve, ...) then overlap on a multi-core machine.
    """

    def deco(fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        _INTERMEDIATES.append((start, frozenset(names), fn))
        return fn

    return deco


def intermediates_for(names: Iterable[str]) -> list[Callable[[Context], Any]]:
    """The registered intermediates that any of ``names`` needs, in their start order."""
    wanted = set(names)
    wanted |= {_REGISTRY[n].family for n in names if n in _REGISTRY}
    return [fn for _, needed, fn in sorted(_INTERMEDIATES, key=lambda item: item[0]) if needed & wanted]


def registry() -> dict[str, Parameter]:
    """All registered parameters, in registration (family) order."""
    return dict(_REGISTRY)


def get_parameter(name: str) -> Parameter:
    """The parameter called ``name`` (case-sensitive; a case-insensitive match is accepted)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    for key, p in _REGISTRY.items():
        if key.lower() == name.lower():
            return p
    raise SurfscanError(f"unknown parameter {name!r}; known: {', '.join(_REGISTRY)}")


@dataclass
class Context:
    """A surface plus a cache of intermediate results shared by parameters.

    ``options`` holds per-call settings (``convention``, ``p``, ``q``, ...)
    that parameter functions read with :meth:`option`.
    """

    surface: Surface
    options: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def option(self, name: str, default: Any) -> Any:
        """A per-call setting, or its default."""
        return self.options.get(name, default)

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute ``key`` once per context (thread-safe: a second caller waits for the first)."""
        if key in self._cache:
            return self._cache[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = compute()
        return self._cache[key]

    def known(self, key: str) -> Any | None:
        """The cached ``key`` if it was computed already, else None (computes nothing)."""
        return self._cache.get(key)

    @property
    def z(self) -> np.ndarray:
        """The height array (µm, NaN = not measured)."""
        return self.surface.z

    @property
    def values(self) -> np.ndarray:
        """1-D array of the valid heights (a view of ``z`` when all are valid)."""

        def compute() -> np.ndarray:
            z = self.surface.z
            vals = z.ravel() if not self.surface.has_invalid else z[self.surface.valid]
            if vals.size == 0:
                raise SurfscanError("the surface has no measured points")
            return vals

        return self.cached("values", compute)

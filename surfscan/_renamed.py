"""Old names of settings that were renamed: still accepted, with a DeprecationWarning naming the new one.

Settings that are lengths carry their unit (``min_size_um``), and the batch
says "protrusion" where it said "defect". Code written for the old names keeps
working for one release.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["renamed_fields", "new_names"]

T = TypeVar("T", bound=type)


def _warn(owner: str, old: str, new: str, stacklevel: int) -> None:
    warnings.warn(f"{owner}: {old!r} is deprecated and will be removed in the next release; use {new!r}",
                  DeprecationWarning, stacklevel=stacklevel)


def new_names(owner: str, values: Mapping[str, Any], renames: Mapping[str, str], stacklevel: int = 3) -> dict[str, Any]:
    """``values`` with every old key of ``renames`` replaced by its new name (a DeprecationWarning each).

    Raises
    ------
    TypeError
        When a value is given under both its old and its new name.
    """
    out = dict(values)
    for old, new in renames.items():
        if old in out:
            if new in out:
                raise TypeError(f"{owner}: give {new!r} only, not also its old name {old!r}")
            _warn(owner, old, new, stacklevel)
            out[new] = out.pop(old)
    return out


def renamed_fields(renames: Mapping[str, str]):
    """Class decorator for a dataclass whose fields ``renames`` (old -> new) were renamed.

    The constructor accepts the old keyword names, and reading an old attribute
    gives the new field's value; both warn (DeprecationWarning) and name the new field.
    """
    def decorate(cls: T) -> T:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **new_names(cls.__name__, kwargs, renames, stacklevel=4))

        cls.__init__ = __init__
        for old, new in renames.items():
            def getter(self: Any, old: str = old, new: str = new) -> Any:
                _warn(type(self).__name__, old, new, 3)
                return getattr(self, new)

            setattr(cls, old, property(getter, doc=f"Deprecated name of :attr:`{new}`."))
        cls.RENAMED = dict(renames)
        return cls

    return decorate

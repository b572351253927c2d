"""Size limits that keep a corrupt or hostile header from allocating gigabytes.

A reader checks every declared size against the bytes the file really holds
(:func:`check_available`) and against a cap on the number of grid points
(:func:`check_grid`) *before* any array is made.
"""

from __future__ import annotations

import os

from ..errors import CorruptFileError

__all__ = ["max_points", "set_max_points", "check_grid", "check_available"]

_DEFAULT_MAX_POINTS = 1 << 28  # 268 M points = 2 GiB of float64
_max_points = int(os.environ.get("SURFSCAN_MAX_POINTS", _DEFAULT_MAX_POINTS))


def max_points() -> int:
    """The largest grid (rows x columns) a reader accepts; default 2**28.

    Override with the environment variable ``SURFSCAN_MAX_POINTS`` or
    :func:`set_max_points`.
    """
    return _max_points


def set_max_points(n: int) -> int:
    """Set the grid-size cap; returns the previous value."""
    global _max_points
    old, _max_points = _max_points, int(n)
    return old


def check_grid(path: str | os.PathLike | None, rows: int, cols: int) -> tuple[int, int]:
    """Validate declared grid dimensions; returns ``(rows, cols)`` as ints."""
    try:
        rows, cols = int(rows), int(cols)
    except (TypeError, ValueError, OverflowError):
        raise CorruptFileError(path, f"invalid grid size {rows!r} x {cols!r}") from None
    if rows <= 0 or cols <= 0:
        raise CorruptFileError(path, f"invalid grid size {rows} x {cols} (must be positive)")
    if rows * cols > _max_points:
        raise CorruptFileError(
            path,
            f"declared grid {rows} x {cols} exceeds the limit of {_max_points} points "
            "(raise it with SURFSCAN_MAX_POINTS if the file is genuine)",
        )
    return rows, cols


def check_available(path: str | os.PathLike | None, needed: int, available: int, what: str = "data") -> None:
    """Raise when a header declares more bytes than the file holds."""
    if needed < 0 or needed > available:
        raise CorruptFileError(
            path, f"truncated or corrupt: the header declares {needed} bytes of {what}, the file holds {available}"
        )

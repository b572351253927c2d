"""Helpers shared by the vendor height-map readers (SUR, PLU, MetroPro, OPD, ...).

Every reader follows the same steps: read the file's bytes once, unpack a
declared header (:class:`~surfscan.io.binary.Layout`), check the declared grid
against the size cap and against the bytes present, view the data with
``np.frombuffer`` (no copy, no Python loop over points) and convert it to
float64 micrometres in one pass.
"""

from __future__ import annotations

import mmap
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, SurfscanWarning
from .binary import Layout
from .limits import check_available, check_grid

_MAP_MIN_BYTES = 1 << 16
_NUMPY_CODES = {"b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4", "I": "u4", "l": "i4", "L": "u4",
                "q": "i8", "Q": "u8", "f": "f4", "d": "f8"}

__all__ = ["LENGTH_TO_UM", "length_factor", "read_bytes", "grid_view", "record_table", "scaled", "unit_text"]

#: Factor from a length unit, as written by instruments, to micrometres.
LENGTH_TO_UM = {
    "m": 1e6,
    "dm": 1e5,
    "cm": 1e4,
    "mm": 1e3,
    "um": 1.0,
    "µm": 1.0,  # micro sign U+00B5
    "μm": 1.0,  # Greek mu U+03BC
    "æm": 1.0,  # micro sign written in an MS-DOS code page, read as latin-1
    "micron": 1.0,
    "microns": 1.0,
    "nm": 1e-3,
    "å": 1e-4,
    "a": 1e-4,
    "angstrom": 1e-4,
    "pm": 1e-6,
}


def unit_text(raw: bytes) -> str:
    """Decode a NUL/space padded unit field (latin-1, so 0xB5 is 'µ')."""
    return raw.split(b"\0", 1)[0].decode("latin-1", errors="replace").strip()


def length_factor(unit: str, path: str | os.PathLike | None = None, what: str = "length",
                  default: float | None = 1.0) -> float | None:
    """Factor converting ``unit`` to µm.

    An unknown or empty unit gives ``default``; when ``default`` is not None a
    :class:`SurfscanWarning` says that the value is taken as micrometres.
    """
    key = unit.strip().lower().replace("\u00c5", "å")
    if key in LENGTH_TO_UM:
        return LENGTH_TO_UM[key]
    if default is not None:
        warnings.warn(f"{path}: unknown {what} unit {unit!r}; taking the values as micrometres", SurfscanWarning,
                      stacklevel=3)
    return default


def read_bytes(path: str | os.PathLike) -> bytes | mmap.mmap:
    """The file's bytes: a read-only memory map for files over 64 KiB, else the bytes read.

    A map costs no copy and touches only the pages a reader looks at (the
    header and the one data block it needs); it supports slicing, ``len``,
    ``find``, :mod:`struct` and ``np.frombuffer`` like ``bytes``, and closes
    itself when the last view of it is released.
    """
    with open(Path(path), "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < _MAP_MIN_BYTES:
            return fh.read()
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def grid_view(path: str | os.PathLike | None, buf: bytes | memoryview, offset: int, rows: int, cols: int,
              dtype: str | np.dtype, what: str = "height data", row_stride: int | None = None) -> np.ndarray:
    """A read-only ``(rows, cols)`` view of ``buf`` starting at byte ``offset``.

    The grid is checked against the point cap and the bytes present before the
    view is made. ``row_stride`` (bytes) allows padded rows; only the padding
    of the last row may be missing.
    """
    rows, cols = check_grid(path, rows, cols)
    dtype = np.dtype(dtype)
    row_bytes = cols * dtype.itemsize
    stride = row_bytes if row_stride is None else int(row_stride)
    if stride < row_bytes:
        raise CorruptFileError(path, f"corrupt {what}: row stride {stride} bytes is shorter than a row ({row_bytes})")
    if offset < 0:
        raise CorruptFileError(path, f"corrupt {what}: negative data offset {offset}")
    needed = stride * (rows - 1) + row_bytes
    check_available(path, needed, len(buf) - offset, what)
    if stride == row_bytes:
        return np.frombuffer(buf, dtype=dtype, count=rows * cols, offset=offset).reshape(rows, cols)
    flat = np.frombuffer(buf, dtype=np.uint8, count=needed, offset=offset)
    rows_bytes = np.lib.stride_tricks.as_strided(flat, shape=(rows, row_bytes), strides=(stride, 1))
    return np.ascontiguousarray(rows_bytes).view(dtype).reshape(rows, cols)


def record_table(layout: Layout, buf: bytes | mmap.mmap, offset: int, count: int, stride: int | None = None,
                 path: str | os.PathLike | None = None) -> np.ndarray:
    """``count`` consecutive records of ``layout`` as a numpy structured array (one call, no Python loop).

    Struct codes map to numpy types (``"16s"`` -> ``S16``, ``"h"`` -> ``i2`` ...)
    in the layout's byte order; ``stride`` is the record size (default: the
    layout's size).
    """
    stride = layout.size if stride is None else stride
    check_available(path, offset + stride * count, len(buf), "record table")
    order = layout.byteorder
    formats = []
    for _, code, _ in layout.fields:
        if code.endswith("s"):
            formats.append(f"S{code[:-1] or 1}")
        elif code in _NUMPY_CODES:
            formats.append(order + _NUMPY_CODES[code])
        else:
            raise ValueError(f"record_table cannot map struct code {code!r}")
    dtype = np.dtype({"names": [name for name, _, _ in layout.fields], "formats": formats,
                      "offsets": [off for _, _, off in layout.fields], "itemsize": stride})
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset)


def scaled(raw: np.ndarray, scale: float, offset: float = 0.0, invalid: np.ndarray | None = None,
           path: str | os.PathLike | None = None) -> np.ndarray:
    """``raw * scale + offset`` as a new float64 array, NaN where ``invalid``.

    One multiplication pass writes the float64 result (no intermediate copy
    of the raw values). Float input that is (or overflows to) infinite
    becomes NaN, since an infinite height was not measured; for integer input
    a scale that could overflow is a corrupt header.
    """
    scale, offset = float(scale), float(offset)
    if not (np.isfinite(scale) and np.isfinite(offset)):
        raise CorruptFileError(path, f"corrupt header: height scale {scale!r} or offset {offset!r} is not finite")
    if raw.dtype.kind in "iu" and not np.isfinite(abs(scale) * 2.0**64 + abs(offset)):
        raise CorruptFileError(path, f"corrupt header: height scale {scale!r} overflows")
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.multiply(raw, scale, dtype=np.float64)
        if offset:
            z += offset
    if raw.dtype.kind == "f":
        bad = ~np.isfinite(z)
        if bad.any():
            invalid = bad if invalid is None else (invalid | bad)
    if invalid is not None:
        z[invalid] = np.nan
    return z

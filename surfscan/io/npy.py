"""NumPy ``.npy`` height arrays (no calibration: 1 µm pixels, with a warning)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError, SurfscanWarning, UnsupportedFeatureError
from ..model import Surface
from .limits import check_available, check_grid
from .registry import Format, register

_MAGIC = b"\x93NUMPY"


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head.startswith(_MAGIC) else 0


def _header(path: Path, raw: bytes) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """Parse the .npy header without trusting it: (shape, dtype, fortran, data offset)."""
    if len(raw) < 10:
        raise CorruptFileError(path, "truncated .npy header")
    major = raw[6]
    if major == 1:
        hlen, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3):
        hlen, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        raise UnsupportedFeatureError(path, f"unsupported .npy version {major}")
    if hlen > 65536 or start + hlen > len(raw):
        raise CorruptFileError(path, "truncated or corrupt .npy header")
    try:
        d = ast.literal_eval(raw[start : start + hlen].decode("latin-1"))
        shape = tuple(int(n) for n in d["shape"])
        dtype = np.dtype(d["descr"])
        fortran = bool(d["fortran_order"])
    except (ValueError, TypeError, KeyError, SyntaxError, MemoryError, RecursionError) as exc:  # literal_eval, dtype
        raise CorruptFileError(path, f"corrupt .npy header ({exc})") from None
    return shape, dtype, fortran, start + hlen


def read_npy(path: Path) -> Surface:
    """Read a 2-D numeric ``.npy`` array as heights in µm.

    Pickled object arrays are refused (``allow_pickle=False``). The file has
    no calibration, so the pixel size is taken as 1 µm and a warning says so.
    """
    raw = Path(path).read_bytes()
    shape, dtype, _, offset = _header(path, raw)
    if dtype.hasobject or dtype.kind not in "biuf":
        raise UnsupportedFeatureError(path, f"not a numeric height array (dtype {dtype})")
    if len(shape) == 1:
        shape = (1, shape[0])
    if len(shape) != 2:
        raise FormatError(path, f"expected a 2-D height array, got shape {shape}")
    check_grid(path, *shape)
    check_available(path, shape[0] * shape[1] * dtype.itemsize, len(raw) - offset, "height data")
    import io

    z = np.load(io.BytesIO(raw), allow_pickle=False)
    z = np.asarray(z, dtype=np.float64).reshape(shape)
    warnings.warn(f"{path}: .npy files carry no pixel size; assuming 1 µm pixels and heights in µm", SurfscanWarning, stacklevel=2)
    return Surface(np.ascontiguousarray(z), 1.0, 1.0, {"instrument": None, "calibrated": False})


def write_npy(surface: Surface, path: Path) -> None:
    """Write the heights (µm) as a float64 ``.npy`` array; the pixel size is lost."""
    np.save(path, surface.z, allow_pickle=False)


register(Format("npy", "NumPy array (uncalibrated)", (".npy",), kind="height", reader=read_npy, writer=write_npy,
                sniff=_sniff))

"""ISO 25178-71 Surface Data Files (``.sdf``), ASCII and binary.

Layout (ISO 25178-71, as implemented by Gwyddion's ``sdfile.c``,
SurfaceTopography and surfalize):

- ASCII (``aISO-1.0``): ``Name = value`` header lines up to a line ``*``,
  then ``NumProfiles`` rows of ``NumPoints`` numbers up to the next ``*``,
  then an optional trailer of ``Name = value`` or ``< Name > value < /Name >``
  lines closed by ``*``. ``BAD`` is a point that was not measured.
- Binary (``bISO-1.0``; ``bISO-2.0`` has 32-bit counts): after the 8-byte
  magic, ``10s ManufacID, 12s CreateDate, 12s ModDate, uint16 NumPoints,
  uint16 NumProfiles, float64 Xscale, Yscale, Zscale, Zresolution, uint8
  Compression, DataType, CheckType`` (81 bytes in all), then little-endian
  values row by row. DataType 0..7 = uint8, uint16, uint32, float32, int8,
  int16, int32, float64. Not-measured markers: the minimum of int16/int32,
  the maximum of uint16/uint32, NaN or the most negative float; 8-bit types
  have none.

``Xscale``, ``Yscale`` and ``Zscale`` are metres per unit: heights are
``value * Zscale`` m, converted to µm. Compressed data (Compression != 0) is
refused with a clear error.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, NotThisFormatError, UnsupportedFeatureError
from ..model import Surface
from ._vendor import grid_view, scaled
from .binary import Layout, cstr
from .checks import header_field, pixel_size
from .limits import check_grid
from .registry import Format, register

ASCII_MAGICS = (b"aISO-1.0", b"aISO-2.0")
BINARY_MAGICS = (b"bISO-1.0", b"bISO-2.0")
_TAIL = [("xscale", "d", 0), ("yscale", "d", 8), ("zscale", "d", 16), ("zresolution", "d", 24),
         ("compression", "B", 32), ("data_type", "B", 33), ("check_type", "B", 34)]
_START = [("magic", "8s", 0), ("manufacturer", "10s", 8), ("created", "12s", 18), ("modified", "12s", 30)]
BINARY_HEADER = {
    b"bISO-1.0": Layout("<", [*_START, ("cols", "H", 42), ("rows", "H", 44), *[(n, c, o + 46) for n, c, o in _TAIL]]),
    b"bISO-2.0": Layout("<", [*_START, ("cols", "I", 42), ("rows", "I", 46), *[(n, c, o + 50) for n, c, o in _TAIL]]),
}
DATA_TYPES = {0: "u1", 1: "<u2", 2: "<u4", 3: "<f4", 4: "i1", 5: "<i2", 6: "<i4", 7: "<f8"}
_TAGGED = re.compile(r"<\s*(\w+)\s*>(.*?)<\s*/\s*\1\s*>")
M_TO_UM = 1e6


def _sniff(head: bytes, path: Path) -> int:
    start = head.lstrip()[:8]
    return 100 if start in ASCII_MAGICS or head[:8] in BINARY_MAGICS else 0


def _invalid_mask(raw: np.ndarray) -> np.ndarray | None:
    dt = raw.dtype
    if dt.kind == "f":
        mask = np.isnan(raw) | (raw == np.finfo(dt).min)
    elif dt.itemsize == 1:
        return None
    elif dt.kind == "i":
        mask = raw == np.iinfo(dt).min
    else:
        mask = raw == np.iinfo(dt).max
    return mask if mask.any() else None


def _read_binary(path: Path, buf: bytes) -> tuple[np.ndarray, dict[str, Any]]:
    h = BINARY_HEADER[buf[:8]].read(buf, 0, str(path))
    if h["compression"] != 0:
        raise UnsupportedFeatureError(path, f"compressed SDF data (Compression = {h['compression']}) is not supported")
    dtype = DATA_TYPES.get(h["data_type"])
    if dtype is None:
        raise CorruptFileError(path, f"unknown SDF DataType {h['data_type']}")
    raw = grid_view(path, buf, BINARY_HEADER[buf[:8]].size, h["rows"], h["cols"], dtype)
    z = scaled(raw, h["zscale"] * M_TO_UM, 0.0, _invalid_mask(raw))
    meta = {"ManufacID": cstr(h["manufacturer"]), "CreateDate": cstr(h["created"]), "ModDate": cstr(h["modified"]),
            "DataType": h["data_type"], "Zresolution": h["zresolution"]}
    return z, {**meta, "Xscale": h["xscale"], "Yscale": h["yscale"], "Zscale": h["zscale"]}


def _ascii_header(path: Path, text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        key, sep, value = line.partition("=")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def _field(path: Path, fields: dict[str, str], key: str, kind: type, **options: Any) -> Any:
    return header_field(path, fields, key, where="the SDF header", kind=kind, **options)


def _read_ascii(path: Path, buf: bytes) -> tuple[np.ndarray, dict[str, Any]]:
    text = buf.decode("latin-1")
    parts = text.split("*", 2)
    if len(parts) < 2:
        raise CorruptFileError(path, "corrupt ASCII SDF: no '*' line closing the header")
    fields = _ascii_header(path, parts[0])
    cols, rows = _field(path, fields, "NumPoints", int), _field(path, fields, "NumProfiles", int)
    check_grid(path, rows, cols)
    if _field(path, fields, "Compression", int, default=0) != 0:
        raise UnsupportedFeatureError(path, "compressed SDF data is not supported")
    zscale = _field(path, fields, "Zscale", float)
    data = re.sub(r"\bBAD\b", "nan", parts[1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(data, dtype=np.float64, sep=" ")
    except ValueError:
        raise CorruptFileError(path, "the SDF data section holds text that is not a number") from None
    if values.size != rows * cols:
        raise CorruptFileError(path, f"the SDF data section holds {values.size} values, the header declares "
                                f"{rows} x {cols}")
    values = values.reshape(rows, cols)
    invalid = np.isnan(values)
    z = scaled(values, zscale * M_TO_UM, 0.0, invalid if invalid.any() else None)
    meta: dict[str, Any] = dict(fields)
    meta["Xscale"], meta["Yscale"], meta["Zscale"] = (_field(path, fields, k, float)
                                                      for k in ("Xscale", "Yscale", "Zscale"))
    if len(parts) == 3:
        for key, value in _TAGGED.findall(parts[2][:65536]):
            meta.setdefault(key, value.strip())
        meta.update({k: v for k, v in _ascii_header(path, "\n" + parts[2][:65536]).items() if k not in meta})
    return z, meta


def read_sdf(path: str | os.PathLike) -> Surface:
    """Read an ISO 25178-71 ``.sdf`` file (ASCII or binary) as heights in µm."""
    path = Path(path)
    buf = path.read_bytes()  # text or binary; the ASCII variant needs the bytes themselves
    magic = buf.lstrip()[:8]
    if magic in ASCII_MAGICS:
        z, fields = _read_ascii(path, buf.lstrip())
    elif buf[:8] in BINARY_MAGICS:
        z, fields = _read_binary(path, buf)
    else:
        raise NotThisFormatError(path, f"not an SDF file (magic {buf[:8]!r})")
    dx, dy = pixel_size(path, fields["Xscale"] * M_TO_UM, fields["Yscale"] * M_TO_UM, "(Xscale/Yscale)")
    meta = {
        "vendor": "ISO 25178-71 SDF",
        "instrument": fields.get("ManufacID") or None,
        "encoding": "ascii" if magic in ASCII_MAGICS else "binary",
        "z_unit": "µm",
        "channel": "height",
        "channels": ["height"],
        "header": {k: v for k, v in fields.items() if isinstance(v, (str, int, float))},
    }
    return Surface(z, dx, dy, meta)


register(Format("sdf", "ISO 25178-71 surface data file (ASCII or binary)", (".sdf",), kind="height",
                reader=read_sdf, sniff=_sniff))

"""Wyko / Bruker Vision ``.opd`` files (white-light interferometers: NT, Contour GT).

Layout (facts from Gwyddion's ``opdfile.c``, SurfaceTopography and surfalize),
little-endian: a 2-byte prelude, then a directory of 24-byte entries
(``16s name, int16 type, int32 length, uint16 attribute``); the first entry is
``Directory`` itself and its length is the directory size. Block payloads
follow the directory in directory order, each exactly ``length`` bytes.

Block types: 3 array (``uint16 nx, uint16 ny, uint16 item size`` then the
values, x index first), 5 text, 6 short, 7 float, 8 double, 12 long. Height
arrays are named ``RAW_DATA``, ``RAW DATA``, ``OPD``, ``Raw`` or
``SAMPLE_DATA``; ``Image``, ``Intensity`` and ``SecArr_*`` are intensity or
secondary arrays and are listed, not read.

Heights: ``z [nm] = value * Wavelength [nm] / Mult`` (Mult defaults to 1);
lateral: ``Pixel_size`` in mm, ``dy = dx * Aspect``. Float values that are
not finite or >= 1e38, and int16 values >= 32766, mark points that were not
measured. Arrays are stored column by column with y running upwards: the map
is ``values.reshape(nx, ny).T[::-1]`` (the orientation of Gwyddion and
SurfaceTopography).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    CorruptFileError,
    NotThisFormatError,
    SurfscanError,
    SurfscanWarning,
    UnsupportedFeatureError,
)
from ..model import Surface
from ._vendor import grid_view, read_bytes, record_table, scaled
from .binary import Layout, cstr
from .limits import check_available
from .registry import Format, register

PRELUDE = 2
ENTRY = Layout("<", [("name", "16s", 0), ("type", "h", 16), ("length", "i", 18), ("attribute", "H", 22)])
ARRAY = Layout("<", [("nx", "H", 0), ("ny", "H", 2), ("item_size", "H", 4)])
HEIGHT_ARRAYS = ("RAW_DATA", "RAW DATA", "OPD", "Raw", "SAMPLE_DATA")
_ARRAY, _TEXT, _SHORT, _FLOAT, _DOUBLE, _LONG = 3, 5, 6, 7, 8, 12
_MAX_BLOCKS = 100_000


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head[2:11] == b"Directory" else 0


def _directory(path: Path, buf: bytes) -> list[dict[str, Any]]:
    """Every block with its payload offset."""
    first = ENTRY.read(buf, PRELUDE, str(path))
    if cstr(first["name"]) != "Directory":
        raise NotThisFormatError(path, "not an OPD file (no Directory block)")
    size = first["length"]
    if size < ENTRY.size or size % ENTRY.size or size // ENTRY.size > _MAX_BLOCKS:
        raise CorruptFileError(path, f"corrupt directory: {size} bytes is not a whole number of entries")
    check_available(path, PRELUDE + size, len(buf), "directory")
    table = record_table(ENTRY, buf, PRELUDE + ENTRY.size, size // ENTRY.size - 1, path=path)
    lengths = np.maximum(table["length"].astype(np.int64), 0)
    offsets = PRELUDE + size + np.concatenate(([0], np.cumsum(lengths)[:-1]))
    keep = np.flatnonzero(lengths > 0)  # blocks without payload carry nothing to read
    blocks = [{"name": cstr(table["name"][i]), "type": int(table["type"][i]), "length": int(lengths[i]),
               "offset": int(offsets[i])} for i in keep.tolist()]
    return blocks


def _scalar(buf: bytes, b: dict[str, Any]) -> Any:
    """The value of a text or number block, None when its size does not fit its type."""
    off, n, t = b["offset"], b["length"], b["type"]
    if off + n > len(buf) or n <= 0:
        return None
    if t == _TEXT:
        return cstr(buf[off : off + min(n, 256)])
    if t == _SHORT:
        code = {2: "<i2", 4: "<i4"}.get(n)
    elif t == _FLOAT:
        code = "<i2" if n == 2 else "<f4" if n >= 4 else None
    elif t == _DOUBLE:
        code = "<f8" if n >= 8 else None
    else:
        code = "<i4" if n >= 4 else None
    return None if code is None else np.frombuffer(buf, code, 1, off)[0].item()


def _heights(path: Path, buf: bytes, block: dict[str, Any], scale: float) -> np.ndarray:
    a = ARRAY.read(buf, block["offset"], str(path))
    item = a["item_size"]
    if item not in (1, 2, 4):
        raise UnsupportedFeatureError(path, f"unsupported {item}-byte values in array {block['name']!r}")
    nx, ny = a["nx"], a["ny"]
    check_available(path, 6 + nx * ny * item, block["length"], f"array {block['name']!r}")
    dtype = {1: "u1", 2: "<i2", 4: "<f4"}[item]
    raw = grid_view(path, buf, block["offset"] + 6, nx, ny, dtype, f"array {block['name']!r}").T[::-1]
    if item == 4:
        invalid = ~(np.abs(raw) < 1e38)  # also catches NaN and inf
    elif item == 2:
        invalid = raw >= 32766
    else:
        invalid = None
    if invalid is not None and not invalid.any():
        invalid = None
    return scaled(raw, scale, 0.0, invalid)


def read_opd(path: str | os.PathLike, channel: str | None = None) -> Surface:
    """Read the height array of a Wyko/Bruker ``.opd`` file in µm.

    Parameters
    ----------
    path : path-like
        The file.
    channel : str, optional
        Name of the array block to read (``meta["channels"]``); by default
        the first height array.
    """
    path = Path(path)
    buf = read_bytes(path)
    blocks = _directory(path, buf)
    arrays = [b for b in blocks if b["type"] == _ARRAY and b["length"] > 0]
    values = {b["name"]: _scalar(buf, b) for b in blocks if b["type"] in (_TEXT, _SHORT, _FLOAT, _DOUBLE, _LONG)}
    if channel is None:
        block = next((b for name in HEIGHT_ARRAYS for b in arrays if b["name"] == name), None)
        if block is None:
            raise CorruptFileError(path, f"no height array (arrays present: {[b['name'] for b in arrays]})")
    else:
        block = next((b for b in arrays if b["name"] == channel), None)
        if block is None:
            raise SurfscanError(f"{path}: no array named {channel!r}; arrays: {[b['name'] for b in arrays]}")
    wavelength = values.get("Wavelength")
    if not isinstance(wavelength, (int, float)) or not np.isfinite(wavelength) or wavelength == 0:
        raise CorruptFileError(path, "no usable Wavelength block; the height scale is unknown")
    mult = values.get("Mult") or 1
    is_height = block["name"] in HEIGHT_ARRAYS
    z = _heights(path, buf, block, wavelength / mult * 1e-3 if is_height else 1.0)
    pixel_mm = values.get("Pixel_size")
    aspect = values.get("Aspect") or 1.0
    calibrated = isinstance(pixel_mm, (int, float)) and np.isfinite(pixel_mm) and pixel_mm > 0
    if not calibrated:
        warnings.warn(f"{path}: no Pixel_size block; assuming 1 µm pixels", SurfscanWarning, stacklevel=2)
    dx = pixel_mm * 1e3 if calibrated else 1.0
    dy = dx * aspect if np.isfinite(aspect) and aspect > 0 else dx
    meta = {
        "vendor": "Wyko/Bruker",
        "instrument": values.get("Instrument") if isinstance(values.get("Instrument"), str) else None,
        "date": " ".join(str(values[k]) for k in ("Date", "Time") if values.get(k)) or None,
        "wavelength_nm": float(wavelength),
        "mult": mult,
        "magnification": values.get("Magnification"),
        "calibrated": bool(calibrated),
        "z_unit": "µm" if is_height else "intensity (raw counts, not a height)",
        "channel": block["name"],
        "channels": [b["name"] for b in arrays],
        "blocks": {k: v for k, v in values.items() if v is not None and k},
    }
    return Surface(z, dx, dy, meta, quantity="height" if is_height else "intensity")


register(Format("opd", "Wyko/Bruker Vision OPD interferometer data", (".opd",), kind="height", reader=read_opd,
                sniff=_sniff))

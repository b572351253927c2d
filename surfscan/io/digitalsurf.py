"""Digital Surf ``.sur`` files (MountainsMap's native format): read and write.

Layout (facts from Gwyddion's ``surffile.c``, SurfaceTopography and surfalize):
each *object* is a 512-byte header, a comment zone, a private zone and a data
zone. The magic ``DIGITAL SURF`` marks raw data (16- or 32-bit integers, row
by row); ``DSCOMPRESSED`` marks a data zone of ``compressed_data_size`` bytes
holding ``uint32`` stream count, ``(raw length, zipped length)`` per stream,
then the zlib streams, concatenated after inflation. A file may hold several
objects one after the other (series, multilayer, RGB + intensity layers); each
is listed in ``meta["channels"]`` and the first height object is read unless
``channel=`` (index or object name) says otherwise. ``format`` 0 is PC
(little-endian) and 257 Macintosh (big-endian).

Heights: ``z = counts * spacing_z + offset_z`` in the unit ``unit_step_z``,
converted to µm. The absolute offset ``offset_z`` (header offset 474) is
added in the same unit, as Gwyddion does; surfalize adds it without the unit
conversion and SurfaceTopography ignores it, so absolute heights differ
between readers while levelled statistics agree. With ``non_measured`` = 1,
the count ``min_point - 2`` marks points that were not measured (NaN).
``inversion`` 1 negates heights, 2 also mirrors left-right, 3 up-down.

Intensity: objects of studiable type binary/intensity/RGB image (3, 10, 12, 18)
or whose z unit is not a length are read with their raw scaled values and
``Surface.quantity == "intensity"``; :func:`surfscan.pipeline.measure_roughness`
(and so ``surfscan roughness``) refuses such surfaces with a clear error.

The writer produces one uncompressed (or, with ``compressed=True``, zlib
compressed) 32-bit surface object in µm. The compressed variant is written
from the layout above and verified against our reader and surfalize only: no
instrument-written compressed sample was available.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    CorruptFileError,
    FormatError,
    NotThisFormatError,
    SurfscanError,
    SurfscanWarning,
    UnsupportedFeatureError,
)
from ..model import Surface
from ._vendor import LENGTH_TO_UM, grid_view, read_bytes, scaled, unit_text
from .binary import Layout, cstr
from .checks import pixel_size
from .limits import check_available, check_grid
from .registry import Format, register

MAGIC_RAW = b"DIGITAL SURF"
MAGIC_ZIP = b"DSCOMPRESSED"
HEADER_SIZE = 512
_MAC_FORMAT = 257
_MAX_OBJECTS = 4096
_MAX_STREAMS = 1 << 16

_FIELDS = [
    ("code", "12s", 0), ("format", "h", 12), ("n_objects", "H", 14), ("version", "h", 16),
    ("studiable_type", "h", 18), ("name_object", "30s", 20), ("name_operator", "30s", 50),
    ("material_code", "h", 80), ("acquisition", "h", 82), ("range_type", "h", 84), ("non_measured", "h", 86),
    ("absolute", "h", 88), ("gauge_resolution", "f", 90), ("bits_per_point", "h", 98), ("min_point", "i", 100),
    ("max_point", "i", 104), ("points_per_line", "i", 108), ("lines", "i", 112), ("total_points", "i", 116),
    ("spacing_x", "f", 120), ("spacing_y", "f", 124), ("spacing_z", "f", 128),
    ("name_x", "16s", 132), ("name_y", "16s", 148), ("name_z", "16s", 164),
    ("unit_step_x", "16s", 180), ("unit_step_y", "16s", 196), ("unit_step_z", "16s", 212),
    ("unit_x", "16s", 228), ("unit_y", "16s", 244), ("unit_z", "16s", 260),
    ("ratio_x", "f", 276), ("ratio_y", "f", 280), ("ratio_z", "f", 284),
    ("replica", "h", 288), ("inversion", "h", 290), ("leveled", "h", 292),
    ("seconds", "h", 306), ("minutes", "h", 308), ("hours", "h", 310), ("day", "h", 312), ("month", "h", 314),
    ("year", "h", 316), ("week_day", "h", 318), ("duration", "f", 320), ("compressed_size", "I", 324),
    ("comment_size", "H", 334), ("private_size", "H", 336), ("client_zone", "128s", 338),
    ("offset_x", "f", 466), ("offset_y", "f", 470), ("offset_z", "f", 474),
    ("spacing_t", "f", 478), ("offset_t", "f", 482), ("name_t", "13s", 486), ("unit_step_t", "13s", 499),
]
HEADER = Layout("<", _FIELDS)
HEADER_MAC = Layout(">", _FIELDS)

#: Studiable types (header offset 18).
STUDIABLE_TYPES = {
    1: "profile", 2: "surface", 3: "binary image", 4: "series of profiles", 5: "series of surfaces",
    6: "meridian disc", 7: "multilayer profile", 8: "multilayer surface", 9: "parallel disc",
    10: "intensity image", 11: "intensity surface", 12: "RGB image", 13: "RGB surface", 14: "force curve",
    15: "series of force curves", 16: "RGB intensity surface", 17: "parametric profile",
    18: "series of RGB images", 19: "spectrum",
}
_INTENSITY_TYPES = {3, 10, 12, 18}
ACQUISITION_TYPES = {
    0: "unknown", 1: "contact stylus", 2: "scanning optical gauge", 3: "thermocouple", 4: "unknown",
    5: "contact stylus with skid", 6: "AFM", 7: "STM", 8: "video", 9: "interferometer",
    10: "structured light projection",
}


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head[:12] in (MAGIC_RAW, MAGIC_ZIP) else 0


def _header(path: Path, buf: bytes, pos: int) -> dict[str, Any]:
    """Unpack one object header at ``pos`` (PC or Macintosh byte order)."""
    check_available(path, pos + HEADER_SIZE, len(buf), "object header")
    if buf[pos : pos + 12] not in (MAGIC_RAW, MAGIC_ZIP):
        raise NotThisFormatError(path, f"not a Digital Surf object at byte {pos} (magic {bytes(buf[pos:pos + 12])!r})")
    layout = HEADER_MAC if int.from_bytes(buf[pos + 12 : pos + 14], "little") == _MAC_FORMAT else HEADER
    h = layout.read(buf, pos, str(path))
    h["byteorder"] = layout.byteorder
    h["compressed"] = h["code"] == MAGIC_ZIP
    if h["bits_per_point"] not in (16, 32):
        raise UnsupportedFeatureError(path, f"unsupported {h['bits_per_point']} bits per point (16 or 32 expected)")
    return h


def _scan_objects(path: Path, buf: bytes) -> list[dict[str, Any]]:
    """Headers of every object in the file, with the byte range of each data zone."""
    objects: list[dict[str, Any]] = []
    pos = 0
    while pos + HEADER_SIZE <= len(buf) and len(objects) < _MAX_OBJECTS:
        if objects and buf[pos : pos + 12] not in (MAGIC_RAW, MAGIC_ZIP):
            break  # trailing bytes after the last object
        try:
            h = _object(path, buf, pos, len(objects))
        except FormatError as exc:
            if not objects:
                raise
            warnings.warn(f"{path}: object {len(objects)} is unreadable and was skipped ({exc.reason})",
                          SurfscanWarning, stacklevel=3)
            break
        objects.append(h)
        pos = h["data_start"] + h["data_bytes"]
    if not objects:
        raise FormatError(path, "no Digital Surf object found")
    return objects


def _object(path: Path, buf: bytes, pos: int, index: int) -> dict[str, Any]:
    """The header of the object at ``pos`` with the byte range of its data zone, sizes checked."""
    h = _header(path, buf, pos)
    rows, cols = check_grid(path, h["lines"], h["points_per_line"])
    item = h["bits_per_point"] // 8
    start = pos + HEADER_SIZE + h["comment_size"] + h["private_size"]
    check_available(path, start, len(buf), "comment and private zones")
    if h["compressed"]:
        if h["total_points"] != rows * cols:
            raise CorruptFileError(path, f"corrupt header: {h['total_points']} points declared for a "
                                    f"{rows} x {cols} grid")
        nbytes = h["compressed_size"]
    else:
        if h["total_points"] < rows * cols:
            raise CorruptFileError(path, f"corrupt header: {h['total_points']} points declared for a "
                                    f"{rows} x {cols} grid")
        nbytes = h["total_points"] * item
    check_available(path, nbytes, len(buf) - start, f"object {index} data")
    h.update(index=index, data_start=start, data_bytes=nbytes, rows=rows, cols=cols)
    h["comment"] = bytes(buf[pos + HEADER_SIZE : pos + HEADER_SIZE + min(h["comment_size"], 4096)])
    return h


def _inflate(path: Path, buf: bytes, h: dict[str, Any], raw_bytes: int) -> bytes:
    """Inflate a DSCOMPRESSED data zone, never producing more than ``raw_bytes``."""
    start, end = h["data_start"], h["data_start"] + h["data_bytes"]
    check_available(path, start + 4, end, "compressed stream directory")
    order = h["byteorder"]
    count = int(np.frombuffer(buf, order + "u4", 1, start)[0])
    if count > _MAX_STREAMS:
        raise CorruptFileError(path, f"corrupt compressed data: {count} streams declared")
    check_available(path, start + 4 + 8 * count, end, "compressed stream directory")
    directory = np.frombuffer(buf, order + "u4", 2 * count, start + 4).reshape(count, 2).astype(np.int64)
    if int(directory[:, 0].sum()) != raw_bytes:
        raise CorruptFileError(path, f"corrupt compressed data: streams inflate to {int(directory[:, 0].sum())} bytes, "
                                f"the grid needs {raw_bytes}")
    pos = start + 4 + 8 * count
    check_available(path, pos + int(directory[:, 1].sum()), end, "compressed streams")
    out = bytearray()
    for raw_len, zip_len in directory.tolist():
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(bytes(buf[pos : pos + zip_len]), raw_len)
        except zlib.error as exc:
            raise CorruptFileError(path, f"corrupt compressed data ({exc})") from None
        if len(chunk) != raw_len or inflater.unconsumed_tail:
            raise CorruptFileError(path, f"corrupt compressed data: a stream inflates to a size other than {raw_len}")
        out += chunk
        pos += zip_len
    return bytes(out)


def _is_length(unit: str) -> bool:
    return unit.strip().lower() in LENGTH_TO_UM


def _quantity(h: dict[str, Any]) -> str:
    zunit = unit_text(h["unit_step_z"])
    if h["studiable_type"] in _INTENSITY_TYPES or (zunit and not _is_length(zunit)):
        return "intensity"
    return "height"


def _pick(path: Path, objects: list[dict[str, Any]], channel: int | str | None) -> dict[str, Any]:
    if channel is None:
        return next((h for h in objects if _quantity(h) == "height"), objects[0])
    if isinstance(channel, int) or (isinstance(channel, str) and channel.isdigit()):
        i = int(channel)
        if not 0 <= i < len(objects):
            raise SurfscanError(f"{path}: channel {i} does not exist (the file holds {len(objects)} objects)")
        return objects[i]
    for h in objects:
        if cstr(h["name_object"]) == channel:
            return h
    names = ", ".join(repr(cstr(h["name_object"])) for h in objects)
    raise SurfscanError(f"{path}: no channel named {channel!r}; objects: {names}")


def _factor(path: Path, unit: str, what: str, quantity: str) -> float:
    """µm per file unit for a length axis; 1 for intensity values or an unknown unit (with a warning)."""
    key = unit.strip().lower()
    if key in LENGTH_TO_UM:
        return LENGTH_TO_UM[key]
    if quantity == "height" or what != "z":
        warnings.warn(f"{path}: unknown {what} unit {unit!r}; taking it as micrometres", SurfscanWarning, stacklevel=3)
    return 1.0


def _heights(path: Path, buf: bytes, h: dict[str, Any], quantity: str) -> np.ndarray:
    rows, cols = h["rows"], h["cols"]
    dtype = np.dtype(h["byteorder"] + ("i2" if h["bits_per_point"] == 16 else "i4"))
    if h["compressed"]:
        raw_buf = _inflate(path, buf, h, rows * cols * dtype.itemsize)
        raw = grid_view(path, raw_buf, 0, rows, cols, dtype)
    else:
        raw = grid_view(path, buf, h["data_start"], rows, cols, dtype)
    fz = _factor(path, unit_text(h["unit_step_z"]), "z", quantity)
    invalid = None
    if h["non_measured"] == 1:
        invalid = raw == (h["min_point"] - 2)
        if not invalid.any():
            invalid = None
    z = scaled(raw, h["spacing_z"] * fz, h["offset_z"] * fz, invalid)
    if h["inversion"] in (1, 2, 3):
        np.negative(z, out=z)
        if h["inversion"] == 2:
            z = np.ascontiguousarray(z[:, ::-1])
        elif h["inversion"] == 3:
            z = np.ascontiguousarray(z[::-1, :])
    return z


def _date(h: dict[str, Any]) -> str | None:
    try:
        return _dt.datetime(h["year"], h["month"], h["day"], h["hours"], h["minutes"], h["seconds"]).isoformat()
    except (ValueError, TypeError, OverflowError):
        return None


def _channel_list(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"index": h["index"], "name": cstr(h["name_object"]), "type": STUDIABLE_TYPES.get(h["studiable_type"]),
             "quantity": _quantity(h), "shape": [h["rows"], h["cols"]]} for h in objects]


def read_sur(path: str | os.PathLike, channel: int | str | None = None) -> Surface:
    """Read one object of a Digital Surf ``.sur`` file as heights in µm.

    Parameters
    ----------
    path : path-like
        The file.
    channel : int or str, optional
        Object index or object name; by default the first height object.

    Returns
    -------
    Surface
        ``quantity`` is ``"height"`` or ``"intensity"``;
        ``meta["channels"]`` lists every object of the file.
    """
    path = Path(path)
    buf = read_bytes(path)
    objects = _scan_objects(path, buf)
    h = _pick(path, objects, channel)
    quantity = _quantity(h)
    z = _heights(path, buf, h, quantity)
    fx = _factor(path, unit_text(h["unit_step_x"]), "x", quantity)
    fy = _factor(path, unit_text(h["unit_step_y"]), "y", quantity)
    dx, dy = abs(h["spacing_x"]) * fx, abs(h["spacing_y"]) * fy
    meta: dict[str, Any] = {
        "instrument": cstr(h["name_operator"]) or None,
        "vendor": "Digital Surf",
        "object_name": cstr(h["name_object"]),
        "studiable_type": STUDIABLE_TYPES.get(h["studiable_type"], str(h["studiable_type"])),
        "acquisition": ACQUISITION_TYPES.get(h["acquisition"], str(h["acquisition"])),
        "z_unit": "µm" if quantity == "height" else f"intensity ({unit_text(h['unit_step_z']) or 'raw counts'}, not a height)",
        "z_offset": float(h["offset_z"]) * _factor(path, unit_text(h["unit_step_z"]), "z", quantity),
        "compressed": h["compressed"],
        "date": _date(h),
        "comment": cstr(h["comment"]) or None,
        "channel": h["index"],
        "channels": _channel_list(objects),
    }
    dx, dy = pixel_size(path, dx, dy, f"(spacing {h['spacing_x']!r} x {h['spacing_y']!r} in the header)")
    return Surface(z, dx, dy, meta, quantity=quantity)


# --------------------------------------------------------------------------- writer

_COUNT_LIMIT = 2**31 - 8  # counts in [-limit, limit]; the invalid marker min - 2 still fits in int32


def _quantise(z: np.ndarray) -> tuple[np.ndarray, float, float, bool]:
    """Integer counts, float32 spacing and offset such that ``z ~ counts * dz + offset``."""
    valid = np.isfinite(z)
    if not valid.any():
        raise SurfscanError("cannot write a .sur file: every point is NaN")
    zmin, zmax = float(np.min(z, where=valid, initial=np.inf)), float(np.max(z, where=valid, initial=-np.inf))
    offset = float(np.float32((zmin + zmax) / 2))
    half = max(zmax - offset, offset - zmin)
    dz = float(np.float32(half / (_COUNT_LIMIT - 4))) if half > 0 else 1e-6
    while half / dz > _COUNT_LIMIT - 2:  # float32 rounding must not push counts out of range
        dz = float(np.nextafter(np.float32(dz), np.float32(np.inf)))
    counts = np.rint((np.where(valid, z, offset) - offset) / dz)
    counts = np.clip(counts, -_COUNT_LIMIT, _COUNT_LIMIT).astype("<i4")
    return counts, dz, offset, not bool(valid.all())


def _pack(header: dict[str, Any]) -> bytes:
    out = bytearray(HEADER_SIZE)
    for name, code, off in _FIELDS:
        if name in header:
            struct.pack_into("<" + code, out, off, header[name])
    return bytes(out)


def write_sur(surface: Surface, path: str | os.PathLike, compressed: bool = False, name: str = "surfscan") -> None:
    """Write heights (µm) as one 32-bit Digital Surf surface object.

    Parameters
    ----------
    surface : Surface
        Heights in µm; NaN points are written as non-measured.
    path : path-like
        Output file.
    compressed : bool
        Write the zlib-compressed ``DSCOMPRESSED`` variant.
    name : str
        Object name stored in the header (30 characters at most).
    """
    z = np.asarray(surface.z, dtype=np.float64)
    counts, dz, offset, has_invalid = _quantise(z)
    rows, cols = counts.shape
    lo, hi = int(counts.min()), int(counts.max())
    if has_invalid:
        counts[~np.isfinite(z)] = lo - 2
    data = counts.astype("<i4", copy=False).tobytes()
    zone = data
    if compressed:
        packed = zlib.compress(data, 6)
        zone = np.array([1, len(data), len(packed)], "<u4").tobytes() + packed
    now = _dt.datetime.now()
    unit = b"um"
    header = {
        "code": MAGIC_ZIP if compressed else MAGIC_RAW, "format": 0, "n_objects": 1, "version": 1,
        "studiable_type": 2, "name_object": name.encode("latin-1", "replace")[:30], "name_operator": b"surfscan",
        "non_measured": int(has_invalid), "absolute": 1, "bits_per_point": 32, "min_point": lo, "max_point": hi,
        "points_per_line": cols, "lines": rows, "total_points": rows * cols,
        "spacing_x": surface.dx, "spacing_y": surface.dy, "spacing_z": dz,
        "name_x": b"X", "name_y": b"Y", "name_z": b"Z",
        "unit_step_x": unit, "unit_step_y": unit, "unit_step_z": unit, "unit_x": unit, "unit_y": unit, "unit_z": unit,
        "ratio_x": 1.0, "ratio_y": 1.0, "ratio_z": 1.0,
        "seconds": now.second, "minutes": now.minute, "hours": now.hour, "day": now.day, "month": now.month,
        "year": now.year, "week_day": now.weekday(), "compressed_size": len(zone) if compressed else 0,
        "offset_z": offset,
    }
    with open(path, "wb") as fh:
        fh.write(_pack(header))
        fh.write(zone)


register(Format("sur", "Digital Surf SUR (MountainsMap)", (".sur",), kind="height", reader=read_sur, writer=write_sur,
                sniff=_sniff))

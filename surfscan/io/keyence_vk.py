"""Keyence VK-X laser confocal files: ``.vk4`` (and ``.vk3``), ``.vk6``, ``.vk7``.

**Not yet verified against an instrument file**: this reader follows the
layout documented by Gwyddion's ``keyence.c`` and by the SurfaceTopography
and surfalize readers, and is tested on files built from that layout
(``Format.verified`` is False until a real VK-X file checks it).

VK4 layout (little-endian):

- header (12 bytes): ``VK4_`` (``VK3_`` for VK3), 4 bytes DLL version, 4 zero bytes;
- offset table at byte 12: absolute offsets of the measurement conditions,
  the colour images (peak, colour+light), three light-intensity and three
  height images, thumbnails, assembly, line measurement, line thickness and
  the character strings (VK4 adds one reserved entry; VK3 does not);
- measurement conditions: a size, the date and time, lens magnification and
  optical zoom (x10), ``x_length_per_pixel`` and ``y_length_per_pixel`` in
  picometres, ``z_length_per_digit`` (picometres per height count) and more;
- a height or light image: width, height, bits per sample (8/16/32),
  compression (0), byte size, palette range, a 768-byte palette, then
  ``width * height`` little-endian unsigned samples, row by row;
- a colour image: width, height, bits (24), compression, byte size, then
  ``width * height * 3`` bytes;
- character strings: uint32 length and UTF-16LE text, title then lens name.

Height counts of 0 mark points the instrument did not measure in VK-X files;
they become NaN unless ``zero_is_invalid=False``.

``.vk6`` and ``.vk7`` files start with ``VK6``/``VK7`` and a vendor prefix
followed by a ZIP archive whose member ``Vk4File`` holds the VK4 stream.

Channels: ``height`` (default), ``light`` (laser intensity, returned as
a Surface of raw counts, see :mod:`surfscan.io.channels`), ``color`` (RGB,
listed only); second and third layers appear as ``height2``, ``light3`` ...
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, NotThisFormatError, UnsupportedFeatureError
from ..model import Surface
from .binary import Layout
from .channels import INTENSITY_UNIT, pick_channel
from .checks import pixel_size
from .containers import ZIP_MAGIC, open_zip, read_member
from .limits import check_available, check_grid
from .registry import Format, register

__all__ = ["read_vk", "read_vk4_bytes"]

HEADER = Layout("<", [("magic", "4s", 0), ("dll_version", "4s", 4), ("file_type", "4s", 8)])

_OFFSET_NAMES = ["meas_conds", "color_peak", "color_light", "light0", "light1", "light2", "height0", "height1",
                 "height2", "color_peak_thumb", "color_thumb", "light_thumb", "height_thumb", "assemble",
                 "line_measure", "line_thickness", "string_data"]
OFFSETS = Layout("<", [(name, "I", 12 + 4 * i) for i, name in enumerate(_OFFSET_NAMES)])

_COND_NAMES = {
    0: "size", 1: "year", 2: "month", 3: "day", 4: "hour", 5: "minute", 6: "second", 8: "image_attributes",
    9: "user_interface_mode", 10: "color_composite_mode", 11: "num_layer", 12: "run_mode", 13: "peak_mode",
    14: "sharpening_level", 15: "speed", 16: "distance", 17: "pitch", 18: "optical_zoom", 19: "num_line",
    20: "line0_pos", 24: "lens_mag", 25: "pmt_gain_mode", 26: "pmt_gain", 27: "pmt_offset", 28: "nd_filter",
    30: "persist_count", 31: "shutter_speed_mode", 32: "shutter_speed", 33: "white_balance_mode",
    34: "white_balance_red", 35: "white_balance_blue", 36: "camera_gain", 37: "plane_compensation",
    38: "xy_length_unit", 39: "z_length_unit", 40: "xy_decimal_place", 41: "z_decimal_place",
    42: "x_length_per_pixel", 43: "y_length_per_pixel", 44: "z_length_per_digit", 50: "light_filter_type",
    52: "gamma_reverse", 53: "gamma", 54: "gamma_offset", 55: "ccd_bw_offset", 56: "numerical_aperture",
    57: "head_type", 58: "pmt_gain2", 59: "omit_color_image", 60: "lens_id", 61: "light_lut_mode",
    72: "upper_position", 73: "lower_position", 74: "light_effective_bit_depth", 75: "height_effective_bit_depth",
}
MEAS_CONDS = Layout("<", [(name, "i" if name == "diff_utc_minutes" else "I", 4 * i)
                          for i, name in {**_COND_NAMES, 7: "diff_utc_minutes"}.items()])
MEAS_CONDS_MIN_SIZE = 304

DATA_IMAGE = Layout("<", [("width", "I", 0), ("height", "I", 4), ("bit_depth", "I", 8), ("compression", "I", 12),
                          ("byte_size", "I", 16), ("palette_min", "I", 20), ("palette_max", "I", 24)])
DATA_IMAGE_HEADER = 28 + 768
COLOR_IMAGE = Layout("<", [("width", "I", 0), ("height", "I", 4), ("bit_depth", "I", 8), ("compression", "I", 12),
                           ("byte_size", "I", 16)])
COLOR_IMAGE_HEADER = 20

_PICOMETRE_UM = 1e-6
_VK4_MEMBER = "Vk4File"


def _sniff_vk4(head: bytes, path: Path) -> int:
    return 100 if head[:4] in (b"VK4_", b"VK3_") and head[8:12] == b"\0\0\0\0" else 0


def _sniff_vk6(head: bytes, path: Path) -> int:
    if head[:3] not in (b"VK6", b"VK7"):
        return 0
    return 100 if head.find(ZIP_MAGIC) >= 0 else 70


def _data_image(path: Path | None, buf: bytes, offset: int) -> np.ndarray:
    """A height or light image at ``offset``, as a (rows, cols) unsigned array."""
    info = DATA_IMAGE.read(buf, offset, str(path))
    rows, cols = check_grid(path, info["height"], info["width"])
    if info["bit_depth"] not in (8, 16, 32):
        raise UnsupportedFeatureError(path, f"unsupported image sample size of {info['bit_depth']} bits")
    if info["compression"] != 0:
        raise UnsupportedFeatureError(path, f"compressed VK4 images (compression {info['compression']}) are not supported")
    nbytes = rows * cols * info["bit_depth"] // 8
    if info["byte_size"] != nbytes:
        raise FormatError(path, f"image at byte {offset} declares {info['byte_size']} bytes, {rows} x {cols} "
                                f"samples of {info['bit_depth']} bits need {nbytes}")
    start = offset + DATA_IMAGE_HEADER
    check_available(path, nbytes, len(buf) - start, "image data")
    dtype = {8: "u1", 16: "<u2", 32: "<u4"}[info["bit_depth"]]
    return np.frombuffer(buf, dtype=dtype, count=rows * cols, offset=start).reshape(rows, cols)


def _strings(buf: bytes, offset: int) -> dict[str, str]:
    """Title and lens name (UTF-16LE); metadata, so problems give empty strings."""
    out: dict[str, str] = {}
    pos = offset
    for key in ("title", "lens_name"):
        if pos + 4 > len(buf):
            break
        n = int.from_bytes(buf[pos : pos + 4], "little")
        pos += 4
        if n > (len(buf) - pos) // 2:
            break
        out[key] = buf[pos : pos + 2 * n].decode("utf-16-le", errors="replace").rstrip("\0").strip()
        pos += 2 * n
    return out


def _date(c: dict[str, int]) -> str | None:
    try:
        tz = timezone(timedelta(minutes=c["diff_utc_minutes"]))
        return datetime(c["year"], c["month"], c["day"], c["hour"], c["minute"], c["second"], tzinfo=tz).isoformat()
    except (ValueError, OverflowError):
        return None


def _layers(offsets: dict[str, int]) -> dict[str, tuple[str, int]]:
    """Channel name -> (kind, offset) for every image present (offset 0 = absent)."""
    found: dict[str, tuple[str, int]] = {}
    for kind in ("height", "light"):
        for i in range(3):
            off = offsets[f"{kind}{i}"]
            if off:
                found[kind if i == 0 else f"{kind}{i + 1}"] = (kind, off)
    if offsets["color_peak"]:
        found["color"] = ("color", offsets["color_peak"])
    return found


def _metadata(buf: bytes, header: dict, conds: dict[str, int], offsets: dict[str, int]) -> dict[str, Any]:
    dll = header["dll_version"]
    meta: dict[str, Any] = {
        "instrument": "Keyence VK-X",
        "vendor": "Keyence",
        "file_version": header["magic"].decode("latin-1").rstrip("_"),
        "dll_version": ".".join(str(b) for b in reversed(dll)),
        "date": _date(conds),
        "objective_magnification": conds["lens_mag"] / 10.0,
        "optical_zoom": conds["optical_zoom"] / 10.0,
        "z_count_pm": conds["z_length_per_digit"],
        "conditions": {k: v for k, v in conds.items() if k not in ("size",)},
    }
    if offsets["string_data"]:
        strings = _strings(buf, offsets["string_data"])
        meta.update({k: v for k, v in strings.items() if v})
        if strings.get("lens_name"):
            meta["objective"] = strings["lens_name"]
    return meta


def read_vk4_bytes(buf: bytes, path: Path | None = None, channel: str | None = None,
                   zero_is_invalid: bool = True) -> Surface:
    """Decode a VK4 (or VK3) byte stream; see :func:`read_vk` for the options."""
    header = HEADER.read(buf, 0, str(path))
    if header["magic"] not in (b"VK4_", b"VK3_") or header["file_type"] != b"\0\0\0\0":
        raise NotThisFormatError(path, "not a Keyence VK4 stream (bad header)")
    offsets = OFFSETS.read(buf, 0, str(path))
    conds = MEAS_CONDS.read(buf, offsets["meas_conds"], str(path))
    if conds["size"] < MEAS_CONDS_MIN_SIZE:
        raise FormatError(path, f"measurement conditions of {conds['size']} bytes (at least 304 expected)")
    layers = _layers(offsets)
    name = pick_channel(path, layers, channel)
    kind, offset = layers[name]
    raw = _data_image(path, buf, offset)
    dx = conds["x_length_per_pixel"] * _PICOMETRE_UM
    dy = conds["y_length_per_pixel"] * _PICOMETRE_UM
    dx, dy = pixel_size(path, dx, dy, f"({conds['x_length_per_pixel']} x {conds['y_length_per_pixel']} pm in the "
                                      "measurement conditions)")
    meta = _metadata(buf, header, conds, offsets)
    meta.update({"channel": name, "channels": list(layers)})
    if kind == "height":
        z = raw * (conds["z_length_per_digit"] * _PICOMETRE_UM)
        if zero_is_invalid:
            z[raw == 0] = np.nan
    else:
        z = raw.astype(np.float64)
        meta["z_unit"] = INTENSITY_UNIT
    return Surface(z, dx, dy, meta, quantity="height" if kind == "height" else "intensity")


def _vk4_from_container(path: Path, raw: bytes) -> bytes:
    if raw[:3] not in (b"VK6", b"VK7"):
        raise NotThisFormatError(path, "not a Keyence VK6/VK7 file (bad header)")
    archive = open_zip(path, raw, 0)
    if _VK4_MEMBER not in archive.namelist():
        raise FormatError(path, f"the VK6/VK7 container holds no {_VK4_MEMBER} member")
    return read_member(path, archive, _VK4_MEMBER)


def read_vk(path: Path, channel: str | None = None, zero_is_invalid: bool = True) -> Surface:
    """Read a Keyence VK-X ``.vk4``/``.vk3``/``.vk6``/``.vk7`` file.

    Parameters
    ----------
    path : Path
        A ``.vk4``/``.vk3`` binary file, or a ``.vk6``/``.vk7`` ZIP archive holding one.
    channel : str, optional
        ``"height"`` (default), ``"light"``, ``"height2"`` ... (see
        ``meta["channels"]``). Light channels are raw intensity counts.
    zero_is_invalid : bool
        Height count 0 means "not measured" (NaN); default True.

    Returns
    -------
    Surface
        Heights in µm (counts x ``z_length_per_digit`` pm), pixel size in µm
        from ``x/y_length_per_pixel`` (pm).
    """
    raw = Path(path).read_bytes()
    if raw[:3] in (b"VK6", b"VK7"):
        surface = read_vk4_bytes(_vk4_from_container(path, raw), path, channel, zero_is_invalid)
        return surface.replace(container=raw[:3].decode("latin-1"))
    return read_vk4_bytes(raw, path, channel, zero_is_invalid)


register(Format("vk4", "Keyence VK-X .vk4/.vk3 (layout only, not yet verified on an instrument file)",
                (".vk4", ".vk3"), kind="height", reader=read_vk, sniff=_sniff_vk4, verified=False))
register(Format("vk6", "Keyence VK-X .vk6/.vk7 container (layout only, not yet verified on an instrument file)",
                (".vk6", ".vk7"), kind="height", reader=read_vk, sniff=_sniff_vk6, verified=False))

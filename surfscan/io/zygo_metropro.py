"""Zygo MetroPro binary ``.dat`` files (white-light and laser interferometers).

Layout (facts from the MetroPro Reference Guide, Gwyddion's ``metropro.c``,
SurfaceTopography and prysm): a big-endian header whose magic gives the
header format (``88 1B 03 6F`` = 1, ``…70`` = 2, ``…71`` = 3), whose size is
stored at byte 6 (834 bytes for formats 1 and 2, 4096 for 3). After it come
the intensity data (``ac_n_bytes`` of big-endian uint16, width x height x
buckets) and then the phase data (``cn_n_bytes`` of big-endian int32, rows of
``cn_width`` values). The intensity is not read; it is described in
``meta["intensity"]``.

Heights::

    z [m] = counts * intf_scale_factor * wavelength * obliquity / R

where ``R`` is the number of counts per wave set by ``phase_res``: 0 -> 4096,
1 -> 32768, 2 -> 131072 (surfalize 0.19.2 uses 4096 for ``phase_res`` 1 and
is 8x too large). ``intf_scale_factor`` is 0.5 for reflection (the light
travels the height twice). ``sign`` != 0 negates the heights. Phase counts
>= 2147483640 mark points that were not measured (NaN). ``lateral_res`` is
the pixel size in metres; 0 means the file is not calibrated laterally (then
1 µm pixels are assumed, with a warning).
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError, NotThisFormatError, SurfscanWarning
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout, cstr
from .limits import check_available
from .registry import Format, register

MAGICS = {b"\x88\x1b\x03\x6f": 1, b"\x88\x1b\x03\x70": 2, b"\x88\x1b\x03\x71": 3}
HEADER = Layout(">", [
    ("magic", "4s", 0), ("header_format", "H", 4), ("header_size", "I", 6), ("swinfo_type", "h", 10),
    ("swinfo_date", "30s", 12), ("version_major", "h", 42), ("version_minor", "h", 44), ("version_bug", "h", 46),
    ("ac_org_x", "h", 48), ("ac_org_y", "h", 50), ("ac_width", "H", 52), ("ac_height", "H", 54),
    ("ac_n_buckets", "H", 56), ("ac_range", "h", 58), ("ac_n_bytes", "I", 60),
    ("cn_org_x", "h", 64), ("cn_org_y", "h", 66), ("cn_width", "H", 68), ("cn_height", "H", 70),
    ("cn_n_bytes", "I", 72), ("time_stamp", "i", 76), ("comment", "82s", 80), ("source", "h", 162),
    ("intf_scale_factor", "f", 164), ("wavelength_in", "f", 168), ("num_aperture", "f", 172),
    ("obliquity_factor", "f", 176), ("magnification", "f", 180), ("lateral_res", "f", 184),
    ("acq_type", "h", 188), ("phase_res", "h", 218), ("sign", "h", 232),
    ("camera_width", "h", 234), ("camera_height", "h", 236), ("sys_type", "h", 238), ("sys_serial", "H", 242),
    ("obj_name", "12s", 246), ("part_name", "40s", 258),
])
#: Counts per wave for each ``phase_res`` value.
PHASE_RESOLUTION = {0: 4096, 1: 32768, 2: 131072}
INVALID_COUNTS = 2147483640


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head[:4] in MAGICS else 0


def _scale_um(path: Path, h: dict) -> float:
    """µm per phase count."""
    res = PHASE_RESOLUTION.get(h["phase_res"])
    if res is None:
        raise FormatError(path, f"unknown phase resolution code {h['phase_res']} (0, 1 or 2 expected)")
    factor = h["intf_scale_factor"] * h["wavelength_in"] * h["obliquity_factor"]
    if not (np.isfinite(factor) and factor != 0):
        raise FormatError(path, "the header gives no usable wavelength, scale or obliquity factor")
    sign = -1.0 if h["sign"] else 1.0
    return sign * factor / res * 1e6


def read_metropro(path: str | os.PathLike) -> Surface:
    """Read the phase map of a MetroPro ``.dat`` file as heights in µm."""
    path = Path(path)
    buf = read_bytes(path)
    h = HEADER.read(buf, 0, str(path))
    if h["magic"] not in MAGICS:
        raise NotThisFormatError(path, "not a MetroPro file (unknown magic)")
    if h["header_size"] < HEADER.size:
        raise CorruptFileError(path, f"corrupt header: declared header size {h['header_size']} bytes")
    rows, cols = h["cn_height"], h["cn_width"]
    if rows * cols == 0:
        raise FormatError(path, "the file holds no phase (height) data")
    if h["cn_n_bytes"] != rows * cols * 4:
        raise CorruptFileError(path, f"corrupt header: {h['cn_n_bytes']} phase bytes declared for {rows} x {cols} points")
    check_available(path, h["header_size"] + h["ac_n_bytes"], len(buf), "intensity data")
    counts = grid_view(path, buf, h["header_size"] + h["ac_n_bytes"], rows, cols, ">i4", "phase data")
    invalid = counts >= INVALID_COUNTS
    z = scaled(counts, _scale_um(path, h), 0.0, invalid if invalid.any() else None)
    dx = float(h["lateral_res"]) * 1e6
    calibrated = bool(np.isfinite(dx) and dx > 0)
    if not calibrated:
        warnings.warn(f"{path}: lateral resolution is {h['lateral_res']!r}; assuming 1 µm pixels", SurfscanWarning,
                      stacklevel=2)
        dx = 1.0
    meta = {
        "vendor": "Zygo",
        "instrument": f"Zygo system type {h['sys_type']} serial {h['sys_serial']}",
        "software": f"MetroPro {h['version_major']}.{h['version_minor']}.{h['version_bug']}",
        "header_format": MAGICS[h["magic"]],
        "date": _date(h["time_stamp"]),
        "comment": cstr(h["comment"]) or None,
        "objective": cstr(h["obj_name"]) or None,
        "part_name": cstr(h["part_name"]) or None,
        "wavelength_um": float(h["wavelength_in"]) * 1e6,
        "magnification": float(h["magnification"]),
        "phase_res": h["phase_res"],
        "counts_per_wave": PHASE_RESOLUTION[h["phase_res"]],
        "calibrated": calibrated,
        "z_unit": "µm",
        "channel": "height",
        "channels": ["height", "intensity"] if h["ac_n_bytes"] else ["height"],
        "intensity": {"shape": [h["ac_height"], h["ac_width"]], "buckets": h["ac_n_buckets"], "read": False},
        "origin_px": [h["cn_org_y"], h["cn_org_x"]],
    }
    return Surface(z, dx, dx, meta)


def _date(stamp: int) -> str | None:
    try:
        return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).isoformat() if stamp > 0 else None
    except (OverflowError, OSError, ValueError):
        return None


register(Format("metropro", "Zygo MetroPro interferometer data", (".dat",), kind="height", reader=read_metropro,
                sniff=_sniff))

"""NanoFocus ``.nms`` files (µsurf confocal microscopes).

Layout (facts from SurfaceTopography's and surfalize's readers, checked on a
real file), little-endian, a fixed 3468-byte header:

======  =========  ===============================================
offset  type       field
======  =========  ===============================================
16      2 x float64  z range (min, max) in µm
32, 52  text       format tag (``OM_MS_2.0``), channel name
1076    16s        acquisition date (``2022-02-09T13:25``)
1368    2 x uint32   columns, rows
1376    2 x float64  pixel spacing x, y in **nanometres**
3468    uint16     heights, row by row, then an 8-bit image
======  =========  ===============================================

``z = counts / 65534 * (zmax - zmin) + zmin`` (µm). The lateral spacing is in
nm (SurfaceTopography 1.27 takes it as mm and is wrong by 1e6). The format
has no invalid-point marker in the samples seen, so every point is measured.
There is no magic number; the format tag at byte 32 is used when present.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout, cstr
from .checks import pixel_size
from .registry import Format, register

HEADER_SIZE = 3468
HEADER = Layout("<", [
    ("zmin", "d", 16), ("zmax", "d", 24), ("tag", "20s", 32), ("channel_name", "64s", 52), ("date", "16s", 1076),
    ("cols", "I", 1368), ("rows", "I", 1372), ("dx_nm", "d", 1376), ("dy_nm", "d", 1384),
])
FULL_SCALE = 2**16 - 2


def _sniff(head: bytes, path: Path) -> int:
    return 60 if head[32:38] == b"OM_MS_" else 0


def read_nms(path: str | os.PathLike) -> Surface:
    """Read a NanoFocus ``.nms`` height map in µm."""
    path = Path(path)
    buf = read_bytes(path)
    h = HEADER.read(buf, 0, str(path))
    raw = grid_view(path, buf, HEADER_SIZE, h["rows"], h["cols"], "<u2")
    zmin, zmax = h["zmin"], h["zmax"]
    if not (np.isfinite(zmin) and np.isfinite(zmax) and zmax >= zmin):
        raise CorruptFileError(path, f"invalid z range {zmin!r} .. {zmax!r} in the header")
    z = scaled(raw, (zmax - zmin) / FULL_SCALE, zmin)
    dx, dy = pixel_size(path, h["dx_nm"] * 1e-3, h["dy_nm"] * 1e-3, f"({h['dx_nm']!r} x {h['dy_nm']!r} nm)")
    meta = {
        "vendor": "NanoFocus",
        "instrument": None,
        "format_tag": cstr(h["tag"]) or None,
        "channel": cstr(h["channel_name"]) or "height",
        "channels": [cstr(h["channel_name"]) or "height"],
        "date": cstr(h["date"]) or None,
        "z_range_um": [zmin, zmax],
        "z_unit": "µm",
    }
    return Surface(z, dx, dy, meta)


register(Format("nms", "NanoFocus µsurf NMS confocal data", (".nms",), kind="height", reader=read_nms, sniff=_sniff))

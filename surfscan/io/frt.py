"""FRT MicroProf ``.frt`` files (FRT / FormFactor optical profilometers).

Layout (facts from Gwyddion's ``microprof.c`` and SurfaceTopography),
little-endian: the magic ``FRTM_GLIDERV``, a 4-character version (``1.00``:
32-bit block sizes, ``1.01``: 64-bit), ``uint16`` block count, then blocks of
``uint16 tag, size, payload``. The blocks used here:

====== ====================================================================
tag    content
====== ====================================================================
0x0066 ``uint32 columns, rows, bits per point`` (16: uint16, 32: int32)
0x0067 ``float64 width, height`` of the scanned area in metres, offsets ...
0x006C ``uint32 range, float64 metres per count``
0x000B the height counts, row by row, first row at the bottom
0x007D newer files: buffer ids, then images ``uint32 type, columns, rows,
       bits`` + counts; type bit 0x4 is topography (used when 0x000B is absent)
====== ====================================================================

The count 1 marks points that were not measured. The map is flipped so that
row 0 is the top row (as Gwyddion and SurfaceTopography do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, FormatError, NotThisFormatError, UnsupportedFeatureError
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout
from .checks import pixel_size
from .limits import check_available
from .registry import Format, register

MAGIC = b"FRTM_GLIDERV"
PREFIX = Layout("<", [("magic", "12s", 0), ("version", "4s", 12), ("blocks", "H", 16)])
GRID = Layout("<", [("cols", "I", 0), ("rows", "I", 4), ("bits", "I", 8)])
AREA = Layout("<", [("width_m", "d", 0), ("height_m", "d", 8), ("offset_x", "d", 16), ("offset_y", "d", 24)])
ZSCALE = Layout("<", [("range", "I", 0), ("m_per_count", "d", 4)])
IMAGE = Layout("<", [("type", "I", 0), ("cols", "I", 4), ("rows", "I", 8), ("bits", "I", 12)])
TOPOGRAPHY, MULTI_IMAGE = 0x000B, 0x007D
_TOPOGRAPHY_TYPES = 0x0004 | 0x0080 | 0x0800 | 0x1000
NOT_MEASURED = 1


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head.startswith(MAGIC) else 0


def _blocks(path: Path, buf: bytes) -> dict[int, tuple[int, int]]:
    """Tag -> (payload offset, payload size) of the first block with each tag."""
    p = PREFIX.read(buf, 0, str(path))
    if p["magic"] != MAGIC:
        raise NotThisFormatError(path, "not an FRT file (bad magic)")
    size_code = {b"1.00": "<u4", b"1.01": "<u8"}.get(p["version"])
    if size_code is None:
        raise UnsupportedFeatureError(path, f"unsupported FRT version {p['version']!r}")
    width = 2 + np.dtype(size_code).itemsize
    pos, out = PREFIX.size, {}
    for _ in range(p["blocks"]):
        check_available(path, pos + width, len(buf), "block header")
        tag = int(np.frombuffer(buf, "<u2", 1, pos)[0])
        size = int(np.frombuffer(buf, size_code, 1, pos + 2)[0])
        check_available(path, size, len(buf) - pos - width, f"block 0x{tag:04X}")
        out.setdefault(tag, (pos + width, size))
        pos += width + size
    return out


def _block(path: Path, buf: bytes, blocks: dict, tag: int, layout: Layout) -> dict[str, Any]:
    if tag not in blocks:
        raise FormatError(path, f"no block 0x{tag:04X} in the file")
    off, size = blocks[tag]
    check_available(path, layout.size, size, f"block 0x{tag:04X}")
    return layout.read(buf, off, str(path))


def _counts(path: Path, buf: bytes, blocks: dict) -> tuple[np.ndarray, str]:
    """The topography counts (rows, cols) and where they came from."""
    if TOPOGRAPHY in blocks:
        g = _block(path, buf, blocks, 0x0066, GRID)
        off, size = blocks[TOPOGRAPHY]
        return _raster(path, buf, off, size, g), "block 0x000B"
    if MULTI_IMAGE in blocks:
        off, size = blocks[MULTI_IMAGE]
        pos, end = off + 8, off + size
        while pos + IMAGE.size <= end:
            img = IMAGE.read(buf, pos, str(path))
            nbytes = int(img["cols"]) * int(img["rows"]) * (int(img["bits"]) // 8)
            if img["type"] & _TOPOGRAPHY_TYPES:
                return _raster(path, buf, pos + IMAGE.size, end - pos - IMAGE.size, img), "block 0x007D"
            if nbytes <= 0:
                break
            pos += IMAGE.size + nbytes
    raise FormatError(path, "the file holds no topography data")


def _raster(path: Path, buf: bytes, off: int, size: int, g: dict[str, Any]) -> np.ndarray:
    if g["bits"] not in (16, 32):
        raise UnsupportedFeatureError(path, f"unsupported {g['bits']} bits per point")
    dtype = "<u2" if g["bits"] == 16 else "<i4"
    check_available(path, int(g["rows"]) * int(g["cols"]) * (g["bits"] // 8), size, "height data")
    return grid_view(path, buf, off, g["rows"], g["cols"], dtype)[::-1]


def read_frt(path: str | os.PathLike) -> Surface:
    """Read the topography of an FRT MicroProf ``.frt`` file as heights in µm."""
    path = Path(path)
    buf = read_bytes(path)
    blocks = _blocks(path, buf)
    counts, source = _counts(path, buf, blocks)
    zs = _block(path, buf, blocks, 0x006C, ZSCALE)
    area = _block(path, buf, blocks, 0x0067, AREA)
    scale = zs["m_per_count"] * 1e6
    if not (np.isfinite(scale) and scale != 0):
        raise CorruptFileError(path, f"invalid height scale {zs['m_per_count']!r} m per count")
    invalid = counts == NOT_MEASURED
    z = scaled(counts, scale, 0.0, invalid if invalid.any() else None)
    rows, cols = counts.shape
    dx, dy = area["width_m"] * 1e6 / cols, area["height_m"] * 1e6 / rows
    dx, dy = pixel_size(path, dx, dy, f"(scan area {area['width_m']!r} x {area['height_m']!r} m)")
    meta = {
        "vendor": "FRT",
        "instrument": "MicroProf",
        "data_source": source,
        "z_unit": "µm",
        "channel": "height",
        "channels": ["height"],
        "scan_offset_um": [area["offset_y"] * 1e6, area["offset_x"] * 1e6],
        "blocks": sorted(f"0x{t:04X}" for t in blocks),
    }
    return Surface(z, dx, dy, meta)


register(Format("frt", "FRT MicroProf profilometer data", (".frt",), kind="height", reader=read_frt, sniff=_sniff))

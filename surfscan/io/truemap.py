"""GelSight (TrueGage) TrueMap ``.tmd`` files.

Layout (facts from Gwyddion's ``rmitmd.c``, SurfaceTopography and
surfalize), little-endian: the text ``Binary TrueMap Data File v2.0\\r\\n\\0``
(32 bytes), a NUL-terminated comment (``Created by TrueMap v6\\r\\n\\0`` in
the files seen), then ``uint32 columns, rows``, ``float32 length x, length y,
offset x, offset y`` and the float32 heights row by row.

Units: lengths, offsets and heights are stored in **millimetres** (the unit
GelSight's own reader uses); they are converted to µm here, so the sample in
``expected.json`` reads with ``dx = 63.19 µm``. Other readers report the file
values unconverted, which is why the unit looks ambiguous between readers.
NaN heights, if any, are not measured.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CorruptFileError, NotThisFormatError
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout
from .checks import pixel_size
from .registry import Format, register

MAGIC = b"Binary TrueMap Data File v"
MAGIC_SIZE = 32
HEADER = Layout("<", [("cols", "I", 0), ("rows", "I", 4), ("length_x", "f", 8), ("length_y", "f", 12),
                      ("offset_x", "f", 16), ("offset_y", "f", 20)])
MM_TO_UM = 1e3
_MAX_COMMENT = 4096


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head.startswith(MAGIC) else 0


def _header_start(path: Path, buf: bytes) -> tuple[int, str]:
    """Offset of the binary header (after the NUL-terminated comment) and the comment."""
    if not buf[: len(MAGIC)] == MAGIC:
        raise NotThisFormatError(path, "not a TrueMap TMD file (bad magic)")
    end = buf.find(b"\0", MAGIC_SIZE, MAGIC_SIZE + _MAX_COMMENT)
    if end < 0:
        raise CorruptFileError(path, "corrupt header: the comment is not terminated")
    return end + 1, buf[MAGIC_SIZE:end].decode("latin-1").strip()


def read_tmd(path: str | os.PathLike) -> Surface:
    """Read a TrueMap ``.tmd`` height map, converting millimetres to µm."""
    path = Path(path)
    buf = read_bytes(path)
    start, comment = _header_start(path, buf)
    h = HEADER.read(buf, start, str(path))
    raw = grid_view(path, buf, start + HEADER.size, h["rows"], h["cols"], "<f4")
    z = scaled(raw, MM_TO_UM)  # NaN or infinite heights become NaN there
    dx, dy = pixel_size(path, h["length_x"] / h["cols"] * MM_TO_UM, h["length_y"] / h["rows"] * MM_TO_UM,
                        f"(scan size {h['length_x']!r} x {h['length_y']!r} mm)")
    version = buf[len(MAGIC) : MAGIC_SIZE].split(b"\r", 1)[0].decode("latin-1", "replace")
    meta = {
        "vendor": "GelSight",
        "instrument": "TrueMap",
        "format_version": version,
        "comment": comment or None,
        "offset_um": [h["offset_y"] * MM_TO_UM, h["offset_x"] * MM_TO_UM],
        "file_units": "mm",
        "z_unit": "µm",
        "channel": "height",
        "channels": ["height"],
    }
    return Surface(z, dx, dy, meta)


register(Format("tmd", "GelSight TrueMap TMD height map", (".tmd",), kind="height", reader=read_tmd, sniff=_sniff))

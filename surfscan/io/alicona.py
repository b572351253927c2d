"""Alicona (Bruker Alicona) ``.al3d`` files: InfiniteFocus focus-variation microscopes.

Layout (facts from the AL3D specification as summarised by Gwyddion's
``alicona.c``, SurfaceTopography and surfalize): the 17-byte magic
``AliconaImaging\\0\\r\\n``, then tags of 52 bytes (``20s key, 30s value,
"\\r\\n"``): ``Version``, ``TagCount``, and ``TagCount`` further tags
(``Cols``, ``Rows``, ``PixelSizeXMeter``, ``PixelSizeYMeter``,
``DepthImageOffset``, ``InvalidPixelValue``, ``TextureImageOffset`` ...).
The depth image is little-endian float32 in metres at ``DepthImageOffset``,
each row padded to a multiple of 8 bytes. Depths that are NaN or not below
``InvalidPixelValue`` (3e15 by default) are not measured. The optional
repeatability (quality) plane is not used to mask points, like
SurfaceTopography and unlike surfalize's default.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, NotThisFormatError
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout, cstr
from .checks import header_field, pixel_size
from .registry import Format, register

MAGIC = b"AliconaImaging\x00\r\n"
TAG = Layout("<", [("key", "20s", 0), ("value", "30s", 20), ("end", "2s", 50)])
DEFAULT_INVALID = float(np.float32(3.0e15))
_MAX_TAGS = 10_000


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head.startswith(MAGIC) else 0


def _tag(path: Path, buf: bytes, pos: int) -> tuple[str, str]:
    t = TAG.read(buf, pos, str(path))
    if t["end"] != b"\r\n":
        raise CorruptFileError(path, f"corrupt tag at byte {pos} (no CR LF terminator)")
    return cstr(t["key"]), cstr(t["value"])


def _tags(path: Path, buf: bytes) -> dict[str, str]:
    """The tag list as text key -> text value."""
    if not buf[: len(MAGIC)] == MAGIC:
        raise NotThisFormatError(path, "not an AL3D file (bad magic)")
    pos = len(MAGIC)
    version, count = _tag(path, buf, pos), _tag(path, buf, pos + TAG.size)
    if version[0] != "Version" or count[0] != "TagCount" or not count[1].isdigit() or int(count[1]) > _MAX_TAGS:
        raise CorruptFileError(path, f"corrupt header: expected Version and TagCount tags, found {version} {count}")
    tags = dict([version, count])
    for i in range(int(count[1])):
        key, value = _tag(path, buf, pos + (i + 2) * TAG.size)
        tags[key] = value
    return tags


def read_al3d(path: str | os.PathLike) -> Surface:
    """Read the depth image of an Alicona ``.al3d`` file as heights in µm."""
    path = Path(path)
    buf = read_bytes(path)
    tags = _tags(path, buf)
    cols, rows = header_field(path, tags, "Cols", kind=int), header_field(path, tags, "Rows", kind=int)
    offset = header_field(path, tags, "DepthImageOffset", kind=int)
    stride = -(-cols * 4 // 8) * 8
    raw = grid_view(path, buf, offset, rows, cols, "<f4", "depth image", row_stride=stride)
    invalid_value = float(tags.get("InvalidPixelValue", "nan")) if _is_float(tags.get("InvalidPixelValue")) else np.nan
    if not np.isfinite(invalid_value):
        invalid_value = DEFAULT_INVALID
    invalid = ~(raw < np.float32(invalid_value))  # NaN compares False, so it is invalid too
    z = scaled(raw, 1e6, 0.0, invalid if invalid.any() else None)
    dx, dy = pixel_size(path, header_field(path, tags, "PixelSizeXMeter") * 1e6,
                        header_field(path, tags, "PixelSizeYMeter") * 1e6)
    meta = {
        "vendor": "Alicona",
        "instrument": None,
        "software": tags.get("CreatingApplication"),
        "z_unit": "µm",
        "channel": "height",
        "channels": ["height", "texture"] if _is_float(tags.get("TextureImageOffset")) and
        float(tags["TextureImageOffset"]) > 0 else ["height"],
        "tags": {k: v for k, v in tags.items() if v.isprintable()},
    }
    return Surface(z, dx, dy, meta)


def _is_float(text: str | None) -> bool:
    try:
        float(text)  # type: ignore[arg-type]
        return True
    except (TypeError, ValueError):
        return False


register(Format("al3d", "Alicona AL3D focus-variation data", (".al3d",), kind="height", reader=read_al3d,
                sniff=_sniff))

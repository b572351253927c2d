"""Keyence VR-series ``.zon`` height maps (structured-light 3D profilometers).

Layout (verified against a file written by a VR-6100, software 4.3.7):

- bytes 0-3: ``KPK`` plus a version character; bytes 4-7: uint32 size of an
  embedded preview image (a BMP starting at byte 8);
- after the preview, a ZIP archive whose members have GUID names. Members are
  usually zstd-compressed (frames without a stored size). Each member is
  either an XML document or a binary data block;
- a data block starts with four little-endian uint32 (columns, rows, bytes
  per item, bytes per row) followed by ``rows * bytes-per-row`` bytes:
  item size 4 = int32 heights, 1 = uint8 mask (non-zero = not measured),
  3 = RGB texture image;
- ``Calibration/XYCalibration/MeterPerPixel`` and
  ``Calibration/ZCalibration/MeterPerUnit`` (XML) give the pixel size and the
  height of one count, in metres.

Channels: ``height`` (default) and ``color`` (the RGB texture, listed only).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, NotThisFormatError
from ..model import Surface
from .binary import Layout
from .channels import flatten_xml, parse_xml, pick_channel
from .checks import header_field, mask_invalid
from .containers import ZIP_MAGIC, ZSTD_MAGIC, byte_cap, open_zip, read_member, zstd_decompress
from .limits import check_available, check_grid
from .registry import Format, register

__all__ = ["read_zon"]

HEADER = Layout("<", [("magic", "3s", 0), ("version", "c", 3), ("preview_size", "I", 4)])
DATA_BLOCK = Layout("<", [("cols", "I", 0), ("rows", "I", 4), ("itemsize", "I", 8), ("rowstride", "I", 12)])

_ITEM_HEIGHT, _ITEM_MASK, _ITEM_RGB = 4, 1, 3
_SKIP_ROOTS = {"ColorPaletteData", "DeviceDumpInformations", "DataMap"}
_XML_SMALL = 1 << 16  # metadata documents are small; larger XML (palettes, scale tables) is skipped
_OTHER_MAX = 16 << 20  # XML and unknown members may not expand beyond this
_META_KEYS = {
    "DeviceIndivisuals/DeviceModelName": "model",
    "DeviceIndivisuals/DeviceSerialId": "serial",
    "ScanInformations/ScanDateTime": "date_raw",
    "Magnification/Lens": "lens",
    "Magnification/Zoom": "optical_zoom",
    "ScanConditions/VHMagnification": "magnification",
    "Version/Profilometer": "software_version",
    "DisplayUnit/Unit": "display_unit",
}


def _sniff(head: bytes, path: Path) -> int:
    if head[:3] != b"KPK":
        return 0
    return 100 if head[8:10] == b"BM" or head[8:12] == ZIP_MAGIC else 60


def _members(path: Path, raw: bytes) -> tuple[dict[str, str], dict[int, tuple[dict, bytes]]]:
    """Metadata (flattened XML) and the first data block of each item size."""
    header = HEADER.read(raw, path=str(path))
    if header["magic"] != b"KPK":
        raise NotThisFormatError(path, "not a Keyence .zon file (no KPK header)")
    start = 8 + header["preview_size"] if 8 + header["preview_size"] <= len(raw) else 8
    archive = open_zip(path, raw, start if raw[start : start + 4] == ZIP_MAGIC else 0)
    meta: dict[str, str] = {}
    blocks: dict[int, tuple[dict, bytes]] = {}
    for info in archive.infolist():
        data = read_member(path, archive, info.filename)
        if data[:4] == ZSTD_MAGIC:
            data = zstd_decompress(path, data, cap=byte_cap(4) + 64, cap_from_head=lambda head: _declared(path, head))
        stripped = data[:8].lstrip(b"\xef\xbb\xbf \r\n\t")
        if stripped[:1] == b"<":
            if len(data) <= _XML_SMALL:
                root = parse_xml(data)
                if root is not None and root.tag not in _SKIP_ROOTS:
                    meta.update(flatten_xml(root, skip=("Palette",)))
        elif len(data) > DATA_BLOCK.size:
            block = DATA_BLOCK.read(data, path=str(path))
            if block["itemsize"] in (_ITEM_HEIGHT, _ITEM_MASK, _ITEM_RGB) and block["itemsize"] not in blocks:
                blocks[block["itemsize"]] = (block, data)
    return meta, blocks


def _declared(path: Path, head: bytes) -> int:
    """Bytes a member declares for itself: a data block's header size, or 16 MiB for anything else."""
    if head[:8].lstrip(b"\xef\xbb\xbf \r\n\t")[:1] == b"<" or len(head) < DATA_BLOCK.size:
        return _OTHER_MAX
    block = DATA_BLOCK.read(head, path=str(path))
    if block["itemsize"] not in (_ITEM_HEIGHT, _ITEM_MASK, _ITEM_RGB):
        return _OTHER_MAX
    rows, cols = check_grid(path, block["rows"], block["cols"])
    stride = min(block["rowstride"], cols * block["itemsize"] + 4096)
    return DATA_BLOCK.size + rows * stride


def _grid(path: Path, block: dict, data: bytes, dtype: str, channels: int = 1) -> np.ndarray:
    """The (rows, cols[, channels]) array of a data block, checked against the bytes present."""
    rows, cols = check_grid(path, block["rows"], block["cols"])
    item = np.dtype(dtype).itemsize * channels
    stride = block["rowstride"]
    if stride < cols * item or stride % np.dtype(dtype).itemsize:
        raise CorruptFileError(path, f"corrupt data block: row stride {stride} bytes for {cols} columns of {item} bytes")
    check_available(path, rows * stride, len(data) - DATA_BLOCK.size, "data block")
    per_row = stride // np.dtype(dtype).itemsize
    arr = np.frombuffer(data, dtype=dtype, count=rows * per_row, offset=DATA_BLOCK.size).reshape(rows, per_row)
    arr = arr[:, : cols * channels]
    return arr.reshape(rows, cols, channels) if channels > 1 else arr


def _date(text: str | None) -> str | None:
    if not text:
        return None
    clean = re.sub(r"\s+([+-]\d\d):(\d\d)$", r" \1\2", text.strip())
    for fmt in ("%m/%d/%Y %H:%M:%S %z", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(clean, fmt).isoformat()
        except ValueError:
            continue
    return text


def read_zon(path: Path, channel: str | None = None) -> Surface:
    """Read a Keyence VR ``.zon`` file.

    Parameters
    ----------
    path : Path
        The ``.zon`` file, a ZIP archive of the height and texture images with their XML headers.
    channel : str, optional
        ``"height"`` (default). The RGB texture (``"color"``) is listed in
        ``meta["channels"]`` but cannot be returned as a height map.

    Returns
    -------
    Surface
        Heights in µm (int32 counts times ``MeterPerUnit``), pixel size in µm
        from ``MeterPerPixel``; points flagged in the mask block are NaN.
    """
    raw = Path(path).read_bytes()
    meta_xml, blocks = _members(path, raw)
    available = ["height"] if _ITEM_HEIGHT in blocks else []
    if _ITEM_RGB in blocks:
        available.append("color")
    pick_channel(path, available, channel)
    step_m = header_field(path, meta_xml, "Calibration/XYCalibration/MeterPerPixel", where="the XML", positive=True)
    z_m = header_field(path, meta_xml, "Calibration/ZCalibration/MeterPerUnit", where="the XML", positive=True)
    counts = _grid(path, *blocks[_ITEM_HEIGHT], "<i4")
    z = counts * (z_m * 1e6)
    if _ITEM_MASK in blocks:
        mask_invalid(path, z, _grid(path, *blocks[_ITEM_MASK], "u1"), "invalid-point mask")
    meta = {"instrument": "Keyence VR", "vendor": "Keyence", "channel": "height", "channels": available}
    for key, name in _META_KEYS.items():
        if key in meta_xml:
            meta[name] = meta_xml[key]
    if "model" in meta:
        meta["instrument"] = f"Keyence {meta['model']}"
    meta["date"] = _date(meta.pop("date_raw", None))
    meta["z_count_m"] = z_m
    return Surface(z, step_m * 1e6, step_m * 1e6, meta)


register(Format("zon", "Keyence VR .zon", (".zon",), kind="height", reader=read_zon, sniff=_sniff))

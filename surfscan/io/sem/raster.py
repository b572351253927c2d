"""SEM micrographs saved as PNG, JPEG or BMP (decoded with OpenCV).

These containers carry no SEM calibration; a Hitachi or JEOL ``.txt`` sidecar
next to the image supplies it when present, otherwise the pixel size is None
with a warning. The image size is read from the header and checked before
anything is decoded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import CorruptFileError, FormatError, NotThisFormatError
from ...model import Micrograph
from ..binary import Layout
from ..limits import check_grid
from .micrograph import build_micrograph, calibration_facts, has_vendor_sidecar, sidecar_calibration

__all__ = ["read_sem_raster", "list_sem_raster", "sniff_raster", "image_size"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_IHDR = Layout(">", [("chunk", "4s", 12), ("width", "I", 16), ("height", "I", 20)])
_PNG_CHUNK = Layout(">", [("length", "I", 0), ("type", "4s", 4)])
_BMP_HEADER = Layout("<", [("magic", "2s", 0), ("width", "i", 18), ("height", "i", 22)])
_JPEG_SEGMENT = Layout(">", [("marker", "B", 1), ("length", "H", 2)])
_JPEG_SOF = Layout(">", [("height", "H", 5), ("width", "H", 7)])
_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_MAX_SEGMENTS = 4096


def _jpeg_size(path: Path, raw: bytes) -> tuple[int, int]:
    off = 2
    for _ in range(_MAX_SEGMENTS):
        if off + 4 > len(raw) or raw[off] != 0xFF:
            break
        seg = _JPEG_SEGMENT.read(raw, off, str(path))
        if seg["marker"] == 0xFF:  # fill byte
            off += 1
            continue
        if seg["marker"] in _SOF_MARKERS:
            sof = _JPEG_SOF.read(raw, off, str(path))
            return sof["height"], sof["width"]
        if seg["marker"] in (0xD8, 0x01) or 0xD0 <= seg["marker"] <= 0xD7:
            off += 2
            continue
        off += 2 + seg["length"]
    raise CorruptFileError(path, "truncated or corrupt JPEG: no frame header")


def _check_png_chunks(path: Path, raw: bytes) -> None:
    """Every chunk length must fit in the file (a corrupt length makes decoders allocate gigabytes)."""
    off = len(_PNG_MAGIC)
    while off + 8 <= len(raw):
        length, kind = _PNG_CHUNK.read(raw, off, str(path)).values()
        if off + 12 + length > len(raw):
            raise CorruptFileError(path, f"truncated or corrupt PNG: chunk {kind!r} declares {length} bytes")
        if kind == b"IEND":
            return
        off += 12 + length
    raise CorruptFileError(path, "truncated PNG: no IEND chunk")


def image_size(path: Path, raw: bytes) -> tuple[int, int]:
    """``(rows, columns)`` declared by a PNG, JPEG or BMP header."""
    if raw.startswith(_PNG_MAGIC):
        ihdr = _PNG_IHDR.read(raw, 0, str(path))
        if ihdr["chunk"] != b"IHDR":
            raise CorruptFileError(path, "corrupt PNG: no IHDR chunk")
        _check_png_chunks(path, raw)
        return ihdr["height"], ihdr["width"]
    if raw.startswith(b"\xff\xd8"):
        return _jpeg_size(path, raw)
    if raw.startswith(b"BM"):
        bmp = _BMP_HEADER.read(raw, 0, str(path))
        return abs(bmp["height"]), bmp["width"]
    raise NotThisFormatError(path, "not a PNG, JPEG or BMP image")


def _decode(path: Path, raw: bytes) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise CorruptFileError(path, "the image data cannot be decoded (truncated or corrupt)")
    if image.ndim == 3:
        if image.shape[2] == 1:
            image = image[..., 0]
        elif np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]):
            image = image[..., 0]
        else:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(image)


def read_sem_raster(path: str | Path) -> Micrograph:
    """Read a PNG, JPEG or BMP micrograph; calibration only from a Hitachi/JEOL sidecar."""
    path = Path(path)
    raw = path.read_bytes()
    rows, cols = check_grid(path, *image_size(path, raw))
    frame = _decode(path, raw)
    if frame.shape[:2] != (rows, cols):
        raise FormatError(path, f"decoded size {frame.shape[:2]} differs from the header's {rows} x {cols}")
    cal = sidecar_calibration(path, rows, cols)
    return build_micrograph(frame, cal, path)


def list_sem_raster(path: str | Path) -> dict:
    """What a PNG/JPEG/BMP micrograph holds, from its header and sidecar (no decoding, no bar search)."""
    path = Path(path)
    raw = path.read_bytes()
    rows, cols = check_grid(path, *image_size(path, raw))
    out: dict = {"channels": [("image", "image", (rows, cols))]}
    cal = sidecar_calibration(path, rows, cols)
    return {**out, **calibration_facts(cal)}


def sniff_raster(head: bytes, path: Path) -> int:
    """60 for PNG/JPEG/BMP (80 with a vendor sidecar), else 0."""
    if head.startswith(_PNG_MAGIC) or head.startswith(b"\xff\xd8\xff"):
        score = 60
    elif head.startswith(b"BM") and len(head) >= 26:
        score = 50
    else:
        return 0
    return 80 if has_vendor_sidecar(path) else score

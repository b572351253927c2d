"""SEM micrographs in TIFF: vendor tags (FEI/Thermo Fisher, Phenom, Zeiss, TESCAN, Hitachi) or a sidecar.

The first page is read as stored (8 or 16 bit grey, palette or RGB). The
pixel size comes from the vendor metadata; TIFF resolution tags are used only
when nothing else exists and are flagged as unreliable. Float TIFFs are
height maps and are left to the height-map TIFF reader.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from ...errors import CorruptFileError, FormatError, SurfscanError, SurfscanWarning
from ...model import Micrograph
from ..checks import DECODE_ERRORS
from ..limits import check_available, check_grid
from .calibration import Calibration
from .fei import parse_fei, parse_phenom
from .hitachi import XPCOMMENT_TAG, parse_hitachi_tag
from .micrograph import build_micrograph, calibration_facts, has_vendor_sidecar, sidecar_calibration
from .tescan import parse_tescan
from .zeiss import parse_zeiss

__all__ = ["read_sem_tiff", "sniff_sem_tiff", "VENDOR_TAGS"]

#: Tags that identify an SEM vendor's metadata.
VENDOR_TAGS = (34682, 34680, 34683, 34118, 50431)
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_MAX_TAG_BYTES = 16 << 20
_PARSERS = (parse_fei, parse_phenom, parse_zeiss, parse_tescan, parse_hitachi_tag)
_MAX_INFLATION = 1100  # no TIFF codec expands data by more than this
_PRINT_DPI_LIMIT = 1200.0  # resolutions up to this many dpi are screen/print settings, not a calibration


def _tag_values(page: Any, notes: list[str]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for code in (*VENDOR_TAGS, XPCOMMENT_TAG):
        tag = page.tags.get(code)
        if tag is None:
            continue
        if int(getattr(tag, "valuebytecount", tag.count)) > _MAX_TAG_BYTES:
            notes.append(f"tag {code} is too large to be metadata; ignored")
            continue
        try:
            out[code] = tag.value
        except DECODE_ERRORS as exc:  # a broken tag is a metadata problem, not a fatal one
            notes.append(f"tag {code} is unreadable ({type(exc).__name__})")
    return out


def _ratio(value: Any) -> float | None:
    try:
        v = value[0] / value[1] if isinstance(value, tuple) else float(value)
    except (TypeError, ZeroDivisionError, IndexError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _resolution_calibration(page: Any) -> Calibration | None:
    """Pixel size from XResolution/ResolutionUnit, flagged as unreliable; None when absent or a print dpi."""
    unit = page.tags.valueof(296, 2)
    xres = _ratio(page.tags.valueof(282))
    unit_um = {2: 25400.0, 3: 10000.0}.get(int(unit) if isinstance(unit, int) else -1)
    if xres is None or unit_um is None:
        return None
    if unit_um == 25400.0 and xres <= _PRINT_DPI_LIMIT:
        return None  # 72, 96, 300 dpi ...: a display or print setting
    cal = Calibration("unknown")
    cal.pixel_size_um = unit_um / xres
    cal.pixel_size_source = "TIFF XResolution tag (unreliable: not SEM vendor metadata)"
    cal.notes.append("pixel size taken from the TIFF resolution tag, which is often not the SEM calibration; check it")
    return cal


def _check_page(path: Path, page: Any, file_size: int) -> tuple[int, int]:
    rows, cols = check_grid(path, page.imagelength, page.imagewidth)
    samples = int(page.samplesperpixel)
    if samples not in (1, 2, 3, 4):
        raise FormatError(path, f"{samples} samples per pixel is not an SEM image")
    if int(getattr(page, "imagedepth", 1) or 1) != 1:
        raise FormatError(path, "volume TIFF pages are not SEM images")
    counts = [int(c) for c in page.databytecounts]
    offsets = [int(o) for o in page.dataoffsets]
    if not counts or min(offsets) < 0:
        raise FormatError(path, "the TIFF page has no image data")
    check_available(path, sum(counts), file_size, "compressed image data")
    needed = rows * cols * samples * max(1, math.ceil(int(page.bitspersample) / 8))
    if page.compression == 1:
        check_available(path, needed, file_size - min(offsets), "image data")
    elif needed > _MAX_INFLATION * sum(counts) + (64 << 20):
        raise CorruptFileError(path, f"declared {rows} x {cols} image cannot come from {sum(counts)} compressed bytes")
    return rows, cols


def _palette(page: Any, image: np.ndarray) -> np.ndarray:
    cmap = page.colormap
    if cmap is None or image.dtype.kind not in "ui":
        return image
    cmap = np.asarray(cmap)
    idx = np.clip(image, 0, cmap.shape[1] - 1)
    scale = 257 if cmap.max() > 255 else 1
    if np.array_equal(cmap[0], cmap[1]) and np.array_equal(cmap[0], cmap[2]):
        lut = (cmap[0] // scale).astype(np.uint8)
        return image if np.array_equal(lut[: min(256, len(lut))], np.arange(min(256, len(lut)))) else lut[idx]
    return (np.moveaxis(cmap, 0, -1)[idx] // scale).astype(np.uint8)


def _frame(path: Path, page: Any) -> np.ndarray:
    image = page.asarray()
    if page.photometric == 3:
        image = _palette(page, image)
    if image.ndim == 3 and image.shape[0] in (2, 3, 4) and image.shape[-1] not in (2, 3, 4):
        image = np.moveaxis(image, 0, -1)
    if image.ndim == 3 and image.shape[-1] == 2:
        image = image[..., 0]
    if (
        image.ndim == 3
        and np.array_equal(image[..., 0], image[..., 1])
        and np.array_equal(image[..., 0], image[..., 2])
    ):
        image = image[..., 0]
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if page.photometric == 0 and image.dtype.kind == "u":  # MINISWHITE
        image = np.iinfo(image.dtype).max - image
    if image.ndim not in (2, 3):
        raise FormatError(path, f"unexpected image shape {image.shape}")
    return np.ascontiguousarray(image)


def _load(path: Path, file_size: int, notes: list[str]) -> tuple:
    """First page, its size, vendor tag values, page count and resolution calibration."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tifffile's own remarks on odd files
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            rows, cols = _check_page(path, page, file_size)
            tags = _tag_values(page, notes)
            frame = _frame(path, page)
            return frame, rows, cols, tags, len(tif.pages), _resolution_calibration(page)


def read_sem_tiff(path: str | Path) -> Micrograph:
    """Read an SEM TIFF: the first page, its calibration, the information bar removed.

    Returns
    -------
    Micrograph
        ``pixel_size`` in µm (None with a warning when the file has no
        calibration); ``meta`` holds vendor, instrument, hv_kV,
        magnification, working_distance_mm, detector, date,
        pixel_size_source, databar_rows, frame_shape and full_frame.
    """
    path = Path(path)
    file_size = path.stat().st_size
    notes: list[str] = []
    try:
        frame, rows, cols, tags, pages, resolution = _load(path, file_size, notes)
    except (SurfscanError, OSError):
        raise
    except MemoryError:
        raise FormatError(path, "not enough memory to read this TIFF") from None
    except DECODE_ERRORS as exc:  # tifffile's many ways of saying "corrupt"
        raise CorruptFileError(path, f"corrupt TIFF ({type(exc).__name__}: {exc})") from None
    cal = _calibration(path, tags, rows, cols, resolution, notes)
    for note in notes if cal is None else []:
        warnings.warn(f"{path}: {note}", SurfscanWarning, stacklevel=2)
    return build_micrograph(frame, cal, path, pages=pages)


def _calibration(path: Path, tags: dict[int, Any], rows: int, cols: int, resolution: Calibration | None,
                 notes: list[str]) -> Calibration | None:
    """The calibration of a page: vendor tags first, then a sidecar, then the resolution tags."""
    cal = None
    for parse in _PARSERS:
        cal = parse(tags, rows, cols)
        if cal is not None:
            break
    cal = cal or sidecar_calibration(path, rows, cols)
    if cal is not None and cal.pixel_size_um is None and resolution is not None:
        cal.notes.append("the vendor metadata holds no pixel size")
    if cal is None or cal.pixel_size_um is None:
        cal = _merge_resolution(cal, resolution)
    if cal is not None:
        cal.notes[:0] = notes
    return cal


def list_sem_tiff(path: str | Path) -> dict[str, Any]:
    """What an SEM TIFF holds, from its tags: no pixels decoded, no information-bar search.

    Returns
    -------
    dict
        ``channels`` (one ``(name, quantity, shape)``: the first page, ``"image"``
        or ``"color"``), ``dtype``, ``pages`` and, when the metadata gives them,
        ``pixel_size_um``, ``pixel_size_source``, ``databar_rows`` and the
        vendor facts (``vendor``, ``instrument``, ``hv_kV`` ...).
    """
    path = Path(path)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with tifffile.TiffFile(path) as tif:
                page = tif.pages.first
                rows, cols = _check_page(path, page, path.stat().st_size)
                tags = _tag_values(page, notes)
                colour = int(page.samplesperpixel) >= 3 and page.photometric == 2
                dtype, pages, resolution = str(page.dtype), len(tif.pages), _resolution_calibration(page)
        except DECODE_ERRORS as exc:  # tifffile's many ways of saying "corrupt"
            raise CorruptFileError(path, f"corrupt TIFF ({type(exc).__name__}: {exc})") from None
        cal = _calibration(path, tags, rows, cols, resolution, notes)
    out: dict[str, Any] = {"channels": [("image", "color" if colour else "image", (rows, cols))], "dtype": dtype,
                           "pages": pages}
    return {**out, **calibration_facts(cal)}


def _merge_resolution(cal: Calibration | None, resolution: Calibration | None) -> Calibration | None:
    if resolution is None:
        return cal
    if cal is None:
        return resolution
    cal.pixel_size_um, cal.pixel_size_source = resolution.pixel_size_um, resolution.pixel_size_source
    cal.notes.extend(resolution.notes)
    return cal


def sniff_sem_tiff(head: bytes, path: Path) -> int:
    """80 for a TIFF with SEM vendor metadata (tag or sidecar), 40 for a plain integer image, else 0."""
    if not head.startswith(_TIFF_MAGIC):
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with tifffile.TiffFile(path) as tif:
                page = tif.pages.first
                codes = set(page.tags.keys())
                is_float = page.sampleformat == 3
                if codes.intersection(VENDOR_TAGS):
                    return 80
                if XPCOMMENT_TAG in codes and parse_hitachi_tag(_tag_values(page, []), 1, 1) is not None:
                    return 80
        except DECODE_ERRORS:  # a TIFF tifffile cannot parse: not an SEM TIFF it can read
            return 0
    if has_vendor_sidecar(path):
        return 80
    return 0 if is_float else 40

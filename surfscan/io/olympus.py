"""Olympus/Evident LEXT laser confocal files: ``.lext`` (OLS4000/4100) and ``.ols`` (OLS3000).

**Not yet verified against an instrument file**: both readers follow the
layouts documented by Gwyddion (``lextfile.c``, ``ols.c``), surfalize and
SurfaceTopography, and are tested on TIFF files built from those layouts.

``.lext`` — a multi-page little-endian TIFF:

- the first page's ImageDescription is an XML document ``<TiffTagDescData>``
  with ``HeightInfo/HeightDataPerPixelX``, ``...Y`` (picometres per pixel) and
  ``...Z`` (picometres per height count), likewise ``IntensityInfo``;
- an optional maker calibration, ``ImageCommonSettingsInfo/MakerCalibrationValueX``
  (``Y``, ``Z``), sits in an ``<ExifTagDescData>`` XML document in the Exif
  DeviceSettingDescription tag; each value is a factor times 10^6 (1 if absent);
- every other page's ImageDescription names its channel: ``HEIGHT``,
  ``INTENSITY``, ``COLOR``, ``THUMBNAIL`` or ``INVALID`` (a 1-bit mask whose
  set bits are non-measured points); the first page's channel is guessed from
  its sample format (16-bit grey: intensity, 8-bit RGB: colour).

``.ols`` (OLS3000) — a TIFF whose ImageDescription is INI-like text with
``System Name = OLS`` and sections ``[Data N Info]`` ... ``[Data N Info End]``
holding ``XY Convert Value`` (nm per pixel) and ``Z Convert Value`` (nm per
count for the height page) for page N-1; page 0 is the texture (intensity),
page 1 the heights.

Channels: ``height`` (default), ``intensity`` (raw counts as a Surface, see
:mod:`surfscan.io.channels`), ``color`` (listed only).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, FormatError, NotThisFormatError, UnsupportedFeatureError
from ..model import Surface
from .channels import INTENSITY_UNIT, flatten_xml, parse_xml, pick_channel
from .checks import DECODE_ERRORS, decoding, header_field, mask_invalid
from .limits import check_available, check_grid
from .registry import Format, register

__all__ = ["read_lext", "read_ols"]

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
_LEXT_MARK = "<TiffTagDescData"
_OLS_MARK = re.compile(r"System Name\s*=\s*OLS")
_PM_UM = 1e-6
_NM_UM = 1e-3


def _description(path: Path) -> str:
    """ImageDescription of the first TIFF page ('' when unreadable); both sniffers share one look."""
    try:
        st = Path(path).stat()
    except OSError:
        return ""
    return _cached_description(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _cached_description(path: str, mtime_ns: int, size: int) -> str:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return tif.pages.first.description or ""
    except (*DECODE_ERRORS, OSError):  # a TIFF tifffile cannot parse: no description to look at
        return ""


def _sniff_lext(head: bytes, path: Path) -> int:
    if head[:4] not in _TIFF_MAGIC:
        return 0
    if _LEXT_MARK.encode() in head:
        return 100
    return 100 if _LEXT_MARK in _description(path) else 0


def _sniff_ols(head: bytes, path: Path) -> int:
    if head[:4] not in _TIFF_MAGIC:
        return 0
    if _OLS_MARK.search(head.decode("latin-1")):
        return 100
    return 100 if _OLS_MARK.search(_description(path)) else 0


def page_array(path: Path, page: Any, file_size: int) -> np.ndarray:
    """A TIFF page's pixels, with its declared size checked before decoding.

    Uncompressed pages must fit in the bytes their strips declare, and the
    strips in the file; compressed pages are bounded by the grid cap.
    """
    with decoding(path, "TIFF page"):  # tifffile parses a page's tags lazily
        rows, cols = check_grid(path, page.imagelength, page.imagewidth)
        spp, bits = int(page.samplesperpixel), int(page.bitspersample)
        if spp < 1 or spp > 4 or bits not in (1, 8, 16, 32, 64):
            raise UnsupportedFeatureError(path, f"unsupported TIFF sample format ({spp} samples of {bits} bits)")
        check_grid(path, rows, cols * spp)
        for off, count in zip(page.dataoffsets, page.databytecounts):
            check_available(path, int(off) + int(count), file_size, "TIFF strip")
        if int(page.compression) == 1:
            needed = (rows * ((cols * spp * bits + 7) // 8)) if bits == 1 else rows * cols * spp * bits // 8
            check_available(path, needed, int(sum(page.databytecounts)), "TIFF image data")
        return page.asarray()


def _tiff_pages(path: Path) -> tuple[Any, list[Any], int]:
    import tifffile

    tif = None
    try:
        tif = tifffile.TiffFile(path)
        pages = list(tif.pages)
    except DECODE_ERRORS as exc:  # tifffile's ways of saying "corrupt"
        if tif is not None:
            tif.close()
        raise CorruptFileError(path, f"not a readable TIFF file ({type(exc).__name__}: {exc})") from None
    if not pages:
        tif.close()
        raise FormatError(path, "the TIFF file holds no image")
    return tif, pages, Path(path).stat().st_size


# ----------------------------------------------------------------------------- LEXT


def _lext_title(page: Any, index: int) -> str | None:
    if index > 0:
        return (page.description or "").strip().lower() or None
    spp, bits = int(page.samplesperpixel), int(page.bitspersample)
    if spp == 3 and bits == 8:
        return "thumbnail" if (page.imagelength, page.imagewidth) == (128, 128) else "color"
    if spp == 1 and bits == 1:
        return "invalid"
    if spp == 1 and bits == 16:
        return "intensity"
    return None


def _lext_channels(pages: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, page in enumerate(pages):
        title = _lext_title(page, i)
        if title and title not in found:
            found[title] = i
    return found


def _exif_calibration(path: Path, page: Any) -> tuple[dict[str, str], tuple[float, float, float]]:
    """The ``<ExifTagDescData>`` metadata and (x, y, z) maker calibration factors (1 when absent)."""
    try:
        exif = page.tags["ExifTag"].value if "ExifTag" in page.tags else {}
        text = exif.get("DeviceSettingDescription", b"") if isinstance(exif, dict) else b""
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("latin-1")
        start = str(text).find("<ExifTagDescData")
        root = parse_xml(str(text)[start:]) if start >= 0 else None
    except DECODE_ERRORS:  # an unreadable Exif tag: metadata only
        root = None
    params = flatten_xml(root) if root is not None else {}
    factors = []
    for axis in "XYZ":
        value = params.get(f"ExifTagDescData/ImageCommonSettingsInfo/MakerCalibrationValue{axis}")
        try:
            f = float(value) * 1e-6 if value is not None else 1.0
        except ValueError:
            f = 1.0
        factors.append(f if np.isfinite(f) and f > 0 else 1.0)
    return params, (factors[0], factors[1], factors[2])


def _lext_scale(path: Path, params: dict[str, str], key: str, axis: str) -> float:
    return header_field(path, params, f"TiffTagDescData/{key}Info/{key}DataPerPixel{axis}",
                        where="the LEXT calibration")


def _lext_meta(params: dict[str, str], exif: dict[str, str], channels: dict[str, int]) -> dict[str, Any]:
    meta: dict[str, Any] = {"instrument": "Olympus LEXT", "vendor": "Olympus",
                            "channels": [c for c in channels if c not in ("thumbnail", "invalid")]}
    wanted = {"ObjectiveLensType": "objective", "ObjectiveLensMagnification": "objective_magnification",
              "ZoomMagnification": "optical_zoom", "ImageDate": "date", "DeviceName": "model",
              "LaserWavelength": "wavelength_nm"}
    for key, value in {**params, **exif}.items():
        leaf = key.rsplit("/", 1)[-1]
        if leaf in wanted and wanted[leaf] not in meta:
            meta[wanted[leaf]] = value
    meta["lext"] = {k.split("/", 1)[-1]: v for k, v in list(params.items())[:400]}
    return meta


def read_lext(path: Path, channel: str | None = None, invalid_mask: bool = True) -> Surface:
    """Read an Olympus LEXT ``.lext`` file.

    Parameters
    ----------
    path : Path
        The ``.lext`` file, a TIFF whose pages hold the height, intensity and ``INVALID`` images.
    channel : str, optional
        ``"height"`` (default) or ``"intensity"``.
    invalid_mask : bool
        Turn points flagged in the ``INVALID`` page into NaN (default True).

    Returns
    -------
    Surface
        Heights in µm: counts x ``HeightDataPerPixelZ`` (pm) x maker
        calibration; pixel size from ``HeightDataPerPixelX/Y`` (pm).
    """
    tif, pages, size = _tiff_pages(path)
    with tif:
        root = parse_xml((pages[0].description or "")[(pages[0].description or "").find(_LEXT_MARK):])
        if root is None:
            raise NotThisFormatError(path, "not an Olympus LEXT file (no readable <TiffTagDescData> description)")
        params = flatten_xml(root)
        exif, (xcal, ycal, zcal) = _exif_calibration(path, pages[0])
        channels = _lext_channels(pages)
        name = pick_channel(path, [c for c in channels if c not in ("thumbnail", "invalid")], channel)
        key = "Height" if name == "height" else "Intensity"
        data = page_array(path, pages[channels[name]], size)
        if data.ndim == 3:
            data = data[..., 0]
        dx = _lext_scale(path, params, key, "X") * xcal * _PM_UM
        dy = _lext_scale(path, params, key, "Y") * ycal * _PM_UM
        meta = _lext_meta(params, exif, channels)
        meta["channel"] = name
        if name == "height":
            z = data * (_lext_scale(path, params, "Height", "Z") * zcal * _PM_UM)
            if invalid_mask and "invalid" in channels:
                mask_invalid(path, z, page_array(path, pages[channels["invalid"]], size), "INVALID mask")
        else:
            z = data.astype(np.float64)
            meta["z_unit"] = INTENSITY_UNIT
    return Surface(z, dx, dy, meta, quantity="height" if name == "height" else "intensity")


# ----------------------------------------------------------------------------- OLS


def parse_ols_header(text: str) -> dict[str, str]:
    """``Section::Key -> value`` from the OLS3000 INI-like description (malformed lines are skipped)."""
    out: dict[str, str] = {}
    section = ""
    for line in text.splitlines()[:20000]:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            section = "" if section and name == f"{section} End" else name
        elif "=" in line and section:
            key, value = line.split("=", 1)
            out[f"{section}::{key.strip()}"] = value.strip()
    return out


def _ols_value(path: Path, header: dict[str, str], key: str) -> float:
    return header_field(path, header, key, where="the OLS header")


def read_ols(path: Path, channel: str | None = None) -> Surface:
    """Read an Olympus LEXT OLS3000 ``.ols`` file.

    Parameters
    ----------
    path : Path
        The ``.ols`` file, a TIFF with the texture on page 0 and the heights on page 1.
    channel : str, optional
        ``"height"`` (page 1, default) or ``"intensity"`` (page 0, the texture).

    Returns
    -------
    Surface
        Heights in µm (counts x ``Z Convert Value`` nm), pixel size from
        ``XY Convert Value`` (nm).
    """
    tif, pages, size = _tiff_pages(path)
    with tif:
        text = pages[0].description or ""
        if not _OLS_MARK.search(text):
            raise NotThisFormatError(path, "not an Olympus OLS file (no 'System Name = OLS' description)")
        header = parse_ols_header(text)
        available = ["height", "intensity"] if len(pages) > 1 else ["intensity"]
        name = pick_channel(path, available, channel)
        index = 1 if name == "height" else 0
        data = page_array(path, pages[index], size)
        if data.ndim == 3:
            data = data[..., 0]
        step = abs(_ols_value(path, header, f"Data {index + 1} Info::XY Convert Value")) * _NM_UM
        meta: dict[str, Any] = {"instrument": "Olympus LEXT OLS3000", "vendor": "Olympus", "channel": name,
                                "channels": available, "ols": dict(list(header.items())[:400])}
        if name == "height":
            z = data * (_ols_value(path, header, "Data 2 Info::Z Convert Value") * _NM_UM)
        else:
            z = data.astype(np.float64)
            meta["z_unit"] = INTENSITY_UNIT
    if not step > 0:
        raise CorruptFileError(path, "the OLS header gives a zero pixel size")
    return Surface(z, step, step, meta, quantity="height" if name == "height" else "intensity")


register(Format("lext", "Olympus LEXT .lext (layout only, not yet verified on an instrument file)", (".lext",),
                kind="height", reader=read_lext, sniff=_sniff_lext, verified=False))
register(Format("ols", "Olympus LEXT OLS3000 .ols (layout only, not yet verified on an instrument file)", (".ols",),
                kind="height", reader=read_ols, sniff=_sniff_ols, verified=False))

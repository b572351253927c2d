"""Float TIFF height maps (float32 / float64), read and write.

Calibration, in this order:

1. The JSON ImageDescription that :func:`write_tiff_height` writes::

       {"surfscan": 1, "dx_um": 0.15, "dy_um": 0.15, "z_unit": "um"}

   ``z_unit`` is one of ``m``, ``mm``, ``um``, ``nm``; heights are scaled to µm.
2. An ImageJ description (``unit=micron``, ``um``, ``nm`` or ``mm``) with the
   XResolution/YResolution tags in pixels per that unit.
3. The XResolution/YResolution tags when ResolutionUnit is centimetre or
   inch (pixel size = 1 cm or 1 inch / resolution).
4. Otherwise 1 µm pixels, with a :class:`~surfscan.errors.SurfscanWarning`.

Without the JSON description the heights are taken as µm, with a warning.
NaN stays NaN (not measured). Integer TIFFs are SEM-like images, not height
maps: the sniffer gives them no score (the ``sem-tiff`` format reads them)
and this reader refuses them.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, NotThisFormatError, SurfscanWarning
from ..model import Surface
from .checks import DECODE_ERRORS, decoding
from .limits import check_available, check_grid
from .registry import Format, register

__all__ = ["read_tiff_height", "write_tiff_height", "Z_UNITS"]

#: Height units accepted in the JSON description, with their factor to µm.
Z_UNITS = {"m": 1e6, "mm": 1e3, "um": 1.0, "µm": 1.0, "micron": 1.0, "nm": 1e-3}
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_RES_UNIT_UM = {2: 25400.0, 3: 10000.0}  # inch, centimetre
_IMAGEJ_UNIT_UM = {"micron": 1.0, "um": 1.0, "µm": 1.0, "\\u00B5m": 1.0, "nm": 1e-3, "mm": 1e3}


def _surfscan_description(text: str | None) -> dict[str, Any] | None:
    """The JSON description our writer puts in ImageDescription, or None."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        d = json.loads(text)
    except ValueError:
        return None
    return d if isinstance(d, dict) and "surfscan" in d else None


def _sniff(head: bytes, path: Path) -> int:
    """60 for a TIFF with float samples or our JSON description; 0 for integer images."""
    if not head.startswith(_TIFF_MAGIC):
        return 0
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            if _surfscan_description(page.description) is not None:
                return 60
            return 60 if page.dtype is not None and page.dtype.kind == "f" else 0
    except DECODE_ERRORS:  # a TIFF tifffile cannot parse: not a float height map
        return 0


def _resolution_um(page: Any, imagej: dict | None) -> tuple[float, float, str] | None:
    """Pixel size (dx, dy) in µm from the resolution tags, or None."""
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return None
    xr, yr = (tags[k].value for k in ("XResolution", "YResolution"))
    xres = xr[0] / xr[1] if xr[1] else 0.0
    yres = yr[0] / yr[1] if yr[1] else 0.0
    if xres <= 0 or yres <= 0:
        return None
    unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
    if imagej and str(imagej.get("unit", "")).lower() in _IMAGEJ_UNIT_UM:
        scale = _IMAGEJ_UNIT_UM[str(imagej["unit"]).lower()]
        return scale / xres, scale / yres, f"ImageJ resolution ({imagej['unit']})"
    if unit in _RES_UNIT_UM:
        scale = _RES_UNIT_UM[unit]
        return scale / xres, scale / yres, "TIFF resolution tags"
    return None


def _calibration(path: Path, page: Any, imagej: dict | None) -> tuple[float, float, float, str]:
    """(dx_um, dy_um, z factor to µm, source) from the description or the tags."""
    desc = _surfscan_description(page.description)
    if desc is not None:
        try:
            dx, dy = float(desc["dx_um"]), float(desc["dy_um"])
            zfac = Z_UNITS[str(desc.get("z_unit", "um"))]
            if dx > 0 and dy > 0 and np.isfinite(dx) and np.isfinite(dy):
                return dx, dy, zfac, "surfscan description"
        except (KeyError, TypeError, ValueError):
            pass
        warnings.warn(f"{path}: unreadable surfscan calibration in the TIFF description", SurfscanWarning, stacklevel=3)
    warnings.warn(
        f"{path}: TIFF height map without a surfscan description; heights taken as µm", SurfscanWarning, stacklevel=3
    )
    res = _resolution_um(page, imagej)
    if res is not None:
        return res[0], res[1], 1.0, res[2]
    warnings.warn(f"{path}: no usable pixel size in the TIFF; assuming 1 µm pixels", SurfscanWarning, stacklevel=3)
    return 1.0, 1.0, 1.0, "none (1 µm assumed)"


def _check_page(path: Path, page: Any) -> tuple[int, int]:
    """Refuse non-float or non-2-D pages and sizes the file cannot hold, before decoding."""
    if page.dtype is None or page.dtype.kind != "f":
        raise NotThisFormatError(path, f"a {page.dtype} TIFF is an image, not a float height map (read it as an SEM image)")
    shape = tuple(int(n) for n in page.shape)
    if len(shape) != 2:
        raise FormatError(path, f"a height map TIFF needs one 2-D float channel, this page has shape {shape}")
    rows, cols = check_grid(path, *shape)
    size = path.stat().st_size
    ends = [int(o) + int(c) for o, c in zip(page.dataoffsets, page.databytecounts)]
    check_available(path, max(ends, default=0), size, "image data")
    if page.compression == 1:
        check_available(path, rows * cols * page.dtype.itemsize, sum(int(c) for c in page.databytecounts), "pixels")
    return rows, cols


def read_tiff_height(path: str | Path) -> Surface:
    """Read a float32/float64 TIFF as a height map in µm.

    Parameters
    ----------
    path : str or Path
        The TIFF file (first page).

    Returns
    -------
    Surface
        Heights in µm (NaN kept), pixel size in µm; ``meta["pixel_size_source"]``
        says where the calibration came from.
    """
    import tifffile

    path = Path(path)
    with decoding(path, "TIFF"), tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        _check_page(path, page)
        dx, dy, zfac, source = _calibration(path, page, tif.imagej_metadata)
        z = page.asarray().astype(np.float64)
        desc = _surfscan_description(page.description) or {}
    if zfac != 1.0:
        z *= zfac
    z[~np.isfinite(z)] = np.nan
    meta = {k: v for k, v in desc.items() if k not in ("surfscan", "dx_um", "dy_um", "z_unit")}
    meta.setdefault("instrument", None)
    meta["pixel_size_source"] = source
    return Surface(z, dx, dy, meta)


def _jsonable_meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in meta.items():
        if key in ("history", "source_file", "format", "pixel_size_source"):
            continue
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
    return out


def write_tiff_height(surface: Surface, path: str | Path, dtype: str = "float64") -> None:
    """Write a height map as a float TIFF with the JSON calibration description.

    Parameters
    ----------
    surface : Surface
        Heights in µm (NaN kept), ``dx``/``dy`` in µm.
    path : str or Path
        The ``.tif``/``.tiff`` file.
    dtype : {"float64", "float32"}
        Sample type; float64 (default) is lossless.

    Notes
    -----
    The description is ``{"surfscan": 1, "dx_um", "dy_um", "z_unit": "um"}``
    plus the simple (text/number) metadata entries; the resolution tags are
    also set (pixels per centimetre) for other software.
    """
    import tifffile

    if dtype not in ("float64", "float32"):
        raise FormatError(path, f"TIFF height maps are float64 or float32, not {dtype!r}")
    desc = {"surfscan": 1, "dx_um": surface.dx, "dy_um": surface.dy, "z_unit": "um", **_jsonable_meta(surface.meta)}
    tifffile.imwrite(
        path,
        surface.z.astype(dtype),
        description=json.dumps(desc, ensure_ascii=True),
        metadata=None,
        resolution=(1e4 / surface.dx, 1e4 / surface.dy),
        resolutionunit="CENTIMETER",
        photometric="minisblack",
    )


register(Format("tiff-height", "TIFF float height map (float32/float64)", (".tif", ".tiff"), kind="height",
                reader=read_tiff_height, writer=write_tiff_height, sniff=_sniff))

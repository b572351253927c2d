"""Writing ISO 25178-72 X3P files (binary encoding); the reader is :mod:`surfscan.io.x3p`.

The file has incremental X/Y axes (spacing in metres), an absolute CZ axis
in the binary encoding (``bindata/data.bin``, X fastest, little-endian),
``bindata/valid.bin`` (one bit per point, least significant bit first) when
the map has NaN points, and MD5 checksums of ``main.xml``, ``data.bin`` and
``valid.bin``. Record2 is filled from the Surface's ``meta`` with the keys
the reader uses (``manufacturer``, ``model``, ``serial``,
``software_version``, ``date``, ``calibration_date``, ``probing_system``,
``probing_identification``, ``creator``, ``comment``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..model import Surface

__all__ = ["write_x3p"]

_DTYPES = {"I": np.dtype("<i2"), "L": np.dtype("<i4"), "F": np.dtype("<f4"), "D": np.dtype("<f8")}
_M_TO_UM = 1e6
_NS = "http://www.opengps.eu/2008/ISO5436_2"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _metres(um: float) -> str:
    """Shortest text of a length in metres that reads back (``* 1e6``) to exactly ``um``."""
    base = um / _M_TO_UM
    for cand in (base, um * 1e-6, *(np.nextafter(base, d) for d in (np.inf, -np.inf))):
        if float(repr(float(cand))) * _M_TO_UM == um:
            return repr(float(cand))
    return repr(float(base))


def _zip_time(meta: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    """Zip entry time: the measurement date when it parses (reproducible output), else now."""
    try:
        when = _dt.datetime.fromisoformat(str(meta["date"]))
    except (KeyError, ValueError):
        when = _dt.datetime.now()
    when = max(when.replace(tzinfo=None), _dt.datetime(1980, 1, 1))
    return when.timetuple()[:6]


def _encode_z(surface: Surface, dtype: str, z_increment_um: float | None) -> tuple[bytes, float, float]:
    """Point data bytes of CZ and the (increment, offset) in metres written to main.xml."""
    z = surface.z
    if dtype in ("D", "F"):
        data = (z / _M_TO_UM).astype(_DTYPES[dtype])
        return data.tobytes(), 1.0, 0.0
    info = np.iinfo(_DTYPES[dtype])
    valid = surface.valid
    lo, hi = (float(np.nanmin(z)), float(np.nanmax(z))) if valid.any() else (0.0, 0.0)
    offset = 0.5 * (lo + hi)
    inc = z_increment_um or max((hi - lo) / (2.0 * (info.max - 2)), 1e-9)
    scaled = np.where(valid, (z - offset) / inc, 0.0)
    if np.abs(scaled).max(initial=0.0) > info.max - 1:
        raise FormatError(None, f"heights span {hi - lo:.6g} µm, too much for {dtype} with an increment of {inc} µm")
    return np.rint(scaled).astype(_DTYPES[dtype]).tobytes(), inc / _M_TO_UM, offset / _M_TO_UM


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    elem = ET.SubElement(parent, tag)
    if text is not None:
        elem.text = str(text)
    return elem


def _main_xml(
    surface: Surface, dtype: str, z_scale: tuple[float, float], md5s: dict[str, str], comment: str | None
) -> bytes:
    meta = surface.meta
    root = ET.Element(
        "p:ISO5436_2", {"xmlns:p": _NS, "xmlns:xsi": _XSI, "xsi:schemaLocation": f"{_NS} {_NS}/ISO5436_2.xsd"}
    )
    rec1 = _sub(root, "Record1")
    _sub(rec1, "Revision", "ISO5436 - 2000")
    _sub(rec1, "FeatureType", "SUR")
    axes = _sub(rec1, "Axes")
    for name, step in (("CX", surface.dx), ("CY", surface.dy)):
        ax = _sub(axes, name)
        _sub(ax, "AxisType", "I")
        _sub(ax, "DataType", "D")
        _sub(ax, "Increment", _metres(step))
        _sub(ax, "Offset", "0")
    cz = _sub(axes, "CZ")
    _sub(cz, "AxisType", "A")
    _sub(cz, "DataType", dtype)
    if dtype in ("I", "L"):
        _sub(cz, "Increment", repr(z_scale[0]))
        _sub(cz, "Offset", repr(z_scale[1]))
    rec2 = _sub(root, "Record2")
    date = str(meta.get("date") or _dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    _sub(rec2, "Date", date)
    if meta.get("creator"):
        _sub(rec2, "Creator", meta["creator"])
    inst = _sub(rec2, "Instrument")
    for key, tag in (
        ("manufacturer", "Manufacturer"),
        ("model", "Model"),
        ("serial", "Serial"),
        ("software_version", "Version"),
    ):
        _sub(inst, tag, meta.get(key) or "not available")
    _sub(rec2, "CalibrationDate", meta.get("calibration_date") or date)
    probe = _sub(rec2, "ProbingSystem")
    ptype = meta.get("probing_system")
    _sub(probe, "Type", ptype if ptype in ("Contacting", "NonContacting", "Software") else "Software")
    _sub(probe, "Identification", meta.get("probing_identification") or "not available")
    _sub(rec2, "Comment", comment if comment is not None else (meta.get("comment") or "written by surfscan"))
    rec3 = _sub(root, "Record3")
    dims = _sub(rec3, "MatrixDimension")
    _sub(dims, "SizeX", surface.shape[1])
    _sub(dims, "SizeY", surface.shape[0])
    _sub(dims, "SizeZ", 1)
    link = _sub(rec3, "DataLink")
    _sub(link, "PointDataLink", "bindata/data.bin")
    _sub(link, "MD5ChecksumPointData", md5s["data"])
    if "valid" in md5s:
        _sub(link, "ValidPointsLink", "bindata/valid.bin")
        _sub(link, "MD5ChecksumValidPoints", md5s["valid"])
    rec4 = _sub(root, "Record4")
    _sub(rec4, "ChecksumFile", "md5checksum.hex")
    ET.indent(root, space="  ")
    text = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text.encode("utf-8")


def write_x3p(
    surface: Surface,
    path: str | Path,
    dtype: str = "D",
    z_increment_um: float | None = None,
    comment: str | None = None,
    compresslevel: int = 6,
) -> None:
    """Write a height map as an ISO 25178-72 X3P file (binary encoding).

    Parameters
    ----------
    surface : Surface
        Heights in µm (NaN = invalid), ``dx``/``dy`` in µm. Record2 is filled
        from ``meta`` keys as :func:`read_x3p` names them.
    path : str or Path
        The ``.x3p`` file to write.
    dtype : {"D", "F", "I", "L"}
        CZ data type: float64 (default, lossless), float32, int16 or int32.
    z_increment_um : float, optional
        Height step of the integer types in µm; by default the range of the
        heights is spread over the type's range.
    comment : str, optional
        Record2 comment (default: ``meta["comment"]`` or "written by surfscan").
    compresslevel : int
        Deflate level of the archive entries (0-9).
    """
    path = Path(path)
    dtype = dtype.upper()
    if dtype not in _DTYPES:
        raise FormatError(path, f"X3P data type must be one of D, F, I, L, not {dtype!r}")
    try:
        data, inc, off = _encode_z(surface, dtype, z_increment_um)
    except FormatError as exc:
        raise FormatError(path, exc.reason) from None
    md5s = {"data": hashlib.md5(data).hexdigest()}
    valid_bytes = None
    if surface.has_invalid:
        valid_bytes = np.packbits(surface.valid.ravel(), bitorder="little").tobytes()
        md5s["valid"] = hashlib.md5(valid_bytes).hexdigest()
    xml = _main_xml(surface, dtype, (inc, off), md5s, comment)
    stamp = _zip_time(surface.meta)
    entries = [("main.xml", xml), ("bindata/data.bin", data)]
    if valid_bytes is not None:
        entries.append(("bindata/valid.bin", valid_bytes))
    entries.append(("md5checksum.hex", f"{hashlib.md5(xml).hexdigest()} *main.xml\n".encode("ascii")))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload, compresslevel=compresslevel)

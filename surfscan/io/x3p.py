"""ISO 25178-72 X3P height maps (the openGPS "ISO5436_2" zip format), read and write.

An X3P file is a zip archive holding ``main.xml`` (axes, instrument record,
data link or inline ``<DataList>``), ``md5checksum.hex`` (the MD5 of
``main.xml``) and, for the binary encoding, ``bindata/data.bin`` with an
optional ``bindata/valid.bin`` bit mask.

Reading
-------
- ``FeatureType`` SUR (areal) and PRF (a profile, returned as a one-row
  Surface); PCL (point cloud) is refused: it is not a grid.
- ``CZ`` data types I (int16), L (int32), F (float32), D (float64). The
  axis ``Increment`` (default 1) and ``Offset`` (default 0; an empty
  ``<Offset/>`` is 0) are applied to every data type: ``z = raw * Increment
  + Offset``.
- Invalid points: an empty ``<Datum/>`` in the XML encoding; a cleared bit
  in ``valid.bin`` (one bit per point, least significant bit first, X
  fastest, checked against the openGPS samples); NaN or inf in float data.
- Lengths in the file are metres; the Surface is in µm. Rows are Y, columns
  X (X is the fastest index in the file). Non-square pixels are kept.
- Lateral axes of type A (absolute: coordinates listed per point) on a
  matrix must be evenly spaced; the spacing is taken from the coordinates.
- Instrument metadata from ``Record2`` goes to ``meta`` (``manufacturer``,
  ``model``, ``serial``, ``software_version``, ``date``,
  ``calibration_date``, ``probing_system``, ``probing_identification``,
  ``creator``, ``comment``).
- MD5 checksums of ``main.xml``, ``data.bin`` and ``valid.bin`` are checked
  when present; a mismatch is a warning.

Safety: declared entry sizes and compression ratios are checked before
anything is inflated, every entry is read with a byte cap, XML with a
DOCTYPE or ENTITY declaration is refused before parsing, and the grid size
is checked (:func:`surfscan.io.limits.check_grid`) and matched against the
size of ``data.bin`` before any array is allocated.

Writing
-------
:func:`write_x3p` (in :mod:`surfscan.io.x3p_write`) writes a SUR file with incremental X/Y axes and a binary
CZ axis: D (float64, default), F (float32), or I/L (int16/int32 with an
``Increment``); ``valid.bin`` is written when the map has NaN points, and
all MD5 checksums are filled in.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, FormatError, NotThisFormatError, SurfscanWarning, UnsupportedFeatureError
from ..model import Surface
from .checks import REQUIRED, header_number
from .limits import check_available, check_grid
from .registry import Format, register
from .x3p_write import write_x3p

__all__ = ["read_x3p", "write_x3p", "MAX_XML_BYTES", "MAX_COMPRESSION_RATIO"]

#: Largest ``main.xml`` accepted (bytes, after inflating).
MAX_XML_BYTES = 256 << 20
#: Largest uncompressed/compressed ratio accepted for entries over 1 MiB
#: (deflate cannot exceed about 1032:1, so a larger claim is a forgery).
MAX_COMPRESSION_RATIO = 1100
_RATIO_MIN_BYTES = 1 << 20
_SMALL_ENTRY_BYTES = 1 << 16
_CHUNK_BYTES = 1 << 16
_ZIP_MAGIC = b"PK\x03\x04"
_DTYPES = {"I": np.dtype("<i2"), "L": np.dtype("<i4"), "F": np.dtype("<f4"), "D": np.dtype("<f8")}
_M_TO_UM = 1e6
_FORBIDDEN_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


# --------------------------------------------------------------------------- zip access


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CorruptFileError(path, f"not a valid X3P (zip) archive: truncated or corrupt ({exc})") from None


def _find_entry(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    """The archive entry called ``name`` (case-insensitive, either slash), or None."""
    want = name.replace("\\", "/").lstrip("/").lower()
    for info in zf.infolist():
        if info.filename.replace("\\", "/").lstrip("/").lower() == want:
            return info
    return None


def _check_entry(path: Path, info: zipfile.ZipInfo, cap: int, archive_size: int) -> None:
    """Refuse an entry whose declared sizes are impossible or too large, before inflating it."""
    if info.file_size > cap:
        raise CorruptFileError(
            path, f"archive entry {info.filename!r} declares {info.file_size} bytes, more than the limit of {cap}"
        )
    if info.header_offset + info.compress_size > archive_size:
        raise CorruptFileError(path, f"truncated X3P: archive entry {info.filename!r} runs past the end of the file")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise CorruptFileError(path, f"corrupt X3P: stored entry {info.filename!r} has inconsistent sizes")
    elif info.file_size > _RATIO_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise CorruptFileError(
            path,
            f"archive entry {info.filename!r} claims a compression ratio of "
            f"{info.file_size / max(info.compress_size, 1):.0f}:1 (a zip bomb?); refused",
        )


def _read_into(fh: Any, size: int) -> bytearray:
    """Read ``size`` bytes into one preallocated buffer (no second copy); shorter at end of file."""
    buf = bytearray(size)
    got = 0
    while got < size:
        chunk = fh.read(min(_CHUNK_BYTES, size - got))
        if not chunk:
            break
        buf[got : got + len(chunk)] = chunk
        got += len(chunk)
    del buf[got:]
    return buf


def _read_entry(
    zf: zipfile.ZipFile, path: Path, info: zipfile.ZipInfo, cap: int, nbytes: int | None = None
) -> bytes | bytearray:
    """Inflate an entry, at most ``cap`` bytes (or exactly ``nbytes`` when given, into a writable buffer)."""
    archive_size = path.stat().st_size
    _check_entry(path, info, cap, archive_size)
    want = info.file_size if nbytes is None else nbytes
    try:
        with zf.open(info) as fh:
            data = fh.read(want + 1) if nbytes is None else _read_into(fh, want)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise CorruptFileError(path, f"corrupt X3P: cannot inflate {info.filename!r} ({exc})") from None
    except NotImplementedError as exc:
        raise UnsupportedFeatureError(path, f"unsupported compression in {info.filename!r} ({exc})") from None
    if len(data) > want:
        raise FormatError(path, f"archive entry {info.filename!r} is larger than it declares; refused")
    if len(data) < want:
        raise CorruptFileError(path, f"truncated X3P: {info.filename!r} holds {len(data)} of {want} bytes")
    return data


# --------------------------------------------------------------------------- XML


def _check_xml_safe(raw: bytes, path: Path) -> bytes:
    """Refuse DOCTYPE/ENTITY declarations (external entities, entity expansion) before parsing."""
    text = raw
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16").encode("utf-8")
    if _FORBIDDEN_XML.search(text):
        raise FormatError(path, "main.xml declares a DOCTYPE or ENTITY; refused (X3P needs neither)")
    return raw


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


_DATALIST_OPEN = re.compile(rb"<(?:[\w.-]+:)?DataList\s*>")
_DATALIST_CLOSE = re.compile(rb"</(?:[\w.-]+:)?DataList\s*>")
_DATUM = re.compile(r"<(?:[\w.-]+:)?Datum\s*(?:/>|>([^<]*)</(?:[\w.-]+:)?Datum\s*>)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _split_datalist(raw: bytes) -> tuple[bytes, list[str]] | None:
    """Fast path for inline data: (main.xml with an empty DataList, Datum texts), or None.

    Only plain ``<Datum>number</Datum>`` / ``<Datum/>`` content (and comments)
    is taken this way; anything else returns None and the XML parser reads it.
    """
    opening = _DATALIST_OPEN.search(raw)
    last = raw.rfind(b"DataList")
    lt = raw.rfind(b"<", 0, last)
    closing = _DATALIST_CLOSE.match(raw, lt) if opening and lt > opening.end() else None
    if closing is None:
        return None
    try:
        body = raw[opening.end() : closing.start()].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "<!--" in body:
        body = _COMMENT.sub("", body)
    datums = _DATUM.findall(body)
    empty = datums.count("")
    if body.count("<") != 2 * (len(datums) - empty) + empty:
        return None  # other elements (CDATA, processing instructions...): let the XML parser decide
    return raw[: opening.end()] + raw[closing.start() :], datums


def _parse_tree(raw: bytes, path: Path) -> tuple[ET.Element | None, list[str] | None]:
    """ElementTree parse of main.xml, collecting ``<Datum>`` texts without keeping their elements."""
    datums: list[str] | None = None
    parents: list[ET.Element] = []
    root = None
    try:
        for event, elem in ET.iterparse(io.BytesIO(raw), events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                if _local(elem.tag) == "DataList":
                    datums = []
                parents.append(elem)
                continue
            parents.pop()
            if _local(elem.tag) == "Datum" and datums is not None:
                datums.append((elem.text or "").strip())
                if parents:
                    parents[-1].remove(elem)  # keep memory flat on large inline lists
    except ET.ParseError as exc:
        raise FormatError(path, f"main.xml is not well-formed XML ({exc})") from None
    return root, datums


def _parse_xml(raw: bytes, path: Path) -> tuple[ET.Element, list[str] | None]:
    """Parse main.xml; returns the header tree and the ``<Datum>`` texts ('' = invalid) or None."""
    _check_xml_safe(raw, path)
    split = _split_datalist(raw)
    if split is not None:
        root, _ = _parse_tree(split[0], path)
        datums: list[str] | None = split[1]
    else:
        root, datums = _parse_tree(raw, path)
    if root is None:
        raise FormatError(path, "main.xml is empty")
    for elem in root.iter():
        elem.tag = _local(elem.tag)
    if root.tag != "ISO5436_2":
        raise NotThisFormatError(path, f"main.xml root element is <{root.tag}>, not <ISO5436_2>; not an X3P file")
    return root, datums


def _text(elem: ET.Element | None, *names: str) -> str | None:
    """Text of the nested element ``names`` below ``elem``, stripped; None when absent."""
    for name in names:
        if elem is None:
            return None
        elem = elem.find(name)
    if elem is None:
        return None
    return (elem.text or "").strip()


def _number(path: Path, value: str | None, what: str, default: float | None = None) -> float:
    return header_number(path, value, what, where="main.xml", default=REQUIRED if default is None else default)


def _integer(path: Path, value: str | None, what: str, default: int | None = None) -> int:
    return header_number(path, value, what, where="main.xml", kind=int, default=REQUIRED if default is None else default)


@dataclass(frozen=True)
class _Axis:
    name: str
    absolute: bool
    dtype: str
    increment: float
    offset: float


def _axis(path: Path, axes: ET.Element | None, name: str) -> _Axis | None:
    elem = None if axes is None else axes.find(name)
    if elem is None:
        return None
    kind = (_text(elem, "AxisType") or "I").upper()
    dtype = (_text(elem, "DataType") or "D").upper()
    if dtype not in _DTYPES:
        raise FormatError(path, f"main.xml: {name} DataType {dtype!r} is not one of I, L, F, D")
    inc = _number(path, _text(elem, "Increment"), f"{name} Increment", 1.0)
    off = _number(path, _text(elem, "Offset"), f"{name} Offset", 0.0)
    return _Axis(name, kind == "A", dtype, inc, off)


_RECORD2 = {
    "date": ("Date",),
    "creator": ("Creator",),
    "manufacturer": ("Instrument", "Manufacturer"),
    "model": ("Instrument", "Model"),
    "serial": ("Instrument", "Serial"),
    "software_version": ("Instrument", "Version"),
    "calibration_date": ("CalibrationDate",),
    "probing_system": ("ProbingSystem", "Type"),
    "probing_identification": ("ProbingSystem", "Identification"),
    "comment": ("Comment",),
}


def _instrument_meta(root: ET.Element) -> dict[str, Any]:
    """Record2 (instrument, dates, probing system) as flat metadata; absent fields are left out."""
    rec2 = root.find("Record2")
    meta: dict[str, Any] = {}
    for key, names in _RECORD2.items():
        value = _text(rec2, *names)
        if value:
            meta[key] = value
    inst = " ".join(v for v in (meta.get("manufacturer"), meta.get("model")) if v)
    meta["instrument"] = inst or None
    return meta


# --------------------------------------------------------------------------- point data


@dataclass
class _Header:
    feature: str
    nx: int
    ny: int
    x: _Axis
    y: _Axis
    z: _Axis

    @property
    def fields(self) -> list[_Axis]:
        """Axes stored per point, in file order (absolute lateral axes, then Z)."""
        return [a for a in (self.x, self.y) if a.absolute] + [self.z]


def _header(path: Path, root: ET.Element) -> _Header:
    rec1 = root.find("Record1")
    feature = (_text(rec1, "FeatureType") or "SUR").upper()
    if feature == "PCL":
        raise UnsupportedFeatureError(path, "X3P point cloud (FeatureType PCL) is not a grid; surfscan reads gridded "
                                            "height maps")
    if feature not in ("SUR", "PRF"):
        raise UnsupportedFeatureError(path, f"unknown X3P FeatureType {feature!r} (expected SUR or PRF)")
    axes = rec1.find("Axes") if rec1 is not None else None
    x, y, z = (_axis(path, axes, n) for n in ("CX", "CY", "CZ"))
    if x is None or z is None:
        raise FormatError(path, "main.xml lacks the CX or CZ axis description")
    if y is None:
        y = _Axis("CY", False, "D", x.increment, 0.0)
    rec3 = root.find("Record3")
    dims = rec3.find("MatrixDimension") if rec3 is not None else None
    if dims is None:
        n = _text(rec3, "ListDimension")
        if feature == "PRF" and n is not None:
            nx, ny, nz = _integer(path, n, "ListDimension"), 1, 1
        else:
            raise FormatError(path, "X3P without a MatrixDimension is a point list, not a grid")
    else:
        nx = _integer(path, _text(dims, "SizeX"), "SizeX")
        ny = _integer(path, _text(dims, "SizeY"), "SizeY", 1)
        nz = _integer(path, _text(dims, "SizeZ"), "SizeZ", 1)
    if nz != 1:
        raise UnsupportedFeatureError(path, f"multi-layer X3P (SizeZ = {nz}) is not supported; one height per point is needed")
    check_grid(path, ny, nx)
    return _Header(feature, nx, ny, x, y, z)


def _record_dtype(fields: list[_Axis]) -> np.dtype:
    return np.dtype([(a.name, _DTYPES[a.dtype]) for a in fields])


def _read_binary(zf: zipfile.ZipFile, path: Path, root: ET.Element, hdr: _Header) -> dict[str, np.ndarray]:
    """Point data from ``data.bin`` (and the mask from ``valid.bin``); raw values per axis."""
    link = root.find("Record3/DataLink")
    name = _text(link, "PointDataLink")
    if not name:
        raise FormatError(path, "main.xml has neither a DataList nor a PointDataLink")
    info = _find_entry(zf, name)
    if info is None:
        raise FormatError(path, f"the point data {name!r} named in main.xml is missing from the archive")
    n = hdr.nx * hdr.ny
    rec = _record_dtype(hdr.fields)
    needed = n * rec.itemsize
    check_available(path, needed, info.file_size, f"point data in {name}")
    raw = _read_entry(zf, path, info, max(needed, info.file_size), nbytes=needed)
    if info.file_size == needed:
        _verify_md5(path, raw, _text(link, "MD5ChecksumPointData"), name)
    values = np.frombuffer(raw, dtype=rec, count=n)  # writable: float64 data is used in place
    out = {a.name: values[a.name].astype(np.float64, copy=False) for a in hdr.fields}
    vname = _text(link, "ValidPointsLink")
    if vname:
        out["valid"] = _read_valid(zf, path, vname, n, _text(link, "MD5ChecksumValidPoints"))
    return out


def _read_valid(zf: zipfile.ZipFile, path: Path, name: str, n: int, md5: str | None) -> np.ndarray:
    info = _find_entry(zf, name)
    if info is None:
        raise FormatError(path, f"the validity mask {name!r} named in main.xml is missing from the archive")
    nbytes = (n + 7) // 8
    check_available(path, nbytes, info.file_size, f"validity bits in {name}")
    raw = _read_entry(zf, path, info, max(nbytes, info.file_size), nbytes=nbytes)
    if info.file_size == nbytes:
        _verify_md5(path, raw, md5, name)
    bits = np.frombuffer(raw, dtype=np.uint8)
    return np.unpackbits(bits, count=n, bitorder="little").astype(bool)


def _numbers(text: str, n: int) -> np.ndarray:
    """``n`` numbers separated by white space (C-speed parse); ValueError when one is not a number."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(text, dtype=np.float64, sep=" ")
    if values.size != n:
        raise ValueError("not a number")
    return values


def _parse_datums(path: Path, datums: list[str], hdr: _Header) -> dict[str, np.ndarray]:
    """Inline ``<Datum>`` texts -> raw values per axis (NaN for an empty Datum)."""
    n = hdr.nx * hdr.ny
    if len(datums) != n:
        raise FormatError(path, f"DataList holds {len(datums)} points, the MatrixDimension declares {n}")
    fields = hdr.fields
    try:
        if len(fields) == 1:
            table = _numbers(" ".join([d.strip() or "nan" for d in datums]), n)[:, None]
        else:
            empty = ";".join(["nan"] * len(fields))
            rows = [(d or empty).split(";") for d in datums]
            if any(len(r) != len(fields) for r in rows):
                raise FormatError(path, f"every Datum must hold {len(fields)} values separated by ';'")
            table = np.array(rows).astype(np.float64)
    except ValueError:
        raise FormatError(path, "the DataList holds a Datum that is not a number") from None
    return {a.name: table[:, i] for i, a in enumerate(fields)}


def _absolute_spacing(path: Path, coords: np.ndarray, axis: int, name: str) -> float:
    """Spacing (file units) of an absolute lateral axis on a matrix; the grid must be even."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        line = np.nanmean(coords, axis=axis)
    line = line[np.isfinite(line)]
    if line.size < 2:
        raise FormatError(path, f"cannot derive the {name} spacing from fewer than two coordinates")
    steps = np.diff(line)
    step = (line[-1] - line[0]) / (line.size - 1)
    if step == 0 or np.max(np.abs(steps - step)) > 0.01 * abs(step):
        raise FormatError(path, f"the {name} coordinates are not evenly spaced; not a regular grid")
    return abs(step)


def _spacing(path: Path, hdr: _Header, raw: dict[str, np.ndarray]) -> tuple[float, float]:
    """(dx, dy) in metres from the incremental axes, or from absolute coordinates."""
    shape = (hdr.ny, hdr.nx)
    dx = hdr.x.increment
    if hdr.x.absolute:
        dx = _absolute_spacing(path, (raw["CX"] * hdr.x.increment).reshape(shape), 0, "X")
    dy = hdr.y.increment
    if hdr.y.absolute:
        dy = dx if hdr.ny == 1 else _absolute_spacing(path, (raw["CY"] * hdr.y.increment).reshape(shape), 1, "Y")
    if not (dx > 0 and np.isfinite(dx)):
        raise CorruptFileError(path, f"invalid X spacing {dx!r}")
    if not (dy > 0 and np.isfinite(dy)):
        if hdr.ny == 1:
            dy = dx
        else:
            raise CorruptFileError(path, f"invalid Y spacing {dy!r}")
    return dx, dy


def _verify_md5(path: Path, data: bytes, expected: str | None, what: str) -> None:
    if not expected:
        return
    got = hashlib.md5(data).hexdigest()
    if got.lower() != expected.strip().lower()[:32]:
        warnings.warn(
            f"{path}: MD5 checksum of {what} does not match main.xml (data may be damaged)",
            SurfscanWarning,
            stacklevel=2,
        )


def _verify_main_md5(zf: zipfile.ZipFile, path: Path, root: ET.Element, xml: bytes) -> None:
    name = _text(root, "Record4", "ChecksumFile") or "md5checksum.hex"
    info = _find_entry(zf, name)
    if info is None or info.file_size > _SMALL_ENTRY_BYTES:
        return
    text = _read_entry(zf, path, info, _SMALL_ENTRY_BYTES).decode("latin-1", errors="replace")
    match = re.search(r"[0-9a-fA-F]{32}", text)
    if match:
        _verify_md5(path, xml, match.group(0), "main.xml")


# --------------------------------------------------------------------------- reader


def read_x3p(path: str | Path) -> Surface:
    """Read an ISO 25178-72 X3P file as a height map in µm.

    Parameters
    ----------
    path : str or Path
        The ``.x3p`` file.

    Returns
    -------
    Surface
        Heights in µm (NaN = invalid point), ``dx``/``dy`` in µm; a profile
        (FeatureType PRF) is a one-row Surface. ``meta`` holds Record2
        (instrument, dates, probing system) and ``x3p_feature``,
        ``x3p_encoding``, ``z_datatype``.

    Raises
    ------
    FormatError
        Point clouds, multi-layer files, corrupt, truncated or hostile
        archives, inconsistent sizes.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        info = _find_entry(zf, "main.xml")
        if info is None:
            raise NotThisFormatError(path, "zip archive without main.xml; not an X3P file")
        xml = _read_entry(zf, path, info, MAX_XML_BYTES)
        root, datums = _parse_xml(xml, path)
        _verify_main_md5(zf, path, root, xml)
        hdr = _header(path, root)
        if datums is not None:
            raw, encoding = _parse_datums(path, datums, hdr), "xml"
        else:
            raw, encoding = _read_binary(zf, path, root, hdr), "binary"
    z = raw["CZ"]  # a float64 copy of the file's values: scaled in place
    invalid = ~np.isfinite(z)
    if "valid" in raw:
        invalid |= ~raw["valid"]
    if hdr.z.increment != 1.0:
        z *= hdr.z.increment
    if hdr.z.offset != 0.0:
        z += hdr.z.offset
    z *= _M_TO_UM
    z[invalid] = np.nan
    dx, dy = _spacing(path, hdr, raw)
    shape = (1, hdr.nx * hdr.ny) if hdr.feature == "PRF" else (hdr.ny, hdr.nx)
    meta = _instrument_meta(root)
    meta.update(
        x3p_feature=hdr.feature,
        x3p_encoding=encoding,
        z_datatype=hdr.z.dtype,
        revision=_text(root, "Record1", "Revision"),
    )
    return Surface(z.reshape(shape), dx * _M_TO_UM, dy * _M_TO_UM, meta)


def list_x3p(path: str | Path) -> dict[str, Any]:
    """What an X3P file holds, from ``main.xml`` alone (the point data is not inflated).

    Returns
    -------
    dict
        ``channels`` (one height channel with its shape), ``dx_um`` and
        ``dy_um`` (absent for axes given by absolute coordinates, which need
        the data), ``x3p_feature`` and the Record2 facts.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        info = _find_entry(zf, "main.xml")
        if info is None:
            raise NotThisFormatError(path, "zip archive without main.xml; not an X3P file")
        root, _ = _parse_xml(_read_entry(zf, path, info, MAX_XML_BYTES), path)
    hdr = _header(path, root)
    shape = (1, hdr.nx * hdr.ny) if hdr.feature == "PRF" else (hdr.ny, hdr.nx)
    out: dict[str, Any] = {"channels": [("height", "height", shape)], "x3p_feature": hdr.feature}
    if not hdr.x.absolute and hdr.x.increment > 0:
        out["dx_um"] = hdr.x.increment * _M_TO_UM
        dy = hdr.y.increment if not hdr.y.absolute and hdr.y.increment > 0 else None
        out["dy_um"] = (dy if dy is not None and hdr.ny > 1 else hdr.x.increment) * _M_TO_UM
    out.update({k: v for k, v in _instrument_meta(root).items() if v is not None})
    return out


# --------------------------------------------------------------------------- registry


def _sniff(head: bytes, path: Path) -> int:
    """100 when a zip lists ``main.xml`` (in the first bytes or its central directory)."""
    if not head.startswith(_ZIP_MAGIC):
        return 0
    if b"main.xml" in head:
        return 100
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if b"main.xml" in tail:
        return 100
    return 50 if path.suffix.lower() == ".x3p" else 0


register(Format("x3p", "ISO 25178-72 X3P (openGPS)", (".x3p",), kind="height", reader=read_x3p, writer=write_x3p,
                sniff=_sniff, lister=list_x3p))

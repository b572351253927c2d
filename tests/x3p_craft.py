"""Build small, hand-made X3P archives for tests (valid ones and broken ones)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

_AXIS = "<{name}><AxisType>{kind}</AxisType><DataType>{dtype}</DataType>{extra}</{name}>"


def axis(name: str, kind: str = "I", dtype: str = "D", increment: str | None = None, offset: str | None = None) -> str:
    """XML of one axis; ``offset=""`` writes an empty ``<Offset/>``."""
    extra = ""
    if increment is not None:
        extra += f"<Increment>{increment}</Increment>"
    if offset is not None:
        extra += "<Offset/>" if offset == "" else f"<Offset>{offset}</Offset>"
    return _AXIS.format(name=name, kind=kind, dtype=dtype, extra=extra)


def main_xml(
    nx: int,
    ny: int,
    *,
    feature: str = "SUR",
    cx: str | None = None,
    cy: str | None = None,
    cz: str | None = None,
    data: str | None = None,
    prolog: str = "",
    record2: str = "",
) -> str:
    """The text of a main.xml; ``data`` is a ``<DataList>`` or ``<DataLink>`` element."""
    cx = axis("CX", increment="1.5e-07", offset="0") if cx is None else cx
    cy = axis("CY", increment="2.5e-07", offset="0") if cy is None else cy  # "" = no CY axis
    cz = axis("CZ", kind="A") if cz is None else cz
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{prolog}"
        '<p:ISO5436_2 xmlns:p="http://www.opengps.eu/2008/ISO5436_2">'
        f"<Record1><Revision>ISO5436 - 2000</Revision><FeatureType>{feature}</FeatureType>"
        f"<Axes>{cx}{cy}{cz}</Axes></Record1>{record2}"
        f"<Record3><MatrixDimension><SizeX>{nx}</SizeX><SizeY>{ny}</SizeY><SizeZ>1</SizeZ></MatrixDimension>"
        f"{data or ''}</Record3><Record4><ChecksumFile>md5checksum.hex</ChecksumFile></Record4></p:ISO5436_2>\n"
    )


def datalist(values: list[str | None]) -> str:
    """A ``<DataList>``; None is an empty ``<Datum/>`` (invalid point)."""
    return "<DataList>" + "".join("<Datum/>" if v is None else f"<Datum>{v}</Datum>" for v in values) + "</DataList>"


def datalink(data_md5: str | None = None, valid: bool = False, valid_md5: str | None = None) -> str:
    out = "<DataLink><PointDataLink>bindata/data.bin</PointDataLink>"
    if data_md5:
        out += f"<MD5ChecksumPointData>{data_md5}</MD5ChecksumPointData>"
    if valid:
        out += "<ValidPointsLink>bindata/valid.bin</ValidPointsLink>"
        if valid_md5:
            out += f"<MD5ChecksumValidPoints>{valid_md5}</MD5ChecksumValidPoints>"
    return out + "</DataLink>"


def write(path: Path, xml: str | bytes, files: dict[str, bytes] | None = None, checksum: bool = True) -> Path:
    """Zip ``main.xml`` (+ ``md5checksum.hex``) and the extra entries into ``path``."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("main.xml", raw)
        for name, payload in (files or {}).items():
            zf.writestr(name, payload)
        if checksum:
            zf.writestr("md5checksum.hex", f"{hashlib.md5(raw).hexdigest()} *main.xml\n")
    return path


def binary_x3p(path: Path, z: np.ndarray, dtype: str = "D", valid: np.ndarray | None = None, **kw) -> Path:
    """A binary-encoded X3P of the raw values ``z`` (file units) with an optional validity mask."""
    codes = {"I": "<i2", "L": "<i4", "F": "<f4", "D": "<f8"}
    data = np.ascontiguousarray(z, dtype=codes[dtype]).tobytes()
    files = {"bindata/data.bin": data}
    vmd5 = None
    if valid is not None:
        vbytes = np.packbits(np.asarray(valid, bool).ravel(), bitorder="little").tobytes()
        files["bindata/valid.bin"] = vbytes
        vmd5 = hashlib.md5(vbytes).hexdigest()
    kw.setdefault("cz", axis("CZ", kind="A", dtype=dtype))
    link = datalink(hashlib.md5(data).hexdigest(), valid is not None, vmd5)
    xml = main_xml(z.shape[1], z.shape[0], data=link, **kw)
    return write(path, xml, files)

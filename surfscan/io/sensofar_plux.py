"""Sensofar ``.plux`` height maps (S neox and later: a ZIP of XML and binary layers).

**Not yet verified against an instrument file**: the reader follows the
layout used by surfalize and SurfaceTopography, and is tested on archives
built from that layout.

Layout:

- ``index.xml``: ``GENERAL/IMAGE_SIZE_X`` and ``IMAGE_SIZE_Y`` (columns,
  rows), ``GENERAL/FOV_X`` and ``FOV_Y`` (the pixel spacing in µm, despite
  the name), ``GENERAL/DATE``; ``INFO/ITEM_n/NAME`` + ``VALUE`` pairs
  (``Device``, ``Objective``, ``Technique`` ...); one ``LAYER_n`` element
  per measured layer whose ``FILENAME_Z`` names its height member;
- each height member (``LAYER_0.raw``): ``rows * columns`` little-endian
  float32 heights in µm, row by row; NaN marks non-measured points;
- ``LAYER_0.stack.raw`` (optional): the 8-bit RGB image.

Channels: ``height`` (layer 0, default), ``height2`` ... for further layers,
``color`` (listed only).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, NotThisFormatError
from ..model import Surface
from .channels import flatten_xml, parse_xml, pick_channel
from .checks import header_field, pixel_size
from .containers import ZIP_ERRORS, ZIP_MAGIC, byte_cap, open_zip, read_member
from .limits import check_available, check_grid
from .registry import Format, register

__all__ = ["read_plux"]

_INDEX = "index.xml"
_IMAGE = "LAYER_0.stack.raw"
_INFO_KEYS = {"device": "model", "objective": "objective", "technique": "technique",
              "measurement type": "measurement_type", "algorithm": "algorithm", "comment": "comment"}


def _sniff(head: bytes, path: Path) -> int:
    if not head.startswith(ZIP_MAGIC):
        return 0
    if b"index.xml" in head[:512]:
        return 90
    try:
        with zipfile.ZipFile(path) as zf:
            return 90 if _INDEX in zf.namelist() and any(n.startswith("LAYER_") for n in zf.namelist()) else 0
    except (*ZIP_ERRORS, OSError):  # not a readable zip: not a .plux file
        return 0


def _general(path: Path, root: Any) -> dict[str, str]:
    general = root if root.tag == "GENERAL" else root.find(".//GENERAL")
    if general is None:
        raise NotThisFormatError(path, "index.xml has no GENERAL section (not a Sensofar .plux file)")
    return {child.tag: (child.text or "").strip() for child in general}


def _number(path: Path, general: dict[str, str], key: str, kind: type) -> Any:
    return header_field(path, general, key, where="index.xml GENERAL", kind=kind)


def _layers(root: Any) -> list[str]:
    """Height member names, layer by layer."""
    names = []
    for element in root.iter():
        if element.tag.startswith("LAYER_"):
            fname = element.findtext("FILENAME_Z")
            if fname and fname.strip():
                names.append(fname.strip())
    return names or ["LAYER_0.raw"]


def _info(root: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    info = root.find(".//INFO")
    for item in list(info)[:500] if info is not None else []:
        name, value = (item.findtext("NAME") or "").strip(), (item.findtext("VALUE") or "").strip()
        if name.lower() in _INFO_KEYS and value:
            out[_INFO_KEYS[name.lower()]] = value
    return out


def read_plux(path: Path, channel: str | None = None) -> Surface:
    """Read a Sensofar ``.plux`` file.

    Parameters
    ----------
    path : Path
        The ``.plux`` file, a ZIP archive of the layers with an ``index.xml`` header.
    channel : str, optional
        ``"height"`` (default) or ``"height2"`` ... for further layers.

    Returns
    -------
    Surface
        Heights in µm (float32 as stored), spacing in µm; NaN = not measured.
    """
    raw = Path(path).read_bytes()
    archive = open_zip(path, raw)
    root = parse_xml(read_member(path, archive, _INDEX, cap=8 << 20))
    if root is None:
        raise CorruptFileError(path, "index.xml is not well-formed XML")
    general = _general(path, root)
    rows, cols = check_grid(path, _number(path, general, "IMAGE_SIZE_Y", int), _number(path, general, "IMAGE_SIZE_X", int))
    dx, dy = pixel_size(path, _number(path, general, "FOV_X", float), _number(path, general, "FOV_Y", float),
                        "(GENERAL/FOV_X, FOV_Y)")
    layers = _layers(root)
    names = ["height" if i == 0 else f"height{i + 1}" for i in range(len(layers))]
    available = names + (["color"] if _IMAGE in archive.namelist() else [])
    name = pick_channel(path, available, channel)
    member = layers[names.index(name)]
    data = read_member(path, archive, member, cap=min(byte_cap(4), rows * cols * 4 + (1 << 20)))
    check_available(path, rows * cols * 4, len(data), f"height layer {member}")
    z = np.frombuffer(data, dtype="<f4", count=rows * cols).reshape(rows, cols).astype(np.float64)
    z[~np.isfinite(z)] = np.nan
    meta: dict[str, Any] = {"instrument": "Sensofar", "vendor": "Sensofar", "channel": name, "channels": available,
                            "date": general.get("DATE") or None}
    meta.update(_info(root))
    if "model" in meta:
        meta["instrument"] = f"Sensofar {meta['model']}"
    meta["plux"] = dict(list(flatten_xml(root, max_items=400).items()))
    return Surface(z, dx, dy, meta)


register(Format("plux", "Sensofar .plux (layout only, not yet verified on an instrument file)", (".plux",),
                kind="height", reader=read_plux, sniff=_sniff, verified=False))

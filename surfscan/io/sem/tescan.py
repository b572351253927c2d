"""TESCAN SEM TIFF: tag 50431 holds a list of chunks ``<uint32 length><uint16 type><payload>``.

``length`` counts the type field and the payload. Type 2 is the ``[MAIN]``
INI text, type 3 the ``[SEM]`` INI text (type 1 is a JPEG 2000 thumbnail).
``PixelSizeX`` and ``WD`` are in metres, ``HV`` in volts; the information
strip (``ImageStripSize`` rows) is appended below the image.
"""

from __future__ import annotations

from typing import Any

from ..binary import Layout
from .calibration import Calibration
from .text import decode_text, join_nonempty, parse_ini, to_float

__all__ = ["TESCAN_TAG", "parse_tescan", "tescan_chunks"]

TESCAN_TAG = 50431
_CHUNK = Layout("<", [("length", "I", 0), ("type", "H", 4)])
_SECTIONS = {2: "MAIN", 3: "SEM"}
_MAX_CHUNKS = 256


def tescan_chunks(raw: bytes) -> dict[str, dict[str, str]]:
    """The INI sections of a tag-50431 chunk list (``{"MAIN": {...}, "SEM": {...}}``).

    Parsing stops at the first chunk that does not fit; text found in a
    stray ``[SECTION]`` block is used when the chunk list is unreadable.
    """
    out: dict[str, dict[str, str]] = {}
    off = 0
    for _ in range(_MAX_CHUNKS):
        if off + _CHUNK.size > len(raw):
            break
        head = _CHUNK.read(raw, off)
        end = off + 4 + head["length"]
        if head["length"] < 2 or end > len(raw):
            break
        if head["type"] in _SECTIONS:
            text = decode_text(raw[off + 6 : end])
            parsed = parse_ini(text)
            out.setdefault(_SECTIONS[head["type"]], {}).update(parsed.pop("", {}))
            for name, sec in parsed.items():
                out.setdefault(name, {}).update(sec)
        off = end
    if not out and b"PixelSizeX=" in raw:  # older files: plain INI text
        out = {k or "MAIN": v for k, v in parse_ini(decode_text(raw)).items() if v}
    return out


def _find(meta: dict, key: str) -> Any:
    for section in ("MAIN", "SEM", "FIB"):
        sec = meta.get(section, {})
        if key in sec:
            return sec[key]
    return None


def parse_tescan(tags: dict[int, Any], rows: int, cols: int) -> Calibration | None:
    """Calibration from TESCAN tag 50431; None when absent."""
    if TESCAN_TAG not in tags:
        return None
    value = tags[TESCAN_TAG]
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else str(value).encode("latin-1", "replace")
    meta = tescan_chunks(raw)
    cal = Calibration("TESCAN", raw=meta)
    if not meta:
        cal.notes.append("TESCAN tag 50431 holds no readable metadata")
        return cal
    px = to_float(_find(meta, "PixelSizeX"))
    if px is not None and px > 0:
        cal.pixel_size_um, cal.pixel_size_source = px * 1e6, "TESCAN tag 50431 [MAIN] PixelSizeX"
    strip = to_float(_find(meta, "ImageStripSize"))
    if strip is not None:
        if strip == int(strip) and 0 <= strip < rows:
            cal.databar_rows, cal.databar_source = int(strip), "TESCAN tag 50431 [MAIN] ImageStripSize"
        else:
            cal.notes.append(f"TESCAN ImageStripSize = {strip:g} does not fit the {rows} stored rows; ignored")
    cal.instrument = join_nonempty(_find(meta, "Device"), _find(meta, "SerialNumber"), sep="-")
    hv = to_float(_find(meta, "HV"))
    cal.hv_kV = None if hv is None else hv / 1e3
    wd = to_float(_find(meta, "WD"))
    cal.working_distance_mm = None if wd is None else wd * 1e3
    cal.magnification = to_float(_find(meta, "Magnification"))
    cal.detector = join_nonempty(_find(meta, "Detector"))
    cal.date = join_nonempty(_find(meta, "Date"), _find(meta, "Time"))
    return cal

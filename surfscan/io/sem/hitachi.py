"""Hitachi SEM images: a ``.txt`` sidecar (UTF-16 with BOM or ANSI) with an ``[SemImageFile]`` section,
or the same text in TIFF tag 40092 (XPComment, UTF-16LE).

``PixelSize`` is in nm, ``AcceleratingVoltage`` in volts, ``WorkingDistance``
in µm, ``DataSize=WxH`` the image size. When the stored frame is taller than
``DataSize``, the extra rows are the information bar; on tabletop models the
band is drawn inside the frame and is searched for in the image.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .calibration import Calibration, bar_from_frame
from .text import decode_text, join_nonempty, length_um, parse_ini, to_float

__all__ = ["XPCOMMENT_TAG", "parse_hitachi_text", "parse_hitachi_tag", "parse_hitachi_sidecar", "is_hitachi_text"]

XPCOMMENT_TAG = 40092
_SECTION = "SemImageFile"


def is_hitachi_text(text: str | None) -> bool:
    """True when the text has Hitachi's ``[SemImageFile]`` section."""
    return bool(text) and f"[{_SECTION}]" in text[:65536]


def _volts_kv(value: Any) -> float | None:
    m = re.match(r"\s*([-+0-9.eE]+)\s*(k?V|Volt|kVolt)?", str(value or ""), re.IGNORECASE)
    if not m or to_float(m.group(1)) is None:
        return None
    v = to_float(m.group(1))
    unit = (m.group(2) or "V").lower()
    return v if unit.startswith("k") else v / 1e3


def parse_hitachi_text(text: str, origin: str, rows: int, cols: int) -> Calibration | None:
    """Calibration from Hitachi ``[SemImageFile]`` text; ``origin`` names where the text came from."""
    if not is_hitachi_text(text):
        return None
    sec = parse_ini(text).get(_SECTION, {})
    cal = Calibration("Hitachi", raw=sec)
    size = length_um(sec.get("PixelSize"), default_unit="nm")
    m = re.match(r"\s*(\d+)\s*[xX*]\s*(\d+)", sec.get("DataSize", ""))
    width, height = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    if size is not None:
        cal.pixel_size_um, cal.pixel_size_source = size, f"Hitachi {origin} PixelSize"
        if width is not None and width != cols and width > 0:
            cal.pixel_size_um = size * width / cols
            cal.pixel_size_source += f" x DataSize width {width} / {cols} columns"
    if height is not None and width == cols and height < rows:
        bar_from_frame(cal, rows, height, f"Hitachi {origin} DataSize")
    cal.instrument = join_nonempty(sec.get("InstructName"), sec.get("SerialNumber"), sep="-")
    cal.hv_kV = _volts_kv(sec.get("AcceleratingVoltage"))
    wd = length_um(sec.get("WorkingDistance"), default_unit="um")
    cal.working_distance_mm = None if wd is None else wd / 1e3
    cal.magnification = to_float(sec.get("Magnification"))
    cal.detector = join_nonempty(sec.get("SignalName"))
    cal.date = join_nonempty(sec.get("Date"), sec.get("Time"))
    return cal


def parse_hitachi_tag(tags: dict[int, Any], rows: int, cols: int) -> Calibration | None:
    """Calibration from the XPComment tag 40092 when it holds Hitachi text."""
    value = tags.get(XPCOMMENT_TAG)
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        try:
            value = bytes(int(v) & 0xFF for v in value[: 1 << 20])
        except (TypeError, ValueError):
            return None
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        text = raw.decode("utf-16-le", errors="replace").replace("\0", "") if raw[1:2] == b"\0" else decode_text(raw)
    else:
        text = str(value)
    return parse_hitachi_text(text, "tag 40092 (XPComment)", rows, cols)


def parse_hitachi_sidecar(path: Path, text: str | None, rows: int, cols: int) -> Calibration | None:
    """Calibration from a Hitachi sidecar whose text was read already."""
    if text is None:
        return None
    return parse_hitachi_text(text, f"sidecar {path.name}", rows, cols)

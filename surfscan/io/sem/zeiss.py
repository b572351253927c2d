"""Zeiss SmartSEM TIFF: tag 34118 (CZ_SEM), parsed by tifffile into ``{key: (label, value[, unit])}``.

The pixel size is ``ap_image_pixel_size`` when present, otherwise
``ap_width / columns``. The plain ``ap_pixel_size`` refers to a 1024-column
frame and is wrong for other widths, so it is used only (rescaled) as a last
resort. The data zone is drawn inside the stored frame; its height is not in
the metadata, so the image is searched for it.
"""

from __future__ import annotations

import re
from typing import Any

from .calibration import Calibration
from .text import decode_text, join_nonempty, length_um, to_float

__all__ = ["ZEISS_TAG", "parse_zeiss"]

ZEISS_TAG = 34118
_REFERENCE_COLUMNS = 1024  # ap_pixel_size refers to this width


def _as_dict(value: Any) -> dict[str, tuple]:
    """tifffile's parsed dict, or a best-effort parse of the raw text."""
    if isinstance(value, dict):
        return {str(k): (v if isinstance(v, tuple) else (v,)) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        value = decode_text(bytes(value))
    out: dict[str, tuple] = {}
    if not isinstance(value, str):
        return out
    key = None
    for line in value.splitlines()[:100_000]:
        line = line.strip()
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", line):
            key = line.lower()
        elif key and ("=" in line or ":" in line):
            label, _, rest = line.partition("=") if "=" in line else line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and to_float(parts[0]) is not None:
                out[key] = (label.strip(), to_float(parts[0]), parts[1])
            else:
                out[key] = (label.strip(), to_float(rest) if to_float(rest) is not None else rest.strip())
            key = None
    return out


def _value(meta: dict, key: str) -> Any:
    entry = meta.get(key)
    return entry[1] if isinstance(entry, tuple) and len(entry) >= 2 else None


def _length(meta: dict, key: str) -> float | None:
    entry = meta.get(key)
    if not isinstance(entry, tuple) or len(entry) < 3:
        return None
    return length_um((entry[1], entry[2]))


def _magnification(value: Any) -> float | None:
    """``188`` or ``"50.00 K X"`` -> 50000."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = re.match(r"\s*([0-9.]+)\s*([KkMm]?)\s*X?", str(value or ""))
    if not m or to_float(m.group(1)) is None:
        return None
    return to_float(m.group(1)) * {"": 1.0, "k": 1e3, "m": 1e6}[m.group(2).lower()]


def _pixel_size(cal: Calibration, meta: dict, cols: int) -> None:
    size = _length(meta, "ap_image_pixel_size")
    if size is not None:
        cal.pixel_size_um, cal.pixel_size_source = size, "Zeiss tag 34118 ap_image_pixel_size"
        return
    width = _length(meta, "ap_width")
    if width is not None:
        cal.pixel_size_um = width / cols
        cal.pixel_size_source = f"Zeiss tag 34118 ap_width / {cols} columns"
        return
    size = _length(meta, "ap_pixel_size")
    if size is not None:
        cal.pixel_size_um = size * _REFERENCE_COLUMNS / cols
        cal.pixel_size_source = f"Zeiss tag 34118 ap_pixel_size x 1024 / {cols} columns (no ap_width)"
        cal.notes.append(
            "Zeiss metadata has neither ap_image_pixel_size nor ap_width; pixel size rescaled from the 1024-column ap_pixel_size"
        )


def parse_zeiss(tags: dict[int, Any], rows: int, cols: int) -> Calibration | None:
    """Calibration from Zeiss tag 34118; None when absent."""
    if ZEISS_TAG not in tags:
        return None
    meta = _as_dict(tags[ZEISS_TAG])
    cal = Calibration("Zeiss", raw={k: v for k, v in meta.items() if k})
    if not meta:
        cal.notes.append("Zeiss tag 34118 holds no readable metadata")
        return cal
    _pixel_size(cal, meta, cols)
    cal.instrument = join_nonempty(_value(meta, "sv_serial_number")) or join_nonempty(_value(meta, "dp_sem"))
    hv = to_float(_value(meta, "ap_actualkv"))
    cal.hv_kV = hv
    wd = _length(meta, "ap_wd")
    cal.working_distance_mm = None if wd is None else wd / 1e3
    cal.magnification = _magnification(_value(meta, "ap_mag"))
    cal.detector = join_nonempty(_value(meta, "dp_detector_channel")) or join_nonempty(_value(meta, "dp_detector_type"))
    cal.date = join_nonempty(_value(meta, "ap_date"), _value(meta, "ap_time"))
    return cal

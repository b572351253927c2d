"""JEOL SEM images: a ``.txt`` sidecar of ``$KEY value`` lines.

``$CM_FULL_SIZE W H`` gives the image size; the stored frame can be taller,
the extra rows being the information bar. The pixel size is the micron
marker's length divided by its length in pixels (``$$SM_MICRON_MARKER`` such
as ``100um`` over ``$$SM_MICRON_BAR`` pixels). Without a micron bar it falls
back to JEOL's photo convention: pixel size = 0.128 m / (magnification x width),
the 128 mm photo width being imaged at ``$CM_MAG``.
"""

from __future__ import annotations

from pathlib import Path

from .calibration import Calibration, bar_from_frame
from .text import join_nonempty, length_um, to_float

__all__ = ["is_jeol_text", "parse_jeol_text", "parse_jeol_sidecar", "JEOL_PHOTO_WIDTH_UM"]

#: Width of JEOL's reference photo frame: pixel size = this / (magnification * columns).
JEOL_PHOTO_WIDTH_UM = 128_000.0


def is_jeol_text(text: str | None) -> bool:
    """True when the text looks like a JEOL SEM sidecar."""
    if not text:
        return False
    head = text[:65536]
    return "$CM_FORMAT JEOL" in head or ("$CM_FULL_SIZE" in head and "$CM_MAG" in head) or "$SEM_DATA_VERSION" in head


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines()[:100_000]:
        line = line.strip()
        if line.startswith("$"):
            key, _, value = line.partition(" ")
            out.setdefault(key.lstrip("$"), value.strip())
    return out


def _two_ints(text: str | None) -> tuple[int, int] | None:
    parts = (text or "").split()
    if len(parts) < 2:
        return None
    a, b = to_float(parts[0]), to_float(parts[1])
    if a is None or b is None or a != int(a) or b != int(b) or a <= 0 or b <= 0:
        return None
    return int(a), int(b)


def _pixel_size(cal: Calibration, f: dict[str, str], origin: str, full_w: int, cols: int) -> None:
    marker = length_um(f.get("SM_MICRON_MARKER"), default_unit="um")
    bar = to_float(f.get("SM_MICRON_BAR"))
    scale = full_w / cols
    note = "" if full_w == cols else f" x {full_w} / {cols} columns"
    if marker is not None and bar is not None and bar > 0:
        cal.pixel_size_um = marker / bar * scale
        cal.pixel_size_source = f"JEOL {origin} $$SM_MICRON_MARKER / $$SM_MICRON_BAR{note}"
        return
    mag = to_float(f.get("CM_MAG"))
    if mag is not None and mag > 0:
        cal.pixel_size_um = JEOL_PHOTO_WIDTH_UM / (mag * full_w) * scale
        cal.pixel_size_source = f"JEOL {origin} 0.128 m / ($CM_MAG x {full_w} columns){note} (no micron bar)"


def parse_jeol_text(text: str, origin: str, rows: int, cols: int) -> Calibration | None:
    """Calibration from JEOL sidecar text; ``origin`` names the sidecar."""
    if not is_jeol_text(text):
        return None
    f = _fields(text)
    cal = Calibration("JEOL", raw=f)
    full = _two_ints(f.get("CM_FULL_SIZE"))
    full_w = full[0] if full else cols
    _pixel_size(cal, f, origin, full_w, cols)
    if full is not None and full[0] == cols and full[1] < rows:
        bar_from_frame(cal, rows, full[1], f"JEOL {origin} $CM_FULL_SIZE")
    cal.instrument = join_nonempty(f.get("CM_INSTRUMENT"))
    cal.hv_kV = to_float(f.get("CM_ACCEL_VOLT"))
    cal.working_distance_mm = to_float(f.get("SM_WD"))
    cal.magnification = to_float(f.get("CM_MAG"))
    cal.detector = join_nonempty(f.get("CM_DETECTOR_NAME")) or join_nonempty(f.get("CM_SIGNAL_NAME"))
    cal.date = join_nonempty(f.get("CM_DATE"), f.get("CM_TIME"))
    return cal


def parse_jeol_sidecar(path: Path, text: str | None, rows: int, cols: int) -> Calibration | None:
    """Calibration from a JEOL sidecar whose text was read already."""
    if text is None:
        return None
    return parse_jeol_text(text, f"sidecar {path.name}", rows, cols)

"""Text helpers shared by the SEM vendor parsers: decoding, INI sections, numbers with units.

Vendor metadata is text written by instrument software: INI sections
(FEI, TESCAN, Hitachi), ``$KEY value`` lines (JEOL), ``value unit`` pairs
(Zeiss). These helpers never raise on odd input; they return ``None`` (or
skip the line) and let the vendor module decide what is missing.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

__all__ = [
    "MAX_SIDECAR_BYTES",
    "decode_text",
    "parse_ini",
    "to_float",
    "length_um",
    "read_sidecar",
    "join_nonempty",
]

#: Sidecar text files larger than this are not metadata (the real ones are a few kB).
MAX_SIDECAR_BYTES = 1 << 20

_LENGTH_UNITS_UM = {
    "m": 1e6,
    "mm": 1e3,
    "um": 1.0,
    "µm": 1.0,
    "μm": 1.0,  # Greek mu
    "micron": 1.0,
    "microns": 1.0,
    "nm": 1e-3,
    "pm": 1e-6,
    "a": 1e-4,
    "å": 1e-4,
}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def decode_text(raw: bytes) -> str:
    """Decode vendor text: UTF-16 (with or without BOM), UTF-8, else Latin-1; NULs removed."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    elif len(raw) >= 4 and raw[1:2] == b"\0" and raw[3:4] == b"\0" and raw[0:1] != b"\0":
        text = raw.decode("utf-16-le", errors="replace")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return text.lstrip("\ufeff").replace("\0", "")


def parse_ini(text: str, max_lines: int = 100_000) -> dict[str, dict[str, str]]:
    """Parse ``[Section]`` / ``key=value`` text into ``{section: {key: value}}``.

    Keys before the first section go to section ``""``. Lines without ``=``
    are ignored; values are kept as stripped strings.
    """
    out: dict[str, dict[str, str]] = {}
    section = out.setdefault("", {})
    for n, line in enumerate(text.splitlines()):
        if n >= max_lines:
            break
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1].strip(), {})
        elif "=" in line:
            key, value = line.split("=", 1)
            section[key.strip()] = value.strip()
    return out


def to_float(value: object) -> float | None:
    """A finite float from a number or a string such as ``"5.00 kV"`` (unit ignored); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        v = float(value)
    else:
        m = _NUMBER.match(str(value)[:200])
        if not m:
            return None
        try:
            v = float(m.group(1))
        except ValueError:
            return None
    return v if math.isfinite(v) else None


def length_um(value: object, default_unit: str | None = None) -> float | None:
    """A length in µm from ``"100um"``, ``"593.3 nm"``, ``(593.3, "nm")`` or a bare number in ``default_unit``.

    Returns None when there is no number, the unit is unknown, or the length
    is not positive and finite.
    """
    if isinstance(value, (tuple, list)) and len(value) == 2:
        number, unit = to_float(value[0]), str(value[1])
    else:
        m = _NUMBER.match(str(value)[:200]) if value is not None else None
        if not m:
            return None
        number, unit = to_float(m.group(1)), m.group(2)
    unit = unit.strip().lower() or (default_unit or "")
    factor = _LENGTH_UNITS_UM.get(unit)
    if number is None or factor is None:
        return None
    v = number * factor
    return v if v > 0 and math.isfinite(v) else None


def read_sidecar(path: Path) -> str | None:
    """The text of a small sidecar file, or None when absent, unreadable or too large."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_SIDECAR_BYTES:
            return None
        return decode_text(path.read_bytes())
    except OSError:
        return None


def join_nonempty(*parts: object, sep: str = " ") -> str | None:
    """Join the non-empty parts as text; None when all are empty."""
    text = sep.join(str(p).strip() for p in parts if p is not None and str(p).strip())
    return text or None

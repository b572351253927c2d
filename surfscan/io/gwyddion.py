"""Gwyddion native ``.gwy`` files (read through the ``gwyfile`` package).

A ``.gwy`` file is ``GWYP`` followed by one serialised ``GwyContainer``
whose ``/N/data`` components are ``GwyDataField`` objects (``xres``,
``yres``, ``xreal``, ``yreal``, ``si_unit_xy``, ``si_unit_z``, ``data``) and
``/N/data/title`` their titles.

Before ``gwyfile`` decodes anything, :func:`check_structure` walks the whole
serialisation with every length and count checked against the bytes present
(``gwyfile`` itself trusts them and can loop forever on a corrupt string).

Channel choice: ``meta["channels"]`` lists the titles; by default the first
channel whose z unit is a length (metres) is returned, else the first
channel; ``channel=`` selects one by title (case-insensitive) or by number.

Units: Gwyddion stores values in base SI units, so ``m`` becomes µm
(x 1e6); prefixed length units (``nm``, ``µm``, ``mm`` ...) are converted too.
An *empty* unit string means "unitless": the numbers are kept as they are
and taken as micrometres, with a :class:`~surfscan.errors.SurfscanWarning`.
So a field with ``xreal = 128`` over 128 columns and no units reads as
``dx = 1 µm``, and its heights keep their raw values (``GWYF_test.gwy``);
``meta`` records ``xreal``, ``yreal`` and both unit strings as stored.
A z unit that is not a length (V, A, deg ...) gives a Surface of those raw
values with ``meta["z_unit"]`` naming the unit and a warning.
Gwyddion masks (``/N/mask``) are user selections as often as invalid points,
so they are applied only with ``mask_as_invalid=True``.
"""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, NotThisFormatError, SurfscanError, SurfscanWarning
from ..model import Surface
from .limits import check_grid
from .registry import Format, register

__all__ = ["read_gwy", "check_structure"]

MAGIC = b"GWYP"
_MAX_DEPTH = 64
_MAX_COMPONENTS = 1_000_000
_FIXED = {"b": 1, "c": 1, "i": 4, "q": 8, "d": 8}
_ARRAY = {"C": 1, "I": 4, "Q": 8, "D": 8}
_LENGTH_UM = {"m": 1e6, "km": 1e9, "mm": 1e3, "um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "nm": 1e-3, "pm": 1e-6,
              "Å": 1e-4}


class _Walker:
    """Bounds-checked walk over a GWY serialisation (no values are decoded)."""

    def __init__(self, path: Path, buf: bytes) -> None:
        self.path, self.buf, self.count = path, buf, 0

    def _fail(self, what: str) -> None:
        raise FormatError(self.path, f"corrupt Gwyddion file: {what}")

    def _cstring(self, pos: int, end: int) -> int:
        nul = self.buf.find(b"\0", pos, end)
        if nul < 0:
            self._fail(f"unterminated name or string at byte {pos}")
        return nul + 1

    def _uint32(self, pos: int, end: int) -> int:
        if pos + 4 > end:
            self._fail(f"truncated length at byte {pos}")
        return struct.unpack_from("<I", self.buf, pos)[0]

    def object(self, pos: int, end: int, depth: int) -> int:
        """Check one object starting at ``pos``; returns the position after it."""
        if depth > _MAX_DEPTH:
            self._fail("objects nested too deeply")
        pos = self._cstring(pos, end)
        size = self._uint32(pos, end)
        pos += 4
        stop = pos + size
        if stop > end:
            self._fail(f"an object declares {size} bytes, only {end - pos} remain")
        while pos < stop:
            pos = self.component(pos, stop, depth)
        return stop

    def component(self, pos: int, end: int, depth: int) -> int:
        self.count += 1
        if self.count > _MAX_COMPONENTS:
            self._fail("too many components")
        pos = self._cstring(pos, end)
        if pos >= end:
            self._fail("component without a type")
        code = chr(self.buf[pos])
        pos += 1
        if code in _FIXED:
            pos += _FIXED[code]
        elif code == "s":
            pos = self._cstring(pos, end)
        elif code == "o":
            pos = self.object(pos, end, depth + 1)
        elif code in _ARRAY or code in "SO":
            n = self._uint32(pos, end)
            pos += 4
            if code in _ARRAY:
                pos += n * _ARRAY[code]
            elif n > end - pos:
                self._fail(f"an array declares {n} items, only {end - pos} bytes remain")
            else:
                for _ in range(n):
                    pos = self._cstring(pos, end) if code == "S" else self.object(pos, end, depth + 1)
        else:
            self._fail(f"unknown component type {code!r}")
        if pos > end:
            self._fail("a component runs past the end of its object")
        return pos


def check_structure(path: Path, raw: bytes) -> None:
    """Raise :class:`FormatError` unless ``raw`` is a well-formed, complete GWY serialisation."""
    if raw[:4] != MAGIC:
        raise NotThisFormatError(path, "not a Gwyddion .gwy file (no GWYP header)")
    end = _Walker(path, raw).object(4, len(raw), 0)
    if end != len(raw):
        warnings.warn(f"{path}: {len(raw) - end} bytes after the Gwyddion container ignored", SurfscanWarning,
                      stacklevel=3)


def _sniff(head: bytes, path: Path) -> int:
    return 100 if head[:4] == MAGIC else 0


def _unit(field: Any, key: str) -> str:
    unit = field.get(key)
    text = getattr(unit, "unitstr", None)
    if text is None and isinstance(unit, dict):
        text = unit.get("unitstr")
    return str(text or "").strip()


def _channels(container: Any) -> list[tuple[int, str, Any]]:
    """(number, title, data field) of every ``/N/data`` image, in number order."""
    found = []
    for key, value in container.items():
        m = re.fullmatch(r"/(\d+)/data", str(key))
        if m and getattr(value, "name", None) == "GwyDataField":
            num = int(m.group(1))
            title = container.get(f"/{num}/data/title")
            found.append((num, str(title) if isinstance(title, str) and title else f"channel {num}", value))
    return sorted(found, key=lambda t: t[0])


def _choose(path: Path, chans: list[tuple[int, str, Any]], channel: str | int | None) -> tuple[int, str, Any]:
    if not chans:
        raise FormatError(path, "the Gwyddion file holds no image channel")
    if channel is None:
        for ch in chans:
            if _unit(ch[2], "si_unit_z") == "m":
                return ch
        return chans[0]
    wanted = str(channel).strip().lower()
    for ch in chans:
        if ch[1].lower() == wanted or str(ch[0]) == wanted:
            return ch
    raise SurfscanError(f"{path}: no channel {channel!r}; the file holds: {', '.join(c[1] for c in chans)}")


def _scale(path: Path, unit: str, what: str) -> float | None:
    """µm per stored unit for a length unit; 1.0 (with a warning) when empty; None when not a length."""
    if unit == "":
        warnings.warn(f"{path}: the {what} unit is empty; values are kept as stored and taken as µm",
                      SurfscanWarning, stacklevel=3)
        return 1.0
    return _LENGTH_UM.get(unit)


def _field_array(path: Path, field: Any) -> np.ndarray:
    xres, yres = field.get("xres"), field.get("yres")
    if not isinstance(xres, int) or not isinstance(yres, int):
        raise FormatError(path, "a data field lacks its xres/yres")
    yres, xres = check_grid(path, yres, xres)
    data = field.get("data")
    if not isinstance(data, np.ndarray) or data.size != xres * yres:
        size = getattr(data, "size", None)
        raise FormatError(path, f"a data field declares {yres} x {xres} points but holds {size}")
    return np.asarray(data, dtype=np.float64).reshape(yres, xres)


def read_gwy(path: Path, channel: str | int | None = None, mask_as_invalid: bool = False) -> Surface:
    """Read one channel of a Gwyddion ``.gwy`` file.

    Parameters
    ----------
    path : Path
        The file.
    channel : str or int, optional
        Channel title or number; by default the height channel (z unit m).
    mask_as_invalid : bool
        Turn points under the channel's Gwyddion mask into NaN.

    Returns
    -------
    Surface
        Heights in µm (see the module notes for unitless files).
    """
    import gwyfile.objects

    raw = Path(path).read_bytes()
    check_structure(path, raw)
    container = gwyfile.objects.GwyObject.frombuffer(raw[4:])
    chans = _channels(container)
    num, title, field = _choose(path, chans, channel)
    z = _field_array(path, field)
    xy_unit, z_unit = _unit(field, "si_unit_xy"), _unit(field, "si_unit_z")
    xy_scale = _scale(path, xy_unit, "lateral and height" if xy_unit == z_unit == "" else "lateral")
    if xy_scale is None:
        raise FormatError(path, f"channel {title!r} has lateral unit {xy_unit!r}, not a length")
    xreal, yreal = float(field.get("xreal", z.shape[1])), float(field.get("yreal", z.shape[0]))
    meta: dict[str, Any] = {
        "instrument": None, "vendor": "Gwyddion", "channel": title, "channels": [c[1] for c in chans],
        "xreal": xreal, "yreal": yreal, "si_unit_xy": xy_unit, "si_unit_z": z_unit,
    }
    z_scale = 1.0 if xy_unit == z_unit == "" else _scale(path, z_unit, "height")
    if z_scale is None:
        warnings.warn(f"{path}: channel {title!r} has z unit {z_unit!r}, not a height; values kept as stored",
                      SurfscanWarning, stacklevel=2)
        meta["z_unit"] = z_unit
        z_scale = 1.0
    if z_scale != 1.0:
        z = z * z_scale
    mask = container.get(f"/{num}/mask")
    if mask_as_invalid and getattr(mask, "name", None) == "GwyDataField":
        m = _field_array(path, mask)
        if m.shape == z.shape:
            z = np.where(m > 0.5, np.nan, z)
    meta["has_mask"] = getattr(mask, "name", None) == "GwyDataField"
    dx, dy = xreal * xy_scale / z.shape[1], yreal * xy_scale / z.shape[0]
    return Surface(z, dx, dy, meta)


register(Format("gwy", "Gwyddion native .gwy", (".gwy",), kind="height", reader=read_gwy, sniff=_sniff))

"""Thermo Fisher / FEI SEM TIFF: INI text in tag 34682 (Helios, Scios, Quanta ...) or 34680 (S-FEG),
and Phenom desktop SEMs (tag 34683, XML ``<FeiImage>`` or INI text).

Lengths in the metadata are in metres, the voltage in volts. The information
bar is appended below the image: its rows are the stored height minus
``[Image] ResolutionY`` (``[PrivateFei] DatabarHeight`` when that is absent).
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from .calibration import Calibration, bar_from_frame
from .text import decode_text, join_nonempty, length_um, parse_ini, to_float

__all__ = ["FEI_TAGS", "PHENOM_TAG", "parse_fei", "parse_phenom"]

#: Tags holding FEI INI text: 34682 (FEI_HELIOS) and 34680 (FEI_SFEG).
FEI_TAGS = (34682, 34680)
#: Phenom (and Titan) metadata tag.
PHENOM_TAG = 34683

_MAX_XML = 1 << 20


def _sections(value: Any) -> dict[str, dict[str, Any]]:
    """``{section: {key: value}}`` from tifffile's parsed dict or the raw INI text."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, dict)}
    if isinstance(value, (bytes, bytearray)):
        value = decode_text(bytes(value))
    return parse_ini(str(value)) if isinstance(value, str) else {}


def _get(meta: dict, section: str, key: str) -> Any:
    sec = meta.get(section)
    return sec.get(key) if isinstance(sec, dict) else None


def _first(meta: dict, pairs: list[tuple[str, str]]) -> tuple[float | None, str | None]:
    for section, key in pairs:
        v = to_float(_get(meta, section, key))
        if v is not None and v > 0:
            return v, f"[{section}] {key}"
    return None, None


def _pixel_size(cal: Calibration, meta: dict, tag: str, cols: int) -> None:
    pw, where = _first(meta, [("Scan", "PixelWidth"), ("EScan", "PixelWidth"), ("IScan", "PixelWidth")])
    if pw is not None:
        cal.pixel_size_um, cal.pixel_size_source = pw * 1e6, f"{tag} {where}"
        return
    hfw, where = _first(meta, [("Scan", "HorFieldsize"), ("EBeam", "HFW"), ("IBeam", "HFW")])
    if hfw is not None:
        cal.pixel_size_um = hfw * 1e6 / cols
        cal.pixel_size_source = f"{tag} {where} / {cols} columns"


def _databar(cal: Calibration, meta: dict, tag: str, rows: int, cols: int) -> None:
    res_x, res_y = to_float(_get(meta, "Image", "ResolutionX")), to_float(_get(meta, "Image", "ResolutionY"))
    if res_y is not None and (res_x is None or int(res_x) == cols):
        bar_from_frame(cal, rows, res_y, f"{tag} [Image] ResolutionY")
    elif res_y is not None:
        cal.notes.append(f"{tag} [Image] ResolutionX = {res_x:g} differs from the {cols} stored columns")
    if cal.databar_rows is None:
        height = to_float(_get(meta, "PrivateFei", "DatabarHeight"))
        if height is not None and height == int(height) and 0 < height < rows:
            cal.databar_rows, cal.databar_source = int(height), f"{tag} [PrivateFei] DatabarHeight"


def _facts(cal: Calibration, meta: dict) -> None:
    system = str(_get(meta, "System", "SystemType") or "").replace('"', "").strip()
    cal.instrument = join_nonempty(system, _get(meta, "System", "Dnumber"), sep="-")
    hv, _ = _first(meta, [("Beam", "HV"), ("EBeam", "HV"), ("IBeam", "HV")])
    cal.hv_kV = None if hv is None else hv / 1e3
    wd, _ = _first(meta, [("Stage", "WorkingDistance"), ("EBeam", "WD"), ("IBeam", "WD")])
    cal.working_distance_mm = None if wd is None else wd * 1e3
    canvas, _ = _first(meta, [("Image", "MagCanvasRealWidth")])
    hfw, _ = _first(meta, [("EBeam", "HFW"), ("Scan", "HorFieldsize"), ("IBeam", "HFW")])
    if canvas is not None and hfw is not None:
        cal.magnification = canvas / hfw
    cal.detector = join_nonempty(_get(meta, "Detectors", "Name"), _get(meta, "Detectors", "Mode"))
    cal.date = join_nonempty(_get(meta, "User", "Date"), _get(meta, "User", "Time"))


def parse_fei(tags: dict[int, Any], rows: int, cols: int) -> Calibration | None:
    """Calibration from FEI tag 34682 or 34680; None when neither is present."""
    for code in FEI_TAGS:
        if code in tags:
            break
    else:
        return None
    meta = _sections(tags[code])
    tag = f"FEI tag {code}"
    cal = Calibration("Thermo Fisher (FEI)", raw=meta)
    if not meta:
        cal.notes.append(f"{tag} holds no readable metadata")
        return cal
    _pixel_size(cal, meta, tag, cols)
    _databar(cal, meta, tag, rows, cols)
    _facts(cal, meta)
    return cal


def _xml_fields(text: str) -> dict[str, tuple[str, str]]:
    """``{lower-case element name: (text, unit attribute)}`` of every leaf element."""
    root = ElementTree.fromstring(text)
    out: dict[str, tuple[str, str]] = {}
    for el in root.iter():
        name = el.tag.rsplit("}", 1)[-1].lower()
        if len(el) == 0 and el.text and el.text.strip() and name not in out:
            out[name] = (el.text.strip(), el.get("unit", ""))
    return out


def _phenom_xml(cal: Calibration, text: str) -> None:
    try:
        fields = _xml_fields(text)
    except ElementTree.ParseError as exc:
        cal.notes.append(f"Phenom tag 34683: unreadable XML ({exc})")
        return
    cal.raw = {k: v[0] for k, v in fields.items()}
    for name in ("pixelwidth", "pixelsize"):
        if name in fields:
            value, unit = fields[name]
            cal.pixel_size_um = length_um(f"{value} {unit or 'm'}")
            if cal.pixel_size_um is not None:
                cal.pixel_size_source = f"Phenom tag 34683 <{name}>"
                break
    hv = to_float(fields.get("highvoltage", ("",))[0])
    cal.hv_kV = None if hv is None else abs(hv) / 1e3
    wd = fields.get("workingdistance")
    wd_um = length_um(f"{wd[0]} {wd[1] or 'm'}") if wd else None
    cal.working_distance_mm = None if wd_um is None else wd_um / 1e3
    cal.instrument = fields.get("type", (None,))[0]
    cal.date = fields.get("timestamp", (None,))[0]
    cal.detector = fields.get("detector", (None,))[0]


def parse_phenom(tags: dict[int, Any], rows: int, cols: int) -> Calibration | None:
    """Calibration from Phenom tag 34683 (XML or FEI-style INI); None when absent."""
    if PHENOM_TAG not in tags:
        return None
    value = tags[PHENOM_TAG]
    text = decode_text(bytes(value)) if isinstance(value, (bytes, bytearray)) else str(value)
    text = text[:_MAX_XML].strip()
    if text.startswith("<"):
        cal = Calibration("Thermo Fisher Phenom")
        _phenom_xml(cal, text)
        return cal
    cal = parse_fei({34682: text}, rows, cols) or Calibration("Thermo Fisher Phenom")
    cal.vendor = "Thermo Fisher Phenom"
    if cal.pixel_size_source:
        cal.pixel_size_source = cal.pixel_size_source.replace("FEI tag 34682", "Phenom tag 34683")
    if cal.databar_source:
        cal.databar_source = cal.databar_source.replace("FEI tag 34682", "Phenom tag 34683")
    return cal

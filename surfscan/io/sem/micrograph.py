"""Turn a stored SEM frame and its vendor calibration into a :class:`~surfscan.model.Micrograph`.

Shared by the TIFF and the PNG/JPEG/BMP readers: sidecar look-up (Hitachi,
JEOL), information-bar removal (metadata first, image search second) and the
``meta`` entries every SEM reader fills in.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import SurfscanWarning
from ...model import Micrograph
from .calibration import Calibration
from .hitachi import is_hitachi_text, parse_hitachi_sidecar
from .jeol import is_jeol_text, parse_jeol_sidecar
from .text import read_sidecar

__all__ = ["sidecar_path", "sidecar_calibration", "has_vendor_sidecar", "is_vendor_sidecar", "build_micrograph"]


def sidecar_path(path: Path) -> Path | None:
    """The ``.txt`` file next to an image with the same stem, if there is one."""
    for suffix in (".txt", ".TXT", ".Txt"):
        candidate = path.with_suffix(suffix)
        if candidate != path and candidate.is_file():
            return candidate
    return None


#: Image suffixes a Hitachi or JEOL sidecar can belong to (any case).
_SIDECAR_IMAGES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")


def is_vendor_sidecar(path: Path) -> bool:
    """True for a Hitachi or JEOL ``.txt`` sidecar that sits next to its image (same stem).

    A batch measures the image and reads the sidecar with it; the sidecar is
    not a measurement of its own.
    """
    path = Path(path)
    if path.suffix.lower() != ".txt":
        return False
    if not any(path.with_suffix(s).is_file() or path.with_suffix(s.upper()).is_file() for s in _SIDECAR_IMAGES):
        return False
    return _is_vendor_text(path)


def _is_vendor_text(side: Path | None) -> bool:
    """True when ``side`` is a readable Hitachi or JEOL sidecar text."""
    text = read_sidecar(side) if side else None
    return is_hitachi_text(text) or is_jeol_text(text)


def has_vendor_sidecar(path: Path) -> bool:
    """True when a Hitachi or JEOL sidecar sits next to the image."""
    return _is_vendor_text(sidecar_path(path))


def sidecar_calibration(path: Path, rows: int, cols: int) -> Calibration | None:
    """Calibration from a Hitachi or JEOL sidecar; None when there is none."""
    side = sidecar_path(path)
    if side is None:
        return None
    if side.stat().st_size > (1 << 20):
        warnings.warn(f"{side}: sidecar larger than 1 MiB, not read as SEM metadata", SurfscanWarning, stacklevel=3)
        return None
    text = read_sidecar(side)
    return parse_hitachi_sidecar(side, text, rows, cols) or parse_jeol_sidecar(side, text, rows, cols)


def calibration_facts(cal: Calibration | None) -> dict[str, Any]:
    """What a calibration states, for :func:`surfscan.io.list_channels`: vendor facts, pixel size, bar rows."""
    if cal is None:
        return {}
    out = {k: v for k, v in cal.facts().items() if v is not None}
    if cal.pixel_size_um is not None:
        out.update(pixel_size_um=cal.pixel_size_um, pixel_size_source=cal.pixel_size_source)
    if cal.databar_rows is not None:
        out["databar_rows"] = int(cal.databar_rows)
    return out


def _databar(frame: np.ndarray, cal: Calibration | None) -> tuple[int, str]:
    if cal is not None and cal.databar_rows is not None:
        return cal.databar_rows, cal.databar_source or "metadata"
    from .databar import find_databar  # scipy.ndimage: loaded when a bar is searched for

    rows = find_databar(frame)
    return rows, ("found in the image" if rows else "none found in the image")


def build_micrograph(frame: np.ndarray, cal: Calibration | None, path: Path, **extra: Any) -> Micrograph:
    """A Micrograph with the bar removed, the full frame kept in ``meta["full_frame"]``.

    Vendor notes and a missing calibration become :class:`SurfscanWarning`.
    """
    for note in cal.notes if cal else []:
        warnings.warn(f"{path}: {note}", SurfscanWarning, stacklevel=3)
    bar, bar_source = _databar(frame, cal)
    image = frame[: frame.shape[0] - bar] if bar else frame
    pixel = cal.pixel_size_um if cal else None
    if pixel is None:
        warnings.warn(
            f"{path}: no pixel size in the file's metadata; lengths need --pixel-size (or micrograph.replace(pixel_size=...))",
            SurfscanWarning,
            stacklevel=3,
        )
    meta: dict[str, Any] = {
        "vendor": None,
        "instrument": None,
        "hv_kV": None,
        "magnification": None,
        "working_distance_mm": None,
        "detector": None,
        "date": None,
    }
    if cal is not None:
        meta.update(cal.facts())
    meta.update(
        pixel_size_source=cal.pixel_size_source if cal and pixel is not None else None,
        databar_rows=int(bar),
        databar_source=bar_source,
        frame_shape=list(frame.shape[:2]),
        full_frame=frame,
        calibrated=pixel is not None,
        vendor_metadata=cal.raw if cal else {},
        **extra,
    )
    return Micrograph(image, pixel, meta)

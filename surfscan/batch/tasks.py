"""The work done for one file of a batch: read -> roughness -> defects -> particles, porosity.

:func:`analyse_file` never raises for a bad file: every failure becomes a
result with ``status="error"`` and one line of error text, so the batch goes
on. It runs the same in a local worker process, in a Dask worker thread and
in a plain loop (the benchmark's baseline), and holds one file at a time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import FormatError, SurfscanError, SurfscanWarning
from ..pipeline import RoughnessSettings

__all__ = ["BatchSettings", "analyse_file", "content_hash", "path_key", "defects_available"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class BatchSettings:
    """Everything that decides a file's result (hashed into the results key).

    Attributes
    ----------
    roughness : bool
        Compute ISO 25178 parameters of height maps.
    defects : bool
        Detect protrusions (surfscan.detect_protrusions).
    roughness_settings : RoughnessSettings
        Levelling, S- and L-filter cut-offs (µm), parameter selection.
    defect_settings : tuple of (str, value)
        Keyword settings passed to ``detect_protrusions``.
    pixel_size : float or None
        Pixel size in µm overriding the calibration of SEM images.
    particles : bool
        Particle size distribution of SEM images (surfscan.measure_particles).
    porosity : bool
        Pore area fraction of SEM cross-sections (surfscan.porosity_from_section).
    particle_settings : tuple of (str, value)
        Keyword settings passed to ``measure_particles``.
    """

    roughness: bool = True
    defects: bool = True
    roughness_settings: RoughnessSettings = field(default_factory=RoughnessSettings)
    defect_settings: tuple[tuple[str, Any], ...] = ()
    pixel_size: float | None = None
    particles: bool = False
    porosity: bool = False
    particle_settings: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every setting, units in the key names."""
        from .. import __version__
        from ..iso25178 import resolve_names

        rough = self.roughness_settings.as_dict()
        params = self.roughness_settings.params
        rough["params"] = resolve_names(list(params) if params else None) if self.roughness else []
        return {
            "surfscan_version": __version__,
            "roughness": self.roughness,
            "defects": self.defects,
            **rough,
            "defect_settings": {k: v for k, v in self.defect_settings},
            "pixel_size_um": self.pixel_size,
            "particles": self.particles,
            "porosity": self.porosity,
            "particle_settings": {k: v for k, v in self.particle_settings},
        }

    @property
    def hash(self) -> str:
        """A short stable hash of :meth:`as_dict` (hex)."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def content_hash(path: str | os.PathLike) -> str:
    """BLAKE2b hash (hex, 128 bit) of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def path_key(path: str) -> str:
    """The results key of a file whose content cannot be read: ``path:`` + a hash of its path."""
    return "path:" + hashlib.blake2b(os.fsencode(path), digest_size=16).hexdigest()


def defects_available() -> bool:
    """True when ``surfscan.detect_protrusions`` exists in this installation."""
    import surfscan

    return callable(getattr(surfscan, "detect_protrusions", None))


_local = threading.local()
_hook_lock = threading.Lock()


def _show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings API
    sink = getattr(_local, "sink", None)
    if sink is not None and issubclass(category, SurfscanWarning):
        sink.append(str(message))
        return
    _show.original(message, category, filename, lineno, file, line)


@contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Collect the SurfscanWarnings raised in this thread (thread-safe, unlike catch_warnings)."""
    with _hook_lock:
        if warnings.showwarning is not _show:
            _show.original = warnings.showwarning
            warnings.showwarning = _show
        if not warnings.filters or warnings.filters[0][2] is not SurfscanWarning or warnings.filters[0][0] != "always":
            warnings.filterwarnings("always", category=SurfscanWarning)
    sink: list[str] = []
    _local.sink = sink
    try:
        yield sink
    finally:
        _local.sink = None


def _open_error(path: str, exc: OSError) -> FormatError:
    """The one-line reason a path could not be opened."""
    if os.path.isdir(path):
        return FormatError(path, "is a folder, not a file")
    if os.path.islink(path) and not os.path.exists(path):
        return FormatError(path, f"dangling link (points to {os.readlink(path)})")
    if not os.path.lexists(path):
        return FormatError(path, "no such file")
    return FormatError(path, f"cannot open: {exc.strerror or exc}")


def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v if isinstance(v, (bool, int, float, str)) or v is None else str(v)


def _describe(obj: Any) -> dict[str, Any]:
    from ..model import Surface

    if isinstance(obj, Surface):
        return {"kind": "height", "rows": obj.shape[0], "cols": obj.shape[1], "dx_um": obj.dx, "dy_um": obj.dy,
                "invalid_fraction": obj.invalid_fraction}
    return {"kind": "sem", "rows": obj.shape[0], "cols": obj.shape[1], "dx_um": obj.pixel_size,
            "dy_um": obj.pixel_size, "invalid_fraction": None}


def _read(path: str, settings: BatchSettings) -> Any:
    from ..io import read
    from ..model import Micrograph

    obj = read(path)
    if settings.pixel_size is not None and isinstance(obj, Micrograph):
        meta = dict(obj.meta, pixel_size_source="user (--pixel-size)", pixel_size_file_um=obj.pixel_size)
        obj = obj.replace(pixel_size=float(settings.pixel_size), meta=meta)
    return obj


def _flatten(summary: dict[str, Any]) -> dict[str, Any]:
    """One level of scalars: ``{"equivalent_diameter_um": {"p50": x}}`` -> ``equivalent_diameter_p50_um``."""
    from .spec import KEY_SUFFIXES

    out: dict[str, Any] = {}
    for key, value in summary.items():
        key = str(key)
        if key == "kind":
            continue
        if key == "settings":  # the detector's effective settings, as one JSON text
            out[key] = json.dumps(value, sort_keys=True, default=str)
        elif isinstance(value, dict):
            suffix = next((s for s, _ in KEY_SUFFIXES if key.endswith(s)), "")
            stem = key[: len(key) - len(suffix)]
            for sub, v in value.items():
                out[f"{stem}_{sub}{suffix}"] = v if isinstance(v, str) else _scalar(v)
        else:
            out[key] = _scalar(value)
    return out


def _defects(obj: Any, settings: BatchSettings) -> tuple[dict[str, Any], dict[str, list]]:
    import surfscan

    detect = getattr(surfscan, "detect_protrusions", None)
    if detect is None:
        raise SurfscanError("defect detection (surfscan.detect_protrusions) is not available in this installation; "
                            "run with --no-defects")
    found = detect(obj, **dict(settings.defect_settings))
    summary = _flatten(dict(found.summary))
    table = found.table
    objects = {str(c): [_scalar(v) for v in table[c].tolist()] for c in table.columns}
    return summary, objects


def _sem_measures(obj: Any, settings: BatchSettings) -> dict[str, Any]:
    """Particle summary (``particles_*``) and section porosity (``porosity_*``) of an SEM image, flat scalars."""
    import surfscan

    out: dict[str, Any] = {}
    if settings.particles:
        summary = dict(surfscan.measure_particles(obj, **dict(settings.particle_settings)).summary)
        summary.pop("warnings", None)  # raised as SurfscanWarnings, kept in the result's warnings
        out.update({f"particles_{k}": v for k, v in _flatten(summary).items()})
    if settings.porosity:
        found = surfscan.porosity_from_section(obj)
        out.update({"porosity_percent": _scalar(found.porosity_percent),
                    "porosity_band_low_percent": _scalar(found.band_percent[0]),
                    "porosity_band_high_percent": _scalar(found.band_percent[1]),
                    "porosity_threshold": _scalar(found.threshold), "porosity_method": found.method})
    return out


def _analyse(path: str, settings: BatchSettings, out: dict[str, Any], clock: dict[str, float]) -> None:
    from ..model import Micrograph, Surface
    from ..pipeline import measure_roughness

    t = time.perf_counter()
    try:
        if not os.stat(path).st_mode & 0o444:  # unreadable for everyone, even if root could read it anyway
            raise FormatError(path, "cannot open: no read permission (mode 000)")
        out["content_hash"] = content_hash(path)
        out["file_size"] = os.path.getsize(path)
    except OSError as exc:
        raise _open_error(path, exc) from None
    obj = _read(path, settings)
    out["format"] = obj.meta.get("format")
    out.update(_describe(obj))
    clock["read"] = time.perf_counter() - t
    if settings.roughness and isinstance(obj, Surface):
        t = time.perf_counter()
        out["roughness"], out["units"] = measure_roughness(obj, settings.roughness_settings)
        out["roughness"] = {k: _scalar(v) for k, v in out["roughness"].items()}
        clock["roughness"] = time.perf_counter() - t
    if settings.defects:
        t = time.perf_counter()
        out["defects"], out["objects"] = _defects(obj, settings)
        clock["defects"] = time.perf_counter() - t
    if (settings.particles or settings.porosity) and isinstance(obj, Micrograph):
        t = time.perf_counter()
        out["measures"] = _sem_measures(obj, settings)
        clock["sem_measures"] = time.perf_counter() - t


def analyse_file(path: str, settings: BatchSettings) -> dict[str, Any]:
    """Read one file, compute its roughness and defects; never raises for a bad file.

    Parameters
    ----------
    path : str
        The file.
    settings : BatchSettings
        What to compute and how.

    Returns
    -------
    dict
        ``path``, ``content_hash`` (``path:...`` when the bytes could not be
        read), ``status`` (``"ok"`` or ``"error"``), ``error`` (one line),
        ``kind``, ``format``, ``rows``, ``cols``, ``dx_um``, ``dy_um``,
        ``roughness`` and ``units`` (dicts), ``defects`` (the protrusion
        summary), ``objects`` (the per-object table as column lists),
        ``measures`` (flat ``particles_*`` and ``porosity_*`` values of SEM
        images; empty for height maps),
        ``warnings`` (list of str), ``timings`` (seconds per stage) and
        ``worker`` (host:pid).
    """
    t0 = time.perf_counter()
    out: dict[str, Any] = {"path": path, "content_hash": None, "status": "ok", "error": None, "roughness": {},
                           "units": {}, "defects": {}, "measures": {}, "objects": None, "settings_hash": settings.hash}
    clock: dict[str, float] = {}
    with _captured_warnings() as caught:
        try:
            _analyse(path, settings, out, clock)
        except MemoryError:
            out.update(status="error", error=f"{path}: not enough memory")
        except Exception as exc:  # every failure is a result of this file
            msg = str(exc) if isinstance(exc, SurfscanError) else f"{type(exc).__name__}: {exc}"
            out.update(status="error", error=msg if path in msg else f"{path}: {msg}")
    if out["content_hash"] is None:
        out["content_hash"] = path_key(path)
    out["warnings"] = list(dict.fromkeys(caught))
    clock["total"] = time.perf_counter() - t0
    out["timings"] = clock
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return out

"""The work done for one file of a batch: read -> roughness -> protrusions -> particles, porosity.

:func:`analyse_file` never raises for a bad file: every failure becomes a
result with ``status="error"`` and one line of error text, so the batch goes
on. It runs the same in a local worker process, in a Dask worker thread and
in a plain loop (the benchmark's baseline), and holds one file at a time.

Labels saved beside an image (``<image>.labels.tif``, :mod:`surfscan.labels_io`)
replace the automatic detection of the analyses they hold a page for: the
protrusions (``protrusions`` page) and the particles (``particles`` page) are
then measured from the labels (:mod:`surfscan.remeasure`), and the result
says so (``source`` = ``labels`` or ``auto``). The result's key then covers
the labels too (``content_hash`` = a hash of the image's and the labels
file's hashes), so an edited labels file is never answered with a stale result.

Each protrusion and particle result carries its quality verdict as flat
values: ``quality_reliable`` (True, False, or None when the analysis gave no
quality block), ``quality_reasons`` (one text), ``quality_agglomeration_index``
and ``quality_split_fraction``. Labels drawn by a person count as reliable.
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

from .._renamed import renamed_fields
from ..errors import FormatError, SurfscanError, SurfscanWarning
from ..pipeline import RoughnessSettings
from .store import with_old_names

__all__ = ["BatchSettings", "analyse_file", "content_hash", "path_key", "protrusions_available", "defects_available",
           "labels_signature", "chain_columns"]

_CHUNK = 1 << 20


@renamed_fields({"defects": "protrusions", "defect_settings": "protrusion_settings", "pixel_size": "pixel_size_um"})
@dataclass(frozen=True)
class BatchSettings:
    """Everything that decides a file's result (hashed into the results key).

    Attributes
    ----------
    roughness : bool
        Compute ISO 25178 parameters of height maps.
    protrusions : bool
        Detect protrusions (surfscan.detect_protrusions).
    roughness_settings : RoughnessSettings
        The operator chain (outlier removal, fill, levelling, S- and L-filter
        cut-offs in µm or ``filters="auto"``) and the parameter selection.
    protrusion_settings : tuple of (str, value)
        Keyword settings passed to ``detect_protrusions``.
    pixel_size_um : float or None
        Pixel size in µm overriding the calibration of SEM images.
    particles : bool
        Particle size distribution of SEM images (surfscan.measure_particles).
    porosity : bool
        Pore area fraction of SEM cross-sections (surfscan.porosity_from_section).
    particle_settings : tuple of (str, value)
        Keyword settings passed to ``measure_particles``.

    The old names ``defects``, ``defect_settings`` and ``pixel_size`` are still
    accepted, with a DeprecationWarning, for one release.
    """

    roughness: bool = True
    protrusions: bool = True
    roughness_settings: RoughnessSettings = field(default_factory=RoughnessSettings)
    protrusion_settings: tuple[tuple[str, Any], ...] = ()
    pixel_size_um: float | None = None
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
            "protrusions": self.protrusions,
            **rough,
            "protrusion_settings": {k: v for k, v in self.protrusion_settings},
            "pixel_size_um": self.pixel_size_um,
            "particles": self.particles,
            "porosity": self.porosity,
            "particle_settings": {k: v for k, v in self.particle_settings},
        }

    @property
    def hash(self) -> str:
        """A short stable hash of :meth:`as_dict` (hex).

        It is taken over the settings' names as they were before "defect" became "protrusion", so a
        results folder written by an earlier surfscan resumes instead of measuring every file again.
        """
        text = json.dumps(with_old_names(self.as_dict()), sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def chain_columns(chain: dict[str, Any]) -> dict[str, Any]:
    """The operator chain of a roughness result as flat values: ``chain`` (one line) and ``chain_*`` numbers.

    ``chain_lambda_s_um``, ``chain_lambda_c_um`` (µm, as applied; chosen per
    file with filters auto), ``chain_filters`` (manual | auto),
    ``chain_level``, ``chain_outliers`` and ``chain_outliers_removed``,
    ``chain_fill`` and ``chain_points_filled`` (None when the step did not run),
    ``chain_filter_choice`` (how auto chose the cut-offs, or "").
    """
    return {"chain": chain["text"], "chain_level": chain["F_operator"].removeprefix("level "),
            "chain_filters": chain["filters"], "chain_lambda_s_um": _scalar(chain["lambda_s_um"]),
            "chain_lambda_c_um": _scalar(chain["lambda_c_um"]), "chain_outliers": chain["outliers"],
            "chain_outliers_removed": chain["outliers_removed"], "chain_fill": chain["fill"],
            "chain_points_filled": chain["points_filled"], "chain_filter_choice": chain["filter_choice"]}


def content_hash(path: str | os.PathLike) -> str:
    """BLAKE2b hash (hex, 128 bit) of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def labels_signature(path: str | os.PathLike) -> str:
    """``"size:mtime_ns"`` of the image's labels file, or ``""`` when it has none (resume checks compare it)."""
    from ..labels_io import labels_path

    try:
        st = os.stat(labels_path(path))
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _key_with_labels(image_hash: str, labels_hash: str) -> str:
    """The results key of an image measured from saved labels: both files' hashes together."""
    return hashlib.blake2b(f"{image_hash}+labels:{labels_hash}".encode(), digest_size=16).hexdigest()


def path_key(path: str) -> str:
    """The results key of a file whose content cannot be read: ``path:`` + a hash of its path."""
    return "path:" + hashlib.blake2b(os.fsencode(path), digest_size=16).hexdigest()


def protrusions_available() -> bool:
    """True when ``surfscan.detect_protrusions`` exists in this installation."""
    import surfscan

    return callable(getattr(surfscan, "detect_protrusions", None))


def defects_available() -> bool:
    """Deprecated name of :func:`protrusions_available`."""
    warnings.warn("defects_available is deprecated and will be removed in the next release; use protrusions_available",
                  DeprecationWarning, stacklevel=2)
    return protrusions_available()


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
    if settings.pixel_size_um is not None and isinstance(obj, Micrograph):
        meta = dict(obj.meta, pixel_size_source="user (--pixel-size)", pixel_size_file_um=obj.pixel_size)
        obj = obj.replace(pixel_size=float(settings.pixel_size_um), meta=meta)
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


def _quality(summary: dict[str, Any]) -> dict[str, Any]:
    """Take the ``quality`` block out of a summary as flat values (None when the analysis gave none)."""
    q = summary.pop("quality", None)
    if not isinstance(q, dict):
        return {"quality_reliable": None, "quality_reasons": None}
    reasons = q.get("reasons") or []
    reliable = q.get("reliable")
    out = {"quality_reliable": None if reliable is None else bool(reliable),
           "quality_reasons": "; ".join(map(str, reasons)) if isinstance(reasons, (list, tuple)) else str(reasons),
           "quality_agglomeration_index": None, "quality_split_fraction": None}
    for key, value in q.items():  # the other single numbers of the block; curves stay in the library's result
        if key not in ("reliable", "reasons") and not isinstance(value, (dict, list, tuple, np.ndarray)):
            out[f"quality_{key}"] = _scalar(value)
    return out


def _flat_result(summary: dict[str, Any], source: str) -> dict[str, Any]:
    """A summary as flat scalars with its ``source`` (labels | auto) and quality values."""
    summary = dict(summary)
    summary.pop("source", None)
    quality = _quality(summary)
    return {"source": source, **_flatten(summary), **quality}


def _protrusions(obj: Any, settings: BatchSettings, labels: np.ndarray | None) -> tuple[dict[str, Any], dict[str, list]]:
    import surfscan

    options = dict(settings.protrusion_settings)
    if labels is not None:
        px = options.get("pixel_size_um", options.get("pixel_size"))
        found = surfscan.measure_protrusions_from_labels(obj, labels, polarity=options.get("polarity", "bright"),
                                                         pixel_size=px)
    else:
        detect = getattr(surfscan, "detect_protrusions", None)
        if detect is None:
            raise SurfscanError("protrusion detection (surfscan.detect_protrusions) is not available in this "
                                "installation; run with --no-protrusions")
        found = detect(obj, **options)
    summary = _flat_result(found.summary, "labels" if labels is not None else "auto")
    table = found.table
    objects = {str(c): [_scalar(v) for v in table[c].tolist()] for c in table.columns}
    return summary, objects


def _particles(obj: Any, settings: BatchSettings, labels: np.ndarray | None) -> dict[str, Any]:
    """The particle summary as flat ``particles_*`` values, from saved labels when there are some."""
    import surfscan

    options = dict(settings.particle_settings)
    if labels is not None:
        kept = {k: options[k] for k in ("linear_above", "min_count", "exclude_border") if k in options}
        found = surfscan.measure_particles_from_labels(obj, labels, **kept)
    else:
        found = surfscan.measure_particles(obj, **options)
    summary = dict(found.summary)
    summary.pop("warnings", None)  # raised as SurfscanWarnings, kept in the result's warnings
    flat = _flat_result(summary, "labels" if labels is not None else "auto")
    return {f"particles_{k}": v for k, v in flat.items()}


def _sem_measures(obj: Any, settings: BatchSettings, labels: dict[str, np.ndarray]) -> dict[str, Any]:
    """Particle summary (``particles_*``) and section porosity (``porosity_*``) of an SEM image, flat scalars."""
    import surfscan

    out: dict[str, Any] = {}
    if settings.particles:
        out.update(_particles(obj, settings, labels.get("particles")))
    if settings.porosity:
        found = surfscan.porosity_from_section(obj)
        out.update({"porosity_percent": _scalar(found.porosity_percent),
                    "porosity_band_low_percent": _scalar(found.band_percent[0]),
                    "porosity_band_high_percent": _scalar(found.band_percent[1]),
                    "porosity_threshold": _scalar(found.threshold), "porosity_method": found.method})
    return out


def _saved_labels(path: str, out: dict[str, Any]) -> dict[str, np.ndarray]:
    """The pages of the image's labels file; folds the labels file's hash into the result key."""
    from ..labels_io import labels_path, load_all_labels

    lab_path = labels_path(path)
    if not lab_path.is_file():
        return {}
    out["content_hash"] = _key_with_labels(out["content_hash"], content_hash(lab_path))
    pages = load_all_labels(path)
    out["measures"]["labels_file"] = lab_path.name
    out["measures"]["labels_pages"] = ", ".join(pages)
    return pages


def _analyse(path: str, settings: BatchSettings, out: dict[str, Any], clock: dict[str, float]) -> None:
    from ..model import Micrograph, Surface
    from ..pipeline import measure_roughness_chain

    t = time.perf_counter()
    try:
        if not os.stat(path).st_mode & 0o444:  # unreadable for everyone, even if root could read it anyway
            raise FormatError(path, "cannot open: no read permission (mode 000)")
        out["content_hash"] = content_hash(path)
        out["file_size"] = os.path.getsize(path)
    except OSError as exc:
        raise _open_error(path, exc) from None
    labels = _saved_labels(path, out)
    obj = _read(path, settings)
    out["format"] = obj.meta.get("format")
    out.update(_describe(obj))
    clock["read"] = time.perf_counter() - t
    if settings.roughness and isinstance(obj, Surface):
        t = time.perf_counter()
        out["roughness"], out["units"], chain = measure_roughness_chain(obj, settings.roughness_settings)
        out["roughness"] = {k: _scalar(v) for k, v in out["roughness"].items()}
        out["chain"] = chain_columns(chain)
        clock["roughness"] = time.perf_counter() - t
    if settings.protrusions:
        t = time.perf_counter()
        out["protrusions"], out["objects"] = _protrusions(obj, settings, labels.get("protrusions"))
        clock["protrusions"] = time.perf_counter() - t
    if (settings.particles or settings.porosity) and isinstance(obj, Micrograph):
        t = time.perf_counter()
        out["measures"].update(_sem_measures(obj, settings, labels))
        clock["sem_measures"] = time.perf_counter() - t


def analyse_file(path: str, settings: BatchSettings) -> dict[str, Any]:
    """Read one file, compute its roughness and protrusions; never raises for a bad file.

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
        ``roughness`` and ``units`` (dicts), ``protrusions`` (the protrusion
        summary), ``objects`` (the per-object table as column lists),
        ``chain`` (the roughness operator chain as applied, :func:`chain_columns`;
        empty when no roughness was computed),
        ``measures`` (flat ``particles_*`` and ``porosity_*`` values of SEM
        images; ``labels_file`` and ``labels_pages`` when the image has saved
        labels; empty otherwise),
        ``warnings`` (list of str), ``timings`` (seconds per stage) and
        ``worker`` (host:pid).
    """
    t0 = time.perf_counter()
    out: dict[str, Any] = {"path": path, "content_hash": None, "status": "ok", "error": None, "roughness": {},
                           "units": {}, "protrusions": {}, "measures": {}, "chain": {}, "objects": None, "settings_hash": settings.hash}
    clock: dict[str, float] = {}
    from ..iso25178 import limit_threads

    # one thread per file: the batch runs files side by side, and the warnings are collected per thread
    with _captured_warnings() as caught, limit_threads(1):
        try:
            _analyse(path, settings, out, clock)
        except MemoryError:
            out.update(status="error", error=f"{path}: not enough memory")
        except Exception as exc:  # must be broad: the batch never loses a file, every failure is its result
            msg = str(exc) if isinstance(exc, SurfscanError) else f"{type(exc).__name__}: {exc}"
            out.update(status="error", error=msg if path in msg else f"{path}: {msg}")
    if out["content_hash"] is None:
        out["content_hash"] = path_key(path)
    out["warnings"] = list(dict.fromkeys(caught))
    clock["total"] = time.perf_counter() - t0
    out["timings"] = clock
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return out

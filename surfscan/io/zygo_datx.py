"""Zygo Mx ``.datx`` height maps (HDF5, read with h5py, imported lazily).

**Not yet verified against an instrument file**: the reader follows the
layout used by Gwyddion's ``datxfile.c``, SurfaceTopography and prysm, and is
tested on HDF5 files built from that layout.

Layout:

- ``/MetaData``: a table of (source, key, destination) byte strings; from the
  ``Root`` row, ``Measurement`` -> ``Surface`` -> ``Path`` names the height
  dataset (usually ``/Measurement/Surface``); ``/Measurement/Intensity``
  holds the intensity map when present;
- the height dataset is 2-D ``[row, column]`` with attributes ``Unit`` (for
  example ``MicroMeters``, ``NanoMeters``), ``No Data`` (the value of
  non-measured points; non-finite values are non-measured too) and
  ``X Converter`` / ``Y Converter`` / ``Z Converter`` records
  ``(category, base unit, unit, parameters)``: a lateral converter of
  category ``LateralCat`` has the spacing in metres per pixel as its second
  parameter;
- instrument attributes (``... System Type``, ``... System Serial Number``,
  ``... Wavelength`` ...) sit on the groups under ``/Attributes``.

Channels: ``height`` (default) and ``intensity`` (raw values, see
:mod:`surfscan.io.channels`).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors
from ..errors import CorruptFileError, FormatError, ReaderBugError, SurfscanError, UnsupportedFeatureError
from ..model import Surface
from .channels import INTENSITY_UNIT, pick_channel
from .checks import DECODE_ERRORS, decoding
from .limits import check_grid
from .registry import Format, register

__all__ = ["read_datx"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_UNIT_UM = {"meters": 1e6, "m": 1e6, "millimeters": 1e3, "mm": 1e3, "micrometers": 1.0, "um": 1.0, "µm": 1.0,
            "microns": 1.0, "nanometers": 1e-3, "nm": 1e-3, "angstroms": 1e-4, "picometers": 1e-6, "pm": 1e-6}
_META_LEAVES = {"System Type": "model", "System Serial Number": "serial", "Wavelength": "wavelength",
                "Objective Mag": "objective_magnification", "Objective Name": "objective", "Time Stamp": "date",
                "Software Info Name": "software"}
_MAX_META_ROWS = 100_000

#: Seconds an isolated datx read may take (plus 1 s per 50 MB of file) before the child is killed.
READ_TIMEOUT_S = 30.0

#: What h5py raises on a corrupt file: the decode errors, OSError, and RuntimeError from the HDF5 library.
_H5_ERRORS = (*DECODE_ERRORS, OSError, RuntimeError)


def _sniff(head: bytes, path: Path) -> int:
    if not head.startswith(HDF5_MAGIC):
        return 0
    return 100 if path.suffix.lower() == ".datx" or b"MetaData" in head or b"Measurement" in head else 40


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("latin-1").strip("\0 ")
    return str(value).strip()


def _surface_path(h5: Any) -> str | None:
    """The height dataset's path from ``/MetaData`` (None when it cannot be followed)."""
    table = h5.get("MetaData")
    if table is None or not hasattr(table, "shape") or len(table.shape) != 1 or table.shape[0] > _MAX_META_ROWS:
        return None
    links: dict[str, dict[str, str]] = {}
    for row in table[()]:
        if len(row) < 3:
            continue
        links.setdefault(_text(row[0]), {})[_text(row[1])] = _text(row[-1])
    node = links.get("Root", {})
    for key in ("Measurement", "Surface"):
        node = links.get(node.get(key, ""), {})
    return node.get("Path") or None


def _find_dataset(path: Path, h5: Any) -> Any:
    where = _surface_path(h5)
    for candidate in (where, "/Measurement/Surface"):
        if candidate and candidate in h5:
            obj = h5[candidate]
            if hasattr(obj, "shape"):
                return obj
    raise FormatError(path, "no height dataset found (neither /MetaData nor /Measurement/Surface)")


def _converter_step(path: Path, dset: Any, axis: str) -> float:
    conv = dset.attrs.get(f"{axis} Converter")
    try:
        record = conv[0] if isinstance(conv, np.ndarray) and conv.shape else conv
        params = np.asarray(record[-1], dtype=np.float64).ravel()
        step = float(params[1])
    except _H5_ERRORS:  # absent (None), too short, or not numbers
        raise CorruptFileError(path, f"missing or unreadable '{axis} Converter' attribute on {dset.name}") from None
    if not (np.isfinite(step) and step > 0):
        raise FormatError(path, f"'{axis} Converter' gives a spacing of {step} m")
    return step * 1e6


def _z_scale(path: Path, dset: Any) -> tuple[float, str]:
    unit = _text(dset.attrs.get("Unit", b""))
    scale = _UNIT_UM.get(unit.lower())
    if scale is None:
        raise UnsupportedFeatureError(path, f"height unit {unit!r} is not a length (wave or fringe units are not supported)")
    return scale, unit


def _checked_array(path: Path, dset: Any) -> np.ndarray:
    if len(dset.shape) != 2:
        raise FormatError(path, f"dataset {dset.name} has shape {dset.shape}, not 2-D")
    rows, cols = check_grid(path, *dset.shape)
    if dset.dtype.kind not in "biuf":
        raise FormatError(path, f"dataset {dset.name} holds {dset.dtype}, not numbers")
    if dset.chunks is None and dset.compression is None:
        stored = dset.id.get_storage_size()
        if stored < rows * cols * dset.dtype.itemsize:
            raise FormatError(path, f"dataset {dset.name} declares {rows} x {cols} values but stores {stored} bytes")
    return np.asarray(dset[()], dtype=np.float64)


def _instrument_meta(h5: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    groups = [h5["Attributes"]] if "Attributes" in h5 else []
    groups += [g for g in list(groups[0].values())[:50] if hasattr(g, "attrs")] if groups else []
    for group in groups:
        for name in list(group.attrs.keys())[:2000]:
            leaf = name.rsplit(".", 1)[-1].strip()
            if leaf in _META_LEAVES and _META_LEAVES[leaf] not in meta:
                try:
                    meta[_META_LEAVES[leaf]] = _text(group.attrs[name])
                except _H5_ERRORS:  # an unreadable attribute: metadata only
                    continue
    return meta


def _wavelength_nm(meta: dict[str, Any]) -> None:
    """Add ``wavelength_nm`` from a wavelength stored in metres (or already in nm)."""
    try:
        value = float(meta["wavelength"])
    except (KeyError, ValueError):
        return
    if np.isfinite(value) and value > 0:
        meta["wavelength_nm"] = value * 1e9 if value < 1e-3 else value


def _read_in_process(path: Path, channel: str | None) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    import h5py

    try:
        h5 = h5py.File(path, "r")
    except _H5_ERRORS as exc:
        raise CorruptFileError(path, f"not a readable HDF5 file ({exc})") from None
    with h5, decoding(path, "HDF5 data"):
        surface = _find_dataset(path, h5)
        available = ["height"] + (["intensity"] if "/Measurement/Intensity" in h5 else [])
        name = pick_channel(path, available, channel)
        dset = surface if name == "height" else h5["/Measurement/Intensity"]
        dx, dy = _converter_step(path, surface, "X"), _converter_step(path, surface, "Y")
        z = _checked_array(path, dset)
        no_data = dset.attrs.get("No Data")
        invalid = ~np.isfinite(z)
        if no_data is not None and np.size(no_data):
            invalid |= z == float(np.ravel(no_data)[0])
        meta: dict[str, Any] = {"instrument": "Zygo", "vendor": "Zygo", "channel": name, "channels": available}
        meta.update(_instrument_meta(h5))
        _wavelength_nm(meta)
        if "model" in meta:
            meta["instrument"] = f"Zygo {meta['model']}"
        if name == "height":
            scale, unit = _z_scale(path, dset)
            z *= scale
            meta["z_unit_file"] = unit
        else:
            meta["z_unit"] = INTENSITY_UNIT
    z[invalid] = np.nan
    return z, dx, dy, meta


def _child(path: Path, channel: str | None, fd: int) -> None:
    """In the forked child: read, send the pickled result (or the error text) and exit."""
    try:
        try:
            result: tuple = ("ok", _read_in_process(path, channel))
        except FormatError as exc:
            result = ("format", (type(exc).__name__, exc.reason))
        except SurfscanError as exc:
            result = ("user", str(exc))
        except _H5_ERRORS as exc:  # what the HDF5 library raised outside the checked blocks
            result = ("format", ("CorruptFileError", f"corrupt datx file ({type(exc).__name__}: {exc})"))
        except BaseException as exc:  # noqa: BLE001 -- the child must report everything: the parent calls it a bug
            result = ("bug", (type(exc).__name__, str(exc)))
        with os.fdopen(fd, "wb") as fh:
            fh.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)


def _read_isolated(path: Path, channel: str | None, timeout: float) -> tuple:
    """Run :func:`_read_in_process` in a forked child that is killed after ``timeout`` seconds.

    The HDF5 library loops forever on some corrupt files (a damaged
    variable-length attribute is enough); no Python code can interrupt it,
    so an untrusted file is read in a child process.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(rfd)
        _child(path, channel, wfd)
    os.close(wfd)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        with os.fdopen(rfd, "rb", buffering=0) as fh:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.kill(pid, signal.SIGKILL)
                    raise FormatError(path, f"the HDF5 library did not finish reading this file within {timeout:g} s "
                                            "(corrupt file?)")
                if select.select([fh], [], [], min(left, 1.0))[0]:
                    chunk = fh.read(1 << 22)
                    if not chunk:
                        break
                    chunks.append(chunk)
    finally:  # also on KeyboardInterrupt or an alarm: never leave the child running
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if not chunks:
        raise CorruptFileError(path, "the HDF5 library crashed reading this file (corrupt file?)")
    status, payload = pickle.loads(b"".join(chunks))
    if status == "ok":
        return payload
    if status == "format":
        cls, reason = payload
        error = getattr(errors, cls, FormatError)
        raise (error if isinstance(error, type) and issubclass(error, FormatError) else FormatError)(path, reason)
    if status == "user":
        raise SurfscanError(payload)
    raise ReaderBugError(path, "datx", RuntimeError(f"{payload[0]} in the reading process: {payload[1]}"))


def read_datx(path: Path, channel: str | None = None, isolate: bool | None = None) -> Surface:
    """Read a Zygo ``.datx`` file.

    Parameters
    ----------
    path : Path
        The ``.datx`` file, an HDF5 container of the measurement and its attributes.
    channel : str, optional
        ``"height"`` (default) or ``"intensity"``.
    isolate : bool, optional
        Read in a forked child process killed after :data:`READ_TIMEOUT_S`
        (plus 1 s per 50 MB), because the HDF5 library can hang on corrupt
        files. Default: True where ``os.fork`` exists.

    Returns
    -------
    Surface
        Heights in µm (converted from the dataset's ``Unit``), spacing from
        the X/Y converters; ``No Data`` and non-finite points are NaN.
    """
    if isolate is None:
        isolate = hasattr(os, "fork")
    if isolate:
        import h5py  # noqa: F401 -- imported once here, not in every child

        timeout = READ_TIMEOUT_S + Path(path).stat().st_size / 50e6
        z, dx, dy, meta = _read_isolated(Path(path), channel, timeout)
    else:
        z, dx, dy, meta = _read_in_process(Path(path), channel)
    return Surface(z, dx, dy, meta, quantity="height" if meta["channel"] == "height" else "intensity")


register(Format("datx", "Zygo Mx .datx (HDF5; layout only, not yet verified on an instrument file)", (".datx",),
                kind="height", reader=read_datx, sniff=_sniff, verified=False))

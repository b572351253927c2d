"""Reading and writing height maps and micrographs.

``read(path)`` returns a :class:`~surfscan.model.Surface` (height map) or a
:class:`~surfscan.model.Micrograph` (SEM image); ``write(surface, path)``
writes a height map in the format named by the suffix; ``formats()`` lists
what is supported. Each vendor family lives in its own module, which
registers its formats with :mod:`surfscan.io.registry` on import.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from ..errors import FormatError, SurfscanError, UnsupportedFeatureError
from ..model import Micrograph, Surface
from .registry import Format, call_reader, detect, formats, get_format, register

__all__ = ["read", "write", "list_channels", "formats", "Format", "register", "get_format"]

# One module per vendor family; each registers its formats on import.
_FORMAT_MODULES = [
    "sem",
    "npy",
    "x3p",
    "tiff_height",
    "text",
    "digitalsurf",
    "sensofar_plu",
    "zygo_metropro",
    "wyko_opd",
    "alicona",
    "nanofocus",
    "frt",
    "truemap",
    "sdf",
    "keyence_zon",
    "gwyddion",
    "keyence_vk",
    "olympus",
    "zygo_datx",
    "sensofar_plux",
]

for _name in _FORMAT_MODULES:
    importlib.import_module(f"{__name__}.{_name}")

from .contents import list_channels  # noqa: E402 -- after the formats it lists


def read(path: str | os.PathLike, format: str | None = None, **options: Any) -> Surface | Micrograph:
    """Read a height map or a micrograph.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : str, optional
        Force a format by name (see :func:`formats`); by default it is chosen
        from the file's content, then its suffix.
    **options
        Passed to the format's reader (for example ``channel=`` for files
        with several channels).

    Returns
    -------
    Surface or Micrograph
        Heights in µm with NaN for non-measured points, or an SEM image with
        its information bar removed and its pixel size in µm.

    Raises
    ------
    FormatError
        One clear error naming the file and the reason: missing, empty,
        not a known format (:class:`~surfscan.errors.NotThisFormatError`),
        truncated or corrupt (:class:`~surfscan.errors.CorruptFileError`), a
        feature the reader does not support
        (:class:`~surfscan.errors.UnsupportedFeatureError`).
    ReaderBugError
        An unexpected exception inside the reader (a bug in surfscan, not a
        problem of the file); it names the file and asks for a report.
    SurfscanError
        A bad option (an unknown channel, an unknown format name).

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.read("sample_images/electrode_A_good_site2.x3p")
    >>> type(s).__name__, s.shape, s.dx                     # rows x columns, spacing in µm
    ('Surface', (600, 800), 0.15)
    >>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")  # bar removed, pixel size from the file
    >>> type(m).__name__, m.shape, m.pixel_size
    ('Micrograph', (768, 1024), 0.78125)
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file")
    if path.is_dir():
        raise FormatError(path, "is a folder, not a file")
    try:
        if path.stat().st_size == 0:
            raise FormatError(path, "the file is empty")
        fmt = get_format(format) if format else detect(path)
    except OSError as exc:
        raise FormatError(path, f"cannot open: {exc.strerror or exc}") from exc
    if fmt.reader is None:
        raise UnsupportedFeatureError(path, f"reading {fmt.name} files is not supported")
    obj = call_reader(fmt, path, fmt.reader, **options)
    obj.meta.setdefault("source_file", str(path))
    obj.meta.setdefault("format", fmt.name)
    return obj


def write(surface: Surface, path: str | os.PathLike, format: str | None = None, **options: Any) -> Path:
    """Write a height map; the format comes from ``format`` or the suffix.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import os, tempfile, surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> path = ss.write(s, os.path.join(tempfile.mkdtemp(), "levelled.x3p"))
    >>> path.name, ss.read(path).shape
    ('levelled.x3p', (600, 800))
    """
    path = Path(path)
    if not isinstance(surface, Surface):
        raise SurfscanError(f"{path}: only height maps (Surface) can be written, not {type(surface).__name__}")
    fmt = get_format(format) if format else detect(path, for_writing=True)
    if fmt.writer is None:
        raise UnsupportedFeatureError(path, f"writing {fmt.name} files is not supported")
    fmt.writer(surface, path, **options)
    return path

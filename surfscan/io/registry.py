"""The format registry: which reader or writer handles a file.

A format is chosen by its content first (each format's ``sniff`` looks at the
first bytes, and may look further into the file), and by the file suffix
second. Reader modules register themselves with :func:`register` when
:mod:`surfscan.io` imports them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FormatError, NotThisFormatError, ReaderBugError, SurfscanError, UnsupportedFeatureError

__all__ = ["Format", "register", "formats", "get_format", "detect", "call_reader", "HEAD_BYTES"]

#: How many leading bytes are handed to every ``sniff`` function.
HEAD_BYTES = 4096

Sniffer = Callable[[bytes, Path], int]


@dataclass(frozen=True)
class Format:
    """One file format surfscan knows.

    Parameters
    ----------
    name : str
        Short identifier used on the command line (``"x3p"``, ``"vk4"``).
    description : str
        Vendor and format in the user's words.
    suffixes : tuple of str
        Lower-case file suffixes with the dot (``(".x3p",)``).
    kind : str
        ``"height"`` (returns a Surface) or ``"sem"`` (returns a Micrograph).
    reader, writer : callable or None
        ``reader(path, **options)`` and ``writer(obj, path, **options)``.
    sniff : callable or None
        ``sniff(head, path) -> int``: 0 when the content is not this format,
        otherwise a confidence (100 = magic bytes match exactly). ``head`` is
        the first :data:`HEAD_BYTES` bytes. A sniffer that looks further into
        the file may also say no by raising
        :class:`~surfscan.errors.NotThisFormatError` (or an ``OSError``).
    verified : bool
        False when the reader was written from a documented layout and has
        not yet been checked against a file written by the instrument.
    lister : callable or None
        ``lister(path) -> dict`` with ``channels`` (a list of ``(name,
        quantity, shape)``) and what the header says, read without the data
        (:func:`surfscan.io.list_channels`); None: the file is read instead.
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    kind: str = "height"
    reader: Callable[..., Any] | None = None
    writer: Callable[..., Any] | None = None
    sniff: Sniffer | None = None
    verified: bool = True
    lister: Callable[..., dict[str, Any]] | None = None


_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add a format to the registry (a later registration of a name replaces it)."""
    if fmt.kind not in ("height", "sem"):
        raise ValueError(f"format kind must be 'height' or 'sem', not {fmt.kind!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


def formats() -> list[Format]:
    """All registered formats, sorted by name.

    Examples
    --------
    >>> import surfscan as ss
    >>> x3p = next(f for f in ss.formats() if f.name == "x3p")
    >>> x3p.kind, x3p.suffixes
    ('height', ('.x3p',))
    >>> ss.read("sample_images/electrode_A_good_site2.x3p").meta["format"]
    'x3p'
    """
    return sorted(_FORMATS.values(), key=lambda f: f.name)


def get_format(name: str) -> Format:
    """The format called ``name``; a clear error listing the known ones otherwise."""
    try:
        return _FORMATS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(_FORMATS))
        raise SurfscanError(f"unknown format {name!r}; known formats: {known}") from None


def call_reader(fmt: Format, path: Path, function: Callable[..., Any], stage: str = "reader", **options: Any) -> Any:
    """``function(path, **options)`` (a format's reader or lister), its failures typed.

    A :class:`~surfscan.errors.SurfscanError` passes as raised; ``MemoryError``
    and ``OSError`` become a :class:`~surfscan.errors.FormatError` naming the
    file; any other exception is a bug of the reader and becomes a
    :class:`~surfscan.errors.ReaderBugError` naming the file and the format.
    """
    try:
        return function(path, **options)
    except SurfscanError:
        raise
    except MemoryError:
        raise FormatError(path, f"not enough memory to read this {fmt.name} file") from None
    except OSError as exc:
        raise FormatError(path, f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # readers raise FormatError on purpose: anything else is a bug, reported as one
        raise ReaderBugError(path, fmt.name, exc, stage) from exc


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def detect(path: str | os.PathLike, *, for_writing: bool = False) -> Format:
    """Choose the format of ``path``: magic bytes first, suffix second.

    Raises
    ------
    NotThisFormatError
        When no registered format recognises the file; the message lists
        the formats that were tried.
    ReaderBugError
        When a sniffer fails with an unexpected exception (a bug).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if for_writing:
        for fmt in formats():
            if fmt.writer is not None and suffix in fmt.suffixes:
                return fmt
        writable = ", ".join(f.name for f in formats() if f.writer is not None)
        raise UnsupportedFeatureError(path, f"cannot write files with suffix {suffix!r}; writable formats: {writable}")

    head = _head(path)
    if not head:
        raise FormatError(path, "the file is empty")
    best: tuple[int, int, Format] | None = None
    tried = []
    for fmt in formats():
        if fmt.reader is None:
            continue
        tried.append(fmt.name)
        score = 0
        if fmt.sniff is not None:
            try:
                score = int(fmt.sniff(head, path))
            except (FormatError, OSError):  # the sniffer could not look further into the file: not this format
                score = 0
            except Exception as exc:  # any other exception is a bug in the sniffer: say so, naming the file
                raise ReaderBugError(path, fmt.name, exc, stage="format detection") from exc
        by_suffix = int(suffix in fmt.suffixes)
        if score > 0 or (by_suffix and fmt.sniff is None):
            key = (score, by_suffix, fmt)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        # suffix alone, for formats whose sniffer said no: let the reader give the reason
        for fmt in formats():
            if fmt.reader is not None and suffix in fmt.suffixes:
                return fmt
        raise NotThisFormatError(path, f"not a recognised file format (tried: {', '.join(tried)})")
    return best[2]

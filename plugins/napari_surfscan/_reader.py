"""The napari reader contribution: every format :func:`surfscan.read` understands.

The manifest lists the suffixes of the registered formats (a test keeps the
two in step); whether a file is really readable is decided by surfscan's own
detection (content first, suffix second), so a ``.dat`` or ``.tif`` that
surfscan does not recognise is left to other readers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import surfscan
from surfscan import SurfscanError
from surfscan.io.registry import HEAD_BYTES, detect

from ._layers import layer_data

__all__ = ["napari_get_reader", "read_layers", "can_read"]

PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


def can_read(path: str | os.PathLike) -> bool:
    """True when ``path`` is a file that surfscan's format registry recognises by its content.

    A format that can check content (a ``sniff`` function) must accept the
    file's first bytes; the registry's last resort, the suffix alone, is
    not enough here, so that a ``.dat`` from another program is left to
    other readers instead of failing in ours.
    """
    p = Path(path)
    if not p.is_file():
        return False
    try:
        fmt = detect(p)
        if fmt.reader is None:
            return False
        if fmt.sniff is None:
            return True
        with open(p, "rb") as fh:
            head = fh.read(HEAD_BYTES)
        return fmt.sniff(head, p) > 0
    except (SurfscanError, OSError):
        # not a surfscan format, an unreadable file, or a sniffer's bug (ReaderBugError, raised by detect; the second
        # sniff of the same bytes cannot fail otherwise): leave the file to other readers. napari does not catch a
        # get_reader exception, so raising here would stop every other plugin from opening the file.
        return False


def read_layers(path: PathOrPaths) -> list[tuple[Any, dict[str, Any], str]]:
    """Read one or several files into napari layer data (one Image layer per file).

    Raises
    ------
    SurfscanError
        One line naming the file and why it could not be read.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    return [layer_data(surfscan.read(p)) for p in paths]


def napari_get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], list] | None:
    """npe2 reader hook: :func:`read_layers` when every path is readable, else None."""
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths or not all(can_read(p) for p in paths):
        return None
    return read_layers

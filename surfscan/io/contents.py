"""What a file holds, cheaply: :func:`list_channels`.

A format may register a ``lister`` (:class:`~surfscan.io.registry.Format`)
that reads only the file's header: the SEM formats read their tags (no
pixels decoded, no information-bar search), X3P reads ``main.xml`` (no data
inflated). For the other formats the file is read once, since their readers
already map the file and touch only the header and the one data block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError
from .registry import call_reader, detect, get_format

__all__ = ["ChannelInfo", "FileChannels", "list_channels", "channels_of"]


@dataclass(frozen=True)
class ChannelInfo:
    """One channel of a file.

    Attributes
    ----------
    name : str
        The name ``read(path, channel=name)`` takes (SEM images: ``"image"``).
    quantity : str
        ``"height"`` (µm), ``"intensity"`` (raw counts), ``"color"`` (RGB,
        listed only), ``"image"`` (a grey micrograph), or ``"unknown"`` for a
        channel that was not read and whose name does not say.
    shape : tuple of int or None
        ``(rows, columns)`` when the header gives it.
    """

    name: str
    quantity: str
    shape: tuple[int, int] | None = None


@dataclass(frozen=True)
class FileChannels:
    """What :func:`list_channels` found.

    Attributes
    ----------
    path : str
        The file.
    format : str
        The format's name (:func:`surfscan.io.formats`).
    kind : str
        ``"height"`` (read returns a Surface) or ``"sem"`` (a Micrograph).
    channels : tuple of ChannelInfo
        Every channel, the one :func:`surfscan.read` returns by default first.
    header : dict
        What the header says without reading the data: calibration
        (``dx_um``/``dy_um`` or ``pixel_size_um`` and its source), ``dtype``,
        ``databar_rows`` when the metadata gives it, vendor facts.
    read_data : bool
        True when the format has no header-only lister and the file was read.
    """

    path: str
    format: str
    kind: str
    channels: tuple[ChannelInfo, ...]
    header: dict[str, Any] = field(default_factory=dict)
    read_data: bool = False

    @property
    def names(self) -> list[str]:
        """The channel names, default first."""
        return [c.name for c in self.channels]


def channels_of(obj: Any, path: str | os.PathLike, format_name: str, kind: str) -> FileChannels:
    """The :class:`FileChannels` of an object already read (a Surface or a Micrograph)."""
    channels, header = _from_surface(obj)
    return FileChannels(str(path), format_name, kind, tuple(channels), header, read_data=True)


def _from_surface(obj: Any) -> tuple[list[ChannelInfo], dict[str, Any]]:
    """Channels of a read Surface or Micrograph (formats without a lister)."""
    meta = obj.meta
    if not hasattr(obj, "quantity"):  # a Micrograph
        colour = getattr(obj.image, "ndim", 2) == 3
        header = {"pixel_size_um": obj.pixel_size, "pixel_size_source": meta.get("pixel_size_source"),
                  "dtype": str(obj.image.dtype)}
        return [ChannelInfo("image", "color" if colour else "image", tuple(meta.get("frame_shape", obj.shape)))], header
    chosen = meta.get("channel")
    names = meta.get("channels") or [chosen if isinstance(chosen, str) else obj.quantity]
    channels = []
    for entry in names:
        if isinstance(entry, dict):  # formats that describe each object (index, name, shape)
            name = str(entry.get("name", entry.get("index")))
            quantity = str(entry.get("quantity", "height"))
            shape = tuple(entry["shape"]) if entry.get("shape") else None
        else:
            name = str(entry)
            this = entry == chosen or len(names) == 1
            quantity = obj.quantity if this else _guess_quantity(name)
            shape = obj.shape if this else None
        channels.append(ChannelInfo(name, quantity, shape))
    if isinstance(chosen, str) and chosen in names:
        channels.sort(key=lambda c: c.name != chosen)
    return channels, {"dx_um": obj.dx, "dy_um": obj.dy}


def _guess_quantity(name: str) -> str:
    """The quantity of a channel that was not read, from the name the reader gave it."""
    low = name.lower()
    if low in ("color", "colour", "rgb"):
        return "color"
    if low.startswith("height"):
        return "height"
    if low.startswith(("intensity", "light", "texture", "laser")):
        return "intensity"
    return "unknown"


def list_channels(path: str | os.PathLike, format: str | None = None) -> FileChannels:
    """List what a file holds without reading all of it.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : str, optional
        Force a format by name; by default it is detected as :func:`surfscan.read` does.

    Returns
    -------
    FileChannels
        The format, the kind, every channel (name, quantity, shape) and what
        the header says (calibration, dtype, vendor facts). SEM images are
        listed from their tags: the information bar is not searched for
        (``header["databar_rows"]`` is there only when the metadata states it).

    Raises
    ------
    FormatError
        As :func:`surfscan.read`: missing, empty, not a known format, corrupt.

    Examples
    --------
    >>> from surfscan.io import list_channels
    >>> found = list_channels("sample_images/sem_anode_smooth_100x.tif")
    >>> found.kind, found.names
    ('sem', ['image'])
    """
    from . import read

    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file" if not path.exists() else "is a folder, not a file")
    try:
        fmt = get_format(format) if format else detect(path)
    except OSError as exc:
        raise FormatError(path, f"cannot open: {exc.strerror or exc}") from exc
    if fmt.lister is None:
        return channels_of(read(path, format=fmt.name), path, fmt.name, fmt.kind)
    found = dict(call_reader(fmt, path, fmt.lister, "lister"))
    channels = tuple(ChannelInfo(n, q, tuple(s) if s else None) for n, q, s in found.pop("channels"))
    return FileChannels(str(path), fmt.name, fmt.kind, channels, found)

"""Helpers shared by readers of multi-channel files and of XML metadata.

Channel policy (every reader in the Keyence, Olympus, Zygo, Sensofar and
Gwyddion modules follows it):

- ``meta["channels"]`` lists every channel the file holds, in the user's
  words (``"height"``, ``"light"``, ``"color"`` ...); ``meta["channel"]`` is
  the one returned.
- By default the height channel is returned.
- ``read(path, channel="light")`` returns an intensity channel as a
  :class:`~surfscan.model.Surface` whose ``z`` holds the raw intensity
  values (not micrometres): ``meta["z_unit"]`` says so, and the lateral
  calibration is the file's. Roughness of such a Surface is meaningless;
  it is offered for viewing and masking.
- Colour (RGB) channels are listed but cannot be returned as a Surface;
  asking for one is a clear :class:`~surfscan.errors.SurfscanError`.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ..errors import FormatError, SurfscanError

__all__ = ["INTENSITY_UNIT", "pick_channel", "parse_xml", "flatten_xml", "decode_text"]

#: ``meta["z_unit"]`` of a Surface that holds an intensity channel.
INTENSITY_UNIT = "intensity (raw counts, not a height)"

_XML_MAX_BYTES = 8 << 20


def pick_channel(
    path: str | os.PathLike | None,
    available: Iterable[str],
    requested: str | None,
    default: str = "height",
    colour: Iterable[str] = ("color",),
) -> str:
    """Choose the channel to return.

    Parameters
    ----------
    path : path-like or None
        The file, for messages.
    available : iterable of str
        Channels present in the file.
    requested : str or None
        The user's ``channel=`` option (case-insensitive); None for the default.
    default : str
        Returned when nothing was requested.
    colour : iterable of str
        Channels that are RGB images and cannot become a Surface.

    Raises
    ------
    SurfscanError
        When the requested channel is absent or is an RGB image, or when the
        default channel is absent.
    """
    available = list(available)
    name = default if requested is None else str(requested).strip().lower()
    if name not in available:
        if requested is None:
            raise FormatError(path, f"the file holds no {default} channel (channels: {', '.join(available) or 'none'})")
        raise SurfscanError(f"{path}: no channel {requested!r}; the file holds: {', '.join(available)}")
    if name in set(colour):
        raise SurfscanError(
            f"{path}: channel {name!r} is a colour (RGB) image, not a height map; choose one of: "
            + ", ".join(c for c in available if c not in set(colour))
        )
    return name


def decode_text(data: bytes) -> str:
    """Decode XML/INI text: UTF-16 when it starts with a UTF-16 byte-order mark, else UTF-8 (or Latin-1)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_xml(data: bytes | str) -> ET.Element | None:
    """Parse an XML document; None when it is not well-formed or too large.

    Text is decoded first, so a document whose declaration names another
    encoding than the bytes really use (Keyence writes UTF-8 bytes declared
    as ``utf-16``) still parses.
    """
    if isinstance(data, bytes):
        if len(data) > _XML_MAX_BYTES:
            return None
        data = decode_text(data)
    try:
        return ET.fromstring(data.lstrip("\ufeff \r\n\t"))
    except (ET.ParseError, ValueError):
        return None


def flatten_xml(root: ET.Element, skip: Iterable[str] = (), max_items: int = 2000) -> dict[str, str]:
    """Map ``Root/Child/Leaf`` paths to their text; repeated siblings keep the first value."""
    out: dict[str, str] = {}
    skip = set(skip)
    stack = [(root, root.tag)]
    while stack and len(out) < max_items:
        element, where = stack.pop()
        text = (element.text or "").strip()
        if text and where not in out:
            out[where] = text
        for child in reversed(list(element)):
            if child.tag not in skip:
                stack.append((child, f"{where}/{child.tag}"))
    return out

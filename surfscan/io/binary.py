"""Declarative binary layouts: a header is a list of (field, type, offset).

Example
-------
>>> HEADER = Layout("<", [("magic", "4s", 0), ("cols", "i", 4), ("rows", "i", 8)])
>>> HEADER.read(b"ABCD" + (3).to_bytes(4, "little") + (2).to_bytes(4, "little"))
{'magic': b'ABCD', 'cols': 3, 'rows': 2}

Types are :mod:`struct` codes; ``"Ns"`` fields are bytes (use :func:`cstr` to
decode them). Reading past the end of the buffer is a clear error, never an
IndexError deep in a reader.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import CorruptFileError

__all__ = ["Layout", "cstr"]


@dataclass(frozen=True)
class Layout:
    """A fixed binary header layout.

    Parameters
    ----------
    byteorder : str
        ``"<"`` (little-endian) or ``">"`` (big-endian).
    fields : sequence of (name, struct code, offset)
        Offsets are in bytes from the start of the header.
    """

    byteorder: str
    fields: Sequence[tuple[str, str, int]]

    @property
    def size(self) -> int:
        """Bytes spanned by the layout (end of its last field)."""
        return max(off + struct.calcsize(self.byteorder + code) for _, code, off in self.fields)

    def read(self, buf: bytes | memoryview, base: int = 0, path: str | None = None) -> dict:
        """Unpack every field from ``buf`` starting at ``base``."""
        if base < 0 or base + self.size > len(buf):
            raise CorruptFileError(path, f"truncated header: needs {self.size} bytes at offset {base}, file has {len(buf)}")
        out = {}
        for name, code, off in self.fields:
            values = struct.unpack_from(self.byteorder + code, buf, base + off)
            out[name] = values[0] if len(values) == 1 else values
        return out


def cstr(raw: bytes, encoding: str = "latin-1") -> str:
    """Decode a fixed-width, NUL-padded text field."""
    return raw.split(b"\0", 1)[0].decode(encoding, errors="replace").strip()

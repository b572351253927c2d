"""Bounded access to the containers instrument files wrap their data in.

Keyence ``.zon``, ``.vk6``/``.vk7`` and Sensofar ``.plux`` files are ZIP
archives (some after a vendor prefix); ``.zon`` members are additionally
zstd-compressed. A corrupt or hostile archive can declare members far larger
than the file, or compress gigabytes into a few bytes; every function here
checks the declared and the decompressed sizes against a limit *before* the
bytes are allocated, and reports problems as :class:`~surfscan.errors.CorruptFileError`.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable

from ..errors import CorruptFileError, FormatError
from .limits import max_points

__all__ = ["ZIP_MAGIC", "ZSTD_MAGIC", "ZIP_ERRORS", "byte_cap", "open_zip", "read_member", "zstd_decompress"]

ZIP_MAGIC = b"PK\x03\x04"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_CHUNK = 1 << 22
#: What :mod:`zipfile` raises on a corrupt or truncated archive.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, KeyError,
              zlib.error)


def byte_cap(bytes_per_point: int = 8) -> int:
    """The most bytes one member may expand to: the grid cap times ``bytes_per_point`` plus 1 MiB."""
    return max_points() * bytes_per_point + (1 << 20)


def open_zip(path: str | os.PathLike | None, raw: bytes, start: int = 0) -> zipfile.ZipFile:
    """Open the ZIP archive that begins at byte ``start`` of ``raw``.

    The archive is read from memory; ``zipfile`` locates members through the
    central directory at the end, so a vendor prefix before ``start`` is
    harmless.
    """
    try:
        return zipfile.ZipFile(io.BytesIO(memoryview(raw)[start:]))
    except ZIP_ERRORS as exc:
        raise CorruptFileError(path, f"corrupt ZIP container ({exc})") from None


def read_member(path: str | os.PathLike | None, archive: zipfile.ZipFile, name: str, cap: int | None = None) -> bytes:
    """Read one member, refusing a declared or real size above ``cap`` bytes.

    Parameters
    ----------
    path : path-like or None
        The file, for error messages.
    archive : zipfile.ZipFile
        The open archive.
    name : str
        Member name.
    cap : int, optional
        Largest accepted uncompressed size; :func:`byte_cap` by default.
    """
    cap = byte_cap() if cap is None else cap
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise CorruptFileError(path, f"the container has no member {name!r}") from None
    if info.file_size > cap:
        raise CorruptFileError(path, f"member {name!r} declares {info.file_size} bytes, more than the limit of {cap}")
    try:
        with archive.open(info) as fh:
            data = fh.read(cap + 1)
    except ZIP_ERRORS + (OSError,) as exc:
        raise CorruptFileError(path, f"cannot read member {name!r} of the container ({exc})") from None
    if len(data) > cap:
        raise CorruptFileError(path, f"member {name!r} expands beyond the limit of {cap} bytes")
    return data


def zstd_decompress(
    path: str | os.PathLike | None,
    data: bytes,
    cap: int | None = None,
    cap_from_head: Callable[[bytes], int] | None = None,
) -> bytes:
    """Decompress one zstd frame, reading at most ``cap`` bytes of output.

    The frames Keyence writes do not store their decompressed size, so the
    output is read in a bounded stream. ``cap_from_head``, when given, is
    called with the first decompressed bytes (up to 4 MiB) and returns the
    size the content declares for itself, which then becomes the cap.
    Needs the ``zstandard`` package.
    """
    cap = byte_cap() if cap is None else cap
    try:
        import zstandard
    except ImportError:  # pragma: no cover - zstandard is a declared dependency
        raise FormatError(path, "reading zstd-compressed data needs the 'zstandard' package") from None
    chunks, total = [], 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=False)
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            if not chunks and cap_from_head is not None:
                cap = min(cap, cap_from_head(chunk))
            total += len(chunk)
            if total > cap:
                raise CorruptFileError(path, f"a zstd-compressed member expands beyond the limit of {cap} bytes")
            chunks.append(chunk)
    except zstandard.ZstdError as exc:
        raise CorruptFileError(path, f"corrupt zstd-compressed member ({exc})") from None
    return b"".join(chunks)

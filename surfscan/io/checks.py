"""Checks shared by the readers: required header values, the pixel size, the valid-point mask.

Each reader parses its own header (tags, XML, INI text) into strings or
numbers; :func:`header_number` turns one of them into a checked number, and
raises one :class:`~surfscan.errors.CorruptFileError` naming the file, the
header and the field when it is missing, not a number or out of range.
:func:`pixel_size` checks the lateral spacing, :func:`mask_invalid` applies a
not-measured mask stored beside the heights.
"""

from __future__ import annotations

import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import CorruptFileError, SurfscanWarning

__all__ = ["REQUIRED", "DECODE_ERRORS", "decoding", "header_number", "header_field", "pixel_size", "mask_invalid"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: ``default=REQUIRED``: a missing value is an error (the default of :func:`header_number`).
REQUIRED: Any = _Required()

#: What the container libraries (zipfile, tifffile, h5py, xml, struct) raise on a corrupt file.
#: tifffile's ``TiffFileError`` is a ``ValueError``; h5py raises ``OSError``, ``KeyError`` or ``ValueError``.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, KeyError, IndexError, TypeError, OverflowError, EOFError, struct.error, zlib.error,
    zipfile.BadZipFile, NotImplementedError, RecursionError,
)


@contextmanager
def decoding(path: str | os.PathLike | None, what: str) -> Iterator[None]:
    """Report what a container library raises on a corrupt file as one :class:`CorruptFileError`.

    Wrap only the library's calls (tifffile parses pages lazily, so the block
    holds the page accesses too): a :data:`DECODE_ERRORS` exception becomes
    ``"corrupt {what} (ExceptionType: text)"``; our own errors pass through.
    """
    try:
        yield
    except DECODE_ERRORS as exc:
        raise CorruptFileError(path, f"corrupt {what} ({type(exc).__name__}: {exc})") from exc


def header_number(
    path: str | os.PathLike | None,
    value: Any,
    name: str,
    *,
    where: str = "the header",
    kind: type = float,
    default: Any = REQUIRED,
    positive: bool = False,
) -> Any:
    """A number read from a header, checked.

    Parameters
    ----------
    path : path-like or None
        The file, for messages.
    value : str, number or None
        The field as parsed from the header; None or ``""`` when absent.
    name : str
        The field's name as the file spells it (``"PixelSizeXMeter"``).
    where : str
        The header, in the user's words (``"the header"``, ``"main.xml"``).
    kind : {float, int}
        ``int`` also accepts ``"12.0"`` but refuses ``"12.5"``.
    default : optional
        Returned when the field is absent; by default a missing field is an error.
    positive : bool
        The value is a length or a step and must be > 0.

    Returns
    -------
    float or int
        The number (finite).

    Raises
    ------
    CorruptFileError
        Missing (and no default), not a number, not finite, not an integer
        (``kind=int``) or not positive (``positive=True``).
    """
    if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
        if default is REQUIRED:
            raise CorruptFileError(path, f"{where} has no {name}")
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise CorruptFileError(path, f"{where}: {name} is not a number ({str(value)[:40]!r})") from None
    if not np.isfinite(number):
        raise CorruptFileError(path, f"{where}: {name} is not finite ({str(value)[:40]!r})")
    if positive and not number > 0:
        raise CorruptFileError(path, f"{where}: {name} must be a positive length, got {number:g}")
    if kind is int:
        if number != int(number):
            raise CorruptFileError(path, f"{where}: {name} is not an integer ({str(value)[:40]!r})")
        return int(number)
    return number


def header_field(path: str | os.PathLike | None, fields: Mapping[str, Any], key: str, **options: Any) -> Any:
    """:func:`header_number` of ``fields[key]`` (absent when the key is not there)."""
    return header_number(path, fields.get(key), key, **options)


def pixel_size(path: str | os.PathLike | None, dx: float, dy: float, what: str = "") -> tuple[float, float]:
    """``(dx, dy)`` in µm as floats, after checking both are positive and finite.

    ``what`` says where they came from, for the message (``"from PixelSizeXMeter"``).
    """
    dx, dy = float(dx), float(dy)
    if not (dx > 0 and np.isfinite(dx) and dy > 0 and np.isfinite(dy)):
        raise CorruptFileError(path, f"invalid pixel size {dx!r} x {dy!r} µm{' ' + what if what else ''}")
    return dx, dy


def mask_invalid(path: str | os.PathLike | None, z: np.ndarray, invalid: np.ndarray, what: str = "mask") -> np.ndarray:
    """Set the heights flagged in ``invalid`` (non-zero = not measured) to NaN, in place; returns ``z``.

    A mask whose shape differs from the heights is ignored with one
    :class:`~surfscan.errors.SurfscanWarning` naming the file and both shapes.
    """
    invalid = np.asarray(invalid)
    if invalid.shape != z.shape:
        warnings.warn(f"{path}: the {what} has shape {invalid.shape}, heights {z.shape}; {what} ignored",
                      SurfscanWarning, stacklevel=3)
        return z
    z[invalid.astype(bool, copy=False)] = np.nan
    return z

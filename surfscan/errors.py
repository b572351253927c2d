"""Exceptions and warnings raised by surfscan.

Every failure that a user can cause (a corrupt file, an unknown format, a
parameter that cannot be computed) is a :class:`SurfscanError` whose message
names the file or the parameter and the reason. A read failure is a
:class:`FormatError`, typed by its cause: :class:`NotThisFormatError`,
:class:`CorruptFileError` or :class:`UnsupportedFeatureError`. An unexpected
exception inside a reader (a bug) is a :class:`ReaderBugError`, not a
:class:`FormatError`. Problems that do not stop the work (unreadable
metadata, a missing calibration) are :class:`SurfscanWarning`.
"""

from __future__ import annotations

import os


class SurfscanError(Exception):
    """A user-facing error: one line naming what failed and why."""


class FormatError(SurfscanError):
    """A file could not be read or written.

    Parameters
    ----------
    path : str or os.PathLike or None
        The file concerned; included in the message.
    reason : str
        Why it failed, in one line.
    """

    def __init__(self, path: str | os.PathLike | None, reason: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class NotThisFormatError(FormatError):
    """The file is not in the format that was tried (wrong magic bytes, no expected header).

    Format detection raises it when no registered format recognises a file, and
    a reader raises it when the file it was handed (by ``format=`` or by its
    suffix) is not one of its files.
    """


class CorruptFileError(FormatError):
    """The file is in the right format but truncated or corrupt.

    Sizes that do not add up, a header value that is missing or not a number,
    data that a container library (zip, TIFF, HDF5) cannot decode.
    """


class UnsupportedFeatureError(FormatError):
    """The file is valid, but it uses a feature surfscan does not read.

    Compressed variants, point clouds, multi-layer data, sample formats or
    versions the reader was not written for.
    """


class ReaderBugError(SurfscanError):
    """An unexpected exception inside a reader: a bug in surfscan, not a problem of the file.

    It is *not* a :class:`FormatError`: the file may well be fine. The message
    names the file, the format and the exception, and asks for a report.

    Parameters
    ----------
    path : str or os.PathLike
        The file being read.
    format_name : str
        The format whose reader failed.
    exc : BaseException
        The exception the reader raised (also the ``__cause__``).
    stage : str
        What failed: ``"reader"`` or ``"format detection"`` (a sniffer).
    """

    def __init__(self, path: str | os.PathLike, format_name: str, exc: BaseException, stage: str = "reader") -> None:
        self.path = os.fspath(path)
        self.format_name = format_name
        self.exc = exc
        super().__init__(
            f"{self.path}: internal error in the {format_name} {stage} ({type(exc).__name__}: {exc}); "
            "this is a bug in surfscan, not necessarily a problem with the file: please report it "
            "with the file (surfscan --debug shows the traceback)"
        )


class UndefinedParameterError(SurfscanError):
    """A roughness parameter is undefined for this surface (no significant peak, an
    autocorrelation that never decays, a flat map); ``roughness(..., undefined="nan")``
    reports it as NaN with a :class:`SurfscanWarning` instead."""


class SurfscanWarning(UserWarning):
    """Something was doubtful but the work went on (metadata, calibration)."""

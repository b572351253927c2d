"""Exceptions and warnings raised by surfscan.

Every failure that a user can cause (a corrupt file, an unknown format, a
parameter that cannot be computed) is a :class:`SurfscanError` whose message
names the file or the parameter and the reason. Problems that do not stop the
work (unreadable metadata, a missing calibration) are :class:`SurfscanWarning`.
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


class UndefinedParameterError(SurfscanError):
    """A roughness parameter is undefined for this surface (no significant peak, an
    autocorrelation that never decays, a flat map); ``roughness(..., undefined="nan")``
    reports it as NaN with a :class:`SurfscanWarning` instead."""


class SurfscanWarning(UserWarning):
    """Something was doubtful but the work went on (metadata, calibration)."""

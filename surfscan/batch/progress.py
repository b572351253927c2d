"""Progress of a batch: a live bar with rate and ETA in a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float | None) -> str:
    """``h:mm:ss`` (``?`` when unknown)."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Report files done, errors, rate and ETA.

    Parameters
    ----------
    total : int
        Files to analyse in this run (those already done are not counted).
    stream : file, optional
        Where to write (default stderr).
    live : bool, optional
        A rich live bar; default: when ``stream`` is a terminal.
    every : float
        Seconds between plain lines when not live.
    """

    def __init__(self, total: int, stream: IO[str] | None = None, live: bool | None = None, every: float = 10.0) -> None:
        self.total, self.done, self.errors = total, 0, 0
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.every = every
        self.t0 = self._last = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.live and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[errors]} errors"), TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("batch", total=self.total, errors=0, rate="")
        return self

    def rate(self) -> float:
        """Files per second so far."""
        dt = time.monotonic() - self.t0
        return self.done / dt if dt > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the current rate."""
        r = self.rate()
        return (self.total - self.done) / r if r > 0 else None

    def line(self) -> str:
        """One plain progress line."""
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"surfscan batch: {self.done}/{self.total} files ({pct:.0f} %), {self.errors} errors, "
                f"{self.rate():.2f} files/s, elapsed {format_duration(time.monotonic() - self.t0)}, "
                f"ETA {format_duration(self.eta())}")

    def advance(self, ok: bool) -> None:
        """Count one finished file."""
        self.done += 1
        self.errors += 0 if ok else 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, errors=self.errors, rate=f"{self.rate():.2f} files/s")
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.total:
            print(self.line(), file=self.stream, flush=True)

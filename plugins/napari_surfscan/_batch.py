"""Batch workflow of the plugin, free of Qt: run ``surfscan batch`` on folders and watch it.

The batch runs as a separate process (``python -m surfscan batch ...``), so
napari never forks its GUI process and the batch can be stopped at any
moment (the results store makes it resumable). Progress is read from the
batch's SQLite results store; the tables are built with
:func:`surfscan.batch.build_tables` when it is done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surfscan.errors import SurfscanError

__all__ = ["BatchJob", "BatchProgress", "BatchResult", "batch_steps", "read_progress", "find_report", "make_report", "GROUP_COLUMNS"]

#: Columns of the group table shown first (others follow).
GROUP_COLUMNS = ("group", "verdict", "n_files", "Sa_mean", "Sz_mean", "protrusion_density_per_mm2_mean",
                 "failed_rules")


@dataclass(frozen=True)
class BatchJob:
    """What to run: folders, output folder, acceptance spec and analysis options.

    Attributes
    ----------
    folders : tuple of str
        Folders (or files) to analyse.
    out : str
        Output folder (results database, tables, report).
    spec : str or None
        Acceptance spec (TOML) path.
    recursive : bool
        Walk sub-folders.
    group_by : str
        ``parent``, ``file`` or ``regex:PATTERN``.
    workers : int or None
        Local worker processes (None: CPU cores).
    roughness, defects : bool
        What to compute.
    level : str
        Levelling method; ``lambda_s``, ``lambda_c`` filter cut-offs in µm (None = off).
    exports : str
        Export formats, comma-separated.
    """

    folders: tuple[str, ...]
    out: str
    spec: str | None = None
    recursive: bool = True
    group_by: str = "parent"
    workers: int | None = None
    roughness: bool = True
    defects: bool = True
    level: str = "plane"
    lambda_s: float | None = None
    lambda_c: float | None = None
    exports: str = "csv,xlsx"

    def command(self) -> list[str]:
        """The ``surfscan batch`` command line (with this Python)."""
        cmd = [sys.executable, "-m", "surfscan", "batch", *self.folders, "-o", self.out,
               "--group-by", self.group_by, "--level", self.level, "--export", self.exports, "--progress", "lines"]
        if self.recursive:
            cmd.append("--recursive")
        if self.spec:
            cmd += ["--spec", self.spec]
        if self.workers:
            cmd += ["--workers", str(self.workers)]
        if self.lambda_s:
            cmd += ["--lambda-s", repr(float(self.lambda_s))]
        if self.lambda_c:
            cmd += ["--lambda-c", repr(float(self.lambda_c))]
        cmd.append("--roughness" if self.roughness else "--no-roughness")
        cmd.append("--protrusions" if self.defects else "--no-protrusions")
        return cmd


@dataclass(frozen=True)
class BatchProgress:
    """Files done (including those already in the store) out of the run's total; errors among them."""

    done: int
    total: int
    errors: int
    elapsed_s: float

    @property
    def fraction(self) -> float:
        """0..1 (0 while the total is not known yet)."""
        return self.done / self.total if self.total else 0.0

    def text(self) -> str:
        """``"12/40 files, 1 error, 0:00:07"``."""
        s = int(self.elapsed_s)
        err = f", {self.errors} error{'s' if self.errors != 1 else ''}" if self.errors else ""
        total = self.total if self.total else "?"
        return f"{self.done}/{total} files{err}, {s // 60}:{s % 60:02d}"


@dataclass
class BatchResult:
    """A finished batch: its tables, the command's output and where things are."""

    job: BatchJob
    tables: Any
    output: str
    exports: list[Path] = field(default_factory=list)

    @property
    def groups(self):
        """The group table (mean, sd, n per metric, verdict), verdict columns first."""
        g = self.tables.groups
        first = [c for c in GROUP_COLUMNS if c in g.columns]
        return g[first + [c for c in g.columns if c not in first]]

    @property
    def files(self):
        """The file table."""
        return self.tables.files


def _last_run_id(out: str) -> int | None:
    from surfscan.batch import ResultStore

    try:
        with ResultStore(out, create=False) as store:
            return int(store.latest_run()["run_id"])
    except SurfscanError:
        return None


def read_progress(out: str, after_run: int | None, started: float) -> BatchProgress:
    """Progress of the newest run in ``out`` newer than ``after_run`` (0 of ? before it has started)."""
    from surfscan.batch import ResultStore

    elapsed = time.monotonic() - started
    try:
        with ResultStore(out, create=False) as store:
            run = store.latest_run()
            if after_run is not None and run["run_id"] <= after_run:
                return BatchProgress(0, 0, 0, elapsed)
            files = store.run_files(run["run_id"])
    except SurfscanError:
        return BatchProgress(0, 0, 0, elapsed)
    done = [f for f in files if f.get("status") is not None]
    errors = sum(1 for f in done if f["status"] != "ok")
    return BatchProgress(len(done), len(files), errors, elapsed)


def batch_steps(job: BatchJob, poll_s: float = 0.3, cancel: Any = None) -> Generator[BatchProgress, None, BatchResult]:
    """Run ``surfscan batch`` in a child process, yielding progress until it ends.

    Parameters
    ----------
    job : BatchJob
    poll_s : float
        Seconds between looks at the results store.
    cancel : threading.Event, optional
        When set, the child process is stopped (the batch can be resumed).

    Returns
    -------
    BatchResult

    Raises
    ------
    SurfscanError
        When the command fails or is cancelled (its last output lines are in the message).
    """
    from surfscan.batch import ResultStore, build_tables

    Path(job.out).mkdir(parents=True, exist_ok=True)
    before = _last_run_id(job.out)
    started = time.monotonic()
    log = Path(job.out) / "surfscan-batch-napari.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(job.command(), stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.is_set():
                    proc.terminate()
                    proc.wait(10)
                    raise SurfscanError(f"batch into {job.out} stopped; run it again to resume")
                yield read_progress(job.out, before, started)
                time.sleep(poll_s)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        tail = " | ".join(line for line in output.strip().splitlines()[-3:])
        raise SurfscanError(f"surfscan batch failed (exit code {proc.returncode}): {tail}")
    yield read_progress(job.out, before, started)
    with ResultStore(job.out, create=False) as store:
        tables = build_tables(store)
    exports = sorted(p for p in Path(job.out).iterdir() if p.suffix in (".csv", ".xlsx", ".parquet"))
    return BatchResult(job, tables, output, exports)


def find_report(out: str | os.PathLike) -> Path | None:
    """The newest HTML report in ``out``, or None."""
    reports = sorted(Path(out).glob("*.html"), key=lambda p: p.stat().st_mtime)
    return reports[-1] if reports else None


def make_report(out: str | os.PathLike, timeout_s: float = 600.0) -> Path:
    """Write the batch's HTML report with ``surfscan report OUT`` and return its path.

    Raises
    ------
    SurfscanError
        When the command fails or writes no HTML file.
    """
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "surfscan", "report", os.fspath(out)], capture_output=True,
                          text=True, timeout=timeout_s)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise SurfscanError(f"surfscan report {out}: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    lines = proc.stdout.strip().splitlines()
    if lines and lines[-1].strip().endswith(".html") and Path(lines[-1].strip()).is_file():
        return Path(lines[-1].strip())
    report = find_report(out)
    if report is None or report.stat().st_mtime < started - 1:
        raise SurfscanError(f"surfscan report {out}: no HTML report was written")
    return report

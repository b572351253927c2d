"""One batch, start to end: discover -> skip what is done -> execute -> store -> tables -> exports."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..errors import SurfscanError
from .discover import discover, parse_group_by
from .executor import make_executor
from .export import Tables, build_tables, write_exports
from .progress import Progress
from .spec import Spec, metric_columns
from .store import ResultStore
from .tasks import BatchSettings, labels_signature

__all__ = ["BatchSummary", "run_batch"]


@dataclass
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    files : int
        Files in the batch.
    analysed : int
        Files analysed in this run.
    skipped : int
        Files whose result was already in the store.
    tables : Tables
        The final file, group and object tables.
    exports : list of Path
        Files written.
    where : str
        Where the work ran (local processes or a Dask cluster).
    """

    files: int
    analysed: int
    skipped: int
    tables: Tables
    exports: list[Path] = field(default_factory=list)
    where: str = ""


def _stat(path: str) -> tuple[int, int, str] | None:
    """(size, mtime_ns, labels file signature) of a file: what tells a re-run that it changed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return st.st_size, st.st_mtime_ns, labels_signature(path)


def run_batch(
    folders: list[str | os.PathLike],
    out: str | os.PathLike,
    settings: BatchSettings | None = None,
    *,
    recursive: bool = False,
    include: list[str] | None = None,
    group_by: str = "auto",
    spec: Spec | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    exports: tuple[str, ...] = ("csv", "parquet", "xlsx"),
    progress: IO[str] | None = None,
    live: bool | None = None,
) -> BatchSummary:
    """Analyse every file under ``folders`` into the results store in ``out``.

    Files already analysed with the same settings (same content, same
    settings hash, same saved labels ``<image>.labels.tif`` or none) are
    skipped, so an interrupted batch resumes where it stopped; a file whose
    labels file appeared, changed or went away is analysed again. Every
    result is committed as it arrives.

    Parameters
    ----------
    folders : list of path
        Folders (or single files) to analyse.
    out : path
        Output folder: the results database, the exports, the report.
    settings : BatchSettings, optional
        What to compute; default roughness (plane levelling, no filters)
        and protrusions when available.
    recursive, include :
        See :func:`surfscan.batch.discover.discover`.
    group_by : str
        ``auto`` (default), ``parent``, ``name``, ``file`` or ``regex:PATTERN``
        (see :func:`surfscan.batch.discover.assign_groups`).
    spec : Spec, optional
        Acceptance spec for the verdicts.
    workers : int, optional
        Local worker processes (default: CPU cores).
    scheduler : str or distributed.Client, optional
        Run on this Dask cluster instead.
    exports : tuple of str
        Export formats (``csv``, ``parquet``, ``xlsx``).
    progress : file, optional
        Where progress goes (default stderr); ``live`` forces the rich bar on/off.
    """
    settings = settings or BatchSettings()
    parse_group_by(group_by)
    found = discover(folders, recursive=recursive, include=include, exclude_folder=out)
    if not found:
        raise SurfscanError(f"no files found in {', '.join(map(str, folders))}"
                            + ("" if recursive else " (use --recursive for sub-folders)"))
    config = {"folders": [os.path.abspath(f) for f in folders], "recursive": recursive, "include": include or [],
              "group_by": group_by, "spec_path": spec.source if spec else None, "spec_text": spec.text if spec else None,
              "workers": workers, "scheduler": scheduler if isinstance(scheduler, str) else None}
    with ResultStore(out) as store:
        stats = {c.path: _stat(c.path) for c in found}
        store.start_run(settings.as_dict(), settings.hash, config, [(c.path, c.root) for c in found])
        done = store.done_paths({p: s for p, s in stats.items() if s is not None}, settings.hash)
        todo = [c.path for c in found if c.path not in done]
        as_dict = settings.as_dict()
        settings_hash = settings.hash
        where = ""
        if todo:
            with make_executor(workers, scheduler) as executor, Progress(len(todo), progress, live) as bar:
                where = executor.where
                for result in executor.results(todo, settings):
                    result["settings_hash"] = settings_hash  # the key is this process's view of the settings
                    store.record(result, as_dict, stats.get(result["path"]))
                    bar.advance(result["status"] == "ok")
        tables = build_tables(store)
    written = write_exports(tables, out, exports)
    return BatchSummary(len(found), len(todo), len(done), tables, written, where)


def _number(v: Any) -> float | None:
    return None if v is None or v is pd.NA or v != v else float(v)


def _group_line(row: pd.Series, metrics: list[str]) -> str:
    """``E1: 3 files, Sa 0.07 ± 0.004 (n=3)  PASS``."""
    vals = []
    for m in metrics:
        mean, sd = _number(row[f"{m}_mean"]), _number(row[f"{m}_sd"])
        if mean is not None:
            vals.append(f"{m} {mean:.4g}" + (f" ± {sd:.2g}" if sd is not None else "") + f" (n={row[f'{m}_n']})")
    n = row["n_files"]
    text = f"  {row['group']}: {n} file{'s' if n != 1 else ''}" + "".join(f", {v}" for v in vals)
    if row["verdict"]:
        text += f"  {row['verdict'].upper()}"
    if row["failed_rules"]:
        text += f"  [{row['failed_rules']}]"
    return text


def print_summary(summary: BatchSummary, stream: IO[str] | None = None, max_errors: int = 20,
                  max_groups: int = 30) -> None:
    """Print what the batch did: counts, errors, verdicts per group, where the tables are."""
    stream = stream or sys.stdout
    t = summary.tables
    f = t.files
    n_err = int((f["status"] == "error").sum())
    n_ok = int((f["status"] == "ok").sum())
    print(f"surfscan batch: {summary.files} files ({summary.analysed} analysed now, {summary.skipped} already "
          f"done): {n_ok} ok, {n_err} errors" + (f"; ran on {summary.where}" if summary.where else ""), file=stream)
    for err in f.loc[f["status"] == "error", "error"].head(max_errors):
        print(f"  error: {err}", file=stream)
    if n_err > max_errors:
        print(f"  ... and {n_err - max_errors} more errors (see files.csv)", file=stream)
    if t.spec is not None:
        g = t.groups
        print(f"spec {t.spec.name!r} ({len(t.spec.rules)} rules: {'; '.join(r.text for r in t.spec.rules)}): "
              f"groups {int((g['verdict'] == 'pass').sum())} pass, {int((g['verdict'] == 'fail').sum())} fail; "
              f"files {int((f['verdict'] == 'pass').sum())} pass, {int((f['verdict'] == 'fail').sum())} fail",
              file=stream)
    shown = [c for m in ("Sa", "Sz", "protrusion_density", "particles_d50", "porosity") for c in metric_columns(m, t.metrics)]
    for i, (_, row) in enumerate(t.groups.iterrows()):
        if i == max_groups:
            print(f"  ... and {len(t.groups) - max_groups} more groups (see groups.csv)", file=stream)
            break
        print(_group_line(row, shown), file=stream)
    if summary.exports:
        print(f"tables: {', '.join(p.name for p in summary.exports)} in {summary.exports[0].parent}", file=stream)

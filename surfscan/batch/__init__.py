"""Batch analysis over folders: parallel, resumable, judged against an acceptance spec.

>>> from surfscan.batch import run_batch, load_spec           # doctest: +SKIP
>>> s = run_batch(["runs/2026-11"], "results", spec=load_spec("electrode.toml"))
>>> s.tables.groups[["group", "Sa_mean", "Sz_mean", "verdict"]]

Modules: :mod:`.discover` (folders -> files, groups), :mod:`.tasks` (the
per-file work), :mod:`.executor` (local processes or Dask), :mod:`.store`
(SQLite results), :mod:`.spec` (acceptance rules), :mod:`.groups` (mean, sd,
n), :mod:`.export` (CSV, Parquet, Excel), :mod:`.progress`, :mod:`.report`
(the HTML report). Dask is imported only when a scheduler is given.
"""

from __future__ import annotations

from .discover import Candidate, discover, group_of
from .export import Tables, build_tables, write_exports
from .runner import BatchSummary, print_summary, run_batch
from .spec import Rule, Spec, load_spec, parse_spec
from .store import STORE_NAME, ResultStore
from .tasks import BatchSettings, analyse_file

__all__ = [
    "run_batch",
    "print_summary",
    "BatchSummary",
    "BatchSettings",
    "analyse_file",
    "discover",
    "group_of",
    "Candidate",
    "ResultStore",
    "STORE_NAME",
    "build_tables",
    "write_exports",
    "Tables",
    "Spec",
    "Rule",
    "load_spec",
    "parse_spec",
]

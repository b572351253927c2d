"""Batch analysis over folders: parallel, resumable, judged against an acceptance spec.

>>> import io, tempfile
>>> from surfscan.batch import BatchSettings, load_spec, run_batch
>>> from surfscan.pipeline import RoughnessSettings
>>> files = [f"sample_images/electrode_{e}_site2.x3p" for e in ("A_good", "C_poor")]
>>> settings = BatchSettings(protrusions=False, roughness_settings=RoughnessSettings(params=("Sa", "Sz")))
>>> s = run_batch(files, tempfile.mkdtemp(), spec=load_spec("sample_images/electrode.toml"),
...               settings=settings, workers=1, exports=("csv",), progress=io.StringIO(), live=False)
>>> s.tables.files[["file", "Sa", "verdict"]].round(3)
                         file     Sa verdict
0  electrode_A_good_site2.x3p  0.070    pass
1  electrode_C_poor_site2.x3p  0.181    fail

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

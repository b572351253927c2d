"""Group (sample) statistics: mean, standard deviation and n of every metric per group.

Labs measure three or more sites per electrode; the sites of one sample form
a group (``--group-by parent`` or ``regex:PATTERN``), and the sample is
reported as the mean with its sample standard deviation (``ddof=1``; empty
for n = 1) and judged against the spec on the mean.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .spec import Spec, judge

__all__ = ["group_table", "summarise"]


def summarise(values: np.ndarray) -> tuple[float | None, float | None, int]:
    """(mean, sd, n) of the finite values; sd uses n - 1 and is None for n < 2."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return None, None, 0
    return float(v.mean()), (float(v.std(ddof=1)) if n > 1 else None), n


def _verdict_counts(verdicts: pd.Series) -> dict[str, int]:
    return {"files_pass": int((verdicts == "pass").sum()), "files_fail": int((verdicts == "fail").sum())}


def group_table(files: pd.DataFrame, metrics: list[str], units: dict[str, str], spec: Spec | None) -> pd.DataFrame:
    """One row per group: counts, ``<metric>_mean``, ``<metric>_sd``, ``<metric>_n``, verdict.

    Parameters
    ----------
    files : DataFrame
        The file table (columns ``group``, ``status``, ``verdict`` and the metrics).
    metrics : list of str
        Numeric columns to summarise.
    units : dict
        Column -> unit, for the spec.
    spec : Spec or None
        The acceptance spec; the group verdict is judged on the means.
    """
    rows: list[dict[str, Any]] = []
    if files.empty:
        return pd.DataFrame(columns=["group", "n_files", "n_ok", "n_errors", "verdict", "failed_rules"])
    for name, g in files.groupby("group", sort=True, dropna=False):
        row: dict[str, Any] = {"group": name, "n_files": len(g), "n_ok": int((g["status"] == "ok").sum()),
                               "n_errors": int((g["status"] == "error").sum()), **_verdict_counts(g["verdict"])}
        ok = g[g["status"] == "ok"]
        means: dict[str, Any] = {}
        for m in metrics:
            mean, sd, n = summarise(pd.to_numeric(ok[m], errors="coerce").to_numpy()) if m in ok else (None, None, 0)
            row[f"{m}_mean"], row[f"{m}_sd"], row[f"{m}_n"] = mean, sd, n
            means[m] = math.nan if mean is None else mean
        verdict, failed = judge(spec, means, units)
        if spec is not None and row["n_ok"] == 0:
            verdict = "error" if row["n_errors"] else "n/a"
        row["verdict"], row["failed_rules"] = verdict, "; ".join(failed)
        rows.append(row)
    return pd.DataFrame(rows)

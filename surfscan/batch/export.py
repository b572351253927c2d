"""The batch's tables (files, groups, protrusion objects) and their export to CSV, Parquet and Excel.

The file table has one row per file of the latest run, sorted by path:
its group, status, verdict, error, shape and calibration, every roughness
parameter, the protrusion summary (``sem_protrusion_*`` for SEM images,
``height_protrusion_*`` for height maps), the particle and porosity values
of SEM images (``particles_*``, ``porosity_*``; empty for height maps), the
settings, the roughness operator chain as applied (``chain``, one line, and
``chain_lambda_s_um``, ``chain_lambda_c_um``, ``chain_outliers_removed``,
``chain_points_filled`` ...), and the timings. Columns that differ between two runs of the same batch are all
named ``time_*`` (``time_read_s``, ``time_total_s``, ``time_finished``).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SurfscanError, SurfscanWarning
from .discover import Candidate, assign_groups
from .groups import group_table
from .spec import Spec, column_unit, is_sem_measure, judge, parse_spec, protrusion_base
from .store import ResultStore

__all__ = ["Tables", "build_tables", "write_exports", "EXPORT_FORMATS"]

#: Export formats: name -> file suffix.
EXPORT_FORMATS = {"csv": ".csv", "parquet": ".parquet", "xlsx": ".xlsx"}

_EXCEL_ROWS = 1_048_575
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

_HEAD = ["file", "path", "group", "status", "verdict", "failed_rules", "error", "kind", "format", "rows", "cols",
         "dx_um", "dy_um", "invalid_fraction", "file_size"]
_TAIL_TIMES = ["time_read_s", "time_roughness_s", "time_protrusions_s", "time_total_s", "time_finished"]


@dataclass
class Tables:
    """The tables of one batch run and what they were made with."""

    files: pd.DataFrame
    groups: pd.DataFrame
    objects: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    spec: Spec | None = None
    run: dict[str, Any] = field(default_factory=dict)


def _settings_columns(settings: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in sorted(settings.items()):
        out[f"setting_{k}"] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
    return out


def _file_row(d: dict[str, Any], group: str) -> dict[str, Any]:
    cand = Candidate(d["run_path"], d["root"])
    row: dict[str, Any] = {"file": cand.relative, "path": d["run_path"], "group": group}
    if d["status"] is None:
        row["status"] = "not done"
        return row
    row.update({k: d[k] for k in _HEAD[3:] if k in d and k not in ("verdict", "failed_rules")})
    row.update(d["roughness"])
    row.update({f"{d['kind']}_protrusion_{k}": v for k, v in d["protrusions"].items()})
    row.update(d.get("measures") or {})
    row.update(d.get("chain_detail") or {})  # the roughness operator chain: chain (one line), chain_* values
    row["warnings"] = "; ".join(d["warnings"])
    row["content_hash"], row["settings_hash"] = d["content_hash"], d["settings_hash"]
    row.update(_settings_columns(d["settings"]))
    row.update({k: d[k] for k in _TAIL_TIMES[:-1]})
    row["time_finished"] = d["finished_at"]
    return row


def _units(rows: list[dict[str, Any]], done: list[dict[str, Any]]) -> dict[str, str]:
    units: dict[str, str] = {}
    for d in done:
        units.update(d["units"] or {})
    for r in rows:
        for c in r:
            u = column_unit(c, units)
            if u is not None:
                units.setdefault(c, u)
    return units


def _order(columns: list[str], roughness: list[str]) -> list[str]:
    head = [c for c in [*_HEAD, *roughness] if c in columns]
    prot = sorted(c for c in columns if protrusion_base(c).startswith("protrusion_"))
    prot += sorted(c for c in columns if is_sem_measure(c))
    tail = [c for c in _TAIL_TIMES if c in columns]
    rest = [c for c in columns if c not in head and c not in prot and c not in tail]
    return [*head, *prot, *rest, *tail]


def _objects(store: ResultStore, done: list[dict[str, Any]], files: pd.DataFrame) -> pd.DataFrame:
    parts = []
    group = dict(zip(files["path"], files["group"]))
    for d in done:
        cols = store.objects(d["content_hash"], d["settings_hash"])
        if not cols or not next(iter(cols.values()), None):
            continue
        t = pd.DataFrame(cols)
        t.insert(0, "kind", d["kind"])
        t.insert(0, "group", group[d["run_path"]])
        t.insert(0, "path", d["run_path"])
        t.insert(0, "file", Candidate(d["run_path"], d["root"]).relative)
        parts.append(t)
    if not parts:
        return pd.DataFrame(columns=["file", "path", "group"])
    return pd.concat(parts, ignore_index=True)


def build_tables(store: ResultStore, spec: Spec | None = None, group_by: str | None = None) -> Tables:
    """The file, group and object tables of the store's latest run.

    Parameters
    ----------
    store : ResultStore
    spec : Spec, optional
        Judge against this spec instead of the one the batch was run with.
    group_by : str, optional
        Group this way instead of the way the batch was run.
    """
    run = store.latest_run()
    cfg = run["config"]
    group_by = group_by or cfg.get("group_by")
    if spec is None and cfg.get("spec_text"):
        spec = parse_spec(cfg["spec_text"], cfg.get("spec_path") or "<spec>")
    stored = store.run_files(run["run_id"])
    done = [d for d in stored if d["status"] is not None]
    groups = assign_groups([Candidate(d["run_path"], d["root"]) for d in stored], group_by)
    rows = [_file_row(d, g) for d, g in zip(stored, groups)]
    roughness = list(dict.fromkeys(k for d in done for k in d["roughness"]))
    units = _units(rows, done)
    files = pd.DataFrame(rows)
    if files.empty:
        files = pd.DataFrame(columns=_HEAD)
    for c in ("rows", "cols", "file_size"):
        if c in files:
            files[c] = pd.array(files[c].tolist(), dtype="Int64")
    metrics = [c for c in files.columns
               if (c in roughness or protrusion_base(c).startswith("protrusion_") or is_sem_measure(c))
               and c != "status" and not c.endswith("quality_reliable") and pd.api.types.is_numeric_dtype(pd.to_numeric(files[c], errors="coerce"))
               and pd.to_numeric(files[c], errors="coerce").notna().sum() == files[c].notna().sum()]
    verdicts = [judge(spec, r, units) if r.get("status") == "ok" else ((r.get("status") or "") if spec else "", [])
                for r in files.to_dict("records")]
    files["verdict"] = [v for v, _ in verdicts]
    files["failed_rules"] = ["; ".join(f) for _, f in verdicts]
    files = files[_order(list(files.columns), roughness)].sort_values("path", kind="stable").reset_index(drop=True)
    groups = group_table(files, metrics, units, spec)
    objects = _objects(store, done, files).sort_values(["path"], kind="stable").reset_index(drop=True)
    return Tables(files, groups, objects, units, metrics, spec, run)


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: _ILLEGAL.sub("", v) if isinstance(v, str) else v)
    return out


def _parquet_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:  # mixed None/str/number columns: one type per column
            vals = out[c].dropna()
            if len(vals) and not all(isinstance(v, str) for v in vals):
                out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    return out


def _atomic(path: Path, write: Any) -> Path:
    """Write through a temporary file, so a killed batch never leaves half a table."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def _write_excel(named: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in named.items():
            if len(df) > _EXCEL_ROWS:
                warnings.warn(f"{path.name}: the {name} table has {len(df)} rows; Excel holds {_EXCEL_ROWS}, "
                              "so the sheet is cut (the CSV and Parquet files are complete)", SurfscanWarning,
                              stacklevel=3)
                df = df.iloc[:_EXCEL_ROWS]
            _clean(df).to_excel(xw, sheet_name=name, index=False)


def write_exports(tables: Tables, folder: str | os.PathLike, formats: list[str] | tuple[str, ...] = ("csv", "parquet", "xlsx")) -> list[Path]:
    """Write ``files``, ``groups`` and ``objects`` tables in each format; returns the paths written.

    CSV and Parquet: one file per table (``files.csv``, ``groups.parquet``
    ...). Excel: one workbook ``results.xlsx`` with a sheet per table (an
    objects table longer than Excel's row limit is cut, with a warning).
    """
    folder = Path(folder)
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise SurfscanError(f"unknown export format {unknown[0]!r}; use {', '.join(EXPORT_FORMATS)}")
    named = {"files": tables.files, "groups": tables.groups, "objects": tables.objects}
    written = []
    for fmt in formats:
        if fmt == "xlsx":
            written.append(_atomic(folder / "results.xlsx", lambda tmp: _write_excel(named, tmp)))
            continue
        for name, df in named.items():
            if fmt == "csv":
                written.append(_atomic(folder / f"{name}.csv", lambda tmp, df=df: df.to_csv(tmp, index=False)))
            else:
                written.append(_atomic(folder / f"{name}.parquet",
                                       lambda tmp, df=df: _parquet_ready(df).to_parquet(tmp, index=False)))
    return written

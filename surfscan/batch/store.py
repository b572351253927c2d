"""The results store: one SQLite database (stdlib ``sqlite3``, WAL) per batch output folder.

Tables
------
``results``
    One row per (file content hash, settings hash): every setting, the
    roughness values, the protrusion summary, the particle and porosity values
    of SEM images (``measures``), status, error text, warnings and timings,
    and the roughness operator chain as applied: ``chain`` (one readable
    line), ``chain_lambda_s_um``, ``chain_lambda_c_um``,
    ``chain_outliers_removed``, ``chain_points_filled`` and ``chain_detail``
    (every ``chain_*`` value as JSON). Files that could not be read at all are keyed by ``path:`` plus
    a hash of their path, and are tried again on the next run.
``objects``
    The per-object protrusion table of a result (column lists as JSON).
``files``
    Path -> (size, modification time, content hash, signature of its labels
    file ``<image>.labels.tif`` or ''): lets a re-run skip a file without
    reading it again, and not skip it when its labels changed.
``runs`` and ``run_files``
    Each ``surfscan batch`` command (its options, group-by, spec text) and
    the files it covered, in order; exports and reports use the latest run.

Every result is committed in one transaction as it arrives (WAL,
``synchronous=NORMAL``), so killing the batch at any moment - SIGKILL
included - loses at most the files still being analysed; they are done on
the next run, and every file is recorded exactly once.

A database written before the batch said "protrusion" where it said "defect"
(columns ``defects``, ``time_defects_s``; settings ``defects``,
``defect_settings``) is brought up to date when it is opened, so old results
folders resume, export and report as before.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import SurfscanError

__all__ = ["ResultStore", "STORE_NAME", "OLD_SETTING_NAMES", "with_current_names", "with_old_names"]

#: File name of the database inside the output folder.
STORE_NAME = "surfscan-results.sqlite"

#: Batch settings named before "defect" became "protrusion": old name -> current name.
OLD_SETTING_NAMES = {"defects": "protrusions", "defect_settings": "protrusion_settings"}
#: Columns of ``results`` renamed the same way (renamed in place when an older database is opened).
_OLD_COLUMNS = {"defects": "protrusions", "time_defects_s": "time_protrusions_s"}


def with_current_names(settings: dict[str, Any]) -> dict[str, Any]:
    """Batch settings as stored by any surfscan, with the current names (``defects`` -> ``protrusions``)."""
    return {OLD_SETTING_NAMES.get(k, k): v for k, v in settings.items()}


def with_old_names(settings: dict[str, Any]) -> dict[str, Any]:
    """Batch settings with the names they had before the rename (what the settings hash is taken over)."""
    old = {new: old for old, new in OLD_SETTING_NAMES.items()}
    return {old.get(k, k): v for k, v in settings.items()}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    content_hash TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    kind TEXT,
    format TEXT,
    rows INTEGER,
    cols INTEGER,
    dx_um REAL,
    dy_um REAL,
    invalid_fraction REAL,
    file_size INTEGER,
    settings TEXT NOT NULL,
    roughness TEXT NOT NULL,
    units TEXT NOT NULL,
    protrusions TEXT NOT NULL,
    warnings TEXT NOT NULL,
    time_read_s REAL,
    time_roughness_s REAL,
    time_protrusions_s REAL,
    time_total_s REAL,
    worker TEXT,
    finished_at TEXT,
    measures TEXT NOT NULL DEFAULT '{}',
    chain TEXT,
    chain_lambda_s_um REAL,
    chain_lambda_c_um REAL,
    chain_outliers_removed INTEGER,
    chain_points_filled INTEGER,
    chain_detail TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (content_hash, settings_hash)
);
CREATE TABLE IF NOT EXISTS objects (
    content_hash TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    n INTEGER NOT NULL,
    columns TEXT NOT NULL,
    PRIMARY KEY (content_hash, settings_hash)
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT NOT NULL,
    labels_stat TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    settings TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_files (
    run_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    root TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""

_JSON_COLUMNS = ("settings", "roughness", "units", "protrusions", "warnings", "measures", "chain_detail")

#: The columns of ``results`` in the order :meth:`ResultStore.record` gives them (named, so a database whose
#: columns were added in another order by :meth:`ResultStore._add_missing_columns` is written right).
_RESULT_COLUMNS = ("content_hash", "settings_hash", "path", "status", "error", "kind", "format", "rows", "cols",
                   "dx_um", "dy_um", "invalid_fraction", "file_size", "settings", "roughness", "units", "protrusions",
                   "warnings", "time_read_s", "time_roughness_s", "time_protrusions_s", "time_total_s", "worker",
                   "finished_at", "measures")

#: Operator-chain columns of ``results`` (added in this order to older databases), with their SQL types.
_CHAIN_COLUMNS = (("chain", "TEXT"), ("chain_lambda_s_um", "REAL"), ("chain_lambda_c_um", "REAL"),
                  ("chain_outliers_removed", "INTEGER"), ("chain_points_filled", "INTEGER"),
                  ("chain_detail", "TEXT NOT NULL DEFAULT '{}'"))


def _full_stat(stat: tuple) -> tuple[int, int, str]:
    """``(size, mtime_ns, labels signature)``; a 2-tuple stands for a file without labels."""
    return (stat[0], stat[1], stat[2] if len(stat) > 2 else "")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class ResultStore:
    """The SQLite results database of one batch output folder.

    Parameters
    ----------
    folder : path
        The batch output folder (created when ``create`` is True).
    create : bool
        Create the folder and the database when missing; otherwise a clear
        error says that no batch results are there.
    """

    def __init__(self, folder: str | os.PathLike, create: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        if not create and not self.path.is_file():
            raise SurfscanError(f"{self.folder}: no batch results here (no {STORE_NAME}); run 'surfscan batch' first")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=60.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            with self._transaction():  # one process at a time brings an older database up to date
                self._add_missing_columns()
        except (OSError, sqlite3.Error) as exc:
            raise SurfscanError(f"{self.path}: cannot open the results database ({exc})") from None
        self.db.row_factory = sqlite3.Row

    def _add_missing_columns(self) -> None:
        """Bring a database written by an older surfscan up to date (``measures``, ``labels_stat`` came later;
        ``defects`` columns are now ``protrusions``)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(results)")}
        for old, new in _OLD_COLUMNS.items():
            if old in have and new not in have:
                self.db.execute(f"ALTER TABLE results RENAME COLUMN {old} TO {new}")
        if "measures" not in have:
            self.db.execute("ALTER TABLE results ADD COLUMN measures TEXT NOT NULL DEFAULT '{}'")
        for name, sql_type in _CHAIN_COLUMNS:
            if name not in have:
                self.db.execute(f"ALTER TABLE results ADD COLUMN {name} {sql_type}")
        have = {row[1] for row in self.db.execute("PRAGMA table_info(files)")}
        if "labels_stat" not in have:
            self.db.execute("ALTER TABLE files ADD COLUMN labels_stat TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # runs ---------------------------------------------------------------
    def start_run(self, settings: dict[str, Any], settings_hash: str, config: dict[str, Any],
                  files: Iterable[tuple[str, str]]) -> int:
        """Record a batch command and its files (path, root); returns the run id."""
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (started_at, settings_hash, settings, config) VALUES (?, ?, ?, ?)",
                (_now(), settings_hash, json.dumps(settings, sort_keys=True), json.dumps(config, sort_keys=True)),
            )
            run_id = int(cur.lastrowid)
            db.executemany("INSERT INTO run_files (run_id, seq, path, root) VALUES (?, ?, ?, ?)",
                           ((run_id, i, p, r) for i, (p, r) in enumerate(files)))
        return run_id

    def latest_run(self) -> dict[str, Any]:
        """The last batch command: ``run_id``, ``settings_hash``, ``settings``, ``config``."""
        row = self.db.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
        if row is None:
            raise SurfscanError(f"{self.path}: no batch has been run into this folder yet")
        return {"run_id": row["run_id"], "started_at": row["started_at"], "settings_hash": row["settings_hash"],
                "settings": with_current_names(json.loads(row["settings"])), "config": json.loads(row["config"])}

    # skipping work already done -----------------------------------------------
    def done_paths(self, stats: dict[str, tuple], settings_hash: str) -> set[str]:
        """Paths whose (size, mtime[, labels file signature]) match a stored file with a result for these settings."""
        known = {r["content_hash"] for r in self.db.execute(
            "SELECT content_hash FROM results WHERE settings_hash = ? AND content_hash NOT LIKE 'path:%'",
            (settings_hash,))}
        done = set()
        for row in self.db.execute("SELECT path, size, mtime_ns, content_hash, labels_stat FROM files"):
            st = stats.get(row["path"])
            if st is not None and _full_stat(st) == (row["size"], row["mtime_ns"], row["labels_stat"]) \
                    and row["content_hash"] in known:
                done.add(row["path"])
        return done

    # recording ---------------------------------------------------------------
    def record(self, result: dict[str, Any], settings: dict[str, Any], stat: tuple | None) -> None:
        """Store one file's result, its objects and its path, in one transaction.

        ``stat`` is ``(size, mtime_ns)`` or ``(size, mtime_ns, labels file signature)``.
        """
        t = result.get("timings", {})
        key = (result["content_hash"], result["settings_hash"])
        row = (*key, result["path"], result["status"], result.get("error"), result.get("kind"), result.get("format"),
               result.get("rows"), result.get("cols"), result.get("dx_um"), result.get("dy_um"),
               result.get("invalid_fraction"), result.get("file_size"), json.dumps(settings, sort_keys=True),
               json.dumps(result.get("roughness") or {}), json.dumps(result.get("units") or {}),
               json.dumps(result.get("protrusions") or {}), json.dumps(result.get("warnings") or []),
               t.get("read"), t.get("roughness"), t.get("protrusions"), t.get("total"), result.get("worker"), _now(),
               json.dumps(result.get("measures") or {}))
        chain = result.get("chain") or {}
        row += (*(chain.get(name) for name, _ in _CHAIN_COLUMNS[:-1]), json.dumps(chain))
        size, mtime, labels_stat = _full_stat(stat) if stat is not None else (None, None, "")
        with self._transaction() as db:
            names = (*_RESULT_COLUMNS, *(name for name, _ in _CHAIN_COLUMNS))
            db.execute(f"INSERT OR REPLACE INTO results ({', '.join(names)}) VALUES ({', '.join('?' * len(row))})", row)
            db.execute("DELETE FROM objects WHERE content_hash = ? AND settings_hash = ?", key)
            objects = result.get("objects")
            if objects is not None:
                n = len(next(iter(objects.values()), []))
                db.execute("INSERT INTO objects VALUES (?, ?, ?, ?)", (*key, n, json.dumps(objects)))
            db.execute("INSERT OR REPLACE INTO files (path, size, mtime_ns, content_hash, labels_stat) "
                       "VALUES (?, ?, ?, ?, ?)", (result["path"], size, mtime, key[0], labels_stat))

    # reading back --------------------------------------------------------------
    def run_files(self, run_id: int) -> list[dict[str, Any]]:
        """The files of a run in order, each with its stored result (or None when not done)."""
        rows = self.db.execute(
            "SELECT rf.path AS run_path, rf.root AS root, r.* FROM run_files rf "
            "LEFT JOIN files f ON f.path = rf.path "
            "LEFT JOIN results r ON r.content_hash = f.content_hash AND r.settings_hash = "
            "(SELECT settings_hash FROM runs WHERE run_id = rf.run_id) "
            "WHERE rf.run_id = ? ORDER BY rf.seq", (run_id,)).fetchall()
        out = []
        for row in rows:
            d = dict(row)
            if d["status"] is not None:
                for c in _JSON_COLUMNS:
                    d[c] = json.loads(d[c])
                d["settings"] = with_current_names(d["settings"])
            out.append(d)
        return out

    def objects(self, content_hash: str, settings_hash: str) -> dict[str, list] | None:
        """The per-object protrusion table of one result (column lists), or None."""
        row = self.db.execute("SELECT columns FROM objects WHERE content_hash = ? AND settings_hash = ?",
                              (content_hash, settings_hash)).fetchone()
        return None if row is None else json.loads(row["columns"])

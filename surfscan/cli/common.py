"""Helpers shared by the ``surfscan`` sub-commands: output, errors, options."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SurfscanError

__all__ = [
    "report_error",
    "jsonable",
    "print_json",
    "print_csv",
    "print_table",
    "add_roughness_options",
    "add_pixel_size_option",
    "add_table_output_options",
    "add_deprecated_alias",
    "positive_float",
    "load",
    "each_file",
]


def warn_if_unreliable(path: str | Path, summary: dict[str, Any], what: str) -> None:
    """A warning naming the file when the result's ``quality`` block says it is not reliable (with the reasons)."""
    import warnings

    from ..errors import SurfscanWarning

    quality = summary.get("quality") or {}
    if quality.get("reliable") is False and quality.get("reasons"):
        warnings.warn(f"{path}: the automatic {what} may be unreliable: {'; '.join(quality['reasons'])}",
                      SurfscanWarning, stacklevel=2)


def report_error(path: str | Path | None, exc: BaseException, debug: bool = False) -> None:
    """Print one line naming the file and the reason (a traceback with --debug)."""
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    msg = str(exc) if isinstance(exc, SurfscanError) else f"{type(exc).__name__}: {exc}"
    if path is not None and str(path) not in msg:
        msg = f"{path}: {msg}"
    print(f"surfscan: error: {msg}", file=sys.stderr)


def jsonable(obj: Any, depth: int = 0) -> Any:
    """Convert metadata to JSON-ready values; arrays and unknown objects are dropped or summarised."""
    if depth > 8:
        return None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return jsonable(obj.item(), depth + 1)
    if isinstance(obj, bytes):
        return obj.decode("latin-1", errors="replace")[:1000]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(v, np.ndarray) and v.size > 16:
                continue  # image data in metadata (full frame) is not printed
            out[str(k)] = jsonable(v, depth + 1)
        return out
    if isinstance(obj, np.ndarray):
        return [jsonable(x, depth + 1) for x in obj.tolist()] if obj.size <= 16 else None
    if isinstance(obj, (list, tuple)):
        return [jsonable(x, depth + 1) for x in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def print_json(obj: Any) -> None:
    """Print JSON to stdout (NaN/inf become null)."""
    json.dump(jsonable(obj), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as CSV with a header line."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    sys.stdout.write(buf.getvalue())


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else str(v)


def print_table(rows: list[dict[str, Any]], columns: Iterable[str], headers: dict[str, str] | None = None) -> None:
    """Print an aligned plain-text table."""
    columns = list(columns)
    headers = headers or {}
    cells = [[headers.get(c, c) for c in columns]] + [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for j, row in enumerate(cells):
        print("  ".join(c.rjust(w) if j and i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())


def positive_float(text: str) -> float:
    """argparse type: a positive finite number."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return v


def add_roughness_options(p: argparse.ArgumentParser) -> None:
    """--level, --lambda-s, --lambda-c, --robust."""
    p.add_argument(
        "--level", default="plane", metavar="METHOD", help="form removal: plane, poly:N, rows or none (default plane)"
    )
    p.add_argument("--lambda-s", type=positive_float, metavar="UM", help="S-filter cut-off in µm (default: none)")
    p.add_argument("--lambda-c", type=positive_float, metavar="UM", help="L-filter cut-off in µm (default: none)")
    p.add_argument("--robust", action="store_true", help="use the ISO 16610-71 robust Gaussian filter")


def add_table_output_options(p: argparse.ArgumentParser) -> None:
    """--json or --csv (one record per file; a table on the terminal when neither is given)."""
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    out.add_argument("--csv", action="store_true", help="print CSV, one row per file")


def add_pixel_size_option(p: argparse.ArgumentParser) -> None:
    """--pixel-size UM: override the calibration of SEM images."""
    p.add_argument(
        "--pixel-size",
        type=positive_float,
        metavar="UM",
        help="pixel size in µm, overriding the file's calibration (SEM images)",
    )


class _DeprecatedAlias(argparse.Action):
    """A hidden old spelling of an option: leaves a note for ``main`` to print, then acts as the current option."""

    def __init__(self, option_strings: list[str], dest: str, current: argparse.Action, **kwargs: Any) -> None:
        super().__init__(option_strings, current.dest, nargs=current.nargs, type=current.type,
                         choices=current.choices, metavar=current.metavar, default=argparse.SUPPRESS, **kwargs)
        self.current = current

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        negated = bool(option_string and option_string.startswith("--no-"))
        new = next((s for s in self.current.option_strings if s.startswith("--no-") == negated),
                   self.current.option_strings[0])
        note = f"{option_string} is deprecated and will be removed in the next release; use {new}"
        notes = list(getattr(namespace, "_deprecated_options", ()))
        if note not in notes:
            notes.append(note)
        namespace._deprecated_options = notes
        self.current(parser, namespace, values, new)


def add_deprecated_alias(p: argparse.ArgumentParser, current: argparse.Action, *old: str) -> None:
    """Accept the option strings ``old`` as hidden, deprecated spellings of ``current`` (same destination).

    Using one still works, and ``surfscan`` prints a note on stderr naming the current spelling.
    For a ``BooleanOptionalAction`` give both forms, e.g. ``"--defects", "--no-defects"``.
    """
    p.add_argument(*old, action=_DeprecatedAlias, current=current, help=argparse.SUPPRESS)


def load(path: str | Path, pixel_size: float | None = None):
    """Read a file; ``pixel_size`` (µm) overrides an SEM image's calibration."""
    from ..io import read
    from ..model import Micrograph

    obj = read(path)
    if pixel_size is not None and isinstance(obj, Micrograph):
        meta = dict(obj.meta, pixel_size_source="user (--pixel-size)", pixel_size_file_um=obj.pixel_size)
        obj = obj.replace(pixel_size=float(pixel_size), meta=meta)
    return obj


def each_file(args: argparse.Namespace, measure) -> tuple[list[Any], int]:
    """Apply ``measure(path)`` to every file of ``args.files``.

    A file that fails is reported in one line (a traceback with ``--debug``)
    and the others go on.

    Returns
    -------
    records : list
        ``measure``'s results for the files that worked, in order.
    failed : int
        How many files failed.
    """
    records, failed = [], 0
    for path in args.files:
        try:
            records.append(measure(path))
        except (SurfscanError, OSError, MemoryError) as exc:  # this file failed (a reader bug is a ReaderBugError too): the others go on
            report_error(path, exc, getattr(args, "debug", False))
            failed += 1
    return records, failed

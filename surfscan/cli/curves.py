"""``surfscan curves FILE --kind abbott|histogram|psd|acf``: a curve of a height map as CSV and/or PNG."""

from __future__ import annotations

import argparse
import csv
import io
import sys
import warnings
from pathlib import Path

import numpy as np

from ..errors import SurfscanError, SurfscanWarning
from .common import load

KINDS = ("abbott", "histogram", "psd", "acf")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "curves", help="material ratio curve, height histogram, PSD or ACF of a height map", description=__doc__
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--kind", required=True, choices=KINDS, help="which curve")
    p.add_argument("--level", default="plane", metavar="METHOD", help="form removal first: plane, poly:N, rows, none")
    p.add_argument("--csv", metavar="OUT", help="write the curve as CSV here (default: print CSV to stdout)")
    p.add_argument("--png", metavar="OUT", help="write a PNG figure here")
    p.add_argument("--bins", type=int, default=100, metavar="N", help="histogram bins (100)")
    return p


def _columns(kind: str, curve) -> dict[str, np.ndarray]:
    if kind != "psd":
        return curve.as_columns()
    radial, rows = curve.as_columns(), curve.rows_as_columns()
    n = max(radial["q_per_um"].size, rows["q_per_um"].size)

    def pad(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, np.full(n - a.size, np.nan)])

    return {
        "q_per_um": pad(radial["q_per_um"]),
        "C_um4": pad(radial["C_um4"]),
        "q_rows_per_um": pad(rows["q_per_um"]),
        "C1D_rows_um3": pad(rows["C1D_um3"]),
    }


def _csv_text(cols: dict[str, np.ndarray]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(cols))
    for row in zip(*cols.values()):
        w.writerow(["" if not np.isfinite(v) else f"{float(v):.10g}" for v in row])
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    from ..curves import acf, height_histogram, material_ratio_curve, psd
    from ..level import level
    from ..model import Surface
    from ..outliers import fill_nonmeasured

    surface = load(args.file)
    if not isinstance(surface, Surface):
        raise SurfscanError(f"{args.file}: is an SEM image, not a height map; curves need a height map")
    surface = level(surface, args.level)
    if args.kind == "psd" and surface.has_invalid:
        surface = fill_nonmeasured(surface)
        warnings.warn(
            f"{args.file}: {surface.meta['points_filled']} non-measured points filled (thin plate) for the PSD",
            SurfscanWarning,
            stacklevel=2,
        )
    if args.kind == "abbott":
        curve = material_ratio_curve(surface)
    elif args.kind == "histogram":
        curve = height_histogram(surface, bins=args.bins)
    elif args.kind == "psd":
        curve = psd(surface)
    else:
        curve = acf(surface)
    text = _csv_text(_columns(args.kind, curve))
    if args.csv:
        try:
            Path(args.csv).write_text(text)
        except OSError as exc:
            raise SurfscanError(f"{args.csv}: cannot write the CSV: {exc.strerror or exc}") from None
    if args.png:
        from ..curves_plot import plot_curve

        plot_curve(curve, args.png, title=f"{Path(args.file).name}: {args.kind}")
    if not args.csv and not args.png:
        sys.stdout.write(text)
    return 0

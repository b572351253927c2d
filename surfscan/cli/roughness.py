"""``surfscan roughness FILE...``: ISO 25178-2 parameters, one row per file."""

from __future__ import annotations

import argparse

from ..errors import SurfscanError
from ..iso25178 import resolve_names
from ..model import Surface
from ..outliers import FILL_METHODS, OUTLIER_METHODS, fill_nonmeasured, remove_outliers
from ..pipeline import RoughnessSettings, measure_roughness
from .common import add_roughness_options, each_file, load, print_csv, print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("roughness", help="ISO 25178-2 parameters of height maps", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    add_roughness_options(p)
    p.add_argument(
        "--outliers",
        nargs="?",
        const="median",
        choices=OUTLIER_METHODS,
        metavar="METHOD",
        help="remove spikes first (median: residual to the local median > 6 robust sigma; or global)",
    )
    p.add_argument(
        "--fill",
        nargs="?",
        const="thinplate",
        choices=FILL_METHODS,
        metavar="METHOD",
        help="fill non-measured points (after --outliers): thinplate (default), harmonic or nearest",
    )
    p.add_argument(
        "--params",
        default="all",
        metavar="LIST",
        help="parameters or families, comma-separated (Sa,Sz or height,hybrid; default all)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    out.add_argument("--csv", action="store_true", help="print CSV, one row per file")
    return p


def run(args: argparse.Namespace) -> int:
    names = resolve_names(args.params)  # an unknown name fails here, before any file is read
    settings = RoughnessSettings(
        level=args.level, lambda_s=args.lambda_s, lambda_c=args.lambda_c, robust=args.robust, params=tuple(names)
    )

    def measure(path: str) -> dict:
        surface = load(path)
        if not isinstance(surface, Surface):
            raise SurfscanError(f"{path}: is an SEM image, not a height map; roughness needs a height map")
        counts = {}
        if args.outliers:
            surface = remove_outliers(surface, args.outliers)
            counts["outliers_removed"] = surface.meta["outliers_removed"]
        if args.fill:
            surface = fill_nonmeasured(surface, args.fill)
            counts["points_filled"] = surface.meta["points_filled"]
        values, units = measure_roughness(surface, settings)
        chain = {"outliers": args.outliers, "fill": args.fill, **settings.as_dict()}
        return {"file": path, "parameters": values, "units": units, "settings": chain, **counts}

    rows, failed = each_file(args, measure)
    units = rows[-1]["units"] if rows else {}
    if args.json:
        print_json(rows)
    elif rows:
        flat = [{"file": r["file"], **r["parameters"]} for r in rows]
        if args.csv:
            print_csv(flat, ["file", *names])
        else:
            heads = {n: f"{n} [{units.get(n, '')}]" for n in names}
            print_table(flat, ["file", *names], heads)
    return 1 if failed else 0

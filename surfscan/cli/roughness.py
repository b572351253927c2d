"""``surfscan roughness FILE...``: ISO 25178-2 parameters, one row per file."""

from __future__ import annotations

import argparse

from ..errors import SurfscanError
from ..iso25178 import resolve_names
from ..model import Surface
from ..pipeline import RoughnessSettings, measure_roughness
from .common import add_roughness_options, each_file, load, print_csv, print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("roughness", help="ISO 25178-2 parameters of height maps", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    add_roughness_options(p)
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
        values, units = measure_roughness(surface, settings)
        return {"file": path, "parameters": values, "units": units, "settings": settings.as_dict()}

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

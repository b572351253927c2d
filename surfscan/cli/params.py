"""``surfscan params``: the ISO 25178-2 parameters surfscan computes, with units."""

from __future__ import annotations

import argparse

from .common import print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("params", help="list the roughness parameters", description=__doc__)
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from ..iso25178 import parameters

    rows = [{"name": p.name, "unit": p.unit, "family": p.family, "description": p.description} for p in parameters()]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "unit", "family", "description"])
    return 0

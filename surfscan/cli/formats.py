"""``surfscan formats``: the file formats surfscan reads and writes."""

from __future__ import annotations

import argparse

from .common import print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("formats", help="list supported file formats", description=__doc__)
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from ..io import formats

    rows = [
        {
            "name": f.name,
            "kind": f.kind,
            "suffixes": " ".join(f.suffixes),
            "read": f.reader is not None,
            "write": f.writer is not None,
            "verified": f.verified,
            "description": f.description,
        }
        for f in formats()
    ]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            r["mode"] = ("r" if r["read"] else "-") + ("w" if r["write"] else "-")
            r["checked"] = "yes" if r["verified"] else "layout only"
        print_table(rows, ["name", "kind", "mode", "suffixes", "checked", "description"])
    return 0

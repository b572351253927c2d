"""``surfscan report OUT``: one self-contained HTML report of a batch (tables, verdicts, plots, worst files)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="HTML report of a batch output folder", description=__doc__)
    p.add_argument("out", metavar="OUT", help="the folder a 'surfscan batch' wrote to")
    p.add_argument("-o", "--output", metavar="FILE.html", help="where to write the report (default OUT/report.html)")
    p.add_argument("--spec", metavar="SPEC.toml", help="judge against this spec instead of the batch's")
    p.add_argument("--group-by", metavar="HOW", help="group this way instead of the batch's (parent, file, regex:...)")
    p.add_argument("--worst", type=int, default=6, metavar="N", help="thumbnails of the N worst files (default 6)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..batch import load_spec
    from ..batch.report import write_report

    spec = load_spec(args.spec) if args.spec else None
    path = write_report(args.out, args.output, spec=spec, group_by=args.group_by, worst=max(0, args.worst))
    print(path)
    return 0

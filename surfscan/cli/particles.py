"""``surfscan particles FILE...``: particle size distribution from SEM images."""

from __future__ import annotations

import argparse

from ..errors import SurfscanError
from .common import (
    add_pixel_size_option,
    each_file,
    load,
    positive_float,
    print_json,
    print_table,
    warn_if_unreliable,
)

_UNITS = {k: "um" for k in ("mean_ecd_um", "d10_um", "d50_um", "d90_um", "d10_v_um", "d50_v_um", "d90_v_um")}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("particles", help="particle size distribution of SEM images", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--polarity", choices=["bright", "dark"], default="bright", help="particles brighter or darker")
    p.add_argument("--threshold", default="otsu", help="otsu, li, triangle, yen or a grey level (default otsu)")
    p.add_argument("--min-diameter", type=positive_float, metavar="UM", help="smallest particle diameter in µm")
    p.add_argument("--background", type=positive_float, metavar="UM", help="subtract a background of this width (µm)")
    p.add_argument("--no-split", action="store_true", help="do not split touching particles")
    p.add_argument("--linear-above", type=positive_float, default=2.0, help="aspect ratio above which a particle is linear")
    p.add_argument("--objects", action="store_true", help="include one record per particle in the JSON")
    p.add_argument("--json", action="store_true", help="print JSON, one object per file")
    add_pixel_size_option(p)
    return p


def _threshold(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def run(args: argparse.Namespace) -> int:
    from ..model import Micrograph
    from ..particles import measure_particles

    def measure(path: str) -> dict:
        obj = load(path, args.pixel_size)
        if not isinstance(obj, Micrograph):
            raise SurfscanError("is a height map; particle sizes are measured on SEM images")
        res = measure_particles(
            obj, polarity=args.polarity, threshold=_threshold(args.threshold), min_diameter_um=args.min_diameter,
            background_um=args.background, split=not args.no_split, linear_above=args.linear_above,
        )
        warn_if_unreliable(path, res.summary, "particle measurement")
        rec = {"file": path, **res.summary, "units": _UNITS}
        if args.objects:
            rec["objects"] = res.table.to_dict(orient="records")
        return rec

    rows, failed = each_file(args, measure)
    if args.json:
        print_json(rows)
    elif rows:
        cols = ["file", "count", "mean_ecd_um", "d10_um", "d50_um", "d90_um", "d50_v_um", "linear_fraction"]
        print_table(rows, cols, {c: c.replace("_um", " [um]") for c in cols})
    return 1 if failed else 0

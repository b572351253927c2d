"""``surfscan profile FILE... --at row:N``: ISO 21920-2 profile parameters (Ra, Rz, ...) of one line of a map."""

from __future__ import annotations

import argparse

from ..errors import SurfscanError
from .common import add_table_output_options, each_file, load, positive_float, print_csv, print_json, print_table


def cutoff(text: str) -> float | str:
    """argparse type: a positive length in µm, or ``none``."""
    if text.strip().lower() == "none":
        return "none"
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a positive length in µm or 'none': {text!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("profile", help="ISO 21920-2 profile parameters (Ra, Rz, ...) along a line", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--at",
        required=True,
        metavar="WHERE",
        help="row:N, col:N or line:x0,y0,x1,y1 (pixels; oblique lines are interpolated bilinearly)",
    )
    p.add_argument(
        "--level", default="plane", metavar="METHOD", help="form removal of the map first: plane, poly:N, rows or none"
    )
    p.add_argument(
        "--lambda-c",
        type=cutoff,
        metavar="UM",
        help="L-filter cut-off in µm, or none (default: ISO 21920-3 table from Rz, when the profile is long enough)",
    )
    p.add_argument("--lambda-s", type=cutoff, metavar="UM", help="S-filter cut-off in µm, or none (default: paired)")
    p.add_argument("--n-sampling", type=int, default=5, metavar="N", help="sampling lengths for Rp, Rv, Rz (5)")
    p.add_argument("--params", default="all", metavar="LIST", help="parameters, comma-separated (default all)")
    add_table_output_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from ..level import level
    from ..model import Surface
    from ..profile_parameters import PROFILE_PARAMETERS, profile_roughness_with_settings, resolve_profile_names
    from ..profiles import profile

    names = resolve_profile_names(args.params)  # an unknown name fails here, before any file is read

    def measure(path: str) -> dict:
        surface = load(path)
        if not isinstance(surface, Surface):
            raise SurfscanError(f"{path}: is an SEM image, not a height map; a profile needs a height map")
        prof = profile(level(surface, args.level), args.at)
        values, settings = profile_roughness_with_settings(
            prof, names, lambda_c=args.lambda_c, lambda_s=args.lambda_s, n_sampling=args.n_sampling
        )
        settings = {"level": args.level, "at": args.at, "sampling": prof.meta["method"], **settings}
        settings.update(points=prof.n, spacing_um=prof.spacing)
        units = {n: PROFILE_PARAMETERS[n][0] for n in values}
        return {"file": path, "parameters": values, "units": units, "settings": settings}

    rows, failed = each_file(args, measure)
    if args.json:
        print_json(rows)
    elif rows:
        flat = [{"file": r["file"], **r["parameters"]} for r in rows]
        if args.csv:
            print_csv(flat, ["file", *names])
        else:
            heads = {n: f"{n} [{PROFILE_PARAMETERS[n][0]}]" for n in names}
            print_table(flat, ["file", *names], heads)
    return 1 if failed else 0

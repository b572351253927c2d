"""``surfscan roughness FILE...``: ISO 25178-2 parameters, one row per file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import SurfscanError
from .common import add_roughness_options, add_table_output_options, each_file, load, print_csv, print_json, print_table

if TYPE_CHECKING:
    from ..pipeline import RoughnessSettings

#: Columns of the operator chain in --csv output (after the parameters).
CHAIN_COLUMNS = ("chain", "filters", "lambda_s_um", "lambda_c_um", "outliers", "outliers_removed", "fill",
                 "points_filled")

# The choices of --filters, --outliers and --fill: the same tuples as surfscan.pipeline.FILTER_MODES and
# surfscan.outliers.OUTLIER_METHODS / FILL_METHODS (tests/test_startup.py checks that they agree). They are
# spelled here so that building the parser does not import those modules (scipy.fft, scipy.ndimage).
FILTER_MODES = ("manual", "auto")
OUTLIER_METHODS = ("median", "global")
FILL_METHODS = ("thinplate", "harmonic", "nearest")


def add_chain_options(p: argparse.ArgumentParser) -> None:
    """--filters, --outliers, --fill (shared by ``roughness`` and ``batch``)."""
    p.add_argument(
        "--filters",
        choices=FILTER_MODES,
        default="manual",
        help="auto: choose lambda_s and lambda_c per file from its sampling and field size (ISO 25178-3 "
             "preferred series, docs/filters.md); manual (default): --lambda-s/--lambda-c as given",
    )
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


def settings_from_args(args: argparse.Namespace, params: tuple[str, ...] | None) -> RoughnessSettings:
    """The roughness settings of the command line; a conflicting --filters auto fails here."""
    from ..pipeline import RoughnessSettings

    if args.filters == "auto" and (args.lambda_s or args.lambda_c):
        raise SurfscanError("--filters auto chooses lambda_s and lambda_c itself; drop --lambda-s/--lambda-c")
    return RoughnessSettings(level=args.level, lambda_s_um=args.lambda_s, lambda_c_um=args.lambda_c, robust=args.robust,
                             params=params, filters=args.filters, outliers=args.outliers, fill=args.fill)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("roughness", help="ISO 25178-2 parameters of height maps", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    add_roughness_options(p)
    add_chain_options(p)
    p.add_argument(
        "--params",
        default="all",
        metavar="LIST",
        help="parameters or families, comma-separated (Sa,Sz or height,hybrid; default all)",
    )
    add_table_output_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from ..iso25178 import resolve_names
    from ..model import Surface
    from ..pipeline import measure_roughness_chain

    names = resolve_names(args.params)  # an unknown name fails here, before any file is read
    settings = settings_from_args(args, tuple(names))

    def measure(path: str) -> dict:
        surface = load(path)
        if not isinstance(surface, Surface):
            raise SurfscanError(f"{path}: is an SEM image, not a height map; roughness needs a height map")
        values, units, chain = measure_roughness_chain(surface, settings)
        applied = {**settings.as_dict(), **{k: v for k, v in chain.items() if k != "text"}, "chain": chain["text"]}
        counts = {k: chain[k] for k in ("outliers_removed", "points_filled") if chain[k] is not None}
        return {"file": path, "parameters": values, "units": units, "settings": applied, **counts}

    rows, failed = each_file(args, measure)
    units = rows[-1]["units"] if rows else {}
    if args.json:
        print_json(rows)
    elif rows:
        flat = [{"file": r["file"], **r["parameters"], **{c: r["settings"].get(c) for c in CHAIN_COLUMNS}}
                for r in rows]
        if args.csv:
            print_csv(flat, ["file", *names, *CHAIN_COLUMNS])
        else:
            heads = {n: f"{n} [{units.get(n, '')}]" for n in names}
            print_table(flat, ["file", *names], heads)
    return 1 if failed else 0

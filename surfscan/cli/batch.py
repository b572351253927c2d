"""``surfscan batch DIR... -o OUT``: analyse folders of files into one table, with verdicts.

Results go to an SQLite database in OUT (one row per file content and
settings); running the same command again skips what is done, so an
interrupted batch resumes. Files that fail are recorded with their error and
the batch goes on; failing samples are results, so the exit code is 0.

Labels saved beside an image (IMAGE.labels.tif, e.g. from napari's "Save
labels") replace the automatic protrusion or particle detection of that image
(columns *_source = labels|auto); labels files are never analysed as images,
and an edited labels file makes its image be measured again.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import SurfscanError
from .common import add_deprecated_alias, add_pixel_size_option, add_roughness_options
from .roughness import add_chain_options

if TYPE_CHECKING:
    from ..pipeline import RoughnessSettings


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("batch", help="analyse folders of files: table, verdicts, exports", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", metavar="DIR", help="folders (or files) to analyse")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output folder (results database, tables)")
    p.add_argument("--recursive", action="store_true", help="walk sub-folders too")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="only files matching this glob, e.g. '*.x3p' (repeatable)")
    p.add_argument("--group-by", default="auto", metavar="HOW",
                   help="samples: 'parent' (folder), 'name' (file name without its replicate number: E1_site2 -> "
                        "E1), 'file', 'regex:PATTERN' (first capture group of PATTERN in the path relative to DIR), "
                        "or 'auto' (default: parent, or name when all files are in one folder)")
    p.add_argument("--spec", metavar="SPEC.toml", help="acceptance spec (rules like 'Sa < 0.10 um')")
    p.add_argument("--workers", type=_workers, metavar="N", help="local worker processes (default: CPU cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this dask.distributed scheduler")
    p.add_argument("--roughness", action=argparse.BooleanOptionalAction, default=True,
                   help="ISO 25178 parameters of height maps (default on)")
    found = p.add_argument("--protrusions", action=argparse.BooleanOptionalAction, default=None,
                           help="protrusion detection (default on when available)")
    setting = p.add_argument("--protrusion-setting", action="append", default=[], metavar="KEY=VALUE",
                             help="a protrusion detector setting, e.g. min_size_um=5 or polarity=dark (repeatable; "
                                  "see 'surfscan protrusions --help')")
    add_deprecated_alias(p, found, "--defects", "--no-defects")  # old names, one more release
    add_deprecated_alias(p, setting, "--defect-setting")
    p.add_argument("--particles", action=argparse.BooleanOptionalAction, default=False,
                   help="particle size distribution of SEM images: particles_count, particles_d50_um ... "
                        "(default off; height maps skip it)")
    p.add_argument("--particle-setting", action="append", default=[], metavar="KEY=VALUE",
                   help="a particle measurement setting, e.g. polarity=dark or min_diameter_um=0.5 (repeatable; "
                        "see 'surfscan particles --help')")
    p.add_argument("--porosity", action=argparse.BooleanOptionalAction, default=False,
                   help="pore area fraction of SEM cross-sections (whole image, Otsu): porosity_percent with its "
                        "+-delta band (default off; height maps skip it)")
    add_roughness_options(p)
    add_chain_options(p)
    p.set_defaults(filters=None)  # not given: the spec's 'filters' key, else manual
    p.add_argument("--params", default="all", metavar="LIST", help="roughness parameters or families (default all)")
    add_pixel_size_option(p)
    p.add_argument("--export", default="csv,parquet,xlsx", metavar="LIST",
                   help="export formats, comma-separated: csv, parquet, xlsx (default all)")
    p.add_argument("--progress", choices=("auto", "bar", "lines"), default="auto",
                   help="live bar (terminal) or plain lines (default: bar on a terminal)")
    return p


def _value(text: str) -> object:
    """``5`` -> 5, ``2.5`` -> 2.5, ``true`` -> True, ``none`` -> None, anything else stays text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def _key_values(items: list[str], option: str, example: str) -> dict[str, object]:
    """Parse ``KEY=VALUE`` items of one option."""
    out = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise SurfscanError(f"{option} {item!r}: write KEY=VALUE, e.g. {example}")
        out[key.strip()] = _value(val)
    return out


def _particle_settings(items: list[str]) -> tuple[tuple[str, object], ...]:
    """Parse and check ``--particle-setting KEY=VALUE`` items against ``measure_particles``'s keywords."""
    import inspect

    from surfscan import measure_particles

    out = _key_values(items, "--particle-setting", "polarity=dark")
    known = [n for n, p in inspect.signature(measure_particles).parameters.items() if p.kind is p.KEYWORD_ONLY]
    for key in out:
        if key not in known:
            raise SurfscanError(f"--particle-setting: unknown setting {key!r}; known: {', '.join(known)}")
    return tuple(sorted(out.items()))


def _protrusion_settings(items: list[str]) -> tuple[tuple[str, object], ...]:
    """Parse and check ``--protrusion-setting KEY=VALUE`` items."""
    out = _key_values(items, "--protrusion-setting", "min_size_um=5")
    if out:
        from ..protrusions import ProtrusionSettings

        try:
            ProtrusionSettings.from_kwargs(**out)
        except (TypeError, SurfscanError) as exc:  # an unknown name, or a value of the wrong kind
            raise SurfscanError(f"--protrusion-setting: {exc}") from None
    return tuple(sorted(out.items()))


def _check_level(method: str) -> None:
    """An unknown --level fails here, before any file is read."""
    import numpy as np

    from ..level import level
    from ..model import Surface

    level(Surface(np.zeros((4, 4)), 1.0, 1.0), method)


def _roughness_settings(args: argparse.Namespace, names: tuple[str, ...] | None, spec=None) -> RoughnessSettings:  # noqa: ANN001
    """The operator chain: the command line first, then the spec's ``filters``/``outliers``/``fill`` keys."""
    from ..pipeline import RoughnessSettings

    filters = args.filters
    if filters is None:
        given = args.lambda_s or args.lambda_c  # cut-offs on the command line beat the spec's filters = "auto"
        filters = "manual" if given or spec is None or spec.filters is None else spec.filters
    if filters == "auto" and (args.lambda_s or args.lambda_c):
        raise SurfscanError("--filters auto chooses lambda_s and lambda_c itself; drop --lambda-s/--lambda-c")
    outliers = args.outliers or (spec.outliers if spec is not None else None)
    fill = args.fill or (spec.fill if spec is not None else None)
    return RoughnessSettings(level=args.level, lambda_s_um=args.lambda_s, lambda_c_um=args.lambda_c, robust=args.robust,
                             params=names, filters=filters, outliers=outliers, fill=fill)


def _settings(args: argparse.Namespace, spec=None):  # noqa: ANN001 - Spec, imported lazily
    from ..batch.tasks import BatchSettings, protrusions_available
    from ..iso25178 import resolve_names

    protrusions = args.protrusions
    if protrusions is None:
        protrusions = protrusions_available()
    elif protrusions and not protrusions_available():
        raise SurfscanError("--protrusions: protrusion detection (surfscan.detect_protrusions) is not available "
                            "in this installation")
    _check_level(args.level)
    names = None if args.params == "all" else tuple(resolve_names(args.params))
    if names is not None and spec is not None:  # the spec's parameters are always computed
        known = set(resolve_names(None))
        names = tuple(dict.fromkeys([*names, *(r.metric for r in spec.rules if r.metric in known)]))
    rough = _roughness_settings(args, names, spec)
    if not (args.roughness or protrusions or args.particles or args.porosity):
        raise SurfscanError("nothing to do: both --no-roughness and --no-protrusions were given")
    return BatchSettings(roughness=args.roughness, protrusions=protrusions, roughness_settings=rough,
                         protrusion_settings=_protrusion_settings(args.protrusion_setting) if protrusions else (),
                         pixel_size_um=args.pixel_size, particles=args.particles, porosity=args.porosity,
                         particle_settings=_particle_settings(args.particle_setting) if args.particles else ())


def run(args: argparse.Namespace) -> int:
    from ..batch import load_spec, print_summary, run_batch
    from ..batch.export import EXPORT_FORMATS
    spec = load_spec(args.spec) if args.spec else None
    settings = _settings(args, spec)
    live = {"auto": None, "bar": True, "lines": False}[args.progress]
    exports = tuple(x.strip().lower() for x in args.export.split(",") if x.strip())
    unknown = [x for x in exports if x not in EXPORT_FORMATS]
    if unknown:
        raise SurfscanError(f"--export {unknown[0]!r}: use {', '.join(EXPORT_FORMATS)}")
    summary = run_batch(args.folders, args.out, settings, recursive=args.recursive, include=args.include,
                        group_by=args.group_by, spec=spec, workers=args.workers, scheduler=args.scheduler,
                        exports=exports, live=live)
    print_summary(summary)
    return 0

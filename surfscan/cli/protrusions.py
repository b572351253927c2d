"""``surfscan protrusions FILE...``: count and measure protrusions on height maps and SEM images.

One line per file (count, density per mm², detection limit), or with
``--json`` one object per file: ``{"file", "count", "density_per_mm2",
"objects": [...], "settings", "detection_limit"}``. A file that fails is
one error line; the others are still reported and the exit code is 1.
The default height threshold follows each map's own texture (``k`` auto:
3 to 6 x Sq_robust, from the upper tail of the texture's peaks); to apply
one threshold in µm to every file, give ``--h-abs 0.5 --k 1``.
``surfscan defects`` is the deprecated old name of this command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SurfscanError
from .common import load, positive_float, print_json, print_table, report_error, warn_if_unreliable

if TYPE_CHECKING:
    from ..protrusions import ProtrusionSettings


def add_parser(sub: argparse._SubParsersAction, name: str = "protrusions") -> argparse.ArgumentParser:
    """Register the command as ``name``; only the current name is listed by ``surfscan --help``."""
    listed = {"help": "count protrusions per mm² (height maps and SEM images)"} if name == "protrusions" else {}
    p = sub.add_parser(name, description=__doc__, **listed)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file, with every object")
    p.add_argument("--overlay", metavar="DIR", help="write <file>_protrusions.png with the outlines into DIR")
    p.add_argument(
        "--k",
        type=_k_value,
        help="core threshold in robust noise rms, or 'auto' (default: height maps follow the texture's upper "
        "tail, 3 to 6; SEM images a threshold per scale from --false-alarms-per-mm2)",
    )
    p.add_argument(
        "--false-alarms-per-mm2", type=positive_float, metavar="N",
        help="SEM: detections per mm² the substrate's texture alone may produce (default 0.01 per 1024 x 768 "
        "pixels, whatever the pixel size)",
    )
    p.add_argument(
        "--false-discovery-rate", type=_share, metavar="Q",
        help="SEM: once objects are found, the false-detection budget rises to this share of them (default 0.05; "
        "0 keeps the budget of an image without objects)",
    )
    p.add_argument("--h-abs", type=float, metavar="UM", help="height maps: smallest core threshold in µm (default 0)")
    p.add_argument("--min-area", type=positive_float, metavar="UM2", help="smallest object area in µm² (default 9 px)")
    p.add_argument("--polarity", choices=["bright", "dark"], help="bright/up (default) or dark/down objects")
    p.add_argument("--min-size", type=positive_float, metavar="UM", help="smallest expected diameter in µm")
    p.add_argument("--max-size", type=positive_float, metavar="UM", help="largest expected diameter in µm")
    p.add_argument("--split", action="store_true", help="keep touching objects apart (watershed)")
    p.add_argument(
        "--pixel-size", type=positive_float, metavar="UM", help="SEM: pixel size in µm, overriding the calibration"
    )
    return p


def _share(text: str) -> float:
    """argparse type for --false-discovery-rate: a number from 0 to below 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share from 0 to below 1")
    return v


def _k_value(text: str) -> float | str:
    """argparse type for --k: a positive number or 'auto'."""
    return "auto" if text.strip().lower() == "auto" else positive_float(text)


def _settings(args: argparse.Namespace) -> ProtrusionSettings:
    from ..protrusions import ProtrusionSettings

    given = {
        "k": args.k,
        "h_abs_um": args.h_abs,
        "min_area_um2": args.min_area,
        "polarity": args.polarity,
        "min_size_um": args.min_size,
        "max_size_um": args.max_size,
        "pixel_size_um": args.pixel_size,
        "false_alarms_per_mm2": args.false_alarms_per_mm2,
        "false_discovery_rate": args.false_discovery_rate,
    }
    kwargs: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if args.split:
        kwargs["split"] = True
    return ProtrusionSettings.from_kwargs(**kwargs)


def _record(path: str, found) -> dict[str, Any]:
    s = found.summary
    return {
        "file": path,
        "kind": s["kind"],
        "count": s["count"],
        "density_per_mm2": s["density_per_mm2"],
        "objects": found.table.to_dict(orient="records"),
        "settings": s["settings"],
        "detection_limit": {k: v for k, v in s["detection_limit"].items() if k != "statement"},
        **({"quality": s["quality"]} if "quality" in s else {}),
    }


def _limit_text(summary: dict[str, Any]) -> str:
    d = summary["detection_limit"]
    if summary["kind"] == "height":
        return f"h >= {d['height_threshold_um']:.3g} µm"
    return f"contrast >= {d['contrast_threshold']:.3g} (>= {d['min_size_um']:.3g} µm)"


def run(args: argparse.Namespace) -> int:
    from ..protrusions import detect_protrusions

    settings = _settings(args)  # a bad setting fails here, before any file is read
    out_dir = Path(args.overlay) if args.overlay else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    records, rows, failed = [], [], 0
    for path in args.files:
        try:
            found = detect_protrusions(load(path), settings)
            if out_dir is not None:
                found.write_overlay(out_dir / f"{Path(path).stem}_protrusions.png")
        except (SurfscanError, OSError, MemoryError) as exc:  # this file failed (a reader bug is a ReaderBugError too): the others go on
            report_error(path, exc, getattr(args, "debug", False))
            failed += 1
            continue
        records.append(_record(path, found))
        s = found.summary
        warn_if_unreliable(path, s, "protrusion detection")
        rows.append({"file": path, "kind": s["kind"], "count": s["count"],
                     "density_per_mm2": s["density_per_mm2"], "limit": _limit_text(s)})
    if args.json:
        print_json(records)
    elif rows:
        heads = {"density_per_mm2": "per mm²", "limit": "detection limit"}
        print_table(rows, ["file", "kind", "count", "density_per_mm2", "limit"], heads)
    return 1 if failed else 0

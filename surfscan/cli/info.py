"""``surfscan info FILE...``: what a file holds (kind, shape, calibration, metadata)."""

from __future__ import annotations

import argparse
from typing import Any

from ..model import Micrograph, Surface
from .common import add_pixel_size_option, each_file, load, print_json

_HIDDEN_META = {"full_frame", "history"}


def describe(obj: Surface | Micrograph, path: str) -> dict[str, Any]:
    """The ``info`` record of a read object (JSON-ready apart from metadata values)."""
    meta = {k: v for k, v in obj.meta.items() if k not in _HIDDEN_META}
    if isinstance(obj, Surface):
        return {
            "file": path,
            "kind": "height",
            "format": obj.meta.get("format"),
            "shape": list(obj.shape),
            "dx_um": obj.dx,
            "dy_um": obj.dy,
            "size_um": [obj.size_um[0], obj.size_um[1]],
            "invalid_fraction": obj.invalid_fraction,
            "metadata": meta,
        }
    frame = obj.meta.get("frame_shape", list(obj.shape))
    return {
        "file": path,
        "kind": "sem",
        "format": obj.meta.get("format"),
        "shape": list(obj.shape),
        "frame_shape": list(frame),
        "dtype": str(obj.image.dtype),
        "pixel_size_um": obj.pixel_size,
        "pixel_size_source": obj.meta.get("pixel_size_source"),
        "databar_rows": int(obj.meta.get("databar_rows", 0) or 0),
        "metadata": meta,
    }


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("info", help="show what a file holds", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON (one object, or a list for several files)")
    add_pixel_size_option(p)
    return p


def _print_text(rec: dict[str, Any]) -> None:
    print(rec["file"])
    for key in ("kind", "format", "shape", "frame_shape", "dtype", "dx_um", "dy_um", "size_um", "invalid_fraction",
                "pixel_size_um", "pixel_size_source", "databar_rows"):
        if key in rec:
            print(f"  {key:18s} {rec[key]}")
    for key, val in rec["metadata"].items():
        if key in ("source_file", "format"):
            continue
        text = str(val)
        print(f"  {key:18s} {text if len(text) < 100 else text[:97] + '...'}")


def run(args: argparse.Namespace) -> int:
    records, failed = each_file(args, lambda path: describe(load(path, args.pixel_size), path))
    if args.json:
        if records:
            print_json(records[0] if len(args.files) == 1 else records)
    else:
        for rec in records:
            _print_text(rec)
    return 1 if failed else 0

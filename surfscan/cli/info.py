"""``surfscan info FILE...``: what a file holds (kind, channels, shape, calibration, metadata).

By default a file is listed from its header where its format allows it (X3P,
SEM images: :func:`surfscan.io.list_channels`): no data is inflated and the
SEM information bar is not searched for. ``--full`` reads the data too, for
the fraction of non-measured points and the information-bar rows.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_pixel_size_option, each_file, load, print_json

_HIDDEN_META = {"full_frame", "history"}
_TEXT_KEYS = ("kind", "format", "quantity", "channels", "shape", "frame_shape", "dtype", "dx_um", "dy_um", "size_um",
              "invalid_fraction", "pixel_size_um", "pixel_size_source", "databar_rows", "read")


def describe(obj: Any, path: str) -> dict[str, Any]:
    """The ``info`` record of a read object (JSON-ready apart from metadata values)."""
    from ..model import Surface

    meta = {k: v for k, v in obj.meta.items() if k not in _HIDDEN_META}
    if isinstance(obj, Surface):
        return {
            "file": path,
            "kind": "height",
            "format": obj.meta.get("format"),
            "quantity": obj.quantity,
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


def _channels(found: Any) -> list[dict[str, Any]]:
    return [{"name": c.name, "quantity": c.quantity, "shape": list(c.shape) if c.shape else None}
            for c in found.channels]


def describe_listing(found: Any, pixel_size: float | None = None) -> dict[str, Any]:
    """The ``info`` record of a :class:`~surfscan.io.contents.FileChannels` (header only, no data read)."""
    header = dict(found.header)
    first = found.channels[0]
    rec: dict[str, Any] = {"file": found.path, "kind": found.kind, "format": found.format,
                           "channels": _channels(found), "read": "header only (--full reads the data)"}
    if found.kind == "sem":
        rec["frame_shape"] = list(first.shape) if first.shape else None
        if "databar_rows" in header and first.shape:
            rec["shape"] = [first.shape[0] - header["databar_rows"], first.shape[1]]
            rec["databar_rows"] = header.pop("databar_rows")
        rec["dtype"] = header.pop("dtype", None)
        rec["pixel_size_um"] = header.pop("pixel_size_um", None)
        rec["pixel_size_source"] = header.pop("pixel_size_source", None)
        if pixel_size is not None:
            header["pixel_size_file_um"] = rec["pixel_size_um"]
            rec.update(pixel_size_um=float(pixel_size), pixel_size_source="user (--pixel-size)")
    else:
        rec["quantity"] = first.quantity
        rec["shape"] = list(first.shape) if first.shape else None
        for key in ("dx_um", "dy_um"):
            if key in header:
                rec[key] = header.pop(key)
        if first.shape and "dx_um" in rec and "dy_um" in rec:
            rec["size_um"] = [first.shape[0] * rec["dy_um"], first.shape[1] * rec["dx_um"]]
    rec["metadata"] = header
    return rec


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("info", help="show what a file holds", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON (one object, or a list for several files)")
    p.add_argument("--full", action="store_true",
                   help="read the data too: non-measured fraction, SEM information-bar rows (slower)")
    add_pixel_size_option(p)
    return p


def _print_text(rec: dict[str, Any]) -> None:
    print(rec["file"])
    for key in _TEXT_KEYS:
        if key not in rec:
            continue
        value = rec[key]
        if key == "channels":
            value = ", ".join(f"{c['name']} ({c['quantity']})" for c in value)
        print(f"  {key:18s} {value}")
    for key, val in rec["metadata"].items():
        if key in ("source_file", "format"):
            continue
        text = str(val)
        print(f"  {key:18s} {text if len(text) < 100 else text[:97] + '...'}")


def _record(path: str, full: bool, pixel_size: float | None) -> dict[str, Any]:
    """One file's record: from its header when its format lists cheaply, else from the read file."""
    from ..io import list_channels
    from ..io.contents import channels_of
    from ..io.registry import detect

    fmt = detect(path)
    if fmt.lister is not None and not full:
        return describe_listing(list_channels(path, format=fmt.name), pixel_size)
    obj = load(path, pixel_size)
    rec = describe(obj, path)
    rec["channels"] = _channels(channels_of(obj, path, fmt.name, fmt.kind))
    return rec


def run(args: argparse.Namespace) -> int:
    records, failed = each_file(args, lambda path: _record(path, args.full, args.pixel_size))
    if args.json:
        if records:
            print_json(records[0] if len(args.files) == 1 else records)
    else:
        for rec in records:
            _print_text(rec)
    return 1 if failed else 0

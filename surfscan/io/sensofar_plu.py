"""Sensofar ``.plu`` and ``.apx`` files (PLu, S neox, DCM confocal/interferometric profilers).

Layout (facts from Gwyddion's ``sensofar.c`` and SurfaceTopography's reader),
all little-endian, a fixed 500-byte header:

===========  ======  ==============================================
offset       type    field
===========  ======  ==============================================
0            128s    date text (``"Fri Mar 10 16:35:59 2023"``)
128          uint32  POSIX time
132          256s    comment
388          uint32  rows, columns (calibration)
404          float   µm per pixel in x, y
428          uint32  measurement type, algorithm, method, objective, area type
448          40 B    scan settings (two variants, same size)
489          uint8   number of layers; 490 format version; 491 hardware; 492 images
===========  ======  ==============================================

Each layer then holds ``uint32 rows, uint32 columns`` and the float32
heights in µm **immediately after those two integers** (byte 508 for the
first layer; surfalize 0.19.2 reads 8 bytes early and shifts the map by two
samples), then ``float min, max`` and ``images`` RGB images of
``3 * rows * columns`` bytes. 1000001 marks points that were not measured.
Every layer is listed in ``meta["channels"]``; ``channel=`` picks one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SurfscanError
from ..model import Surface
from ._vendor import grid_view, read_bytes, scaled
from .binary import Layout, cstr
from .checks import pixel_size
from .limits import check_available, check_grid
from .registry import Format, register

HEADER = Layout("<", [
    ("date", "128s", 0), ("time", "I", 128), ("comment", "256s", 132),
    ("rows", "I", 388), ("cols", "I", 392), ("n_tall", "I", 396), ("dy_multip", "f", 400),
    ("um_per_px_x", "f", 404), ("um_per_px_y", "f", 408), ("offset_x", "f", 412), ("offset_y", "f", 416),
    ("um_per_px_z", "f", 420), ("offset_z", "f", 424),
    ("type", "I", 428), ("algorithm", "I", 432), ("method", "I", 436), ("objective", "I", 440), ("area_type", "I", 444),
    ("restore", "B", 488), ("layers", "B", 489), ("version", "B", 490), ("hardware", "B", 491), ("images", "B", 492),
    ("factor_delmacio", "I", 496),
])
HEADER_SIZE = 500
LAYER = Layout("<", [("rows", "I", 0), ("cols", "I", 4)])
NOT_MEASURED = 1000001.0

MEASUREMENT_TYPES = {1: "profile", 3: "topography", 4: "thickness"}
ALGORITHMS = {0: "confocal", 1: "interferometric PSI", 2: "interferometric VSI", 3: "ePSI", 4: "confocal intensity",
              5: "focus variation"}
_DATE = re.compile(rb"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}")


def _sniff(head: bytes, path: Path) -> int:
    """Sensofar files have no magic: a C ``asctime`` date at byte 0 is a fair sign."""
    return 40 if _DATE.match(head[:32]) and len(head) >= HEADER_SIZE else 0


def _layers(path: Path, buf: bytes, h: dict[str, Any]) -> list[dict[str, int]]:
    """Offsets and sizes of every layer, checked against the bytes present."""
    pos, out = HEADER_SIZE, []
    for i in range(max(h["layers"], 1)):
        if i and pos + LAYER.size > len(buf):
            break
        dims = LAYER.read(buf, pos, str(path))
        rows, cols = check_grid(path, dims["rows"], dims["cols"])
        data = pos + LAYER.size
        check_available(path, rows * cols * 4, len(buf) - data, f"layer {i} heights")
        out.append({"index": i, "rows": rows, "cols": cols, "offset": data})
        pos = data + rows * cols * 4 + 8 + 3 * rows * cols * h["images"]
    return out


def read_plu(path: str | os.PathLike, channel: int | str | None = None) -> Surface:
    """Read a Sensofar ``.plu``/``.apx`` topography as heights in µm.

    Parameters
    ----------
    path : path-like
        The file.
    channel : int, optional
        Layer index (``meta["channels"]``); the first layer by default.
    """
    path = Path(path)
    buf = read_bytes(path)
    h = HEADER.read(buf, 0, str(path))
    layers = _layers(path, buf, h)
    index = 0 if channel is None else int(channel) if str(channel).isdigit() else -1
    if not 0 <= index < len(layers):
        raise SurfscanError(f"{path}: no layer {channel!r}; the file holds layers 0..{len(layers) - 1}")
    layer = layers[index]
    raw = grid_view(path, buf, layer["offset"], layer["rows"], layer["cols"], "<f4")
    invalid = raw == np.float32(NOT_MEASURED)
    z = scaled(raw, 1.0, 0.0, invalid if invalid.any() else None)
    dx, dy = pixel_size(path, h["um_per_px_x"], h["um_per_px_y"], "in the calibration header")
    meta = {
        "vendor": "Sensofar",
        "instrument": None,
        "date": cstr(h["date"]) or None,
        "comment": cstr(h["comment"]) or None,
        "measurement_type": MEASUREMENT_TYPES.get(h["type"], str(h["type"])),
        "algorithm": ALGORITHMS.get(h["algorithm"], str(h["algorithm"])),
        "objective_id": h["objective"],
        "format_version": h["version"],
        "hardware_id": h["hardware"],
        "z_unit": "µm",
        "channel": index,
        "channels": [{"index": L["index"], "name": f"layer {L['index']}", "shape": [L["rows"], L["cols"]]}
                     for L in layers],
        "images": h["images"],
    }
    return Surface(z, dx, dy, meta)


register(Format("plu", "Sensofar PLU/APX confocal and interferometric profiler", (".plu", ".apx"), kind="height",
                reader=read_plu, sniff=_sniff))

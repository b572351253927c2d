"""Issue 13 protrusion floors on the third independent scene generator (``tests/sem_protrusion_scenes_v3.py``).

Its choices differ from the other two generators' (``bench_sem_pod.py``, ``bench_sem_pod_v2.py``): a rim
dome's contrast is measured on its bright edge ring (its plateau lies at 0.26-0.41 of that), and two more
substrates, cellular (Voronoi grains with bright boundaries) and scratched (fibres). Every scene is detected
at pixel sizes 0.01, 0.1 and 2 µm with default settings. Prints, per pixel size, each done-when check with
PASS/FAIL, then the recall per substrate and per dome profile, and the checks without rim domes.

A dome is found when a detection's centroid lies within D/2 + 3 px of its centre; a detection further than
D/2 + 3 px from every dome is a false one (precision = 1 - false / detections). Check 3's precision is
taken over the scenes that hold only check-3 domes.

    python bench/bench_sem_pod_v3.py [--seed 0]

The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from multiprocessing import Pool
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_protrusion_scenes import detection_matches  # noqa: E402
from sem_protrusion_scenes_v3 import PROFILES, TEXTURES, make_scene, scene_list, truth_table  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.errors import SurfscanWarning  # noqa: E402

PIXEL_SIZES = (0.01, 0.1, 2.0)
CHECKS = (  # label, dome selection, min recall
    ("objects >= 40 px at contrast >= 3: recall >= 0.95", lambda d: d["D"] >= 40 and d["C"] >= 3, 0.95),
    ("objects >= 60 px at contrast 2: recall >= 0.90", lambda d: d["D"] >= 60 and math.isclose(d["C"], 2.0), 0.90),
    ("objects 16-40 px at contrast 2.5-4: recall >= 0.35", lambda d: 16 <= d["D"] <= 40 and 2.5 <= d["C"] <= 4,
     0.35),
)
SMALL_SET = "small_mid_contrast"  # scenes holding only check-3 domes: check 3's precision


class Row(NamedTuple):
    """One scene at one pixel size (``dome`` None: the scene's detections) or one of its domes."""

    px: float
    set: str
    texture: str
    dome: dict | None
    found: bool
    detections: int
    false: int


def run_scene(scene: dict) -> list[Row]:
    """The rows of one scene: per pixel size, one for its detections and one per dome."""
    image, domes, _ = make_scene(scene["seed"], scene["kind"], scene["specs"])
    rows = []
    for px in PIXEL_SIZES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            table = ss.detect_protrusions(ss.Micrograph(image, px, {})).table
        near = detection_matches(table, truth_table(domes), px)
        rows.append(Row(px, scene["set"], scene["kind"], None, False, near.shape[0], int((~near.any(axis=1)).sum())))
        rows += [Row(px, scene["set"], scene["kind"], d, bool(f), 0, 0) for d, f in zip(domes, near.any(axis=0))]
    return rows


def _recall(rows: list[Row]) -> str:
    n = len(rows)
    k = sum(r.found for r in rows)
    return f"{k / n:.3f} ({k}/{n})" if n else "n/a"


def report(rows: list[Row], px: float) -> bool:
    """Print the checks and breakdowns of one pixel size; True when every check passes."""
    domes = [r for r in rows if r.px == px and r.dome is not None]
    images = [r for r in rows if r.px == px and r.dome is None]
    ok_all = True
    print(f"\npixel size {px:g} µm:")
    for label, pick, floor in CHECKS:
        sel = [r for r in domes if pick(r.dome)]
        rec = sum(r.found for r in sel) / max(len(sel), 1)
        ok = bool(sel) and rec >= floor
        extra = ""
        if "16-40" in label:
            small = [r for r in images if r.set == SMALL_SET]
            n, false = sum(r.detections for r in small), sum(r.false for r in small)
            prec = 1 - false / n if n else float("nan")
            ok &= n > 0 and prec >= 0.90
            extra = f", precision {prec:.3f} ({false} false of {n}; floor 0.90)"
        ok_all &= ok
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}: recall {_recall(sel)}{extra}")
        print("         by substrate: " + ", ".join(f"{t} {_recall([r for r in sel if r.texture == t])}"
                                                   for t in TEXTURES))
        print("         by profile:   " + ", ".join(
            f"{p} {_recall([r for r in sel if r.dome['profile'] == p])}" for p in PROFILES))
        print(f"         without rim domes (rim contrast measured on the ring): "
              f"{_recall([r for r in sel if r.dome['profile'] != 'rim'])}")
    empty = [r for r in images if r.set == "empty"]
    clean = sum(r.detections == 0 for r in empty)
    ok = clean >= 0.95 * len(empty)
    ok_all &= ok
    print(f"  [{'PASS' if ok else 'FAIL'}] no detection on >= 95 % of object-free images: {clean}/{len(empty)}")
    print("         by substrate: " + ", ".join(
        f"{t} {sum(r.detections == 0 for r in empty if r.texture == t)}/{sum(r.texture == t for r in empty)}"
        for t in TEXTURES))
    withobj = [r for r in images if r.set != "empty"]
    n, false = sum(r.detections for r in withobj), sum(r.false for r in withobj)
    print(f"  precision over every scene with objects: {1 - false / max(n, 1):.3f} ({false} false of {n})")
    return ok_all


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    scenes = scene_list(args.seed)
    with Pool(2) as pool:
        rows = [r for rs in pool.map(run_scene, scenes, chunksize=1) for r in rs]
    print(f"{len(scenes)} scenes ({sum(s['set'] == 'empty' for s in scenes)} object-free), "
          f"{sum(r.dome is not None for r in rows) // len(PIXEL_SIZES)} domes, seed {args.seed}")
    ok = all([report(rows, px) for px in PIXEL_SIZES])
    print(f"\nall checks {'PASS' if ok else 'FAIL'}  ({time.perf_counter() - t0:.0f} s, seed {args.seed})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

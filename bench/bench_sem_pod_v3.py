"""Issue 13 protrusion floors on the third independent scene generator (``tests/sem_protrusion_scenes_v3.py``).

Its choices differ from the other two generators' (``bench_sem_pod.py``, ``bench_sem_pod_v2.py``): a rim
dome's contrast is measured on its bright edge ring (its plateau lies at 0.35-0.7 of that), and two more
substrates, cellular (Voronoi grains with bright boundaries) and scratched (fibres). Every scene is detected
at pixel sizes 0.01, 0.1 and 2 µm with default settings. Prints, per pixel size, each done-when check with
PASS/FAIL, then the recall per substrate and per dome profile, and the checks without rim domes.

A dome is found when a detection's centroid lies within D/2 + 3 px of its centre; a detection further than
D/2 + 3 px from every dome is a false one (precision = 1 - false / detections). Check 3's precision is
taken over the scenes that hold only check-3 domes.

    python bench/bench_sem_pod_v3.py [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_protrusion_scenes import score_scene  # noqa: E402
from sem_protrusion_scenes_v3 import PROFILES, TEXTURES, make_scene, scene_list, truth_table  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.errors import SurfscanWarning  # noqa: E402

PIXEL_SIZES = (0.01, 0.1, 2.0)
CHECKS = (  # label, dome selection, min recall
    ("objects >= 40 px at contrast >= 3: recall >= 0.95", lambda d: d["D"] >= 40 and d["C"] >= 3, 0.95),
    ("objects >= 60 px at contrast 2: recall >= 0.90", lambda d: d["D"] >= 60 and d["C"] == 2, 0.90),
    ("objects 16-40 px at contrast 2.5-4: recall >= 0.35", lambda d: 16 <= d["D"] <= 40 and 2.5 <= d["C"] <= 4,
     0.35),
)
SMALL_SET = "small_mid_contrast"  # scenes holding only check-3 domes: check 3's precision


def _found(table, domes: list[dict], px: float) -> tuple[np.ndarray, int, int]:
    """Per dome whether a detection found it, the detections and the false ones."""
    if not domes:
        return np.zeros(0, bool), len(table), len(table)
    det = np.column_stack([table["y_um"], table["x_um"]]) / px if len(table) else np.zeros((0, 2))
    cen = np.array([[d["row"], d["col"]] for d in domes])
    near = np.hypot(det[:, None, 0] - cen[None, :, 0], det[:, None, 1] - cen[None, :, 1]) <= (
        np.array([d["D"] for d in domes]) / 2 + 3)[None, :]
    s = score_scene(table, truth_table(domes), px)  # the shared scoring, as a cross-check of the counts here
    assert s.found == int(near.any(axis=0).sum()) and s.false == int((~near.any(axis=1)).sum())
    return near.any(axis=0), len(det), s.false


def run_scene(scene: dict) -> list[tuple]:
    """Rows (pixel size, set, texture, dome or None, found, detections, false) of one scene."""
    image, domes, _ = make_scene(scene["seed"], scene["kind"], scene["specs"])
    rows = []
    for px in PIXEL_SIZES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            table = ss.detect_protrusions(ss.Micrograph(image, px, {})).table
        found, n, false = _found(table, domes, px)
        rows.append((px, scene["set"], scene["kind"], None, False, n, false))
        rows += [(px, scene["set"], scene["kind"], d, bool(f), 0, 0) for d, f in zip(domes, found)]
    return rows


def _recall(rows: list[tuple]) -> str:
    n = len(rows)
    k = sum(r[4] for r in rows)
    return f"{k / n:.3f} ({k}/{n})" if n else "n/a"


def report(rows: list[tuple], px: float) -> bool:
    """Print the checks and breakdowns of one pixel size; True when every check passes."""
    domes = [r for r in rows if r[0] == px and r[3] is not None]
    images = [r for r in rows if r[0] == px and r[3] is None]
    ok_all = True
    print(f"\npixel size {px:g} µm:")
    for label, pick, floor in CHECKS:
        sel = [r for r in domes if pick(r[3])]
        rec = sum(r[4] for r in sel) / max(len(sel), 1)
        ok = bool(sel) and rec >= floor
        extra = ""
        if "16-40" in label:
            small = [r for r in images if r[1] == SMALL_SET]
            n, false = sum(r[5] for r in small), sum(r[6] for r in small)
            prec = 1 - false / n if n else float("nan")
            ok &= n > 0 and prec >= 0.90
            extra = f", precision {prec:.3f} ({false} false of {n}; floor 0.90)"
        ok_all &= ok
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}: recall {_recall(sel)}{extra}")
        print("         by substrate: " + ", ".join(f"{t} {_recall([r for r in sel if r[2] == t])}" for t in TEXTURES))
        print("         by profile:   " + ", ".join(
            f"{p} {_recall([r for r in sel if r[3]['profile'] == p])}" for p in PROFILES))
        print(f"         without rim domes (rim contrast measured on the ring): "
              f"{_recall([r for r in sel if r[3]['profile'] != 'rim'])}")
    empty = [r for r in images if r[1] == "empty"]
    clean = sum(r[5] == 0 for r in empty)
    ok = clean >= 0.95 * len(empty)
    ok_all &= ok
    print(f"  [{'PASS' if ok else 'FAIL'}] no detection on >= 95 % of object-free images: {clean}/{len(empty)}")
    print("         by substrate: " + ", ".join(
        f"{t} {sum(r[5] == 0 for r in empty if r[2] == t)}/{sum(r[2] == t for r in empty)}" for t in TEXTURES))
    withobj = [r for r in images if r[1] != "empty"]
    n, false = sum(r[5] for r in withobj), sum(r[6] for r in withobj)
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
          f"{sum(r[3] is not None for r in rows) // len(PIXEL_SIZES)} domes, seed {args.seed}")
    ok = all([report(rows, px) for px in PIXEL_SIZES])
    print(f"\nall checks {'PASS' if ok else 'FAIL'}  ({time.perf_counter() - t0:.0f} s, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 13 protrusion floors on the fourth independent scene generator (``tests/sem_protrusion_scenes_v4.py``).

Its substrates differ in kind from the other generators' (``bench_sem_pod.py``, ``_v2``, ``_v3``): packed
particles with dark gaps, a two-phase porous texture (bright struts, dark pores), a film with pits, an
anisotropic grain and a texture whose rms varies across the field by up to 2 x; its bumps are caps, Gaussian
domes (D = 2 FWHM), faceted pyramids and edge-effect bumps with a shadow crescent. Every scene is detected
at pixel sizes 0.01, 0.1 and 2 µm with default settings. Prints each done-when check per pixel size with
PASS/FAIL, the recall per substrate and per profile, and the object-free images with a detection per
substrate.

A bump is found when a detection's centroid lies within D/2 + 3 px of its centre; a detection further than
D/2 + 3 px from every bump is a false one. Check 3's precision is taken over its own scenes, which hold only
check-3 bumps.

    python bench/bench_sem_pod_v4.py [--seed 1] [--reps 4] [--empty 16]

The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_protrusion_scenes_v4 import PROFILES, SUBSTRATES, make_scene  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.errors import SurfscanError, SurfscanWarning  # noqa: E402

PIXEL_SIZES = (0.01, 0.1, 2.0)
CHECKS = {  # check: (label, diameters px, contrasts, min recall, min precision)
    1: ("objects >= 40 px at contrast >= 3: recall >= 0.95", (40, 60, 80, 120), (3.0, 4.0, 6.0), 0.95, None),
    2: ("objects >= 60 px at contrast 2: recall >= 0.90", (60, 80, 120), (2.0,), 0.90, None),
    3: ("objects 16-40 px at contrast 2.5-4: precision >= 0.90, recall >= 0.35", (16, 24, 32, 40),
        (2.5, 3.0, 4.0), 0.35, 0.90),
}
EMPTY_SHARE = 0.95  # object-free images without any detection


def scene_specs(reps: int, empty: int) -> list[dict]:
    """The scenes: ``reps`` per (check, diameter, substrate), then ``empty`` object-free ones per substrate."""
    specs = []
    for check, (_, diameters, contrasts, _, _) in CHECKS.items():
        k = 0
        for d in diameters:
            for sub in SUBSTRATES:
                for _ in range(reps):
                    specs.append({"check": check, "index": check * 1000 + k, "substrate": sub, "D": d,
                                  "C": contrasts})
                    k += 1
    for j, sub in enumerate(SUBSTRATES):
        for i in range(empty):
            specs.append({"check": 4, "index": 4000 + j * empty + i, "substrate": sub, "D": None, "C": None})
    return specs


def _detect(image: np.ndarray, px: float) -> tuple[np.ndarray, np.ndarray]:
    """Detection centroids (rows, columns in pixels); none when the detector refuses the image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        try:
            t = ss.detect_protrusions(ss.Micrograph(image, px, {})).table
        except SurfscanError:
            return np.zeros(0), np.zeros(0)
    return t["y_um"].to_numpy(float) / px, t["x_um"].to_numpy(float) / px


def score(args: tuple[int, dict]) -> dict:
    """Per pixel size: which bumps were found and how many detections were false, for one scene."""
    seed, spec = args
    sc = make_scene(seed, spec["index"], spec["substrate"], spec["D"], spec["C"])
    out = {"spec": spec, "truth": sc.truth, "per_px": {}}
    by = np.array([b["y_px"] for b in sc.truth])
    bx = np.array([b["x_px"] for b in sc.truth])
    tol = np.array([b["D"] / 2 + 3 for b in sc.truth])
    for px in PIXEL_SIZES:
        rows, cols = _detect(sc.image, px)
        within = np.hypot(by[:, None] - rows[None, :], bx[:, None] - cols[None, :]) <= tol[:, None]
        out["per_px"][px] = (within.any(axis=1), int((~within.any(axis=0)).sum()), rows.size)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=4, help="scenes per check, diameter and substrate")
    ap.add_argument("--empty", type=int, default=16, help="object-free scenes per substrate")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with Pool(2) as pool:
        results = pool.map(score, [(args.seed, s) for s in scene_specs(args.reps, args.empty)])
    ok_all = True
    for px in PIXEL_SIZES:
        print(f"\npixel size {px:g} µm:")
        for check, (label, _, _, min_recall, min_precision) in CHECKS.items():
            found = defaultdict(list)
            false = dets = 0
            for r in (r for r in results if r["spec"]["check"] == check):
                flags, f, n = r["per_px"][px]
                false, dets = false + f, dets + n
                for b, hit in zip(r["truth"], flags):
                    found[("substrate", r["spec"]["substrate"])].append(hit)
                    found[("profile", b["profile"])].append(hit)
            hits = [h for k, v in found.items() if k[0] == "substrate" for h in v]
            recall = float(np.mean(hits)) if hits else float("nan")
            precision = 1 - false / dets if dets else 1.0
            ok = recall >= min_recall and (min_precision is None or precision >= min_precision)
            ok_all &= ok
            print(f"  [{'PASS' if ok else 'FAIL'}] {label}: recall {recall:.3f} ({int(np.sum(hits))}/{len(hits)}), "
                  f"precision {precision:.3f} ({false} false of {dets})")
            for kind, names in (("substrate", SUBSTRATES), ("profile", PROFILES)):
                parts = [f"{n} {np.mean(found[(kind, n)]):.3f} ({np.sum(found[(kind, n)])}/{len(found[(kind, n)])})"
                         for n in names if found[(kind, n)]]
                print(f"         by {kind}: " + ", ".join(parts))
        empties = [r for r in results if r["spec"]["check"] == 4]
        clean = sum(r["per_px"][px][2] == 0 for r in empties)
        ok = clean >= EMPTY_SHARE * len(empties)
        ok_all &= ok
        dirty = defaultdict(int)
        for r in empties:
            dirty[r["spec"]["substrate"]] += r["per_px"][px][2] > 0
        print(f"  [{'PASS' if ok else 'FAIL'}] no detection on >= 95 % of object-free images: {clean}/{len(empties)}"
              f" (with detections: {dict((k, v) for k, v in dirty.items() if v)})")
    print(f"\n{'all checks PASS' if ok_all else 'a check FAILS'}  ({time.perf_counter() - t0:.0f} s, seed {args.seed})")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())

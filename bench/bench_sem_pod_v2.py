"""Issue 13 protrusion floors on the second independent scene generator (``tests/sem_protrusion_scenes_v2.py``).

Its substrates (difference-of-Gaussians grain, band-limited 1/f noise, sparse bright speckle, grain with slow
waves) differ from those of ``bench_sem_pod.py``'s generator. Prints, per floor and pixel size, the recall and
precision of ``surfscan.detect_protrusions`` with default settings (and the recall per substrate), then the
share of object-free scenes without a detection. Scoring as in ``bench_sem_pod.py``: a dome is found when a
detection's centroid lies within D/2 + 3 px of its centre.

    python bench/bench_sem_pod_v2.py [--seed 1] [--images-per-cell 2] [--empty-images 30]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_protrusion_scenes import score_scene  # noqa: E402
from sem_protrusion_scenes_v2 import make_scene, objects_per_image, truth_table  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.errors import SurfscanWarning  # noqa: E402

PIXEL_SIZES = (0.01, 0.1, 2.0)
FLOORS = (  # label, cells (diameter px, contrast), min recall, min precision
    ("objects >= 40 px at contrast >= 3: recall >= 0.95", [(40, 3.0), (60, 3.0), (80, 4.0), (120, 3.0), (40, 6.0)],
     0.95, None),
    ("objects >= 60 px at contrast 2: recall >= 0.90", [(60, 2.0), (80, 2.0), (120, 2.0)], 0.90, None),
    ("objects 16-40 px at contrast 2.5-4: precision >= 0.90, recall >= 0.35",
     [(16, 2.5), (24, 3.0), (32, 4.0), (40, 2.5), (16, 4.0)], 0.35, 0.90),
)


def score(image: np.ndarray, truth: list[dict], px: float) -> np.ndarray:
    """[objects, found, detections, false] of one scene."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        table = ss.detect_protrusions(ss.Micrograph(image, px, {})).table
    s = score_scene(table, truth_table(truth), px)
    return np.array([s.objects, s.found, s.detections, s.false])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--images-per-cell", type=int, default=2)
    ap.add_argument("--empty-images", type=int, default=30)
    args = ap.parse_args(argv)
    ok = True
    for label, cells, min_recall, min_precision in FLOORS:
        for px in PIXEL_SIZES:
            total, by_texture = np.zeros(4, int), {}
            for d, c in cells:
                for i in range(args.images_per_cell):
                    image, truth, info = make_scene(np.random.default_rng([args.seed, int(d), int(c * 10), i]), d, c,
                                                    objects_per_image(d))
                    s = score(image, truth, px)
                    total += s
                    by_texture[info["texture"]] = by_texture.get(info["texture"], 0) + s
            recall = total[1] / max(total[0], 1)
            precision = 1 - total[3] / max(total[2], 1)
            passed = recall >= min_recall and (min_precision is None or precision >= min_precision)
            ok &= bool(passed)
            print(f"[{'PASS' if passed else 'FAIL'}] {label} @ {px} µm: recall {recall:.3f} ({total[1]}/{total[0]}),"
                  f" precision {precision:.3f} ({total[3]} false of {total[2]})")
            print("       by substrate: " + ", ".join(f"{k} {v[1] / max(v[0], 1):.2f} ({v[1]}/{v[0]})"
                                                    for k, v in sorted(by_texture.items())))
    clean, dirty = 0, {}
    for i in range(args.empty_images):
        image, _, info = make_scene(np.random.default_rng([args.seed, 0, i]), 20, 1.0, 0)
        if score(image, [], PIXEL_SIZES[i % 3])[2] == 0:
            clean += 1
        else:
            dirty[info["texture"]] = dirty.get(info["texture"], 0) + 1
    passed = clean >= 0.95 * args.empty_images
    ok &= passed
    print(f"[{'PASS' if passed else 'FAIL'}] no detection on >= 95 % of object-free images: {clean}/{args.empty_images}"
          + (f" (with detections: {dirty})" if dirty else ""))
    print(f"\nall checks {'PASS' if ok else 'FAIL'} (seed {args.seed})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

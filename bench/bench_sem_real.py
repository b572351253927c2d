"""SEM analyses on real annotated micrographs: particles and protrusions (agglomerates) with default settings.

Reads ``../shared/data/real-sem-particles/`` in place (licence CC BY-NC-ND: nothing of it is shipped) and
prints, per image and over the set, the metrics of issue 13 (definitions in
``surfscan/testing/sem_metrics.py``):

- particles: mean instance IoU, precision / recall / F1 at IoU 0.5, D50 error against the manual D50;
  over the set, the mean of the images' values (each image counts once) and, on a second line, the same
  pooled over every manual particle of the set (an image with more particles counts more);
- protrusions: agglomerates found (recall) and detections inside an agglomerate (precision);
- the time of each analysis (median of ``--repeat`` runs).

    python bench/bench_sem_real.py [--only particles|protrusions] [--repeat 3] [--root DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import tifffile

import surfscan as ss
from surfscan.errors import SurfscanWarning
from surfscan.testing.sem_metrics import pooled_particle_scores, real_sem_pairs, score_agglomerates, score_particles


def _timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["particles", "protrusions"])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--root", type=Path, help="another annotated set laid out the same way (images/<name>.tif, "
                    "masks/<name>_m.tif); default ../shared/data/real-sem-particles")
    args = ap.parse_args(argv)
    pairs = real_sem_pairs(args.root)
    if not pairs:
        print(f"{args.root or '../shared/data/real-sem-particles'}: no annotated images found, nothing to measure")
        return 0
    warnings.simplefilter("ignore", SurfscanWarning)
    part, prot = [], []
    for img, mpath in pairs:
        m = ss.read(img)
        mask = tifffile.imread(mpath)
        px = m.pixel_size
        line = f"{img.stem:14s}"
        if args.only != "protrusions":
            p, t = _timed(lambda: ss.measure_particles(m), args.repeat)  # noqa: B023
            s = score_particles(p.labels, mask, px, p.summary.get("d50_um"))
            part.append((s, t))
            line += (f"  particles IoU {s.mean_iou:.3f} P {s.precision:.2f} R {s.recall:.2f} F1 {s.f1:.2f}"
                     f" D50 {s.d50_um * 1e3:6.1f}/{s.d50_manual_um * 1e3:6.1f} nm ({s.d50_error:+.1%}) {t:.2f} s")
        if args.only != "particles":
            d, t = _timed(lambda: ss.detect_protrusions(m), args.repeat)  # noqa: B023
            a = score_agglomerates(d.table["y_um"] / px, d.table["x_um"] / px, mask, m.shape)
            prot.append((a, t))
            line += (f"  protrusions {a.n_found}/{a.n_agglomerates} found, {a.n_false}/{a.n_detections} false"
                     f" {t:.2f} s")
        print(line)
    if part:
        iou = np.mean([s.mean_iou for s, _ in part])
        f1 = np.mean([s.f1 for s, _ in part])
        pr = np.mean([s.precision for s, _ in part])
        rc = np.mean([s.recall for s, _ in part])
        d50 = np.median([abs(s.d50_error) for s, _ in part])
        tm = statistics.median(t for _, t in part)
        print(f"particles ({len(part)} images): mean instance IoU {iou:.3f}, F1 {f1:.3f} (P {pr:.3f}, R {rc:.3f}),"
              f" median |D50 error| {d50:.1%}, median time {tm:.2f} s per image")
        iou_all, p_all, r_all, f1_all = pooled_particle_scores([s for s, _ in part])
        print(f"particles (all {sum(s.n_manual for s, _ in part)} manual particles pooled): mean instance IoU"
              f" {iou_all:.3f}, F1 {f1_all:.3f} (P {p_all:.3f}, R {r_all:.3f})")
    if prot:
        found = sum(a.n_found for a, _ in prot)
        total = sum(a.n_agglomerates for a, _ in prot)
        false = sum(a.n_false for a, _ in prot)
        dets = sum(a.n_detections for a, _ in prot)
        tm = statistics.median(t for _, t in prot)
        print(f"protrusions ({len(prot)} images): recall {found / max(total, 1):.3f} ({found}/{total}),"
              f" precision {1 - false / max(dets, 1):.3f} ({dets - false}/{dets}), median time {tm:.2f} s per image")
    return 0


if __name__ == "__main__":
    sys.exit(main())

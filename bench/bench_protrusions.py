"""Protrusion detector benchmark: runtime on 2048 x 1536 and the probability-of-detection curves.

    python bench/bench_protrusions.py [--repeat 7] [--images 6]

Prints the median runtime of ``detect_protrusions`` (default settings, no
splitting) on a synthetic 2048 x 1536 height map and SEM image, next to the
time of one copy of the same array (the memory-bandwidth floor), and writes

- ``bench/_out/protrusions_pod.csv``: planted objects with their height (or
  contrast) over the stated threshold and whether they were found;
- ``bench/_out/protrusions_pod.png``: probability of detection against that
  ratio (binned, with 95 % Wilson intervals); copy it to
  ``docs/protrusions_pod.png`` when the docs should follow.

Targets: <= 0.2 s (height map) and <= 0.3 s (SEM image), medians.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import surfscan as ss
from surfscan.synthetic import match_objects, synthetic_height_map, synthetic_micrograph

OUT = Path(__file__).resolve().parent / "_out"
SHAPE = (1536, 2048)


def _median_time(fn, repeat: int, clock=time.perf_counter) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(np.median(times))


def runtimes(repeat: int) -> None:
    s, _ = synthetic_height_map(SHAPE, seed=1)
    m, _ = synthetic_micrograph(SHAPE, seed=1)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with the load)")
    for name, obj, arr, target in (("height map", s, s.z, 0.2), ("SEM image", m, m.image, 0.3)):
        t = _median_time(lambda o=obj: ss.detect_protrusions(o), repeat)
        cpu = _median_time(lambda o=obj: ss.detect_protrusions(o), repeat, time.process_time)
        arr32 = arr.astype(np.float32)
        floor = _median_time(lambda a=arr32: a.copy(), repeat)
        print(f"{name:10s} {SHAPE[1]}x{SHAPE[0]}: median wall {t * 1e3:6.1f} ms, CPU {cpu * 1e3:6.1f} ms "
              f"(target {target * 1e3:.0f} ms wall); {t / floor:4.0f} x one float32 copy of the image "
              f"({floor * 1e3:.1f} ms)")


def _height_pod(images: int) -> pd.DataFrame:
    rows = []
    for seed in range(images):
        # heights around the expected threshold 6 x Sq = 0.3 µm; diameters >= 3 x the 1 µm grain
        s, truth = synthetic_height_map(SHAPE, seed=100 + seed, n_protrusions=80, heights_um=(0.12, 0.6),
                                        diameters_um=(5, 30), border_um=2)
        p = ss.detect_protrusions(s)
        hit, _ = match_objects(truth, p.table)
        thr = p.summary["detection_limit"]["height_threshold_um"]
        rows.append(pd.DataFrame({"kind": "height", "seed": seed, "ratio": truth.height_um / thr,
                                  "diameter_um": truth.diameter_um, "found": hit}))
    return pd.concat(rows)


def _sem_pod(images: int) -> pd.DataFrame:
    rows = []
    for seed in range(images):
        m, truth = synthetic_micrograph(SHAPE, seed=100 + seed, n_protrusions=80, contrasts=(0.1, 1.2),
                                        diameters_um=(4, 30), border_um=2)
        p = ss.detect_protrusions(m)
        hit, _ = match_objects(truth, p.table)
        dl = p.summary["detection_limit"]
        big = truth.diameter_um >= dl["min_size_um"]
        rows.append(pd.DataFrame({"kind": "sem", "seed": seed, "ratio": truth.contrast / dl["contrast_threshold"],
                                  "diameter_um": truth.diameter_um, "found": hit})[big.to_numpy()])
    return pd.concat(rows)


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p, z = k / n, 1.96
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return mid - half, mid + half


def pod_curves(images: int) -> pd.DataFrame:
    data = pd.concat([_height_pod(images), _sem_pod(images)], ignore_index=True)
    OUT.mkdir(exist_ok=True)
    data.to_csv(OUT / "protrusions_pod.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    bins = np.arange(0.3, 2.05, 0.1)
    for kind, label, colour in (("height", "height map: peak height / h_thr", "C0"),
                                ("sem", "SEM: contrast / contrast threshold", "C1")):
        d = data[data.kind == kind]
        idx = np.digitize(d.ratio, bins)
        xs, ps, lo, hi = [], [], [], []
        for i in range(1, len(bins)):
            sel = d.found[idx == i]
            if len(sel) < 3:
                continue
            xs.append((bins[i - 1] + bins[i]) / 2)
            ps.append(sel.mean())
            a, b = _wilson(int(sel.sum()), len(sel))
            lo.append(max(0.0, ps[-1] - a))
            hi.append(max(0.0, b - ps[-1]))
        ax.errorbar(xs, ps, yerr=[lo, hi], marker="o", ms=4, capsize=2, color=colour, label=label)
        above = d[d.ratio >= 1.2]
        print(f"{kind:6s}: probability of detection at >= 1.2 x threshold: {above.found.mean():.3f} "
              f"({int(above.found.sum())}/{len(above)}); below 0.8 x: {d[d.ratio < 0.8].found.mean():.3f}")
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.axvline(1.2, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("signal over the stated threshold")
    ax.set_ylabel("probability of detection")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"Protrusion detection, default settings, {SHAPE[1]} x {SHAPE[0]} synthetic images")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "protrusions_pod.png", dpi=110)
    print(f"wrote {OUT / 'protrusions_pod.csv'} and {OUT / 'protrusions_pod.png'}")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per case (median reported)")
    ap.add_argument("--images", type=int, default=6, help="synthetic images per probability-of-detection curve")
    args = ap.parse_args()
    runtimes(args.repeat)
    pod_curves(args.images)


if __name__ == "__main__":
    main()

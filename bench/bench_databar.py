"""Accuracy and speed of the information-bar search on generated SEM-like images.

Run: ``python bench/bench_databar.py [N] [SEED]`` (default 1000 images with a bar
and 1000 without). Prints the hit rate (bar top within 2 rows), the false-bar
rate on images without a bar, the failures by kind, and the time per image.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_synth import make_image  # noqa: E402

from surfscan.io.sem.databar import find_databar  # noqa: E402


def main(n: int = 1000, seed: int = 2024) -> None:
    rng = np.random.default_rng(seed)
    hits, misses, times = 0, Counter(), []
    by_kind = Counter()  # (jpeg?, hit?) -> count
    worst = []
    for i in range(n):
        s = make_image(rng, True)
        t0 = time.perf_counter()
        found = find_databar(s.image)
        times.append(time.perf_counter() - t0)
        by_kind[(s.jpeg_quality is not None, abs(found - s.bar_rows) <= 2)] += 1
        if abs(found - s.bar_rows) <= 2:
            hits += 1
        else:
            kind = f"{s.placement}/{s.bar_style}/{s.image.dtype}/{'jpeg' if s.jpeg_quality else 'raw'}/{'none' if found == 0 else 'wrong'}"
            misses[kind] += 1
            worst.append((i, s.bar_rows, found, kind))
    false_bars, fb_kinds = 0, Counter()
    for _ in range(n):
        s = make_image(rng, False)
        t0 = time.perf_counter()
        found = find_databar(s.image)
        times.append(time.perf_counter() - t0)
        if found:
            false_bars += 1
            fb_kinds[f"{s.image.dtype}/{'jpeg' if s.jpeg_quality else 'raw'}"] += 1
    t = np.array(times) * 1e3
    print(f"images with a bar:    {hits}/{n} found within 2 rows ({100 * hits / n:.2f} %)")
    for jpeg in (False, True):
        total = by_kind[(jpeg, True)] + by_kind[(jpeg, False)]
        if total:
            label = "JPEG-compressed" if jpeg else "uncompressed   "
            print(f"  {label}: {by_kind[(jpeg, True)]}/{total} ({100 * by_kind[(jpeg, True)] / total:.2f} %)")
    print(f"images without a bar: {false_bars}/{n} reported a bar ({100 * false_bars / n:.2f} %)")
    print(f"time per image: median {np.median(t):.2f} ms, p95 {np.percentile(t, 95):.2f} ms")
    for kind, c in misses.most_common():
        print(f"  miss {kind}: {c}")
    for kind, c in fb_kinds.most_common():
        print(f"  false bar {kind}: {c}")
    for i, truth, found, kind in worst[:15]:
        print(f"  #{i}: truth {truth}, found {found} ({kind})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 2024)

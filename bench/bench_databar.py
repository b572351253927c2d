"""Accuracy and speed of the information-bar search on generated SEM-like images.

Run: ``python bench/bench_databar.py [N] [SEED]`` (default 1000 images with a bar
and 1000 without). Prints the hit rate (bar top within 2 rows) overall and per
kind (data type, bar colour, placement), the false-bar rate on images without a
bar, the misses, and the time per image (also on 1024 x 768 frames).
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_synth import make_image  # noqa: E402

from surfscan.io.sem.databar import find_databar  # noqa: E402


def _kind(s) -> str:
    return f"JPEG q{s.jpeg_quality}" if s.jpeg_quality else str(s.image.dtype)


def _timed(image: np.ndarray, times: list) -> int:
    t0 = time.perf_counter()
    found = find_databar(image)
    times.append(time.perf_counter() - t0)
    return found


def _rates(groups: dict[str, list[bool]]) -> str:
    return "  ".join(f"{k}: {sum(v)}/{len(v)} ({100 * np.mean(v):.1f} %)" for k, v in sorted(groups.items()))


def _with_bars(rng: np.random.Generator, n: int, times: list) -> tuple[list[bool], dict, list]:
    hits, groups, misses = [], defaultdict(list), []
    for i in range(n):
        s = make_image(rng, True)
        found = _timed(s.image, times)
        hit = abs(found - s.bar_rows) <= 2
        hits.append(hit)
        for key in ("jpeg" if s.jpeg_quality else str(s.image.dtype), s.bar_style, s.placement):
            groups[key].append(hit)
        if not hit:
            misses.append((i, s.bar_rows, found, f"{s.placement}/{s.bar_style}/{_kind(s)}"))
    return hits, groups, misses


def _full_size_times(rng: np.random.Generator, n: int = 20) -> np.ndarray:
    times = []
    for i in range(n):
        image = make_image(rng, i % 2 == 0, cols=1024).image[:768]
        for _ in range(3):
            _timed(image, times)
    return np.array(times) * 1e3


def main(n: int = 1000, seed: int = 2024) -> None:
    rng = np.random.default_rng(seed)
    times: list[float] = []
    hits, groups, misses = _with_bars(rng, n, times)
    false_bars = Counter()
    for _ in range(n):
        s = make_image(rng, False)
        if _timed(s.image, times):
            false_bars[_kind(s)] += 1
    t = np.array(times) * 1e3
    full = _full_size_times(rng)
    print(f"seed {seed}: images with a bar: {sum(hits)}/{n} found within 2 rows ({100 * np.mean(hits):.2f} %)")
    print("  by data:      " + _rates({k: v for k, v in groups.items() if k in ("uint8", "uint16", "jpeg")}))
    print("  by colour:    " + _rates({k: v for k, v in groups.items() if k in ("black", "white", "grey")}))
    print("  by placement: " + _rates({k: v for k, v in groups.items() if k in ("appended", "inside")}))
    total_false = sum(false_bars.values())
    print(f"images without a bar: {total_false}/{n} reported a bar ({100 * total_false / n:.2f} %) {dict(false_bars)}")
    print(f"time per image (384-640 columns): median {np.median(t):.2f} ms, p95 {np.percentile(t, 95):.2f} ms")
    print(f"time per 1024 x 768 image: median {np.median(full):.2f} ms, p95 {np.percentile(full, 95):.2f} ms")
    for i, truth, found, kind in misses[:20]:
        print(f"  miss #{i}: truth {truth}, found {found} ({kind})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 2024)

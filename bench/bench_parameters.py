"""Time every ISO 25178-2 parameter on 2048 x 1536 height maps of three kinds, against the peers.

    python bench/bench_parameters.py [--rows 1536] [--cols 2048] [--repeat 5] [--kinds gaussian,random-walk,sparse]
                                     [--backends c,numpy] [--no-surfalize] [--no-gwyddion]

Surfaces (seeded, Sq ~ 0.1 µm, 0.25 µm spacing):
- ``gaussian``: correlated texture (Gaussian-filtered noise, sigma 4 px) plus instrument noise;
- ``random-walk``: every row a Brownian profile (cumulative sum of white noise), so the map has
  hundreds of thousands of small motifs (the feature family's worst case);
- ``sparse``: a flat, slightly noisy layer with 300 round bumps 3-15 px wide.

Prints, for each surface, in one run on the same map:
- surfscan, for each backend (``c``: the compiled kernels of ``surfscan/iso25178/_ckernels.c``, when
  built; ``numpy``: the pure numpy/scipy fallback, as with ``SURFSCAN_PURE_NUMPY=1``): median wall time of ``roughness(surface)`` (all parameters) with the default threads
  (``SURFSCAN_THREADS`` or the CPU count, at most 4) and with one thread; the first call in the
  process; per-family medians (default threads); peak extra memory (tracemalloc) as a multiple of
  the map's 8 bytes per point.
- surfalize 0.19 (if installed, gaussian only by default): its full ISO parameter set plus Std.
- Gwyddion 2.62 (if the oracle builds): ``gwy_harness bench`` "full" (levelling, statistics, area,
  slope, 2-D ACF, 2-D PSDF; a smaller set), threads off, and the ratio surfscan / Gwyddion.
- the memory-bandwidth floor: one read of the map (numpy sum), for scale.
BLAS/OpenMP thread counts are set to 1 before numpy is imported.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_rows  # noqa: E402

import surfscan as ss  # noqa: E402
import surfscan.iso25178 as iso  # noqa: E402
from surfscan.iso25178 import FAMILIES, _native  # noqa: E402
from surfscan.testing.gwyddion import gwyddion_bench, harness  # noqa: E402


def test_surface(rows: int, cols: int, kind: str = "gaussian", seed: int = 0) -> ss.Surface:
    """A seeded map of the given kind (see the module text), Sq ~ 0.1 µm, spacing 0.25 µm."""
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        z = gaussian_filter(rng.normal(size=(rows, cols)), 4.0)
        z = 0.1 * z / z.std() + 0.002 * rng.normal(size=z.shape)
    elif kind == "random-walk":
        z = np.cumsum(rng.normal(size=(rows, cols)), axis=1)
        z -= z.mean(axis=1, keepdims=True)
        z = 0.1 * z / z.std()
    elif kind == "sparse":
        z = 0.002 * rng.normal(size=(rows, cols))
        for _ in range(300):
            cy, cx, r = rng.integers(0, rows), rng.integers(0, cols), rng.uniform(3, 15)
            y0, y1, x0, x1 = max(cy - 40, 0), min(cy + 40, rows), max(cx - 40, 0), min(cx + 40, cols)
            yy, xx = np.mgrid[y0:y1, x0:x1]
            z[y0:y1, x0:x1] += rng.uniform(0.2, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    else:
        raise SystemExit(f"unknown surface kind {kind!r}")
    return ss.Surface(z - z.mean(), 0.25, 0.25)


KINDS = ("gaussian", "random-walk", "sparse")


def median_time(fn, repeat: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def bench_surfscan(s: ss.Surface, repeat: int, backend: str) -> dict[str, float]:
    previous_pure = _native.PURE_NUMPY
    _native.PURE_NUMPY = backend == "numpy"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ss.SurfscanWarning)  # undefined parameters (NaN), e.g. no dale on `sparse`
            return _bench_surfscan(s, repeat)
    finally:
        _native.PURE_NUMPY = previous_pure


def _bench_surfscan(s: ss.Surface, repeat: int) -> dict[str, float]:
    t0 = time.perf_counter()
    ss.roughness(ss.Surface(s.z[:64, :64].copy(), s.dx, s.dy), undefined="nan")
    out = {"first_call_s": time.perf_counter() - t0}
    out["all_s"] = median_time(lambda: ss.roughness(s, undefined="nan"), repeat)
    out["all_cpu_s"] = median_time(lambda: ss.roughness(s, undefined="nan"), repeat, time.process_time)
    previous = os.environ.get("SURFSCAN_THREADS")
    os.environ["SURFSCAN_THREADS"] = "1"
    try:
        out["all_1thread_s"] = median_time(lambda: ss.roughness(s, undefined="nan"), repeat)
    finally:
        if previous is None:
            del os.environ["SURFSCAN_THREADS"]
        else:
            os.environ["SURFSCAN_THREADS"] = previous
    for fam in FAMILIES:
        out[f"{fam}_s"] = median_time(lambda fam=fam: ss.roughness(s, fam, undefined="nan"), repeat)
    tracemalloc.start()
    ss.roughness(s, undefined="nan")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["peak_extra_memory_x_map"] = peak / s.z.nbytes
    return out


def bench_surfalize(s: ss.Surface, repeat: int) -> float | None:
    try:
        import surfalize
    except ImportError:
        return None
    names = [*surfalize.Surface.ISO_PARAMETERS, "Std"]

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf = surfalize.Surface(s.z.copy(), s.dx, s.dy)
            for n in names:
                getattr(sf, n)()

    return median_time(run, repeat)


def bench_gwyddion(s: ss.Surface, repeat: int) -> dict[str, float] | None:
    if harness() is None:
        return None
    return gwyddion_bench(s.z, s.dx, s.dy, nrep=repeat, threads=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1536)
    ap.add_argument("--cols", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    ap.add_argument("--backends", default="c,numpy" if _native.available() else "numpy",
                    help="comma-separated: c (compiled kernels, if built), numpy (the fallback)")
    ap.add_argument("--surfalize-repeat", type=int, default=1)
    ap.add_argument("--no-surfalize", action="store_true")
    ap.add_argument("--no-gwyddion", action="store_true")
    args = ap.parse_args()

    n_params = len(ss.parameters())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    backends = args.backends.split(",")
    if "c" in backends and not _native.available():
        raise SystemExit("the compiled kernels are not built (pip install -e . or python setup.py build_ext --inplace)")
    print(f"map {args.rows} x {args.cols} float64, {n_params} parameters, surfscan threads {iso.threads()}, "
          f"backends {', '.join(backends)}, load average {load:.1f} on {os.cpu_count()} cores "
          "(wall times inflate under load)")
    rows = []
    for kind in args.kinds.split(","):
        s = test_surface(args.rows, args.cols, kind)
        floor = median_time(lambda s=s: float(np.sum(s.z)), 5)
        kind_rows = []
        for backend in backends:
            ours = bench_surfscan(s, args.repeat, backend)
            print(f"\n[{kind}, {backend}] surfscan all parameters: median {ours['all_s']:.3f} s wall "
                  f"({ours['all_cpu_s']:.3f} s CPU), one thread {ours['all_1thread_s']:.3f} s; "
                  f"first call in this process {ours['first_call_s']:.2f} s")
            print("  per family: " + ", ".join(f"{f} {ours[f + '_s']:.3f} s" for f in FAMILIES))
            print(f"  peak extra memory (tracemalloc): {ours['peak_extra_memory_x_map']:.2f} x the map; "
                  f"memory-bandwidth floor {floor * 1e3:.1f} ms -> {ours['all_s'] / floor:.0f} x")
            kind_rows.append({"surface": kind, "backend": backend, "surfscan_s": ours["all_s"],
                              "surfscan_1thread_s": ours["all_1thread_s"]})
        row = kind_rows[0]
        if not args.no_surfalize and kind == "gaussian":
            t = bench_surfalize(s, args.surfalize_repeat)
            if t is None:
                print("  surfalize: not installed")
            else:
                print(f"  surfalize 0.19 (34 ISO parameters + Std): median {t:.2f} s -> surfscan ({row['backend']}) is "
                      f"{t / row['surfscan_s']:.1f} x faster")
        if not args.no_gwyddion:
            g = bench_gwyddion(s, args.repeat)
            if g is None:
                print("  gwyddion: oracle not built (needs gcc, pkg-config, libgwyddion20-dev)")
            else:
                print(f"  gwyddion 2.62 'full' (levelling, stats, area, slope, 2-D ACF and PSDF): median "
                      f"{g['full']:.3f} s")
                for r in kind_rows:
                    r["gwyddion_full_s"] = g["full"]
                    r["vs_gwyddion"] = r["surfscan_s"] / g["full"]
                    r["vs_gwyddion_1thread"] = r["surfscan_1thread_s"] / g["full"]
                    print(f"    surfscan ({r['backend']}) / gwyddion = {r['vs_gwyddion']:.2f} "
                          f"(one thread {r['vs_gwyddion_1thread']:.2f})")
        rows.extend(kind_rows)
    print("\nall parameters, median seconds; vs_gwyddion = surfscan / Gwyddion 'full' (< 1: surfscan faster)")
    print_rows(rows, ["surface", "backend", "surfscan_s", "surfscan_1thread_s", "gwyddion_full_s", "vs_gwyddion",
                      "vs_gwyddion_1thread"])


if __name__ == "__main__":
    main()

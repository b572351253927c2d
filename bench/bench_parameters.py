"""Time every ISO 25178-2 parameter on a 2048 x 1536 height map, one core, against the peers.

    python bench/bench_parameters.py [--rows 1536] [--cols 2048] [--repeat 5] [--no-surfalize] [--no-gwyddion]

Prints, in one run on the same map:
- surfscan: median wall time of ``roughness(surface)`` (all parameters), after a warm-up call that
  loads (or, on a fresh machine, JIT-compiles) the numba kernels; the warm-up time is printed too;
  per-family medians; peak extra memory (tracemalloc) as a multiple of the map's 8 bytes per point.
- surfalize 0.19 (if installed): its full ISO parameter set plus Std on a fresh Surface (no cache),
  median of ``--surfalize-repeat`` runs.
- Gwyddion 2.62 (if the oracle builds): ``gwy_harness bench`` "full" (levelling, statistics, area,
  slope, 2-D ACF, 2-D PSDF; a smaller set), threads off.
- the memory-bandwidth floor: one read of the map (numpy sum), for scale.
Single-threaded: BLAS/OpenMP thread counts are set to 1 before numpy is imported.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.iso25178 import FAMILIES  # noqa: E402
from surfscan.testing.gwyddion import gwyddion_bench, harness  # noqa: E402


def test_surface(rows: int, cols: int, seed: int = 0) -> ss.Surface:
    """A rough coating-like map: correlated texture (sigma 4 px) plus instrument noise, Sq ~ 0.1 µm."""
    rng = np.random.default_rng(seed)
    z = gaussian_filter(rng.normal(size=(rows, cols)), 4.0)
    z = 0.1 * z / z.std() + 0.002 * rng.normal(size=z.shape)
    return ss.Surface(z - z.mean(), 0.25, 0.25)


def median_time(fn, repeat: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def bench_surfscan(s: ss.Surface, repeat: int) -> dict[str, float]:
    t0 = time.perf_counter()
    ss.roughness(ss.Surface(s.z[:64, :64].copy(), s.dx, s.dy), undefined="nan")
    warm = time.perf_counter() - t0
    out = {"warm_up_s": warm, "all_s": median_time(lambda: ss.roughness(s, undefined="nan"), repeat)}
    out["all_cpu_s"] = median_time(lambda: ss.roughness(s, undefined="nan"), repeat, time.process_time)
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
    ap.add_argument("--surfalize-repeat", type=int, default=1)
    ap.add_argument("--no-surfalize", action="store_true")
    ap.add_argument("--no-gwyddion", action="store_true")
    args = ap.parse_args()

    s = test_surface(args.rows, args.cols)
    floor = median_time(lambda: float(np.sum(s.z)), 5)
    ours = bench_surfscan(s, args.repeat)
    n_params = len(ss.parameters())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"map {args.rows} x {args.cols} ({s.z.nbytes / 2**20:.0f} MiB float64), one core, "
          f"load average {load:.1f} on {os.cpu_count()} cores (wall times inflate under load)")
    print(f"surfscan: {n_params} parameters, median {ours['all_s']:.3f} s wall, {ours['all_cpu_s']:.3f} s CPU "
          f"(first call in this process {ours['warm_up_s']:.2f} s: numba kernels loaded or compiled)")
    print("  per family: " + ", ".join(f"{f} {ours[f + '_s']:.3f} s" for f in FAMILIES))
    print(f"  peak extra memory (tracemalloc): {ours['peak_extra_memory_x_map']:.2f} x the map")
    print(f"  memory-bandwidth floor (one read of the map): {floor * 1e3:.1f} ms -> {ours['all_s'] / floor:.0f} x")
    if not args.no_surfalize:
        t = bench_surfalize(s, args.surfalize_repeat)
        if t is None:
            print("surfalize: not installed")
        else:
            print(f"surfalize 0.19 (34 ISO parameters + Std): median {t:.2f} s -> surfscan is {t / ours['all_s']:.1f} x faster")
    if not args.no_gwyddion:
        g = bench_gwyddion(s, args.repeat)
        if g is None:
            print("gwyddion: oracle not built (needs gcc, pkg-config, libgwyddion20-dev)")
        else:
            print(f"gwyddion 2.62 'full' (levelling, stats, area, slope, 2-D ACF and PSDF): median {g['full']:.3f} s "
                  f"-> surfscan all parameters / gwyddion full = {ours['all_s'] / g['full']:.2f}")


if __name__ == "__main__":
    main()

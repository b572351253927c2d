"""Plane levelling + Sa/Sq/Sz: surfscan against a memory-bandwidth floor and its peers.

Run:  python bench/bench_foundation.py [--repeat 7] [--sizes 2048x1536,4096x4096]

For each size a seeded float64 map is timed in-process (medians over --repeat
runs after a warm-up, interleaved with Gwyddion's) for

- floor:      one numpy pass over the map (``z.sum()``), the memory-bandwidth floor;
- surfscan:   ``roughness(level(s, "plane"), ["Sa", "Sq", "Sz"])``;
- Gwyddion:   libgwyprocess fit_plane + plane_level + get_stats + get_min_max
              (../shared/tools/gwyddion-oracle, built on first use; its own median);
- surfalize and SurfaceTopography: the same work through their APIs, when installed
  (bench/requirements.txt; never a surfscan dependency).

Printed: seconds and ratios (surfscan / peer; < 1 means surfscan is faster),
and surfscan's peak extra memory as a multiple of the map size.

By default the process first reads, levels and filters the sample height maps in
``sample_images/`` (as a batch or napari session has done before it measures the
next map), so that the allocator and page-fault state is that of a long-running
process; ``--fresh`` times a fresh process instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, peak_extra_bytes, print_rows, try_time  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.testing.gwyddion import gwyddion_bench, harness  # noqa: E402

DX = 0.1  # µm


def make_map(ny: int, nx: int) -> np.ndarray:
    rng = np.random.default_rng(20261129)
    yy, xx = np.mgrid[0:ny, 0:nx]
    return 0.002 * xx - 0.001 * yy + rng.normal(0, 0.1, (ny, nx))


def ours(z: np.ndarray):
    return lambda: ss.roughness(ss.level(ss.Surface(z, DX, DX), "plane"), ["Sa", "Sq", "Sz"])


def surfalize_fn(z: np.ndarray):
    import surfalize

    def run():
        s = surfalize.Surface(z, DX, DX).level()
        return s.Sa(), s.Sq(), s.Sz()

    return run


def surfacetopography_fn(z: np.ndarray):
    from SurfaceTopography import Topography

    def run():
        t = Topography(z, (z.shape[0] * DX, z.shape[1] * DX)).detrend("height")
        h = t.heights()
        return t.mad_height(), t.rms_height_from_area(), h.max() - h.min()

    return run


def busy_process() -> None:
    """Read, level and filter the sample maps, as a long-running process has done before the timed one."""
    for path in sorted((Path(__file__).resolve().parents[1] / "sample_images").glob("*.x3p"))[:3]:
        s = ss.level(ss.read(path), "poly:2")
        s = ss.gaussian_filter(ss.gaussian_filter(s, 2.5, kind="low"), 80, kind="high")
        ss.roughness(s, "height")


def bench_size(ny: int, nx: int, repeat: int) -> dict:
    z = make_map(ny, nx)
    row = {"size": f"{nx}x{ny}", "MB": z.nbytes / 1e6}
    # surfscan, the floor and Gwyddion are interleaved in rounds of 3 runs, so that a burst of
    # load (or slow first-touch page faults on a virtual machine) hits all of them alike
    have_gwy = harness() is not None
    if not have_gwy:
        print("  Gwyddion oracle not available (apt-get install libgwyddion20-dev; see tests/setup.sh)")
    floor, mine, gwy = [], [], []
    for _ in range(max(1, repeat // 3)):
        floor.append(median_time(lambda: z.sum(), 3))
        mine.append(median_time(ours(z), 3))
        if have_gwy:
            gwy.append(gwyddion_bench(z, DX, DX, nrep=3)["basic"])
    row["floor_s"] = float(np.median(floor))
    row["surfscan_s"] = float(np.median(mine))
    if gwy:
        row["gwyddion_s"] = float(np.median(gwy))
    row["peak_x_map"] = peak_extra_bytes(ours(z)) / z.nbytes
    for name, factory in (("surfalize", surfalize_fn), ("surfacetopography", surfacetopography_fn)):
        try:
            fn = factory(z)
        except ImportError:
            print(f"  {name} not installed (pip install -r bench/requirements.txt)")
            continue
        row[f"{name}_s"] = try_time(fn, max(3, repeat // 2))
    for peer in ("floor", "gwyddion", "surfalize", "surfacetopography"):
        t = row.get(f"{peer}_s")
        if t:
            row[f"vs_{peer}"] = row["surfscan_s"] / t
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--sizes", default="2048x1536,4096x4096")
    ap.add_argument("--fresh", action="store_true", help="time in a fresh process (no maps handled before)")
    args = ap.parse_args()
    if not args.fresh:
        busy_process()
    rows = []
    for spec in args.sizes.split(","):
        nx, ny = (int(v) for v in spec.lower().split("x"))
        print(f"benchmarking {nx} x {ny} ...", flush=True)
        rows.append(bench_size(ny, nx, args.repeat))
    state = "a fresh process" if args.fresh else "a process that has read, levelled and filtered other maps"
    print(f"\nplane levelling + Sa/Sq/Sz in {state}, median seconds; vs_X = surfscan time / X time "
          "(< 1: surfscan faster)")
    print_rows(rows, ["size", "MB", "floor_s", "surfscan_s", "gwyddion_s", "surfalize_s", "surfacetopography_s"])
    print()
    print_rows(rows, ["size", "vs_floor", "vs_gwyddion", "vs_surfalize", "vs_surfacetopography", "peak_x_map"])


if __name__ == "__main__":
    main()

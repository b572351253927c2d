"""Batch throughput: 1 vs 2 worker processes, and what the batch machinery costs per file.

Run:  python bench/bench_batch.py [--n 200] [--size 1024] [--format npy|x3p] [--workers 1,2]

Writes ``--n`` seeded ``--size`` x ``--size`` height maps (roughness + tilt)
to a temporary folder, then times, on the same files and settings (every
roughness parameter, plane levelling; protrusions when available):

- plain loop: :func:`surfscan.batch.analyse_file` called on each file in one
  process - the analysis alone, the baseline;
- ``run_batch`` with 1 worker, then 2 workers (fresh output folder each:
  discovery, process pool, SQLite commits, tables and CSV/Parquet/Excel
  exports included); with ``--bare`` also 1 worker without exports.

Printed: wall and CPU seconds (this process plus its worker processes),
files/s, the speed-up of 2 workers over 1 (target >= 1.7) and the batch
overhead over the plain loop with 1 worker (target <= 10 %), with and
without the final exports, and, within each batch run, its wall time times
the number of workers against the sum of the per-file analysis times the
workers recorded (the machinery's share measured under one and the same
load). The machine's load average is printed too: on a shared machine other
work steals wall time from the runs.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_rows  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.batch import BatchSettings, analyse_file, run_batch  # noqa: E402
from surfscan.batch.tasks import protrusions_available  # noqa: E402


def make_maps(folder: Path, n: int, size: int, fmt: str) -> list[Path]:
    """``n`` seeded height maps (µm) in ``folder``, four sample sub-folders."""
    rng = np.random.default_rng(20261129)
    yy, xx = np.mgrid[0:size, 0:size]
    paths = []
    for i in range(n):
        sub = folder / f"E{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        z = 0.002 * xx - 0.001 * yy + rng.normal(0, 0.05 * (1 + i % 4), (size, size))
        p = sub / f"site{i:04d}.{fmt}"
        if fmt == "npy":
            np.save(p, z)
        else:
            ss.write(ss.Surface(z, 0.2, 0.2), p)
        paths.append(p)
    return paths


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def plain_loop(paths: list[Path], settings: BatchSettings) -> tuple[float, float]:
    """(wall s, CPU s) of analysing every file in a plain loop."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    for p in paths:
        r = analyse_file(str(p), settings)
        assert r["status"] == "ok", r["error"]
    return time.perf_counter() - t0, cpu_seconds() - c0


def batch(folder: Path, out: Path, settings: BatchSettings, workers: int,
          exports: tuple[str, ...]) -> tuple[float, float, float]:
    """(wall s, CPU s of this process and its workers, sum of the per-file analysis times) of one fresh batch."""
    shutil.rmtree(out, ignore_errors=True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    s = run_batch([folder], out, settings, recursive=True, workers=workers, exports=exports,
                  progress=io.StringIO(), live=False)
    dt, dc = time.perf_counter() - t0, cpu_seconds() - c0
    assert (s.tables.files["status"] == "ok").all()
    return dt, dc, float(s.tables.files["time_total_s"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--format", choices=("npy", "x3p"), default="npy")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--params", default="all", help="roughness parameters or families (default all)")
    ap.add_argument("--bare", action="store_true", help="also time a 1-worker batch without exports")
    ap.add_argument("--keep", metavar="DIR", help="write the maps here and keep them")
    args = ap.parse_args()
    from surfscan.iso25178 import resolve_names
    from surfscan.pipeline import RoughnessSettings

    names = None if args.params == "all" else tuple(resolve_names(args.params))
    settings = BatchSettings(protrusions=protrusions_available(), roughness_settings=RoughnessSettings(params=names))
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="surfscan-bench-batch-"))
    try:
        folder, out = tmp / "maps", tmp / "out"
        print(f"writing {args.n} maps of {args.size} x {args.size} ({args.format}) to {folder} ...", flush=True)
        paths = make_maps(folder, args.n, args.size, args.format) if not folder.exists() else sorted(
            folder.rglob(f"*.{args.format}"))
        print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}; "
              f"settings: protrusions={settings.protrusions}, roughness parameters: {args.params}, plane levelling", flush=True)
        plain, plain_cpu = plain_loop(paths, settings)
        n = len(paths)
        rows = [{"run": "plain loop (analysis only)", "wall s": plain, "files/s": n / plain, "CPU s": plain_cpu}]
        times, cpus, inside = {}, {}, {}
        for w in (int(x) for x in args.workers.split(",")):
            times[w], cpus[w], inside[w] = batch(folder, out, settings, w, ("csv", "parquet", "xlsx"))
            rows.append({"run": f"batch, {w} worker(s), with exports", "wall s": times[w], "files/s": n / times[w],
                         "CPU s": cpus[w]})
        bare = bare_cpu = float("nan")
        if args.bare:
            bare, bare_cpu, _ = batch(folder, out, settings, 1, ())
            rows.append({"run": "batch, 1 worker, no exports", "wall s": bare, "files/s": n / bare, "CPU s": bare_cpu})
        print_rows(rows, ["run", "wall s", "files/s", "CPU s"])
        if 1 in times and 2 in times:
            print(f"speed-up 2 workers / 1 worker (wall): {times[1] / times[2]:.2f}x (target >= 1.7)")
        if 1 in times:
            print(f"batch overhead over the plain loop, 1 worker: wall {100 * (times[1] / plain - 1):+.1f} % with "
                  f"exports, {100 * (bare / plain - 1):+.1f} % without; CPU {100 * (cpus[1] / plain_cpu - 1):+.1f} % "
                  f"with exports, {100 * (bare_cpu / plain_cpu - 1):+.1f} % without (target <= 10 %); "
                  f"analysis {1e3 * plain / n:.1f} ms/file wall, {1e3 * plain_cpu / n:.1f} ms/file CPU")
        for w in times:  # within one run: the batch's wall time per worker against the analysis time it held
            print(f"within the {w}-worker batch: wall x workers / sum of per-file analysis times = "
                  f"{100 * (times[w] * w / inside[w] - 1):+.1f} % (the machinery's share, same load for both)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

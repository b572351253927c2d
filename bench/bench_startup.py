"""Start-up cost of surfscan as a user meets it: first use, import, ``surfscan info``, warm ``roughness``.

    python bench/bench_startup.py [--repeat 5] [--cold-repeat 3] [--sample FILE] [--importtime]

Every figure is the wall time of a fresh process (``subprocess.run``), median of the runs; the kinds of run
take turns, so that load from other work on a shared machine hits them alike. Measured:

- ``python -c pass``: the bare interpreter, for scale;
- ``import surfscan``: ``python -c "import surfscan"``, and its time over the bare interpreter (target <= 0.3 s);
- ``surfscan --help``;
- ``surfscan info SAMPLE`` (target <= 0.5 s);
- warm ``surfscan roughness SAMPLE --params all --json``: compile cache filled by one run beforehand
  (target <= 1.0 s);
- cold first use, the same command with an empty compile cache (target <= 3 s, aim 1.5 s): each run gets a
  fresh, empty ``NUMBA_CACHE_DIR``, so that a JIT-compiling dependency would pay its compile here; the table
  counts the cache files a cold run wrote. surfscan compiles nothing at run time since its kernels are numpy
  (docs/performance.md), so a cold run writes 0 files. Python's own bytecode (``.pyc``) is written and kept,
  as after ``pip install``, which compiles it, even where PYTHONDONTWRITEBYTECODE is set.

The warm runs use their own cache dir too, so the figures do not depend on what the source tree holds.
``--importtime`` adds, for ``info`` and the warm ``roughness``, the modules that take longest to import
(``python -X importtime``, cumulative, top-level and their direct imports).

SAMPLE defaults to the 1024 x 768 sample height map, sample_images/electrode_A_good_site1.x3p.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_images" / "electrode_A_good_site1.x3p"
TARGETS = {"import surfscan (over bare)": 0.3, "surfscan info": 0.5, "roughness --params all, warm": 1.0,
           "roughness --params all, cold": 3.0}


def surfscan_command() -> list[str]:
    """The installed ``surfscan`` script beside this Python, else ``python -m surfscan``."""
    script = Path(sys.executable).with_name("surfscan")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "surfscan"]


def child_env(cache_dir: str) -> dict[str, str]:
    """The environment of a measured process: its compile cache is ``cache_dir``; Python writes and reuses
    its bytecode (``.pyc``) as after ``pip install``, even where PYTHONDONTWRITEBYTECODE is set here."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(cmd: list[str], cache_dir: str) -> float:
    """Wall seconds of one fresh process; its compile cache is ``cache_dir``. A failing command stops the bench."""
    env = child_env(cache_dir)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return elapsed


def count_files(folder: str) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def import_offenders(cmd: list[str], cache_dir: str, top: int = 12) -> list[tuple[float, str]]:
    """The slowest imports of a command (seconds, cumulative), from ``python -X importtime``."""
    if cmd[0] != sys.executable:  # the script: run the same entry point under this Python
        cmd = [sys.executable, "-m", "surfscan", *cmd[1:]]
    env = child_env(cache_dir)
    out = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        depth = (len(m.group(2)) - 1) // 2 if m else 0  # importtime indents each level by two spaces
        if m and depth <= 1:  # top-level imports and the ones they make directly
            rows.append((int(m.group(1)) / 1e6, "  " * depth + m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each warm measure (median; default 5)")
    ap.add_argument("--cold-repeat", type=int, default=3, help="cold first-use runs (default 3)")
    ap.add_argument("--sample", type=Path, default=SAMPLE, help="height map (default: the 1024 x 768 sample)")
    ap.add_argument("--importtime", action="store_true", help="also list the slowest imports")
    args = ap.parse_args()

    cli = surfscan_command()
    sample = str(args.sample)
    rough = [*cli, "roughness", sample, "--params", "all", "--json"]
    warm_measures = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import surfscan": [sys.executable, "-c", "import surfscan"],
        "surfscan --help": [*cli, "--help"],
        "surfscan info": [*cli, "info", sample],
        "roughness --params all, warm": rough,
    }
    scratch = Path(tempfile.mkdtemp(prefix="surfscan-bench-startup-"))
    try:
        warm_cache = str(scratch / "warm")
        print(f"{sys.executable} (Python {sys.version.split()[0]}), {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f} at start")
        print(f"sample: {sample}; surfscan command: {' '.join(cli)}")
        first = run_once(rough, warm_cache)  # fills the warm cache (a cold run itself, not counted below)
        print(f"warm-up run (fills the warm compile cache, {count_files(warm_cache)} files): {first:.2f} s\n")

        times: dict[str, list[float]] = {name: [] for name in warm_measures}
        cold_times, cold_files = [], []
        for i in range(max(args.repeat, args.cold_repeat)):
            if i < args.repeat:
                for name, cmd in warm_measures.items():
                    times[name].append(run_once(cmd, warm_cache))
            if i < args.cold_repeat:
                cold_cache = str(scratch / f"cold{i}")
                cold_times.append(run_once(rough, cold_cache))
                cold_files.append(count_files(cold_cache))
                shutil.rmtree(cold_cache, ignore_errors=True)

        bare = statistics.median(times["python -c pass"])
        rows = []
        for name, ts in times.items():
            rows.append({"measure": name, "median_s": statistics.median(ts), "min_s": min(ts), "runs": len(ts),
                         "target_s": TARGETS.get(name)})
            if name == "import surfscan":
                over = [t - bare for t in ts]
                rows.append({"measure": "import surfscan (over bare)", "median_s": statistics.median(over),
                             "min_s": min(over), "runs": len(ts), "target_s": TARGETS["import surfscan (over bare)"]})
        if cold_times:
            rows.append({"measure": "roughness --params all, cold", "median_s": statistics.median(cold_times),
                         "min_s": min(cold_times), "runs": len(cold_times),
                         "target_s": TARGETS["roughness --params all, cold"],
                         "cache_files": max(cold_files)})
        for r in rows:
            if r["target_s"] is not None:
                r["meets"] = "yes" if r["median_s"] <= r["target_s"] else "NO"
        print_rows(rows, ["measure", "median_s", "min_s", "runs", "target_s", "meets", "cache_files"])
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end (2 cores shared: > 1 means other work ran)")

        if args.importtime:
            for name in ("surfscan info", "roughness --params all, warm"):
                print(f"\nslowest imports of '{name}' (cumulative s, python -X importtime):")
                for sec, module in import_offenders(warm_measures[name], warm_cache):
                    print(f"  {sec:7.3f}  {module}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Read time of surfscan's readers against surfalize 0.19.2 and SurfaceTopography, per real height file.

For each file in ../shared/data/real/height: the median of >= 5 reads after a
warm-up with ``surfscan.read``, with ``surfalize.Surface.load`` and with
SurfaceTopography's ``open_topography(...).topography()`` (heights
materialised), and the ratio of surfscan's time to the faster peer that
succeeded (target <= 2). A peer that fails on a file is reported, not fatal.

Run: ``python bench/bench_readers.py [--repeat N] [FILE ...]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_rows  # noqa: E402

import surfscan  # noqa: E402

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "height"


def _surfalize(path: Path):
    import surfalize

    return surfalize.Surface.load(path).data


def _surface_topography(path: Path):
    from SurfaceTopography import open_topography

    reader = open_topography(str(path))
    return reader.topography().heights()


def _ours(path: Path):
    return surfscan.read(path).z


def _interleaved_medians(path: Path, repeat: int) -> dict[str, float | None]:
    """Median seconds per reader; the readers take turns so that load on a shared machine hits all alike."""
    readers = {"surfscan": _ours, "surfalize": _surfalize, "SurfaceTopography": _surface_topography}
    times: dict[str, list[float] | None] = {name: [] for name in readers}
    for run in range(repeat + 1):  # run 0 is the warm-up
        for name, fn in readers.items():
            if times[name] is None:
                continue
            gc.collect()
            start = time.perf_counter()
            try:
                fn(path)
            except Exception as exc:  # noqa: BLE001 -- a peer failing is a result
                print(f"    {name}: {type(exc).__name__}: {str(exc)[:80]}", file=sys.stderr)
                times[name] = None
                continue
            if run:
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t) if t else None) for name, t in times.items()}


def bench(paths: list[Path], repeat: int) -> list[dict]:
    rows = []
    for path in paths:
        print(f"{path.name} ...", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            med = _interleaved_medians(path, repeat)
        ours, sf, st = med["surfscan"], med["surfalize"], med["SurfaceTopography"]
        peers = [t for t in (sf, st) if t is not None]
        rows.append({
            "file": path.name,
            "MB": path.stat().st_size / 1e6,
            "surfscan_ms": None if ours is None else ours * 1e3,
            "surfalize_ms": None if sf is None else sf * 1e3,
            "SurfaceTopography_ms": None if st is None else st * 1e3,
            "ratio_to_faster_peer": (ours / min(peers)) if ours is not None and peers else None,
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per reader (>= 5; default 7)")
    args = ap.parse_args()
    paths = args.files or sorted(p for p in REAL.glob("*") if p.is_file())
    rows = bench(paths, max(args.repeat, 5))
    print_rows(rows, ["file", "MB", "surfscan_ms", "surfalize_ms", "SurfaceTopography_ms", "ratio_to_faster_peer"])
    over = [r["file"] for r in rows if r["ratio_to_faster_peer"] is not None and r["ratio_to_faster_peer"] > 2]
    print(f"\nfiles over the 2x target: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    main()

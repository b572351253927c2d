"""Timing helpers shared by the bench/ scripts (medians, peak memory, table output)."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def median_time(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time in seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_extra_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (numpy included) while ``fn()`` runs, above what was held before."""
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def try_time(fn: Callable[[], Any], repeat: int) -> float | None:
    """Like :func:`median_time`, but None (with a note) when the peer fails."""
    try:
        return median_time(fn, repeat)
    except Exception as exc:  # a peer library failing is a result, not a crash
        print(f"    ({type(exc).__name__}: {str(exc)[:80]})")
        return None


def print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print an aligned table."""
    cells = [columns] + [[("" if r.get(c) is None else (f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c])))
                          for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))

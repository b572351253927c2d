"""Time measurements from labels (the napari "Re-measure from labels" and the batch with a labels file).

    python bench/bench_remeasure.py

Planted-particle SEM images (surfscan.testing.particles) at 1024 x 768 and 2048 x 1536; the labels are
the automatic particle labels. Prints the median of 5 runs of each function and the automatic
measure_particles for comparison, measured in the same run.
"""

from __future__ import annotations

import statistics
import time
import warnings

import surfscan as ss
from surfscan.testing.particles import planted_particles


def _median_s(fn, *args, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    warnings.simplefilter("ignore", ss.SurfscanWarning)
    for shape, n in (((768, 1024), 250), ((1536, 2048), 1000)):
        m, _ = planted_particles(1, shape=shape, n=n)
        labels = ss.measure_particles(m).labels
        auto = _median_s(ss.measure_particles, m)
        part = _median_s(ss.measure_particles_from_labels, m, labels)
        prot = _median_s(ss.measure_protrusions_from_labels, m, labels)
        print(f"{shape[1]} x {shape[0]}, {int(labels.max())} labels: particles from labels {part:.3f} s, "
              f"protrusions from labels {prot:.3f} s; automatic measure_particles {auto:.3f} s")


if __name__ == "__main__":
    main()

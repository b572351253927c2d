"""Information-bar search graded on independently generated SEM-like images.

The images come from ``tests/sem_synth_independent.py``, written from the
acceptance text only (not from the project's own generator). Acceptance:
bar top within 2 rows on >= 99 % of images with a bar; a bar reported on < 0.5 %
of images without one.

Run::

    python bench/bench_databar_independent.py [--n 500] [--seed 1] [--no-noisy-bar] [--dump DIR]

Prints the hit rate overall and by data type, JPEG, bar colour, placement, noisy
bar, style, bar height and texture; the false-bar rate overall and by texture and
modifier; and up to 30 misses with their description. ``--dump DIR`` writes every
miss as a PNG (16-bit data as a 16-bit PNG) plus a JSON file with the truth, the
answer and the description.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sem_synth_independent import iter_batch  # noqa: E402

from surfscan.io.sem.databar import find_databar  # noqa: E402


def _height_class(rows: int) -> str:
    for top in (24, 40, 70, 110):
        if rows <= top:
            return f"<={top}"
    return "<=150"


def _keys_with_bar(info: dict) -> dict[str, str]:
    """Grouping keys of one image with a bar."""
    return {
        "dtype": info["dtype"],
        "jpeg": "jpeg" if info["jpeg"] else "lossless",
        "bar colour": info["bar_colour"],
        "placement": info["placement"],
        "noisy bar": "noisy" if info["noisy_bar"] else "clean",
        "style": info["style"],
        "bar rows": _height_class(info["bar_rows"]),
        "texture": info["texture"],
        "forced separator": "yes" if info.get("forced_separator") else "no",
    }


def _keys_without_bar(info: dict) -> dict[str, list[str]]:
    """Grouping keys of one image without a bar (an image can have several modifiers)."""
    mods = list(info["modifiers"]) or ["none"]
    if "corner_label" in info:
        mods.append("corner_label")
    return {
        "dtype": [info["dtype"]],
        "jpeg": ["jpeg" if info["jpeg"] else "lossless"],
        "texture": [info["texture"]],
        "modifier": mods,
    }


def _print_table(title: str, groups: dict[str, dict[str, list[bool]]], what: str) -> None:
    print(f"\n{title}")
    for key, by_value in groups.items():
        parts = [f"{v} {100 * np.mean(h):.1f}% ({len(h)})" for v, h in sorted(by_value.items())]
        print(f"  {key:17s} " + " | ".join(parts))
    del what


def _jsonable(info: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in info.items()}


def _dump(folder: Path, tag: str, image: np.ndarray, truth: int, found: int, info: dict) -> None:
    """Save a miss as PNG (uint16 kept as 16-bit) and its description as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{tag}_{info['index']:04d}"
    cv2.imwrite(str(folder / f"{name}.png"), image)
    record = {"truth": truth, "found": found, "info": _jsonable(info)}
    (folder / f"{name}.json").write_text(json.dumps(record, indent=1, default=str))


def _run_with_bar(args, misses: list) -> tuple[list[bool], dict, list[float]]:
    hits: list[bool] = []
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    times: list[float] = []
    for image, truth, info in iter_batch(args.seed, args.n, True, args.noisy_bar):
        t0 = time.perf_counter()
        found = int(find_databar(image))
        times.append(time.perf_counter() - t0)
        hit = abs(found - truth) <= 2
        hits.append(hit)
        for key, value in _keys_with_bar(info).items():
            groups[key][value].append(hit)
        if not hit:
            misses.append(("bar", truth, found, info))
            if args.dump:
                _dump(args.dump, f"s{args.seed}_bar", image, truth, found, info)
    return hits, groups, times


def _run_without_bar(args, misses: list) -> tuple[list[bool], dict, list[float]]:
    false: list[bool] = []
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    times: list[float] = []
    for image, _, info in iter_batch(args.seed, args.n, False, args.noisy_bar):
        t0 = time.perf_counter()
        found = int(find_databar(image))
        times.append(time.perf_counter() - t0)
        bad = found > 0
        false.append(bad)
        for key, values in _keys_without_bar(info).items():
            for value in values:
                groups[key][value].append(bad)
        if bad:
            misses.append(("no bar", 0, found, info))
            if args.dump:
                _dump(args.dump, f"s{args.seed}_nobar", image, 0, found, info)
    return false, groups, times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the summary; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="images with a bar and images without (each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-noisy-bar",
        dest="noisy_bar",
        action="store_const",
        const=0.0,
        default=0.15,
        help="no additive noise on bars (default: 15 %% of bars are noisy)",
    )
    parser.add_argument("--dump", type=Path, default=None, help="folder for PNG + JSON of every miss")
    args = parser.parse_args(argv)

    misses: list = []
    hits, groups, t_bar = _run_with_bar(args, misses)
    false, false_groups, t_none = _run_without_bar(args, misses)

    print(f"seed {args.seed}, {args.n} images with a bar, {args.n} without, noisy-bar share {args.noisy_bar}")
    print(f"HIT RATE (|found - truth| <= 2): {100 * np.mean(hits):.2f}% ({sum(hits)}/{len(hits)})  [goal >= 99 %]")
    print(f"FALSE-BAR RATE:                  {100 * np.mean(false):.2f}% ({sum(false)}/{len(false)})  [goal < 0.5 %]")
    times = np.array(t_bar + t_none) * 1e3
    print(f"time per image: median {np.median(times):.1f} ms, max {times.max():.1f} ms")
    _print_table("hit rate by kind (images with a bar):", groups, "hit")
    _print_table("false-bar rate by kind (images without a bar):", false_groups, "false")
    print(f"\nmisses: {len(misses)} (showing up to 30)")
    for kind, truth, found, info in misses[:30]:
        brief = {k: v for k, v in info.items() if k not in ("index", "bar_rows")}
        print(f"  [{kind}] #{info['index']} truth {truth} found {found}: {brief}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

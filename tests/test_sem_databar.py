"""The information-bar search on generated SEM-like images (seeded; see tests/sem_synth.py and bench/bench_databar.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sem_synth import make_batch, make_image  # noqa: E402

from surfscan.io.sem import find_databar  # noqa: E402

N = 80  # per class; the full statistics (thousands of images) are in bench/bench_databar.py


@pytest.fixture(scope="module")
def with_bars():
    return make_batch(11, N, True, cols=400)


@pytest.fixture(scope="module")
def without_bars():
    return make_batch(12, N, False, cols=400)


def test_bar_top_found_within_two_rows(with_bars):
    ok = [abs(find_databar(s.image) - s.bar_rows) <= 2 for s in with_bars]
    plain = [hit for hit, s in zip(ok, with_bars) if s.jpeg_quality is None]
    assert np.mean(plain) >= 0.99, f"{np.mean(plain):.3f} of uncompressed images"
    assert np.mean(ok) >= 0.95, f"{np.mean(ok):.3f} of all images (JPEG included)"


def test_no_bar_reported_on_plain_textures(without_bars):
    false = sum(find_databar(s.image) > 0 for s in without_bars)
    assert false <= 0.005 * N


@pytest.mark.parametrize("style", ["black", "white", "grey"])
def test_each_bar_colour_appended_and_inside(style):
    rng = np.random.default_rng({"black": 1, "white": 2, "grey": 3}[style])
    seen = {"appended": 0, "inside": 0}
    while min(seen.values()) < 3:
        s = make_image(rng, True, cols=384)
        if s.bar_style != style or s.jpeg_quality is not None or seen[s.placement] >= 3:
            continue
        seen[s.placement] += 1
        assert abs(find_databar(s.image) - s.bar_rows) <= 2, (s.placement, s.bar_rows)


def test_sixteen_bit_bar():
    rng = np.random.default_rng(5)
    done = 0
    while done < 5:
        s = make_image(rng, True, cols=384)
        if s.image.dtype != np.uint16:
            continue
        done += 1
        assert abs(find_databar(s.image) - s.bar_rows) <= 2


def test_rgb_and_degenerate_inputs():
    rng = np.random.default_rng(8)
    s = next(s for s in (make_image(rng, True, cols=384) for _ in range(50)) if s.image.dtype == np.uint8)
    rgb = np.repeat(s.image[..., None], 3, axis=2)
    assert find_databar(rgb) == find_databar(s.image)
    assert find_databar(np.zeros((300, 400), np.uint8)) == 0
    assert find_databar(np.full((300, 400), np.nan)) == 0
    assert find_databar(np.zeros((5, 5), np.uint16)) == 0
    assert find_databar(np.zeros(10)) == 0

"""Particle splitting on real SEM images with manual masks (issue 13), at several magnifications, and the quality block.

The real set (``../shared/data/real-sem-particles/``, 14 Zeiss images of
agglomerated TiO2, CC BY-NC-ND) is read in place; those tests skip when it is
absent. Floors are the issue's "done when" figures, a little below what
``bench/bench_sem_real.py --only particles`` measures (docs/particles.md).
The quality and scale tests on planted particles always run.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

import surfscan as ss
from surfscan.particle_quality import particle_quality
from surfscan.particles import weighted_percentiles
from surfscan.testing.particles import planted_particles
from surfscan.testing.sem_metrics import pooled_particle_scores, real_sem_pairs, score_particles

PAIRS = real_sem_pairs()
needs_real = pytest.mark.skipif(not PAIRS, reason="../shared/data/real-sem-particles is absent")


def _score(pairs, scale: float = 1.0):
    import tifffile

    out = []
    for img, mpath in pairs:
        m = ss.read(img)
        mask = tifffile.imread(mpath)
        h, w = m.image.shape
        if scale != 1.0:
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            image = cv2.resize(m.image, (round(w * scale), round(h * scale)), interpolation=interp)
            m = ss.Micrograph(image, m.pixel_size / scale, m.meta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ss.SurfscanWarning)
            p = ss.measure_particles(m)
        # score on the manual mask's own grid (nearest-neighbour labels)
        labels = cv2.resize(p.labels.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32)
        out.append((score_particles(labels, mask, m.pixel_size * scale, p.summary.get("d50_um")), p))
    return out


@pytest.fixture(scope="module")
def real_scores():
    return _score(PAIRS)


@needs_real
def test_real_set_meets_the_issue_floors(real_scores) -> None:
    iou = np.mean([s.mean_iou for s, _ in real_scores])
    f1 = np.mean([s.f1 for s, _ in real_scores])
    d50 = np.median([abs(s.d50_error) for s, _ in real_scores])
    assert iou >= 0.65, iou
    assert f1 >= 0.70, f1
    assert d50 <= 0.11, d50


@needs_real
def test_real_set_pooled_over_particles(real_scores) -> None:
    # every manual particle at once: the dense images (300+ particles each, the lowest IoU) weigh most;
    # measured 0.615 and 0.729 (the mean over images reads 0.675 and 0.752). The manual masks leave the
    # image's first and last columns and first row empty, so particles cut there count as whole: they
    # need the border particles in the labels (0.588 and 0.712 when the labels dropped them).
    iou, _, _, f1 = pooled_particle_scores([s for s, _ in real_scores])
    assert iou >= 0.60, iou
    assert f1 >= 0.70, f1


@needs_real
@pytest.mark.parametrize("half", [0, 1])
def test_each_half_of_the_real_set_meets_the_floors(real_scores, half: int) -> None:
    # the parameters were chosen on the even images; the odd ones are held out
    part = real_scores[half::2]
    assert np.mean([s.mean_iou for s, _ in part]) >= 0.60
    assert np.mean([s.f1 for s, _ in part]) >= 0.65
    assert np.median([abs(s.d50_error) for s, _ in part]) <= 0.15


@needs_real
def test_real_images_carry_a_consistent_quality_block(real_scores) -> None:
    for _, p in real_scores:
        q = p.summary["quality"]
        assert q["agglomeration_index"] >= 1.0 and 0.0 <= q["split_fraction"] <= 1.0
        assert q["detection_limit_curve"] is None
        assert q["reliable"] == (not q["reasons"])


@needs_real
@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_other_magnifications_of_real_images(scale: float) -> None:
    # the same scenes at half and twice the magnification, scored on the original grid
    scores = [s for s, _ in _score(PAIRS[::3], scale)]
    assert np.mean([s.mean_iou for s in scores]) >= 0.5
    assert np.median([abs(s.d50_error) for s in scores]) <= 0.2
    if scale > 1:
        # at twice the magnification the issue's own floors hold; with the distance map smoothed by a fixed 1 px
        # (not in proportion to the particle size) rough particles were oversplit: F1 0.61, D50 error 15 %
        assert np.mean([s.f1 for s in scores]) >= 0.65
        assert np.median([abs(s.d50_error) for s in scores]) <= 0.12


@pytest.mark.parametrize("diameter_px", [10, 25, 60])
def test_planted_d50_holds_from_small_to_large_particles(diameter_px: int) -> None:
    shape, n = {10: ((600, 800), 300), 25: ((640, 800), 120), 60: ((1200, 1600), 100)}[diameter_px]
    m, truth = planted_particles(1, shape=shape, n=n, d50_um=diameter_px * 0.1, pixel_size_um=0.1)
    p = ss.measure_particles(m)
    inner = truth[~truth["touches_edge"]]
    d50 = weighted_percentiles(inner["ecd_um"].to_numpy(), np.ones(len(inner)), [50])[0]
    assert p.summary["d50_um"] == pytest.approx(d50, rel=0.05)
    assert p.summary["count"] == pytest.approx(len(inner), rel=0.15)
    q = p.summary["quality"]
    assert 1.0 < q["agglomeration_index"] < 1.5 and 0.05 < q["split_fraction"] < 0.5
    assert q["reliable"] and q["reasons"] == []


@pytest.mark.parametrize("seed", [1, 2])
def test_noise_without_particles_is_flagged_unreliable(seed: int) -> None:
    # Otsu splits any image in two: on pure noise it returns thousands of "particles"; the quality block must say
    rng = np.random.default_rng(seed)
    noise = np.clip(120 + 25 * rng.standard_normal((600, 800)), 0, 255).astype(np.uint8)
    p = ss.measure_particles(ss.Micrograph(noise, 0.1, {}))
    q = p.summary["quality"]
    assert p.summary["count"] > 50 and q["contrast_to_noise"] < 2.0
    assert not q["reliable"] and any("pixel noise" in r for r in q["reasons"])
    # planted particles under the same noise stand well clear of it
    m, _ = planted_particles(seed, shape=(600, 800), n=120, d50_um=2.5, pixel_size_um=0.1)
    assert ss.measure_particles(m).summary["quality"]["contrast_to_noise"] > 4.0


def test_quality_of_hand_made_labels() -> None:
    fg = np.zeros((40, 60), bool)
    fg[5:15, 5:25] = True  # one blob split in two particles
    fg[20:30, 40:50] = True  # one lone particle
    labels = np.zeros(fg.shape, np.int32)
    labels[5:15, 5:15], labels[5:15, 15:25], labels[20:30, 40:50] = 1, 2, 3
    q = particle_quality(labels, fg, np.full(fg.shape, 100, np.uint8), min_count=2)
    assert q["agglomeration_index"] == pytest.approx(1.5)
    assert q["split_fraction"] == pytest.approx(200 / 300)
    assert q["reliable"] and q["detection_limit_curve"] is None
    few = particle_quality(labels, fg, np.full(fg.shape, 100, np.uint8), min_count=50)
    assert not few["reliable"] and "D50" in few["reasons"][0]


def test_saturated_clumps_make_the_result_unreliable() -> None:
    m, _ = planted_particles(4, shape=(512, 640), n=80)
    image = np.clip(m.image.astype(np.int32) * 3, 0, 255).astype(np.uint8)  # particles clipped at 255
    p = ss.measure_particles(m.replace(image=image), min_count=10)
    q = p.summary["quality"]
    assert q["saturated_fraction"] > 0.3
    assert not q["reliable"] and any("saturated" in r for r in q["reasons"])
    assert ss.measure_particles(m, min_count=10).summary["quality"]["saturated_fraction"] == 0.0


def test_non_finite_and_empty_images_give_one_clear_error_and_blank_ones_no_particles() -> None:
    img = np.full((60, 80), 40.0)
    img[10:20, 10:20] = np.nan
    with pytest.raises(ss.SurfscanError, match="NaN"):
        ss.measure_particles(ss.Micrograph(img, 0.01))
    with pytest.raises(ss.SurfscanError, match="2-D"):
        ss.measure_particles(ss.Micrograph(np.zeros((0, 5), np.uint8), 0.01))
    with pytest.warns(ss.SurfscanWarning, match="no particles"):
        p = ss.measure_particles(ss.Micrograph(np.full((60, 80), 200, np.uint8), 0.01))
    q = p.summary["quality"]
    assert p.summary["count"] == 0 and q["agglomeration_index"] == 0.0 and not q["reliable"]


def test_a_large_neck_depth_keeps_every_blob_as_one_particle() -> None:
    """h above every blob's height splits nothing at necks; it used to drop every particle (count 0).

    Blobs lower than 0.1 typical radii are slivers and still dropped, as at the default neck depth.
    """
    m, truth = planted_particles(2, shape=(640, 800), n=120, d50_um=2.5, pixel_size_um=0.1)
    whole = ss.measure_particles(m, neck_depth=50.0, separation_lines=None)
    blobs = ss.measure_particles(m, split=False)
    assert 0.95 * blobs.summary["count"] <= whole.summary["count"] <= blobs.summary["count"]

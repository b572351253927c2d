"""Issue 13 floors for SEM protrusions, graded on scenes from an independent generator.

The scenes come from ``tests/sem_protrusion_scenes.py``, written from the issue's scene description
without reading the detector. The seeds were drawn at random once (``secrets.randbelow``), not picked.
The full map over diameter x contrast is ``bench/bench_sem_pod.py``; here each floor is checked on a
few seeded scenes per pixel size (0.01, 0.1 and 2 µm: calibration only, the same kind of pixel-scale
scene), pooled over the cells of its range:

- objects >= 40 px across at contrast >= 3: recall >= 0.95;
- objects >= 60 px across at contrast 2: recall >= 0.90;
- objects 16-40 px across at contrast 2.5-4: precision >= 0.90 and recall >= 0.35;
- no detection at all on >= 95 % of images without protrusions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sem_protrusion_scenes import TEXTURES, SceneScore, _texture, make_scene, objects_per_image, score_scene

import surfscan as ss
from surfscan.errors import SurfscanWarning

SEEDS = (1325152547, 939741181, 1963728394, 737662514, 1753464445, 991637964)
PIXEL_SIZES = (0.01, 0.1, 2.0)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def _pooled(seed: int, pixel_size: float, cells: list[tuple[float, float]]) -> SceneScore:
    """Detect on one scene per (diameter px, contrast) cell and pool the scores."""
    total = SceneScore(0, 0, 0, 0)
    for i, (diameter, contrast) in enumerate(cells):
        rng = _rng(seed, PIXEL_SIZES.index(pixel_size), i)
        m, truth = make_scene(rng, diameter, contrast, objects_per_image(diameter), pixel_size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            table = ss.detect_protrusions(m).table
        total = total + score_scene(table, truth, pixel_size)
    return total


# ------------------------------------------------------------------------------------ the floors
@pytest.mark.parametrize("pixel_size", PIXEL_SIZES)
def test_objects_40_px_and_more_at_contrast_3_and_more_are_found(pixel_size):
    s = _pooled(SEEDS[0], pixel_size, [(40, 3.0), (60, 3.0), (80, 6.0), (120, 3.0)])
    assert s.recall >= 0.95, f"recall {s.recall:.3f} ({s.found}/{s.objects}) at {pixel_size} µm"


@pytest.mark.parametrize("pixel_size", PIXEL_SIZES)
def test_objects_60_px_and_more_at_contrast_2_are_found(pixel_size):
    """Holds on these scenes. On two-scale substrates whose blotches are as large and as strong as a 60 px dome
    at 2 x rms recall stays 0.7-0.9 (grain 0.98), so small samples of other seeds can fall under the floor
    (bench_sem_pod seed 13: 0.81 over 6 scenes); over 135 scenes it is 0.92 (see the test below)."""
    s = _pooled(SEEDS[1], pixel_size, [(60, 2.0), (80, 2.0), (120, 2.0)])
    assert s.recall >= 0.90, f"recall {s.recall:.3f} ({s.found}/{s.objects}) at {pixel_size} µm"


@pytest.mark.parametrize("false_discovery_rate", [None, 0.0])
def test_objects_60_px_and_more_at_contrast_2_on_every_substrate(false_discovery_rate):
    """18 scenes, two per substrate and diameter (60, 80, 120 px), seed drawn at random once.

    Default settings: recall 0.979 (two-scale 0.94). With ``false_discovery_rate=0`` (the thresholds of an image
    without objects, the detector before the false-discovery budget): 0.922, two-scale 0.81, so the budget is
    what lifts it over 0.95 here.
    """
    seed = 2018396251
    total, two_scale = SceneScore(0, 0, 0, 0), SceneScore(0, 0, 0, 0)
    for t, texture in enumerate(TEXTURES):
        for diameter in (60, 80, 120):
            for rep in range(2):
                m, truth = make_scene(_rng(seed, t, diameter, rep), diameter, 2.0, objects_per_image(diameter), 0.1,
                                      texture=texture)
                settings = {} if false_discovery_rate is None else {"false_discovery_rate": false_discovery_rate}
                s = score_scene(ss.detect_protrusions(m, **settings).table, truth, 0.1)
                total = total + s
                if texture == "two_scale":
                    two_scale = two_scale + s
    if false_discovery_rate is None:
        assert total.recall >= 0.95 and two_scale.recall >= 0.88, (total, two_scale)
        assert total.precision >= 0.95, total
    else:
        assert total.recall >= 0.90, total


@pytest.mark.parametrize("pixel_size", PIXEL_SIZES)
def test_objects_16_to_40_px_at_contrast_2p5_to_4_precision_and_recall(pixel_size):
    s = _pooled(SEEDS[2], pixel_size, [(16, 2.5), (24, 3.0), (32, 4.0), (40, 2.5)])
    assert s.detections > 0, f"no detection of {s.objects} objects at {pixel_size} µm"
    assert s.precision >= 0.90, f"precision {s.precision:.3f} ({s.false} false of {s.detections})"
    assert s.recall >= 0.35, f"recall {s.recall:.3f} ({s.found}/{s.objects}) at {pixel_size} µm"


def test_no_detection_on_95_percent_of_object_free_images():
    images = 20
    with_detections = []
    for i in range(images):
        pixel_size = PIXEL_SIZES[i % len(PIXEL_SIZES)]
        m, _ = make_scene(_rng(SEEDS[3], i), 20, 1.0, 0, pixel_size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            if len(ss.detect_protrusions(m).table):
                with_detections.append((i, pixel_size))
    assert len(with_detections) <= 0.05 * images, f"detections on object-free images {with_detections}"


def test_no_detection_on_object_free_skewed_textures():
    """Log-normal substrates (sparse bright grains): the texture's own brightest patches are not protrusions.

    The substrate search leaves those patches out of the quiet pixels, so thresholds from the quiet
    pixels alone put 3 of these 24 images (seed drawn at random) above the floor; the whole-field tail
    of skewed textures keeps them clean.
    """
    seed = 99033176
    with_detections = []
    for i in range(24):
        pixel_size = PIXEL_SIZES[i % len(PIXEL_SIZES)]
        m, _ = make_scene(_rng(seed, i), 20, 1.0, 0, pixel_size, texture="lognormal")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            if len(ss.detect_protrusions(m).table):
                with_detections.append(i)
    assert len(with_detections) <= 1, f"detections on object-free log-normal images {with_detections}"


@pytest.mark.parametrize(("diameter", "count", "contrast"), [(24, 60, 4.0), (60, 20, 2.5)])
def test_crowded_fields_of_faint_objects_do_not_raise_the_threshold_above_themselves(diameter, count, contrast):
    """Many objects of one size that the first pass misses are not the texture's tail.

    With the tail heaviness read at the 20th largest maximum, 20 to 60 such objects set it and
    hid each other: 1 of 60 and 6 of 20 found on one scene each. Seed 11 was the first tried.
    """
    total = SceneScore(0, 0, 0, 0)
    for i in range(4):
        pixel_size = PIXEL_SIZES[i % len(PIXEL_SIZES)]
        m, truth = make_scene(np.random.default_rng([11, diameter, i]), diameter, contrast, count, pixel_size,
                              texture="grain")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            total = total + score_scene(ss.detect_protrusions(m).table, truth, pixel_size)
    assert total.recall >= 0.90, f"recall {total.recall:.3f} ({total.found}/{total.objects})"
    assert total.precision >= 0.95, f"precision {total.precision:.3f} ({total.false} false of {total.detections})"


# ------------------------------------------------------------------------------------ the generator
def _detrended_rms(image: np.ndarray) -> float:
    """Rms of an image after dividing out a fitted quadratic shading (kept at its mean level)."""
    im = image.astype(float)
    r, c = np.mgrid[0:im.shape[0], 0:im.shape[1]]
    x, y = (c / im.shape[1] - 0.5).ravel(), (r / im.shape[0] - 0.5).ravel()
    a = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    coef, *_ = np.linalg.lstsq(a, im.ravel(), rcond=None)
    fit = (a @ coef).reshape(im.shape)
    return float((im / fit * fit.mean()).std())


@pytest.mark.parametrize("texture", TEXTURES)
def test_object_free_texture_rms_matches_the_rms_used_for_contrast(texture):
    for i in range(2):
        m, truth = make_scene(_rng(SEEDS[4], i), 20, 3.0, 0, 0.5, shape=(480, 640), texture=texture)
        assert len(truth) == 0
        ratio = _detrended_rms(m.image) / truth.attrs["texture_rms"]
        assert 0.9 <= ratio <= 1.1, f"measured rms / rms for C = {ratio:.3f} ({truth.attrs})"


@pytest.mark.parametrize("texture", TEXTURES)
def test_dome_peaks_rise_contrast_times_rms_over_the_local_background(texture):
    diameter, contrast = 40, 5.0
    rises = []
    for i in range(3):
        m, truth = make_scene(_rng(SEEDS[5], i), diameter, contrast, 15, 0.1, texture=texture)
        im = m.image.astype(float)
        for row, col in zip(truth["row"], truth["col"]):
            r0, r1 = max(int(row) - 40, 0), min(int(row) + 41, im.shape[0])
            c0, c1 = max(int(col) - 40, 0), min(int(col) + 41, im.shape[1])
            rr, cc = np.mgrid[r0:r1, c0:c1]
            patch = im[r0:r1, c0:c1]
            d = np.hypot(rr - row, cc - col)
            centre = patch[d <= 2].mean()
            ring = (d >= 0.6 * diameter + 4) & (d <= 0.6 * diameter + 10)
            background = patch[ring].mean()
            # the shading scales the rise with the local level: bring it back to the scene's mean level
            rise = (centre - background) * truth.attrs["mean_level"] / background
            rises.append(rise / truth.attrs["texture_rms"])
    measured = float(np.mean(rises))
    assert abs(measured / contrast - 1) <= 0.10, f"mean peak rise {measured:.2f} x rms, asked {contrast}"


def test_grain_correlation_length_is_where_the_autocorrelation_falls_to_1_over_e():
    for i in range(4):
        t, info = _texture(_rng(SEEDS[4], 50 + i), (384, 512), "grain")
        acf = np.fft.irfft2(np.abs(np.fft.rfft2(t)) ** 2, s=t.shape)[0] / t.size  # along rows
        lag = info["correlation_px"]
        assert abs(np.interp(lag, np.arange(16), acf[:16]) - np.exp(-1)) <= 0.05, info


def test_scene_is_seeded_calibrated_and_objects_inside_apart():
    m1, t1 = make_scene(_rng(SEEDS[0], 99), 60, 2.0, 12, 0.01, shape=(500, 700))
    m2, t2 = make_scene(_rng(SEEDS[0], 99), 60, 2.0, 12, 2.0, shape=(500, 700))
    np.testing.assert_array_equal(m1.image, m2.image)  # the pixel size is calibration only
    pd.testing.assert_frame_equal(t1, t2)
    assert m1.image.shape == (500, 700) and m1.image.dtype in (np.uint8, np.uint16)
    assert m1.pixel_size == 0.01 and m2.pixel_size == 2.0
    assert 0.3 <= t1.attrs["mean_level"] / t1.attrs["full_scale"] <= 0.7
    assert t1.attrs["shading_amplitude"] <= 0.15 and np.all(t1["aspect"] <= 1.6)
    reach = 30 * np.sqrt(t1["aspect"].to_numpy())  # half the major axis, px
    assert np.all(t1["row"] - reach >= 0) and np.all(t1["row"] + reach <= 499)
    assert np.all(t1["col"] - reach >= 0) and np.all(t1["col"] + reach <= 699)
    rc = t1[["row", "col"]].to_numpy()
    dist = np.hypot(*(rc[:, None, :] - rc[None, :, :]).transpose(2, 0, 1))
    need = 1.2 * (reach[:, None] + reach[None, :])
    assert np.all(dist[~np.eye(len(rc), dtype=bool)] >= need[~np.eye(len(rc), dtype=bool)])


def test_scoring_counts_found_objects_and_false_detections():
    truth = pd.DataFrame({"row": [100.0, 300.0], "col": [100.0, 300.0], "diameter_px": [20.0, 40.0]})
    px = 0.5
    # one detection 12.9 px from the first centre (within 20/2 + 3), one 24 px from the second
    # (beyond 40/2 + 3), one far from both
    table = pd.DataFrame({"x_um": [112.9 * px, 324.0 * px, 500 * px], "y_um": [100 * px, 300 * px, 10 * px]})
    s = score_scene(table, truth, px)
    assert (s.objects, s.found, s.detections, s.false) == (2, 1, 3, 2)
    assert s.recall == 0.5 and s.precision == pytest.approx(1 / 3)
    empty = score_scene(pd.DataFrame({"x_um": [], "y_um": []}), truth, px)
    assert empty.found == 0 and np.isnan(empty.precision)

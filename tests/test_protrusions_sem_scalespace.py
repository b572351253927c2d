"""SEM protrusions: the scale space, its per-scale thresholds, merging, the detection-limit curve and the quality
block; floors on the real annotated agglomerates (skipped when ../shared is absent)."""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError, SurfscanWarning
from surfscan.model import Micrograph
from surfscan.protrusions.result import ProtrusionSettings
from surfscan.protrusions.scalespace import find_blobs, random_field_level, scale_space, scale_thresholds
from surfscan.protrusions.sem import false_alarms_per_image
from surfscan.protrusions.sem_quality import dome_gain
from surfscan.testing.sem_metrics import real_sem_pairs, score_agglomerates


def _texture(shape, grain_px, seed):
    rng = np.random.default_rng(seed)
    t = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), grain_px / 2.355)
    return t / t.std()


def _dome(shape, cy, cx, d):
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    r2 = ((yy - cy) ** 2 + (xx - cx) ** 2) / (d / 2) ** 2
    return np.sqrt(np.clip(1 - r2, 0, None)).astype(np.float32)


def _scene(seed, domes=(), shape=(768, 1024), rms=0.08, grain=3.0):
    """Grey image: correlated texture of relative rms ``rms``, a shading ramp and domes ``(y, x, D, C x rms)``."""
    rel = rms * _texture(shape, grain, seed)
    for y, x, d, c in domes:
        rel += c * rms * _dome(shape, y, x, d)
    ramp = 1 + 0.2 * np.linspace(-1, 1, shape[1], dtype=np.float32)[None, :]
    return (100 * ramp * (1 + rel)).astype(np.float32)


def test_normalised_response_is_about_scale_free():
    """A dome answers with about the same peak at its matched scale whatever its diameter."""
    peaks = []
    for d in (12, 24, 48, 96):
        img = _dome((400, 400), 200, 200, d)
        sc = scale_space(img, d / (2 * math.sqrt(2)) / 1.3, d / (2 * math.sqrt(2)) * 1.3)
        peaks.append(max(float(s.response.max()) for s in sc))
    assert max(peaks) / min(peaks) < 1.25, peaks
    assert dome_gain(2 * math.sqrt(2)) == pytest.approx(np.median(peaks), rel=0.25)


def test_random_field_level_solves_the_euler_characteristic():
    z = random_field_level(1e5, 0.01)
    assert 1e5 * z * math.exp(-z * z / 2) == pytest.approx(0.01, rel=1e-6)
    assert random_field_level(1e7, 0.01) > z > random_field_level(1e3, 0.01)
    assert random_field_level(0.001, 0.01) == 1.0


def test_thresholds_follow_each_scales_texture_and_fire_rarely_on_texture_alone():
    flat = 0.08 * _texture((768, 1024), 3.0, 1)
    scales = scale_space(flat, 2.0, 40.0)
    scale_thresholds(scales, np.ones(flat.shape, bool), 0.02 / len(scales))
    rms = [s.rms for s in scales]
    assert rms[0] > 3 * rms[-1]  # a fine texture averages out at coarse scales
    assert all(s.threshold > 3 * s.rms for s in scales)
    assert len(find_blobs(scales)) <= 1
    flat[300:360, 400:460] += 0.15 * _dome((60, 60), 30, 30, 56)  # a dome at 1.9 x the texture rms
    scales = scale_space(flat, 2.0, 40.0)
    scale_thresholds(scales, np.ones(flat.shape, bool), 0.02 / len(scales))
    blobs = find_blobs(scales)
    assert len(blobs) >= 1 and np.hypot(blobs.y - 330, blobs.x - 430).min() < 10


def test_large_low_contrast_domes_are_found_and_counted_once():
    domes = [(200, 250, 100, 2.0), (550, 700, 80, 2.5), (300, 800, 60, 3.0)]
    m = Micrograph(_scene(3, domes), 0.5, {})
    p = ss.detect_protrusions(m)
    assert p.count == 3, p.table
    for y, x, d, _ in domes:
        dist = np.hypot(p.table.x_um / 0.5 - x, p.table.y_um / 0.5 - y)
        row = p.table.iloc[int(np.argmin(dist))]
        assert dist.min() < d / 4
        assert 0.6 * d < row.equivalent_diameter_um / 0.5 < 1.2 * d  # the extent is the object's, not the kernel's
    q = p.summary["quality"]
    assert q["agglomeration_index"] >= 1 and 0 <= q["split_fraction"] <= 1
    assert q["reliable"] is True and q["reasons"] == []


def test_object_free_images_give_no_detection_at_two_pixel_sizes():
    hits = 0
    for seed in range(6):
        for px in (0.01, 2.0):
            hits += ss.detect_protrusions(Micrograph(_scene(100 + seed), px, {})).count > 0
    assert hits <= 1


def test_an_agglomerate_of_touching_grains_is_one_object():
    shape = (512, 512)
    rel = 0.05 * _texture(shape, 2.5, 7)
    for dy, dx in ((0, 0), (0, 26), (22, 13), (-22, 13), (22, -13)):
        rel += 0.8 * _dome(shape, 256 + dy, 256 + dx, 28)
    p = ss.detect_protrusions(Micrograph((80 * (1 + rel)).astype(np.float32), 0.01, {}))
    assert p.count == 1, p.table
    q = p.summary["quality"]
    assert q["agglomeration_index"] >= 1
    assert q["split_fraction"] == (1.0 if q["agglomeration_index"] >= 2 else 0.0)


def test_detection_limit_curve_falls_with_diameter_and_is_in_the_summary():
    p = ss.detect_protrusions(Micrograph(_scene(5), 0.2, {}))
    dl = p.summary["detection_limit"]
    curve = dl["curve"]
    assert len(curve["diameter_um"]) == len(curve["min_contrast"]) == len(curve["min_contrast_texture_rms"])
    c = np.array(curve["min_contrast"], float)
    assert c[0] > 2 * c[-1]  # a large object is visible at a far lower contrast than a small one
    assert dl["contrast_threshold"] == pytest.approx(c[0])
    assert "statement" in dl and dl["min_size_um"] == pytest.approx(curve["diameter_um"][0], rel=0.01)
    assert p.summary["quality"]["detection_limit_curve"] == curve


def test_false_alarm_knob():
    st = ProtrusionSettings()
    assert false_alarms_per_image(st, (768, 1024), 0.01) == pytest.approx(0.01)
    assert false_alarms_per_image(st, (768, 1024), 2.0) == pytest.approx(0.01)
    given = ProtrusionSettings(false_alarms_per_mm2=1.0)
    assert false_alarms_per_image(given, (1000, 1000), 2.0) == pytest.approx(4.0)
    with pytest.raises(SurfscanError, match="false_alarms_per_mm2"):
        ProtrusionSettings(false_alarms_per_mm2=-1)
    img = _scene(9, [(380, 500, 40, 2.2)])
    loose = ss.detect_protrusions(Micrograph(img, 1.0, {}), false_alarms_per_mm2=1000.0)
    strict = ss.detect_protrusions(Micrograph(img, 1.0, {}), false_alarms_per_mm2=1e-6)
    assert loose.summary["detection_limit"]["contrast_threshold"] < strict.summary["detection_limit"]["contrast_threshold"]


def test_quality_flags_a_field_covered_by_objects():
    shape = (512, 512)
    rel = 0.05 * _texture(shape, 2.5, 11)
    rng = np.random.default_rng(0)
    for y, x in rng.uniform(20, 492, (260, 2)):
        rel += 0.8 * _dome(shape, y, x, 40)
    p = ss.detect_protrusions(Micrograph((80 * (1 + rel)).astype(np.float32), 0.01, {}))
    q = p.summary["quality"]
    assert q["reliable"] is False and q["reasons"]


def _real_agglomerates(scale: float = 1.0, **settings) -> tuple[int, int, int, int]:
    """(found, agglomerates, false, detections) over the real set, each image resampled by ``scale`` (cubic) and
    scored on its original grid; skips when the set is absent."""
    pairs = real_sem_pairs()
    if not pairs:
        pytest.skip("../shared/data/real-sem-particles not found")
    import tifffile

    found = total = false = dets = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        for img, mpath in pairs:
            m = ss.read(img)
            if scale != 1.0:
                h, w = m.shape
                image = cv2.resize(m.image, (round(scale * w), round(scale * h)), interpolation=cv2.INTER_CUBIC)
                m = Micrograph(image, m.pixel_size / scale, m.meta)
            d = ss.detect_protrusions(m, **settings)
            px = m.pixel_size * scale
            a = score_agglomerates(d.table["y_um"] / px, d.table["x_um"] / px, tifffile.imread(mpath),
                                   (round(m.shape[0] / scale), round(m.shape[1] / scale)))
            found, total = found + a.n_found, total + a.n_agglomerates
            false, dets = false + a.n_false, dets + a.n_detections
    return found, total, false, dets


def test_real_agglomerates_floor():
    found, total, false, dets = _real_agglomerates()
    # the target is 0.90 / 0.90; measured 0.994 (175/176) and 0.970 with default settings (0.972 / 0.986
    # with false_discovery_rate=0)
    assert found / total >= 0.93, (found, total)
    assert 1 - false / dets >= 0.95, (false, dets)


def test_real_agglomerates_at_twice_the_magnification():
    """The same images upsampled 2x (a higher magnification of the same substrate), scored on the original grid.

    Without the false-discovery budget (``false_discovery_rate=0``) the thresholds are those of an image without
    objects: measured recall 0.898, precision 0.959. With the tail heaviness read a twentieth of the way down the
    maxima without the cap of 20, the substrate's many faint bumps came through (precision 0.909; 0.86 over 40
    images). With the default 5 % budget among the objects found: recall 0.92, precision 0.924 (the issue's floor
    is 0.90).
    """
    found, total, false, dets = _real_agglomerates(2.0, false_discovery_rate=0.0)
    assert found / total >= 0.85, (found, total)
    assert 1 - false / dets >= 0.93, (false, dets)
    found, total, false, dets = _real_agglomerates(2.0)
    assert found / total >= 0.90, (found, total)
    assert 1 - false / dets >= 0.90, (false, dets)


def test_split_keeps_touching_grains_apart():
    shape = (512, 512)
    rel = 0.05 * _texture(shape, 2.5, 7)
    for dy, dx in ((0, 0), (0, 26), (22, 13), (-22, 13), (22, -13)):
        rel += 0.8 * _dome(shape, 256 + dy, 256 + dx, 28)
    m = Micrograph((80 * (1 + rel)).astype(np.float32), 0.01, {})
    merged, split = ss.detect_protrusions(m), ss.detect_protrusions(m, split=True)
    assert merged.count == 1
    assert 3 <= split.count <= 5, split.table
    assert split.table["area_um2"].sum() == pytest.approx(merged.table["area_um2"].sum(), rel=0.1)


def test_cli_false_alarm_knob_and_quality_in_json(tmp_path, capsys):
    import json

    import tifffile

    from surfscan.cli import main

    path = tmp_path / "scene.tif"
    tifffile.imwrite(path, _scene(9, [(380, 500, 40, 6.0)]).astype(np.uint16))
    assert main(["defects", str(path), "--pixel-size", "0.5", "--json", "--false-alarms-per-mm2", "50"]) == 0
    [rec] = json.loads(capsys.readouterr().out)
    assert rec["settings"]["false_alarms_per_mm2"] == pytest.approx(50)
    assert rec["count"] == 1 and rec["quality"]["reliable"] is True
    with pytest.raises(SystemExit) as bad:
        main(["defects", str(path), "--pixel-size", "0.5", "--false-alarms-per-mm2", "-1"])
    assert bad.value.code == 2


def test_quality_texture_rule_spares_objects_far_above_the_limit():
    from surfscan.protrusions.sem_quality import quality_block

    curve = {"diameter_um": [1.0, 2.0], "min_contrast": [3.0, 1.5], "min_contrast_texture_rms": [30.0, 15.0]}
    args = (np.array([1, 1]), np.array([100.0, 100.0]), 10_000, 0.9, (10.0, 12.0, 14.0), curve)
    assert quality_block(*args, np.array([4.0, 5.0]))["reliable"] is True  # objects at 3x the lowest limit
    weak = quality_block(*args, np.array([1.6, 1.8]))
    assert weak["reliable"] is False and "texture is too strong" in weak["reasons"][0]
    assert quality_block(*args)["reliable"] is False  # nothing known about the objects


def test_fill_holes_matches_scipy_on_random_masks():
    from scipy import ndimage

    from surfscan.protrusions.sem_objects import fill_holes

    rng = np.random.default_rng(5)
    for i in range(200):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        m = rng.random((h, w)) < rng.uniform(0.2, 0.8)
        if i % 3 == 0:
            m = ndimage.binary_opening(m)
        assert np.array_equal(fill_holes(m), ndimage.binary_fill_holes(m)), i


def test_hill_level_of_a_power_law_tail():
    """On maxima with a Pareto tail P(x > t) = t^(-1/xi), the level exceeded ``expected`` times is (n / expected)^xi."""
    from surfscan.protrusions.scalespace import _hill_level

    rng = np.random.default_rng(3)
    xi, n = 0.3, 3000
    maxima = np.sort(rng.pareto(1 / xi, n) + 1.0)
    assert _hill_level(maxima, 1e-3) == pytest.approx((n / 1e-3) ** xi, rel=0.25)
    assert _hill_level(np.zeros(0), 1e-3) == 0.0


def test_false_discovery_budget_leaves_images_without_objects_as_they_were():
    """No object in the first pass: the thresholds are those of ``false_discovery_rate=0``, bit for bit."""
    for seed in (31, 32, 33):
        m = Micrograph(_scene(seed), 0.5, {})
        default, off = ss.detect_protrusions(m), ss.detect_protrusions(m, false_discovery_rate=0.0)
        dl = default.summary["detection_limit"]
        assert default.count == off.count == 0
        assert dl["false_alarms_per_image"] == dl["false_alarms_per_image_without_objects"] == pytest.approx(0.01)
        assert dl["scale_threshold"] == off.summary["detection_limit"]["scale_threshold"]


def test_false_discovery_budget_rises_with_the_objects_found():
    domes = [(150 + 230 * (i // 4), 130 + 250 * (i % 4), 30, 8.0) for i in range(12)]
    m = Micrograph(_scene(5, domes), 0.5, {})
    p = ss.detect_protrusions(m)
    dl = p.summary["detection_limit"]
    assert p.count == 12
    # the first pass found the 12 domes: 5 % of them may be texture
    assert dl["false_alarms_per_image"] == pytest.approx(0.05 * 12)
    assert dl["false_alarms_per_image_without_objects"] == pytest.approx(0.01)
    assert "at most 5% of the objects found" in dl["statement"]
    assert p.summary["settings"]["false_discovery_rate"] == 0.05
    # the thresholds follow the larger budget: lower than with the budget of an empty image
    off = ss.detect_protrusions(m, false_discovery_rate=0.0)
    off_dl = off.summary["detection_limit"]
    assert all(a < b for a, b in zip(dl["scale_threshold"], off_dl["scale_threshold"]))
    assert off_dl["false_alarms_per_image"] == pytest.approx(0.01)
    assert off.count == 12


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, float("nan"), True, "5%"])
def test_false_discovery_rate_must_be_a_share(bad):
    with pytest.raises(ss.SurfscanError, match="false_discovery_rate"):
        ss.ProtrusionSettings(false_discovery_rate=bad)


def test_cli_false_discovery_rate(tmp_path, capsys):
    import json

    import tifffile

    from surfscan.cli import main

    path = tmp_path / "scene.tif"
    tifffile.imwrite(path, _scene(9, [(380, 500, 40, 6.0)]).astype(np.uint16))
    assert main(["protrusions", str(path), "--pixel-size", "0.5", "--json", "--false-discovery-rate", "0"]) == 0
    [rec] = json.loads(capsys.readouterr().out)
    assert rec["settings"]["false_discovery_rate"] == 0.0 and rec["count"] == 1
    with pytest.raises(SystemExit) as bad:
        main(["protrusions", str(path), "--pixel-size", "0.5", "--false-discovery-rate", "1.5"])
    assert bad.value.code == 2
    assert "share from 0 to below 1" in capsys.readouterr().err

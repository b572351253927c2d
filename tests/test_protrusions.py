"""Protrusion detector: planted objects on seeded synthetic height maps and SEM images, scored by centroid matching."""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError
from surfscan.protrusions.regions import hysteresis_labels, robust_sigma, upper_sigma
from surfscan.synthetic import correlated_noise, match_objects, synthetic_height_map, synthetic_micrograph

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"


def _score(truth: pd.DataFrame, found: pd.DataFrame, eligible: np.ndarray) -> tuple[float, float]:
    truth_hit, found_hit = match_objects(truth, found)
    recall = float(truth_hit[eligible].mean()) if eligible.any() else 1.0
    precision = float(found_hit.mean()) if len(found_hit) else 1.0
    return recall, precision


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_height_map_precision_recall(seed):
    s, truth = synthetic_height_map((512, 768), 0.5, seed=seed, n_protrusions=25, diameters_um=(4, 25), n_spikes=60,
                                    n_pits=8, border_um=2)
    p = ss.detect_protrusions(s)
    thr = p.summary["detection_limit"]["height_threshold_um"]
    # the threshold is k * 1.4826 * MAD of the roughness, which is Gaussian with rms sq_um = 0.05
    assert thr == pytest.approx(6 * 0.05, rel=0.06)
    eligible = truth["height_um"].to_numpy() >= 1.2 * thr
    recall, precision = _score(truth, p.table, eligible)
    assert recall >= 0.97 and precision >= 0.97, (recall, precision)
    hit, found = match_objects(truth, p.table)
    # heights are measured above the local surface: the roughness (0.05 µm rms) is all that separates them
    paired = p.table[found]
    tr = truth[hit].reset_index(drop=True)
    order = [int(np.argmin(np.hypot(tr.x_um - x, tr.y_um - y))) for x, y in zip(paired.x_um, paired.y_um)]
    np.testing.assert_allclose(paired["max_height_um"].to_numpy(), tr["height_um"].to_numpy()[order], atol=0.2)


def test_height_map_rejects_distractors_on_clean_maps():
    """Spikes, pits, NaN dropouts, tilt, bow and waviness alone give no protrusion."""
    hits = 0
    for seed in range(10, 16):
        s, _ = synthetic_height_map((512, 768), 0.5, seed=seed, n_protrusions=0, n_spikes=300, n_pits=15,
                                    nan_fraction=0.03, waviness_um=0.2)
        p = ss.detect_protrusions(s)
        hits += p.count > 0
        assert p.summary["spikes_removed"] > 100
    assert hits == 0


def _flattened_map(seed, caps):
    """A packed-layer texture (Gaussian field with tanh-flattened tops, 0.1 µm scale) with paraboloid caps."""
    rng = np.random.default_rng(seed)
    shape, dx = (512, 768), 0.2
    g = correlated_noise(rng, shape, 4.0).astype(np.float64)
    z = 0.1 * np.where(g > 0, np.tanh(g), g)  # tops bounded at 0.1 µm, valleys Gaussian
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    centres = [(60 + 130 * (i // 5), 70 + 150 * (i % 5)) for i in range(caps)]
    for cy, cx in centres:
        z = np.maximum(z, 0.3 * (1 - ((yy - cy) ** 2 + (xx - cx) ** 2) / 15**2))
    return ss.Surface(z, dx, dx), centres


def test_auto_k_follows_the_texture_tail():
    """A Gaussian texture gets k = 6; a texture with bounded tops gets a lower k that finds caps only ~4 rms high."""
    s, _ = synthetic_height_map((512, 768), 0.5, seed=4, n_protrusions=0)
    p = ss.detect_protrusions(s)
    assert p.summary["settings"]["k"] == 6.0 and p.summary["detection_limit"]["k_source"] == "auto"
    assert p.summary["detection_limit"]["texture_level_um"] > 6 * p.summary["detection_limit"]["sq_robust_um"]
    flat, centres = _flattened_map(5, 15)
    auto = ss.detect_protrusions(flat)
    dl = auto.summary["detection_limit"]
    assert 3.0 <= dl["k"] < 4.5
    assert dl["height_threshold_um"] == pytest.approx(dl["k"] * dl["sq_robust_um"])
    assert 0.3 / dl["sq_robust_um"] < 6  # the caps are less than 6 rms high ...
    assert auto.count == len(centres)  # ... and found, with nothing else
    assert ss.detect_protrusions(flat, k=6).count < len(centres) // 2
    clean, _ = _flattened_map(6, 0)
    assert ss.detect_protrusions(clean).count == 0
    given = ss.detect_protrusions(flat, k=4.5)
    assert given.summary["settings"]["k"] == 4.5 and given.summary["detection_limit"]["k_source"] == "given"
    assert given.summary["detection_limit"]["texture_level_um"] is None


def test_height_map_geometry_and_units():
    """One paraboloid on a flat map: centroid, area, volume and height against the analytic shape."""
    ny, nx, dx = 200, 300, 0.4
    yy, xx = np.mgrid[:ny, :nx]
    rng = np.random.default_rng(0)
    z = rng.normal(0, 0.01, (ny, nx))
    cy, cx, R, H = 90.0, 140.0, 20.0, 1.0  # pixels, µm
    r2 = ((yy - cy) ** 2 + (xx - cx) ** 2) / R**2
    z += H * np.clip(1 - r2, 0, None)
    p = ss.detect_protrusions(ss.Surface(z, dx, dx), form="none", lambda_c_um=None)
    assert p.count == 1
    row = p.table.iloc[0]
    assert row.x_um == pytest.approx(cx * dx, abs=0.1) and row.y_um == pytest.approx(cy * dx, abs=0.1)
    assert row.max_height_um == pytest.approx(H, abs=0.03)
    # the region grows down to h_thr / 2 = 0.03 µm: r < R sqrt(1 - 0.03)
    assert row.area_um2 == pytest.approx(math.pi * (R * dx) ** 2 * (1 - 0.03), rel=0.03)
    assert row.volume_um3 == pytest.approx(math.pi * (R * dx) ** 2 * H / 2, rel=0.03)  # paraboloid: V = pi R² H / 2
    assert row.aspect_ratio == pytest.approx(1.0, abs=0.05)
    assert p.labels.dtype == np.int32 and set(np.unique(p.labels)) == {0, 1}
    density = 1 / (ny * nx * dx * dx * 1e-6)
    assert p.summary["density_per_mm2"] == pytest.approx(density)


def test_density_counts_valid_area_only_and_nan_does_not_bridge():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 0.01, (200, 200))
    yy, xx = np.mgrid[:200, :200]
    for cy, cx in ((60, 60), (60, 140)):
        z += 0.5 * np.clip(1 - ((yy - cy) ** 2 + (xx - cx) ** 2) / 15**2, 0, None)
    z[:, 100] = np.nan  # a column of dropouts
    z[150:, :] = np.nan  # a quarter not measured
    p = ss.detect_protrusions(ss.Surface(z, 1.0, 1.0), form="plane", lambda_c_um=None)
    assert p.count == 2
    valid = np.count_nonzero(~np.isnan(z)) * 1e-6
    assert p.summary["density_per_mm2"] == pytest.approx(2 / valid)
    assert p.summary["valid_area_mm2"] == pytest.approx(valid)


def test_polarity_dark_finds_pits():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 0.01, (200, 200))
    yy, xx = np.mgrid[:200, :200]
    z -= 0.4 * np.clip(1 - ((yy - 100) ** 2 + (xx - 80) ** 2) / 12**2, 0, None)
    assert ss.detect_protrusions(ss.Surface(z, 1.0, 1.0)).count == 0
    p = ss.detect_protrusions(ss.Surface(z, 1.0, 1.0), polarity="dark")
    assert p.count == 1 and p.table.max_height_um.iloc[0] == pytest.approx(-0.4, abs=0.03)


def test_split_separates_touching_objects():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 0.01, (160, 240))
    yy, xx = np.mgrid[:160, :240]
    caps = [np.clip(1 - ((yy - 80) ** 2 + (xx - cx) ** 2) / 20**2, 0, None) for cx in (100, 130)]
    z += np.maximum(*caps)  # two caps whose bases overlap, a saddle of 0.44 between them
    s = ss.Surface(z, 1.0, 1.0)
    assert ss.detect_protrusions(s, lambda_c_um=None, max_aspect=None).count == 1
    p = ss.detect_protrusions(s, lambda_c_um=None, max_aspect=None, split=True)
    assert p.count == 2
    assert sorted(p.table.x_um) == pytest.approx([100 - 2, 130 + 2], abs=2.5)


@pytest.mark.parametrize("fdr", [0.0, None])
@pytest.mark.parametrize("seed", [1, 2])
def test_sem_precision_recall(seed, fdr):
    m, truth = synthetic_micrograph((768, 1024), 0.6, seed=seed, n_protrusions=30, contrasts=(0.3, 1.5),
                                    border_um=2)
    # fdr 0: the thresholds of an image without objects; None: the default false-discovery budget (5 % of the
    # objects found may be texture, so one false detection among ~30 is within it)
    p = ss.detect_protrusions(m) if fdr is None else ss.detect_protrusions(m, false_discovery_rate=fdr)
    dl = p.summary["detection_limit"]
    # the detection limit is a curve: the smallest detectable peak contrast at each diameter
    curve = dl["curve"]
    need = np.interp(np.log(truth.diameter_um), np.log(curve["diameter_um"]),
                     [np.inf if v is None else v for v in curve["min_contrast"]])
    eligible = (truth.contrast >= 1.2 * need).to_numpy() & (truth.diameter_um >= dl["min_size_um"]).to_numpy()
    assert eligible.sum() >= 5
    recall, precision = _score(truth, p.table, eligible)
    assert recall >= 0.97 and precision >= (0.97 if fdr == 0.0 else 0.95), (recall, precision)
    hit, found = match_objects(truth, p.table)
    assert (p.table.mean_contrast[found] > 0).all()


def test_sem_clean_images_and_crack_rims_give_nothing():
    hits = 0
    for seed in range(20, 24):
        m, _ = synthetic_micrograph((512, 768), 0.6, seed=seed, n_protrusions=0, n_cracks=4, texture_skew=0.7)
        hits += ss.detect_protrusions(m).count > 0
    assert hits == 0


def test_sem_dark_polarity_and_border_flag():
    m, truth = synthetic_micrograph((512, 768), 0.6, seed=5, n_protrusions=20, contrasts=(0.6, 0.9),
                                    diameters_um=(8, 20), polarity="dark", border_um=2)
    assert ss.detect_protrusions(m).count == 0
    p = ss.detect_protrusions(m, polarity="dark")
    recall, precision = _score(truth, p.table, np.ones(len(truth), bool))
    assert recall >= 0.95 and precision == 1.0
    assert (p.table.mean_contrast < 0).all()
    img = m.image.copy()
    img[100:130, :12] = 20  # a dark object cut by the left border
    q = ss.detect_protrusions(m.replace(image=img), polarity="dark")
    assert q.table.touches_edge.sum() == 1


def test_sem_needs_a_pixel_size():
    m, _ = synthetic_micrograph((256, 256), 0.6, seed=1, n_protrusions=3)
    bare = m.replace(pixel_size=None)
    with pytest.raises(SurfscanError, match="pixel size"):
        ss.detect_protrusions(bare)
    p = ss.detect_protrusions(bare, pixel_size_um=0.6)
    assert p.summary["settings"]["pixel_size_um"] == 0.6


def test_settings_are_checked():
    s, _ = synthetic_height_map((64, 64), seed=0, n_protrusions=0)
    with pytest.raises(SurfscanError, match="unknown protrusion setting"):
        ss.detect_protrusions(s, threshold=3)
    with pytest.raises(SurfscanError, match="polarity"):
        ss.detect_protrusions(s, polarity="sideways")
    with pytest.raises(SurfscanError, match="k must be"):
        ss.detect_protrusions(s, k=-1)
    with pytest.raises(SurfscanError, match="form"):
        ss.detect_protrusions(s, form="cubic")


def test_robust_statistics_and_hysteresis():
    rng = np.random.default_rng(0)
    g = rng.normal(0, 2.0, 200_000)
    assert robust_sigma(g)[1] == pytest.approx(2.0, rel=0.02)
    assert upper_sigma(g)[1] == pytest.approx(2.0, rel=0.02)
    skewed = np.exp(rng.normal(0, 0.8, 200_000))
    _, s_mad = robust_sigma(skewed)
    _, s_up = upper_sigma(skewed)
    assert s_up > 1.3 * s_mad  # the upper side of a right-skewed texture is wider
    sig = np.zeros((20, 20), np.float32)
    sig[2:6, 2:6] = 1.0  # reaches the core
    sig[3, 3] = 3.0
    sig[10:14, 10:14] = 1.0  # only above the grow level
    labels, keep = hysteresis_labels(sig, 2.0, 0.5)
    kept = keep[labels]
    assert kept[2:6, 2:6].all() and not kept[10:14, 10:14].any()


def test_overlay_png(tmp_path):
    import cv2

    m, _ = synthetic_micrograph((256, 320), 0.6, seed=4, n_protrusions=6, contrasts=(0.8, 1.0), diameters_um=(8, 12))
    p = ss.detect_protrusions(m)
    out = p.write_overlay(tmp_path / "o.png")
    img = cv2.imread(str(out))
    assert img.shape == (256, 320, 3)
    green = (img[..., 1] == 220) & (img[..., 0] == 80)
    assert green.sum() > 20 * p.count > 0


def test_full_size_height_map_is_fast_and_right():
    s, truth = synthetic_height_map(seed=7)
    t0 = time.perf_counter()
    p = ss.detect_protrusions(s)
    elapsed = time.perf_counter() - t0
    thr = p.summary["detection_limit"]["height_threshold_um"]
    recall, precision = _score(truth, p.table, truth.height_um.to_numpy() >= 1.2 * thr)
    assert recall >= 0.97 and precision >= 0.97
    assert elapsed < 3.0  # the 0.2 s target is measured in bench/; this guards against gross regressions


@functools.cache
def _sample(name):  # Surface and Micrograph are immutable: one read per file
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"sample image {name} not generated yet (sample_images/make_samples.py)")
    return ss.read(path)


def _truth(name):
    return json.loads((SAMPLES / "truth.json").read_text())[name]


def test_sample_sem_pair_ranks_as_expected_with_defaults():
    """Default settings find the planted agglomerates (>= 97 %, no false ones); the smooth layer has far fewer."""
    found = {}
    for name in ("sem_anode_smooth_100x.tif", "sem_anode_protrusions_100x.tif"):
        p = ss.detect_protrusions(_sample(name))
        truth = _truth(name)
        px = p.summary["settings"]["pixel_size_um"]
        assert px == pytest.approx(truth["pixel_size_um"])  # the calibration comes from tag 34682
        t = pd.DataFrame(truth["protrusions"])
        t = t.assign(x_um=t.x_px * px, y_um=t.y_px * px)
        hit, matched = match_objects(t, p.table)
        assert hit.mean() >= 0.97, (name, hit.sum(), len(t))
        assert matched.all(), name  # whatever is counted is a planted protrusion
        found[name] = p
    smooth, rough = found["sem_anode_smooth_100x.tif"], found["sem_anode_protrusions_100x.tif"]
    assert 5 * smooth.density_per_mm2 < rough.density_per_mm2


def test_sample_height_maps_rank_with_defaults():
    """Default settings find the planted protrusions above 1.2 x the threshold; the good layer A has the fewest."""
    dens = {}
    for e in ("A_good", "B_fair", "C_poor"):
        dens[e] = []
        for i in (1, 2, 3):
            name = f"electrode_{e}_site{i}.x3p"
            p = ss.detect_protrusions(_sample(name))
            thr = p.summary["detection_limit"]["height_threshold_um"]
            assert p.summary["detection_limit"]["k_source"] == "auto"
            t = pd.DataFrame(_truth(name)["protrusions"]).assign(diameter_um=lambda d: 2 * d.radius_um)
            hit, matched = match_objects(t, p.table)
            eligible = t.height_um.to_numpy() >= 1.2 * thr
            assert eligible.mean() >= 0.9, name  # the samples are made so that their protrusions stand out
            assert hit[eligible].mean() >= 0.9, (name, hit[eligible].sum(), eligible.sum())
            assert matched.mean() >= 0.9, name
            dens[e].append(p.density_per_mm2)
    for i in range(3):  # at every site, not only on average
        assert dens["A_good"][i] < dens["B_fair"][i] < dens["C_poor"][i]
    assert 3 * np.mean(dens["A_good"]) < np.mean(dens["B_fair"])


def test_sample_height_maps_rank_with_a_common_threshold():
    """With the same threshold in µm on every map (k=1, h_abs_um), A still has the fewest protrusions per mm²."""
    dens = {}
    for e in ("A_good", "B_fair", "C_poor"):
        maps = [_sample(f"electrode_{e}_site{i}.x3p") for i in (1, 2, 3)]
        dens[e] = np.mean([ss.detect_protrusions(s, k=1, h_abs_um=0.55).density_per_mm2 for s in maps])
    assert dens["A_good"] < dens["B_fair"] < dens["C_poor"]


def test_cli_defects_json_overlay_and_one_bad_file(tmp_path, capsys):
    from surfscan.cli import main

    s, truth = synthetic_height_map((256, 384), 0.5, seed=8, n_protrusions=8, heights_um=(0.5, 1.0),
                                    diameters_um=(6, 15), border_um=2)
    good = tmp_path / "good.npy"
    np.save(good, s.z)  # .npy: 1 µm pixels (the reader warns)
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    rc = main(["defects", str(good), str(bad), "--json", "--overlay", str(tmp_path / "ov"), "--k", "6"])
    out = capsys.readouterr()
    assert rc == 1
    assert out.err.count("error") == 1 and "bad.npy" in out.err
    records = json.loads(out.out)
    assert [r["file"] for r in records] == [str(good)]
    r = records[0]
    assert set(r) >= {"file", "count", "density_per_mm2", "objects", "settings"}
    assert r["count"] == len(r["objects"]) == ss.detect_protrusions(ss.Surface(s.z, 1.0, 1.0)).count
    assert r["settings"]["k"] == 6
    assert (tmp_path / "ov" / "good_protrusions.png").is_file()


def test_old_setting_names_still_work_and_warn():
    """Lengths carry their unit (min_size_um ...); the old names give the same settings with a DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match="'min_size' is deprecated.*use 'min_size_um'"):
        old = ss.ProtrusionSettings(min_size=2.0, max_size=9.0)
    assert old == ss.ProtrusionSettings(min_size_um=2.0, max_size_um=9.0)
    with pytest.warns(DeprecationWarning, match="use 'h_abs_um'"):
        assert ss.ProtrusionSettings.from_kwargs(h_abs=0.3).h_abs_um == 0.3
    with pytest.warns(DeprecationWarning, match="use 'pixel_size_um'"):
        assert old.pixel_size is None
    with pytest.raises(TypeError, match="not also its old name"):
        ss.ProtrusionSettings(min_size=2.0, min_size_um=2.0)
    z = np.zeros((64, 64))
    z[30:34, 30:34] = 1.0
    s = ss.Surface(z + np.random.default_rng(1).normal(0, 0.01, z.shape), 1.0, 1.0)
    with pytest.warns(DeprecationWarning, match="detect_protrusions: 'lambda_c' is deprecated"):
        p = ss.detect_protrusions(s, form="none", lambda_c=None)
    assert p.count == ss.detect_protrusions(s, form="none", lambda_c_um=None).count == 1

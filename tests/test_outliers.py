"""Outlier (spike) removal and filling of non-measured points."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

import surfscan as ss
from surfscan.cli import main
from surfscan.errors import SurfscanError
from surfscan.outliers import fill_nonmeasured, remove_outliers
from surfscan.synthetic import correlated_noise, synthetic_height_map


def rough(seed: int, shape=(384, 512), corr_px: float = 1.5, sq: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = correlated_noise(rng, shape, corr_px) if corr_px > 0 else rng.normal(size=shape)
    return sq * (z - z.mean()) / z.std()


def plant_spikes(z: np.ndarray, n: int, height: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 100)
    idx = rng.choice(z.size, n, replace=False)
    out = z.copy()
    out.ravel()[idx] += height * rng.choice([-1.0, 1.0], n)
    return out, idx


# --- spikes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, corr_px", [(0, 0.0), (1, 1.5), (2, 4.0), (3, 10.0)])
def test_sixty_spikes_removed_and_sz_restored(seed, corr_px) -> None:
    clean = rough(seed, corr_px=corr_px)
    spiky, idx = plant_spikes(clean, 60, 5.0, seed)
    sz_clean = ss.roughness(ss.Surface(clean, 0.5, 0.5), ["Sz"])["Sz"]
    assert ss.roughness(ss.Surface(spiky, 0.5, 0.5), ["Sz"])["Sz"] > 5 * sz_clean
    out = remove_outliers(ss.Surface(spiky, 0.5, 0.5))
    assert np.isnan(out.z.ravel()[idx]).all()
    assert 60 <= out.meta["outliers_removed"] <= 60 + clean.size // 1000
    sz = ss.roughness(out, ["Sz"])["Sz"]
    assert abs(sz - sz_clean) <= 0.1 * sz_clean
    assert "remove_outliers" in out.meta["history"][-1]


def test_full_size_map_with_spikes() -> None:
    clean = rough(7, shape=(1536, 2048), corr_px=2.0)
    spiky, idx = plant_spikes(clean, 60, 5.0, 7)
    out = remove_outliers(ss.Surface(spiky, 0.2, 0.2))
    sz_clean = ss.roughness(ss.Surface(clean, 0.2, 0.2), ["Sz"])["Sz"]
    assert abs(ss.roughness(out, ["Sz"])["Sz"] - sz_clean) <= 0.1 * sz_clean
    assert np.isnan(out.z.ravel()[idx]).all()


@pytest.mark.parametrize("seed, corr_px", [(10, 0.0), (11, 1.0), (12, 3.0), (13, 8.0), (14, 20.0)])
def test_clean_surfaces_are_left_alone(seed, corr_px) -> None:
    z = rough(seed, corr_px=corr_px)
    yy, xx = np.mgrid[0 : z.shape[0], 0 : z.shape[1]]
    z = z + 0.01 * xx - 0.004 * yy + 2e-5 * (xx - 200.0) ** 2  # tilt and bow: not levelled
    out = remove_outliers(ss.Surface(z, 0.5, 0.5))
    assert out.meta["outliers_removed"] <= 0.001 * z.size


def test_smooth_features_wider_than_the_window_are_kept() -> None:
    yy, xx = np.mgrid[0:300, 0:300].astype(float)
    z = rough(4, shape=(300, 300), corr_px=1.0, sq=0.02)
    for cy, cx, r in ((60, 60, 12), (150, 200, 20), (240, 90, 8)):  # paraboloid bumps 1-2 µm high
        d2 = ((yy - cy) ** 2 + (xx - cx) ** 2) / r**2
        z += np.where(d2 < 1, 1.5 * (1 - d2), 0.0)
    out = remove_outliers(ss.Surface(z, 0.5, 0.5))
    assert out.meta["outliers_removed"] <= 0.001 * z.size
    assert not np.isnan(out.z[150, 200]) and not np.isnan(out.z[60, 60])


def test_plateau_corners_ridges_and_steep_rough_parts_are_kept() -> None:
    rng = np.random.default_rng(9)
    z = rng.normal(0, 0.01, (200, 240))
    z[40:100, 50:120] += 2.0  # a plateau with sharp corners (a step-height standard)
    z[150, 20:200] += 1.0  # a ridge one pixel wide
    z[120:190, 60] -= 1.0  # a trench one pixel wide
    z[:, 170:] += rng.normal(0, 0.3, (200, 70))  # a much rougher (steeper) part of the map
    spiky, idx = plant_spikes(z, 20, 8.0, 9)
    out = remove_outliers(ss.Surface(z, 1.0, 1.0))
    assert out.meta["outliers_removed"] <= 0.001 * z.size
    assert not np.isnan(out.z[40, 50]) and not np.isnan(out.z[99, 119]) and not np.isnan(out.z[150, 100])
    assert np.isnan(remove_outliers(ss.Surface(spiky, 1.0, 1.0)).z.ravel()[idx]).all()


def test_pairs_of_spike_pixels_are_removed() -> None:
    z = rough(12)
    z[50, 60:62] += 4.0  # two neighbouring spike pixels
    z[80:82, 90] -= 3.0
    z[120, 30] += 4.0
    z[121, 31] += 2.5  # diagonal neighbours of different heights
    out = remove_outliers(ss.Surface(z, 1.0, 1.0))
    for rc in ((50, 60), (50, 61), (80, 90), (81, 90), (120, 30), (121, 31)):
        assert np.isnan(out.z[rc]), rc


def test_real_instrument_files(real_dir) -> None:
    """No real map loses more than 2 % of its points; the MetroPro map's spikes go (Sz drops 10x)."""
    import warnings

    for path in sorted((real_dir / "height").iterdir()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = ss.read(path)
        except SurfscanError:
            continue
        if min(s.shape) < 8:
            continue
        out = remove_outliers(s)
        assert out.meta["outliers_removed"] <= 0.02 * s.z.size, path.name
        if path.name == "ST_metropro-1.dat":
            before = ss.roughness(ss.level(s, "plane"), ["Sz"])["Sz"]
            assert ss.roughness(ss.level(out, "plane"), ["Sz"])["Sz"] < 0.1 * before


def test_spikes_next_to_holes_and_in_generated_maps() -> None:
    z = rough(5)
    holes = np.zeros(z.shape, bool)
    holes[100:120, 100:130] = True
    z[holes] = np.nan
    z[99, 110] += 3.0  # on the rim of the hole
    z[121, 131] -= 3.0
    out = remove_outliers(ss.Surface(z, 0.5, 0.5))
    assert np.isnan(out.z[99, 110]) and np.isnan(out.z[121, 131])
    assert out.meta["outliers_removed"] <= 2 + z.size // 1000
    s, _ = synthetic_height_map((512, 768), seed=3, n_spikes=0, sq_um=0.05)
    assert remove_outliers(s).meta["outliers_removed"] <= 0.001 * s.z.size


def test_global_method_and_options() -> None:
    z = rough(6)
    z[10, 10] = -50.0  # a dropout to the stage
    out = remove_outliers(ss.Surface(z, 1.0, 1.0), method="global")
    assert np.isnan(out.z[10, 10]) and out.meta["outliers_removed"] <= 1 + z.size // 1000
    spiky, idx = plant_spikes(rough(6), 30, 5.0, 6)
    assert np.isnan(remove_outliers(ss.Surface(spiky, 1, 1), size=7).z.ravel()[idx]).all()
    twice = remove_outliers(remove_outliers(ss.Surface(spiky, 1, 1)))
    assert twice.meta["outliers_removed"] >= 30 and len(twice.meta["history"]) == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [({"method": "mean"}, "outlier method"), ({"k": 0}, "threshold"), ({"size": 4}, "odd"), ({"size": 1}, "odd")],
)
def test_remove_outliers_bad_options(kwargs, match) -> None:
    with pytest.raises(SurfscanError, match=match):
        remove_outliers(ss.Surface(rough(0, (20, 20)), 1, 1), **kwargs)


# --- filling ------------------------------------------------------------------------------------


def random_holes(shape, fraction: float, seed: int, radius: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(fraction * shape[0] * shape[1] / (np.pi * radius**2))
    mask = np.zeros(shape, bool)
    mask[rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)] = True
    return ndimage.binary_dilation(mask, ndimage.generate_binary_structure(2, 1), iterations=radius)


@pytest.mark.parametrize("method", ["harmonic", "thinplate"])
@pytest.mark.parametrize("dx, dy", [(1.0, 1.0), (0.5, 0.25)])
def test_fill_is_exact_on_linear_and_harmonic_surfaces(dx, dy, method) -> None:
    yy, xx = np.mgrid[0:80, 0:100].astype(float)
    x, y = xx * dx, yy * dy
    holes = random_holes((80, 100), 0.15, 1, radius=3)
    holes[30:50, 40:70] = True
    holes[:, :2] &= False
    for truth in (0.3 * x - 0.7 * y + 2.0, (x - 20) ** 2 - (y - 10) ** 2, x * y):
        z = np.where(holes, np.nan, truth)
        f = fill_nonmeasured(ss.Surface(z, dx, dy), method)
        interior = holes.copy()  # holes off the border (thin plate: two pixels off) are filled exactly
        lab, _ = ndimage.label(holes)
        w = 1 if method == "harmonic" else 2
        border = np.unique(np.concatenate([lab[:w].ravel(), lab[-w:].ravel(), lab[:, :w].ravel(), lab[:, -w:].ravel()]))
        interior[np.isin(lab, border[border > 0])] = False
        tol = 1e-8 if method == "harmonic" else 1e-5  # thin plate: normal equations, squared condition
        np.testing.assert_allclose(f.z[interior], truth[interior], rtol=0, atol=tol * np.ptp(truth))
        assert not np.isnan(f.z).any() and f.meta["points_filled"] == int(holes.sum())
        assert not f.has_invalid


@pytest.mark.parametrize("seed", [0, 1])
def test_ten_percent_holes_filled_to_two_percent_of_peak_to_peak(seed) -> None:
    yy, xx = np.mgrid[0:400, 0:500].astype(float)
    rng = np.random.default_rng(seed)
    truth = np.sin(xx / rng.uniform(25, 40)) * np.cos(yy / rng.uniform(25, 40)) + 0.004 * xx
    truth += 0.3 * correlated_noise(rng, truth.shape, 25.0)  # smooth roughness
    holes = random_holes(truth.shape, 0.10, seed, radius=4)
    holes[100:120, 200:225] = True
    assert 0.07 < holes.mean() < 0.13
    f = fill_nonmeasured(ss.Surface(np.where(holes, np.nan, truth), 1.0, 1.0))
    assert np.max(np.abs(f.z - truth)) <= 0.02 * np.ptp(truth)
    near = fill_nonmeasured(ss.Surface(np.where(holes, np.nan, truth), 1.0, 1.0), method="nearest")
    assert not np.isnan(near.z).any() and np.max(np.abs(near.z - truth)) > np.max(np.abs(f.z - truth))


def test_thin_plate_is_exact_on_quadratics_and_better_on_curved_surfaces() -> None:
    yy, xx = np.mgrid[0:200, 0:260].astype(float)
    holes = random_holes(xx.shape, 0.10, 3, radius=5)
    holes[0], holes[:, 0], holes[:, -1] = True, True, False  # border holes too
    quad = 2e-4 * (xx - 90) ** 2 - 1e-4 * (yy - 40) * (xx - 10) + 3e-4 * yy**2
    f = fill_nonmeasured(ss.Surface(np.where(holes, np.nan, quad), 1.0, 1.0))
    lab, _ = ndimage.label(holes)
    near = np.unique(np.concatenate([lab[:2].ravel(), lab[-2:].ravel(), lab[:, :2].ravel(), lab[:, -2:].ravel()]))
    inner = holes & ~np.isin(lab, near[near > 0])
    np.testing.assert_allclose(f.z[inner], quad[inner], atol=1e-5 * np.ptp(quad))  # conditioning, see above
    assert np.max(np.abs(f.z - quad)) <= 0.01 * np.ptp(quad)  # holes on the border carry on smoothly
    assert "thinplate" in f.meta["history"][-1]
    wave = np.sin(2 * np.pi * xx / 60) * np.cos(2 * np.pi * yy / 75)  # holes a fifth of a wavelength wide
    z = np.where(holes, np.nan, wave)
    err = {m: np.max(np.abs(fill_nonmeasured(ss.Surface(z, 1.0, 1.0), m).z - wave)) for m in ("thinplate", "harmonic")}
    assert err["thinplate"] <= 0.02 * np.ptp(wave) and err["thinplate"] < 0.5 * err["harmonic"]
    line = fill_nonmeasured(ss.Surface(np.array([[1.0, np.nan, 3.0, np.nan]]), 1.0, 1.0))
    np.testing.assert_allclose(line.z, [[1.0, 2.0, 3.0, 4.0]])  # one row: the line carries on straight
    tiny = fill_nonmeasured(ss.Surface(np.array([[np.nan], [2.0]]), 1.0, 1.0))  # no thin-plate term: harmonic
    np.testing.assert_allclose(tiny.z, [[2.0], [2.0]])
    assert "harmonic" in tiny.meta["history"][-1]


def test_fill_without_holes_and_errors() -> None:
    s = ss.Surface(rough(0, (20, 30)), 1, 1)
    f = fill_nonmeasured(s)
    assert f.meta["points_filled"] == 0 and np.array_equal(f.z, s.z)
    with pytest.raises(SurfscanError, match="fill method"):
        fill_nonmeasured(s, method="cubic")
    with pytest.raises(SurfscanError, match="no measured points"):
        fill_nonmeasured(ss.Surface(np.full((5, 5), np.nan), 1, 1))
    with pytest.raises(SurfscanError, match="Surface"):
        remove_outliers(np.zeros((5, 5)))


def test_outliers_then_fill_gives_a_nan_free_surface() -> None:
    s, _ = synthetic_height_map((256, 384), seed=2)
    assert s.has_invalid
    f = fill_nonmeasured(remove_outliers(s))
    assert not np.isnan(f.z).any()
    assert f.meta["points_filled"] == int(np.isnan(s.z).sum()) + f.meta["outliers_removed"]


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_roughness_outliers_and_fill(tmp_path, capsys) -> None:
    clean = rough(8, (120, 160))
    spiky, _ = plant_spikes(clean, 10, 5.0, 8)
    spiky[5:8, 5:8] = np.nan
    path = tmp_path / "map.npy"
    np.save(path, spiky)
    assert main(["roughness", str(path), "--params", "Sz", "--outliers", "--fill", "--json"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["outliers_removed"] == 10 and rec["points_filled"] == 19
    assert rec["settings"]["outliers"] == "median" and rec["settings"]["fill"] == "thinplate"
    s = fill_nonmeasured(remove_outliers(ss.Surface(spiky, 1, 1)))
    assert rec["parameters"]["Sz"] == pytest.approx(ss.roughness(ss.level(s, "plane"), ["Sz"])["Sz"], rel=1e-12)
    assert main(["roughness", str(path), "--params", "Sz", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]
    assert plain["parameters"]["Sz"] > 3 * rec["parameters"]["Sz"] and "outliers_removed" not in plain

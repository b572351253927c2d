"""Profiles and ISO 21920-2 profile roughness: analytic truths, surfalize cross-checks, filter, CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import surfscan as ss
from surfscan.cli import main
from surfscan.errors import SurfscanError, SurfscanWarning
from surfscan.profile_filter import default_cutoffs, gaussian_profile_filter, resolve_operators
from surfscan.profile_parameters import PROFILE_PARAMETERS, profile_roughness, profile_roughness_with_settings
from surfscan.profiles import Profile, profile


def sinusoid(amplitude: float, wavelength: float, per_period: int, periods: int, phase: float = 0.0) -> Profile:
    h = wavelength / per_period
    x = np.arange(per_period * periods) * h
    return Profile(amplitude * np.sin(2 * np.pi * x / wavelength + phase), h)


# --- analytic truths ----------------------------------------------------------------------------


@pytest.mark.parametrize("amplitude, wavelength, periods", [(0.7, 25.0, 15), (2.3, 4.0, 10), (0.05, 80.0, 5)])
def test_sinusoid_whole_periods_per_sampling_length(amplitude, wavelength, periods) -> None:
    n = 1000  # points per period, a multiple of 4: the crests are sampled
    p = sinusoid(amplitude, wavelength, n, periods)
    r = profile_roughness(p, lambda_c="none", n_sampling=5)
    a = amplitude
    assert r["Rq"] == pytest.approx(a / math.sqrt(2), abs=1e-6 * a)
    assert r["Ra"] == pytest.approx(2 * a / math.pi, abs=1e-5 * a)
    assert r["Ra"] == pytest.approx(2 * a / n / math.tan(math.pi / n), rel=1e-9)  # exact sampled value
    assert r["Rz"] == pytest.approx(2 * a, abs=1e-4 * a)
    assert r["Rp"] == pytest.approx(a, rel=1e-9) and r["Rv"] == pytest.approx(a, rel=1e-9)
    assert r["Rt"] == pytest.approx(2 * a, rel=1e-9)
    assert abs(r["Rsk"]) < 1e-9
    assert r["Rku"] == pytest.approx(1.5, abs=1e-9)
    h = wavelength / n
    # forward differences over the N - 1 pairs: the cyclic sum minus the one wrap-around difference
    big_n = n * periods
    sum_d2 = big_n * (2 * a * math.sin(math.pi / n)) ** 2 / 2 - (a * math.sin(2 * math.pi / n)) ** 2
    assert r["Rdq"] == pytest.approx(math.sqrt(sum_d2 / (big_n - 1)) / h, rel=1e-9)
    assert r["RSm"] == pytest.approx(wavelength, rel=1e-9)
    # material ratio: half the length lies above the mean line
    assert profile_roughness(p, ["Rmr"], lambda_c="none", rmr_c=a)["Rmr"] == pytest.approx(50.0, abs=0.2)
    assert profile_roughness(p, ["Rdc"], lambda_c="none", rdc_p=25, rdc_q=75)["Rdc"] == pytest.approx(
        2 * a * math.sin(math.pi / 4), rel=1e-4
    )


def test_sinusoid_random_phase_and_lambda_c_zero() -> None:
    p = sinusoid(1.2, 10.0, 800, 20, phase=0.37)
    r = profile_roughness(p, ["Rq", "Rsk", "Rku", "Rz"], lambda_c=0, n_sampling=5)
    assert r["Rq"] == pytest.approx(1.2 / math.sqrt(2), rel=1e-9)
    assert abs(r["Rsk"]) < 1e-9 and r["Rku"] == pytest.approx(1.5, abs=1e-9)
    assert r["Rz"] == pytest.approx(2.4, rel=1e-4)


def test_rk_family_of_a_sinusoid_is_the_areal_sk_family() -> None:
    p = sinusoid(1.0, 10.0, 400, 10)
    r = profile_roughness(p, ["Rk", "Rpk", "Rvk", "Rmr1", "Rmr2"], lambda_c="none")
    s = ss.roughness(ss.Surface(p.z[None, :] - p.z.mean(), p.spacing, p.spacing), ["Sk", "Spk", "Svk", "Smr1", "Smr2"])
    assert [r[k] for k in ("Rk", "Rpk", "Rvk", "Rmr1", "Rmr2")] == pytest.approx(list(s.values()), rel=1e-12)
    assert 0 < r["Rmr1"] < r["Rmr2"] <= 100 and r["Rk"] > 0


def test_form_line_removes_a_tilt() -> None:
    p = sinusoid(0.5, 10.0, 400, 10)
    tilted = Profile(p.z + 0.02 * np.arange(p.n) * p.spacing + 3.0, p.spacing)
    flat = profile_roughness(p, ["Rq"], lambda_c="none", form="line")["Rq"]
    assert profile_roughness(tilted, ["Rq"], lambda_c="none", form="line")["Rq"] == pytest.approx(flat, rel=1e-9)


# --- surfalize cross-check ----------------------------------------------------------------------


@pytest.mark.parametrize("seed, n", [(0, 1000), (1, 1003), (2, 4999), (3, 77)])
def test_matches_surfalize_profile_without_filters(seed, n) -> None:
    surfalize = pytest.importorskip("surfalize")
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(size=n)) * 0.02 + rng.normal(size=n) * 0.05 + 4.0
    ours = profile_roughness(Profile(z, 0.3), lambda_c="none")
    ref = surfalize.Profile(z, 0.3)
    # same definitions: mean line = mean, 5 sampling lengths by array_split, forward-difference slope
    for k in ("Ra", "Rq", "Rz", "Rsk", "Rku", "Rp", "Rt", "Rdq"):
        assert ours[k] == pytest.approx(getattr(ref, k)(), rel=1e-9, abs=1e-12), k
    levelled = profile_roughness(Profile(z, 0.3), ["Ra", "Rq", "Rz"], lambda_c="none", form="line")
    ref_l = ref.level()
    for k in ("Ra", "Rq", "Rz"):
        assert levelled[k] == pytest.approx(getattr(ref_l, k)(), rel=1e-9), k


def test_rv_differs_from_surfalize_only_where_a_sampling_length_lies_above_the_mean() -> None:
    """ISO: Rv is the depth of the deepest point below the mean line, so Rz = Rp + Rv per sampling length.

    surfalize takes |min| per sampling length, which flips the sign when a whole sampling length lies
    above the mean line. Analytic case: two sampling lengths, the first at +1 +- 0.5, the second at
    -1 +- 0.5 (mean 0): valleys are 0.5 (above the line, i.e. depth -0.5) and 1.5 -> Rv = 0.5.
    """
    surfalize = pytest.importorskip("surfalize")
    first = 1.0 + 0.5 * np.sin(np.linspace(0, 4 * np.pi, 400, endpoint=False))
    z = np.concatenate([first, -first])
    r = profile_roughness(Profile(z, 1.0), ["Rp", "Rv", "Rz"], lambda_c="none", n_sampling=2)
    assert r["Rv"] == pytest.approx(0.5, rel=1e-9)
    assert r["Rp"] + r["Rv"] == pytest.approx(r["Rz"], rel=1e-12)
    assert surfalize.Profile(z, 1.0).Rv(n_sections=2) == pytest.approx(1.0, rel=1e-9)  # (0.5 + 1.5) / 2


def test_rp_plus_rv_is_rz_on_random_profiles() -> None:
    rng = np.random.default_rng(5)
    for _ in range(5):
        z = np.cumsum(rng.normal(size=3000))
        r = profile_roughness(Profile(z, 0.5), ["Rp", "Rv", "Rz"], lambda_c="none")
        assert r["Rp"] + r["Rv"] == pytest.approx(r["Rz"], rel=1e-12)


# --- filter and default cut-offs ----------------------------------------------------------------


@pytest.mark.parametrize("ratio, low, high", [(1.0, 0.49, 0.51), (10.0, 0.0, 0.01), (0.3, 0.99, 1.0)])
def test_gaussian_profile_filter_transmission(ratio, low, high) -> None:
    lambda_c = 50.0
    wavelength = lambda_c / ratio if ratio != 1.0 else lambda_c
    if ratio == 10.0:
        wavelength = lambda_c * 10  # long wave: the L-filter removes it
    elif ratio == 0.3:
        wavelength = lambda_c * 0.3  # short wave: the L-filter keeps it
    h = 0.25
    x = np.arange(int(40 * max(wavelength, lambda_c) / h)) * h
    p = Profile(np.sin(2 * np.pi * x / wavelength), h)
    out = gaussian_profile_filter(p, lambda_c, "high").z
    core = out[x.size // 4 : 3 * x.size // 4]
    transmission = math.sqrt(2) * float(np.sqrt(np.mean(core**2)))
    assert low <= transmission <= high


@pytest.mark.parametrize("ratio", [1.0, 3.0, 8.0])
def test_closed_profile_sinusoid_is_scaled_by_its_exact_transmission(ratio) -> None:
    from surfscan.filters import ALPHA

    amplitude, wavelength = 0.3, 12.0
    p = sinusoid(amplitude, wavelength, 240, 20)  # whole periods: a closed profile
    r, settings = profile_roughness_with_settings(p, ["Rq", "Rku"], lambda_c=ratio * wavelength, lambda_s="none")
    transmission = 1 - math.exp(-math.pi * (ALPHA * ratio) ** 2)  # ISO 16610-21 L-filter at this wavelength
    assert settings["filter_ends"] == "closed"
    assert r["Rq"] == pytest.approx(transmission * amplitude / math.sqrt(2), rel=1e-9)
    assert r["Rku"] == pytest.approx(1.5, abs=1e-9)


def test_iso_default_cutoffs_on_a_long_sinusoid() -> None:
    from surfscan.filters import ALPHA

    amplitude, wavelength = 0.04, 16.0  # Rz 0.08 µm -> lambda_c 80 µm, lambda_s 2.5 µm
    p = sinusoid(amplitude, wavelength, 320, 25)  # 400 µm = 5 x 80 µm
    r, settings = profile_roughness_with_settings(p, ["Rq"])
    assert (settings["lambda_c_um"], settings["lambda_s_um"]) == (80.0, 2.5)
    t_s = math.exp(-math.pi * (ALPHA * 2.5 / wavelength) ** 2)  # the S-filter takes 1.7 % of this wave
    t_l = 1 - math.exp(-math.pi * (ALPHA * 80.0 / wavelength) ** 2)
    assert r["Rq"] == pytest.approx(t_s * t_l * amplitude / math.sqrt(2), rel=1e-9)


def test_open_profiles_use_normalised_convolution() -> None:
    rng = np.random.default_rng(2)
    p = Profile(np.cumsum(rng.normal(size=3000)) * 0.01, 0.5)  # a random walk: its ends differ
    _, settings = profile_roughness_with_settings(p, ["Ra"], lambda_c=80.0)
    assert settings["filter_ends"] == "open"
    assert "open profile" in gaussian_profile_filter(p, 80.0).meta["history"][-1]


def test_filter_keeps_nan_and_no_border_bias() -> None:
    h = 0.5
    z = np.full(2000, 2.0)
    z[500:520] = np.nan
    out = gaussian_profile_filter(Profile(z, h), 80.0, "high").z
    assert np.isnan(out[500:520]).all()
    assert np.nanmax(np.abs(out)) < 1e-12  # a constant has no roughness, even at the ends and the hole
    for n in (50, 2000):  # kernel longer and shorter than the profile, no hole
        full = gaussian_profile_filter(Profile(np.full(n, -1.5), h), 80.0, "high").z
        assert np.max(np.abs(full)) < 1e-12


def test_default_cutoffs_follow_the_table() -> None:
    rng = np.random.default_rng(3)
    n = 20000  # 0.5 µm spacing, 10 mm
    z = rng.normal(size=n) * 0.04  # white noise: Rz about 0.3 µm -> 250 µm, lambda_s 2.5 µm
    lc, ls, note = default_cutoffs(Profile(z, 0.5), 5)
    assert (lc, ls) == (250.0, 2.5) and "ISO 21920-3" in note
    _, settings = profile_roughness_with_settings(Profile(z, 0.5), ["Ra"])
    assert settings["lambda_c_um"] == 250.0 and settings["lambda_s_um"] == 2.5
    big = Profile(z * 10, 0.5)  # Rz ~ 3 µm -> 800 µm
    assert default_cutoffs(big, 5)[:2] == (800.0, 2.5)


def test_default_cutoff_on_a_short_profile_warns_and_filters_nothing() -> None:
    p = sinusoid(1.0, 10.0, 200, 10)  # 100 µm long, Rz 2 µm -> the table wants 800 µm
    with pytest.warns(SurfscanWarning, match="no S- or L-filter"):
        r, settings = profile_roughness_with_settings(p, ["Rq"])
    assert settings["lambda_c_um"] is None and r["Rq"] == pytest.approx(1 / math.sqrt(2), rel=1e-9)


def test_lambda_s_below_two_samples_is_not_applied() -> None:
    p = Profile(np.random.default_rng(1).normal(size=4000), 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, s = resolve_operators(p, lambda_c=800.0)
    assert s["lambda_s_um"] is None and "not applied" in s["cutoff_source"]


# --- extraction ---------------------------------------------------------------------------------


@pytest.fixture()
def plane() -> ss.Surface:
    yy, xx = np.mgrid[0:60, 0:80].astype(float)
    return ss.Surface(0.3 * xx - 0.2 * yy + 1.0, dx=0.5, dy=0.25)


def test_row_and_col_are_copied(plane) -> None:
    r = profile(plane, "row:7")
    assert np.array_equal(r.z, plane.z[7]) and r.spacing == 0.5 and "no interpolation" in r.meta["method"]
    c = profile(plane, "col:-1")
    assert np.array_equal(c.z, plane.z[:, -1]) and c.spacing == 0.25


def test_oblique_line_is_exact_on_a_plane(plane) -> None:
    p = profile(plane, "line:3.5,2,70,55.25")
    t = np.linspace(0, 1, p.n)
    x, y = 3.5 + t * 66.5, 2 + t * 53.25
    np.testing.assert_allclose(p.z, 0.3 * x - 0.2 * y + 1.0, rtol=0, atol=1e-12)
    length = math.hypot(66.5 * 0.5, 53.25 * 0.25)
    assert p.spacing == pytest.approx(length / (p.n - 1)) and p.spacing <= 0.25
    assert "bilinear" in p.meta["method"]
    um = profile(plane, "line:1.75,0.5,35,13.8125", units="um")
    np.testing.assert_allclose(um.z, p.z, atol=1e-12)


def test_horizontal_line_equals_the_row(plane) -> None:
    z = np.random.default_rng(0).normal(size=(20, 30))
    s = ss.Surface(z, 1.0, 1.0)
    np.testing.assert_allclose(profile(s, "line:0,4,29,4").z, z[4], atol=1e-12)


def test_nan_neighbours_make_nan(plane) -> None:
    z = plane.z.copy()
    z[10, 10] = np.nan
    p = profile(ss.Surface(z, 1.0, 1.0), "line:0,10.5,79,10.5")
    assert np.isnan(p.z).sum() >= 1 and np.isfinite(p.z).sum() > 70
    r = profile_roughness(p, ["Ra", "Rz", "Rdq", "RSm"], lambda_c="none")
    assert all(np.isfinite(v) or k == "RSm" for k, v in r.items())


@pytest.mark.parametrize("at", ["row:60", "col:x", "diag:3", "line:0,0,1", "line:0,0,100,0", "row", "line:0,0,0.1,0"])
def test_bad_positions_raise(plane, at) -> None:
    with pytest.raises(SurfscanError):
        profile(plane, at)


def test_bad_parameters_raise() -> None:
    p = sinusoid(1.0, 10.0, 100, 10)
    with pytest.raises(SurfscanError, match="unknown profile parameter"):
        profile_roughness(p, ["Rxx"])
    with pytest.raises(SurfscanError, match="n_sampling"):
        profile_roughness(p, n_sampling=0)
    with pytest.raises(SurfscanError, match="lambda_c"):
        profile_roughness(p, lambda_c=-3)
    with pytest.raises(SurfscanError, match="form"):
        profile_roughness(p, lambda_c="none", form="cubic")
    with pytest.raises(SurfscanError, match="Profile"):
        profile_roughness(np.zeros(10))
    with pytest.raises(SurfscanError):
        Profile(np.zeros((2, 2)), 1.0)
    assert set(profile_roughness(p, lambda_c="none")) == set(PROFILE_PARAMETERS)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_profile_json_matches_library(tmp_path, capsys) -> None:
    z = np.random.default_rng(0).normal(0, 0.1, (30, 400))
    path = tmp_path / "map.npy"
    np.save(path, z)
    code = main(["profile", str(path), "--at", "row:5", "--lambda-c", "50", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    (rec,) = json.loads(out.out)
    prof = profile(ss.level(ss.Surface(z, 1, 1), "plane"), "row:5")
    ref = profile_roughness(prof, lambda_c=50.0)
    for k, v in ref.items():
        assert rec["parameters"][k] == pytest.approx(v, rel=1e-12, nan_ok=True)
    assert rec["settings"]["lambda_c_um"] == 50.0 and rec["settings"]["at"] == "row:5"
    assert rec["units"]["Ra"] == "um"


def test_cli_profile_csv_and_errors(tmp_path, capsys) -> None:
    path = tmp_path / "map.npy"
    np.save(path, np.random.default_rng(1).normal(size=(20, 50)))
    assert main(["profile", str(path), "--at", "col:3", "--lambda-c", "none", "--params", "Ra,Rz", "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,Ra,Rz" and len(lines) == 2
    assert main(["profile", str(path), "--at", "row:99"]) == 1
    assert "outside the map" in capsys.readouterr().err
    assert main(["profile", str(path), "--at", "row:1", "--params", "Sa"]) == 1

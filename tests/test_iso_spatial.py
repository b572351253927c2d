"""Sal, Str and Std: analytic surfaces, masked maps, and surfalize as an independent implementation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import surfscan as ss
from surfscan.errors import SurfscanWarning, UndefinedParameterError


def gaussian_acf_surface(sigma_px: float, shape=(384, 384), seed: int = 0) -> np.ndarray:
    """White noise smoothed by a Gaussian of sigma_px: its ACF is exp(-r^2 / (4 sigma^2))."""
    rng = np.random.default_rng(seed)
    return gaussian_filter(rng.normal(size=shape), sigma_px, mode="wrap")


def grooves_at(angle_deg: float, period: float, shape=(200, 240), noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Grooves whose crests run at angle_deg from +x, counter-clockwise with y up the display (row 0 on top)."""
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    yup = (ny - 1) - y
    t = np.deg2rad(angle_deg)
    across = -np.sin(t) * x + np.cos(t) * yup  # distance across the crests
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * across / period) + noise * rng.normal(size=shape)


def test_sal_of_a_gaussian_acf_surface_is_its_correlation_length() -> None:
    sigma, dx = 4.0, 0.5
    sal = [ss.roughness(ss.Surface(gaussian_acf_surface(sigma, seed=k), dx, dx), ["Sal"])["Sal"] for k in range(3)]
    # ACF = exp(-r^2 / (4 sigma^2)) falls to 0.2 at r = 2 sigma sqrt(ln 5)
    expected = 2 * sigma * np.sqrt(np.log(5)) * dx
    assert np.mean(sal) == pytest.approx(expected, rel=0.04)


def test_sal_follows_the_threshold_option() -> None:
    s = ss.Surface(gaussian_acf_surface(3.0, shape=(256, 256)), 1.0, 1.0)
    low = ss.roughness(s, ["Sal"], acf_threshold=0.5)["Sal"]
    high = ss.roughness(s, ["Sal"])["Sal"]
    assert low == pytest.approx(2 * 3.0 * np.sqrt(np.log(2)), rel=0.05)
    assert low < high
    with pytest.raises(ss.SurfscanError, match="acf_threshold"):
        ss.roughness(s, ["Sal"], acf_threshold=1.5)


def test_str_is_near_one_for_isotropic_and_near_zero_for_grooves() -> None:
    iso = ss.roughness(ss.Surface(gaussian_acf_surface(3.0, shape=(256, 256)), 1, 1), ["Str"])["Str"]
    assert 0.8 < iso <= 1.0
    grooved = ss.Surface(grooves_at(0.0, 16, noise=0.05), 1, 1)
    with pytest.warns(SurfscanWarning, match="upper bound"):
        bound = ss.roughness(grooved, ["Str"])["Str"]
    assert 0 < bound < 0.05
    with pytest.raises(UndefinedParameterError, match="Str"):
        ss.roughness(grooved, ["Str"], str_undefined="error")


def test_anisotropic_gaussian_acf_gives_the_ratio_of_lengths() -> None:
    rng = np.random.default_rng(5)
    z = gaussian_filter(rng.normal(size=(256, 320)), (2.0, 6.0), mode="wrap")
    r = ss.roughness(ss.Surface(z, 1, 1), ["Sal", "Str"])
    assert r["Sal"] == pytest.approx(2 * 2.0 * np.sqrt(np.log(5)), rel=0.08)
    assert r["Str"] == pytest.approx(2.0 / 6.0, rel=0.1)


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 100.0, 150.0])
def test_std_of_grooves_at_a_known_angle(angle: float) -> None:
    z = grooves_at(angle, 12.0, shape=(256, 256))
    std = ss.roughness(ss.Surface(z, 1, 1), ["Std"])["Std"]
    # the angular spectrum peaks across the lay: Std = angle + 90 (mod 180), to the 0.5 degree bin
    diff = (std - (angle + 90.0) + 90.0) % 180.0 - 90.0
    assert abs(diff) <= 1.0


def test_std_uses_physical_frequencies_when_dx_differs_from_dy() -> None:
    ny, nx, dx, dy = 200, 200, 0.5, 1.0
    y, x = np.mgrid[0:ny, 0:nx]
    # crests at 45 degrees in micrometres: z depends on x_um - yup_um
    z = np.sin(2 * np.pi * (x * dx - (ny - 1 - y) * dy) / 10.0)  # frequencies on the DFT grid
    std = ss.roughness(ss.Surface(z, dx, dy), ["Std"])["Std"]
    assert abs(std - 135.0) <= 1.0
    power = ss.roughness(ss.Surface(z, dx, dy), ["Std"], std_spectrum="power")["Std"]
    assert abs(power - 135.0) <= 1.0


def test_masked_surface_uses_normalised_correlation() -> None:
    z = gaussian_acf_surface(3.0, shape=(256, 256), seed=4)
    full = ss.roughness(ss.Surface(z, 1, 1), ["Sal", "Str"])
    holed = z.copy()
    holed[100:140, 60:90] = np.nan
    holed[::17, ::13] = np.nan
    r = ss.roughness(ss.Surface(holed, 1, 1), ["Sal", "Str", "Std"])
    assert r["Sal"] == pytest.approx(full["Sal"], rel=0.05)
    assert r["Str"] == pytest.approx(full["Str"], rel=0.1)
    assert np.isfinite(r["Std"])


def test_flat_and_too_small_fields_raise_clearly() -> None:
    with pytest.raises(UndefinedParameterError, match="Sal.*flat"):
        ss.roughness(ss.Surface(np.zeros((16, 16)), 1, 1), ["Sal"])
    with pytest.raises(UndefinedParameterError, match="Std.*flat"):
        ss.roughness(ss.Surface(np.zeros((16, 16)), 1, 1), ["Std"])
    with pytest.warns(SurfscanWarning, match="Sal is undefined"):
        assert np.isnan(ss.roughness(ss.Surface(np.zeros((16, 16)), 1, 1), ["Sal", "Sa"], undefined="nan")["Sal"])


CROSS_CASES = {
    "isotropic": lambda: gaussian_acf_surface(3.0, shape=(200, 256), seed=1),
    "anisotropic": lambda: gaussian_filter(np.random.default_rng(2).normal(size=(200, 256)), (2, 8)),
    "grooves_30": lambda: grooves_at(30.0, 20.0, shape=(200, 256), noise=0.05, seed=3),
    "fine": lambda: gaussian_filter(np.random.default_rng(4).normal(size=(200, 256)), 1.0),
}


@pytest.mark.parametrize("case", sorted(CROSS_CASES))
@pytest.mark.parametrize(("dx", "dy"), [(0.5, 0.5), (0.5, 0.4)])
def test_sal_str_std_match_surfalize(case: str, dx: float, dy: float) -> None:
    surfalize = pytest.importorskip("surfalize")
    z = CROSS_CASES[case]()
    z = z - z.mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = ss.roughness(ss.Surface(z, dx, dy), "spatial")
        ref = surfalize.Surface(z, dx, dy)
        # surfalize returns NaN where the lay outlasts the field; its 'bound' is our default
        ref_str = ref.Str(on_undefined="bound")
        assert ours["Sal"] == pytest.approx(ref.Sal(), rel=0.02)
        assert ours["Str"] == pytest.approx(ref_str, rel=0.02)
        assert ours["Std"] == pytest.approx(ref.Std(), abs=0.02 * 180)


@pytest.mark.parametrize("case", ["isotropic", "grooves_30"])
def test_half_lag_shortcut_gives_the_full_result(case: str, monkeypatch) -> None:
    import surfscan.iso25178.spatial as spatial

    z = CROSS_CASES[case]()
    s = ss.Surface(z, 0.5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = ss.roughness(s, ["Sal", "Str"])
        monkeypatch.setattr(spatial, "_SMALL", 0)  # take the half-lag path on this small map
        short = ss.roughness(s, ["Sal", "Str"])
    assert short["Sal"] == pytest.approx(full["Sal"], rel=1e-5)
    assert short["Str"] == pytest.approx(full["Str"], rel=1e-5)


@pytest.mark.parametrize("holes", [False, True])
def test_float32_autocorrelation_stays_within_its_stated_bound(holes: bool) -> None:
    """The ACF is computed in float32 FFTs. Against a float64 correlation it is within 2e-6 of ACF(0) over the
    lags up to half the field (where Sal and Str are found) and within 1e-3 of ACF(0) at every lag (the largest
    lags divide by few overlapping points)."""
    from scipy.signal import fftconvolve

    from surfscan.iso25178.spatial import autocorrelation_half

    z = 1e3 + gaussian_acf_surface(3.0, shape=(160, 190), seed=4)  # a large offset: the mean is removed first
    s = ss.Surface(z, 0.5, 0.5)
    valid = np.ones(z.shape, dtype=bool)
    if holes:
        valid[np.random.default_rng(1).random(z.shape) < 0.05] = False
        s = ss.Surface(np.where(valid, z, np.nan), 0.5, 0.5)
    ours = autocorrelation_half(s).astype(np.float64)
    z0 = np.where(valid, z - z[valid].mean(), 0.0)
    w = valid.astype(np.float64)
    ny, nx = z.shape
    full = fftconvolve(z0, z0[::-1, ::-1]) / np.maximum(np.rint(fftconvolve(w, w[::-1, ::-1])), 1.0)
    reference = full[ny - 1 :]
    acf0 = reference[0, nx - 1]
    error = np.abs(ours - reference) / acf0
    assert np.nanmax(error[: ny // 2 + 1, nx // 2 : nx // 2 + nx]) <= 2e-6
    assert np.nanmax(error) <= 1e-3

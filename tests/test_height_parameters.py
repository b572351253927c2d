"""Height parameters against analytic truths and Gwyddion's C library."""

from __future__ import annotations

import math

import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError
from surfscan.testing.gwyddion import gwyddion_parameters, harness

HEIGHT = ["Sa", "Sq", "Sp", "Sv", "Sz", "Ssk", "Sku"]


def sinusoid(amplitude: float, n_per_period: int, periods: int, rows: int = 4) -> ss.Surface:
    k = np.arange(n_per_period * periods)
    z = amplitude * np.sin(2 * np.pi * k / n_per_period)
    return ss.Surface(np.tile(z, (rows, 1)), 0.5, 0.5)


@pytest.mark.parametrize("n", [4, 7, 10, 16, 33, 100])
@pytest.mark.parametrize("amplitude", [0.05, 1.0, 3.7])
def test_sinusoid_sq_and_sa_closed_form(n: int, amplitude: float) -> None:
    r = ss.roughness(sinusoid(amplitude, n, 5), ["Sa", "Sq"])
    assert r["Sq"] == pytest.approx(amplitude / math.sqrt(2), rel=1e-9)
    sa_truth = (2 * amplitude / n) / math.tan(math.pi / n) if n % 2 == 0 else None
    if sa_truth is not None:  # the closed form holds for even N with phase 0
        assert r["Sa"] == pytest.approx(sa_truth, rel=1e-9)


def test_sa_of_finely_sampled_sinusoid_tends_to_2a_over_pi() -> None:
    r = ss.roughness(sinusoid(2.0, 2000, 3), ["Sa"])
    assert r["Sa"] == pytest.approx(4.0 / math.pi, rel=1e-5)


def test_known_distribution_moments() -> None:
    # two-level surface: half at +h, half at -h -> Sa = Sq = h, Ssk = 0, Sku = 1, Sz = 2h
    z = np.where(np.indices((64, 64)).sum(0) % 2 == 0, 0.3, -0.3)
    r = ss.roughness(ss.Surface(z, 1, 1), HEIGHT)
    assert r["Sa"] == pytest.approx(0.3, rel=1e-12)
    assert r["Sq"] == pytest.approx(0.3, rel=1e-12)
    assert r["Sz"] == pytest.approx(0.6, rel=1e-12)
    assert r["Sp"] == pytest.approx(0.3, rel=1e-12) and r["Sv"] == pytest.approx(0.3, rel=1e-12)
    assert abs(r["Ssk"]) < 1e-12
    assert r["Sku"] == pytest.approx(1.0, rel=1e-12)


def test_gaussian_surface_skew_kurtosis() -> None:
    z = np.random.default_rng(3).normal(0, 0.1, (512, 512))
    r = ss.roughness(ss.Surface(z, 1, 1), ["Ssk", "Sku", "Sq"])
    assert abs(r["Ssk"]) < 0.02
    assert r["Sku"] == pytest.approx(3.0, abs=0.05)


def test_nan_points_are_excluded() -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(size=(100, 120))
    holes = rng.random(z.shape) < 0.1
    zn = np.where(holes, np.nan, z)
    r = ss.roughness(ss.Surface(zn, 1, 1), HEIGHT)
    v = z[~holes]
    d = v - v.mean()
    assert r["Sa"] == pytest.approx(np.abs(d).mean(), rel=1e-12)
    assert r["Sq"] == pytest.approx(np.sqrt((d**2).mean()), rel=1e-12)
    assert r["Sz"] == pytest.approx(v.max() - v.min(), rel=1e-12)
    assert all(np.isfinite(list(r.values())))


def test_all_nan_surface_raises_naming_parameter() -> None:
    s = ss.Surface(np.full((4, 4), np.nan), 1, 1)
    with pytest.raises(SurfscanError, match="Sa"):
        ss.roughness(s, ["Sa"])


def test_flat_surface_skewness_raises() -> None:
    with pytest.raises(SurfscanError, match="Ssk"):
        ss.roughness(ss.Surface(np.ones((8, 8)), 1, 1), ["Ssk"])


def test_unknown_parameter_is_a_clear_error() -> None:
    with pytest.raises(SurfscanError, match="unknown parameter"):
        ss.roughness(ss.Surface(np.zeros((4, 4)), 1, 1), ["Sfoo"])


def test_registry_lists_height_parameters_with_units() -> None:
    reg = {p.name: p for p in ss.parameters()}
    for name in HEIGHT:
        assert name in reg and reg[name].family == "height" and reg[name].description
    assert reg["Sa"].unit == "um" and reg["Ssk"].unit == "1"


needs_gwyddion = pytest.mark.skipif(harness() is None, reason="Gwyddion oracle (libgwyddion20-dev) not available")


@needs_gwyddion
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_height_parameters_match_gwyddion(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ny, nx = rng.integers(50, 400, size=2)
    dx, dy = rng.uniform(0.05, 2.0, size=2)
    yy, xx = np.mgrid[0:ny, 0:nx]
    z = rng.gamma(2.0, 0.05, (ny, nx)) + 0.01 * xx * dx - 0.02 * yy * dy + rng.normal(0, 0.2)
    ours = ss.roughness(ss.level(ss.Surface(z, dx, dy), "plane"), HEIGHT)
    gwy = gwyddion_parameters(z, dx, dy)
    for name in HEIGHT:
        assert ours[name] == pytest.approx(gwy[name], rel=1e-9, abs=1e-13), name

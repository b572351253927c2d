"""Sdq and Sdr: closed forms, both conventions, NaN handling, and the Gwyddion oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import ellipe

import surfscan as ss
from surfscan.errors import SurfscanWarning, UndefinedParameterError
from surfscan.testing.gwyddion import gwyddion_parameters, harness


def grooves(amplitude: float, per_period: int, periods: int, rows: int, dx: float, dy: float) -> ss.Surface:
    """z = A sin(2 pi x / lambda) with nx - 1 = periods * per_period differences along x."""
    nx = periods * per_period + 1
    x = np.arange(nx) * dx
    lam = per_period * dx
    z = amplitude * np.sin(2 * np.pi * x / lam)
    return ss.Surface(np.tile(z, (rows, 1)), dx, dy)


@pytest.mark.parametrize("n", [6, 20, 200])
def test_sinusoid_sdq_closed_form(n: int) -> None:
    a, dx = 0.3, 0.5
    s = grooves(a, n, 4, 9, dx, 0.7)
    k = 2 * np.pi / (n * dx)
    # forward differences of a sampled sinusoid: mean(dz^2) = 2 A^2 sin^2(k dx / 2) over whole periods
    exact_discrete = np.sqrt(2.0) * a * np.sin(k * dx / 2) / dx
    assert ss.roughness(s, ["Sdq"])["Sdq"] == pytest.approx(exact_discrete, rel=1e-12)
    continuous = a * k / np.sqrt(2.0)  # rms of A k cos(kx)
    assert ss.roughness(s, ["Sdq"])["Sdq"] == pytest.approx(continuous, rel=(k * dx) ** 2 / 20)


@pytest.mark.parametrize("n", [8, 40, 400])
def test_sinusoid_sdr_closed_form(n: int) -> None:
    a, dx = 0.8, 0.25
    s = grooves(a, n, 3, 7, dx, 0.4)
    k = 2 * np.pi / (n * dx)
    x = np.arange(3 * n + 1) * dx
    slope = np.diff(a * np.sin(k * x)) / dx
    exact_discrete = 100 * (np.mean(np.sqrt(1 + slope**2)) - 1)  # every cell is a flat tilted rectangle
    assert ss.roughness(s, ["Sdr"])["Sdr"] == pytest.approx(exact_discrete, rel=1e-12)
    # continuous: mean of sqrt(1 + (A k cos kx)^2) = (2/pi) sqrt(1+m) E(m/(1+m)), m = (A k)^2
    m = (a * k) ** 2
    continuous = 100 * (2 / np.pi * np.sqrt(1 + m) * ellipe(m / (1 + m)) - 1)
    assert ss.roughness(s, ["Sdr"])["Sdr"] == pytest.approx(continuous, rel=0.5 * (k * dx) ** 2)


def test_tilted_plane_is_exact_in_the_iso_convention() -> None:
    y, x = np.mgrid[0:30, 0:40]
    gx, gy, dx, dy = 0.3, -0.2, 0.5, 0.8
    s = ss.Surface(gx * x * dx + gy * y * dy, dx, dy)
    r = ss.roughness(s, ["Sdq", "Sdr"])
    assert r["Sdq"] == pytest.approx(np.hypot(gx, gy), rel=1e-12)
    assert r["Sdr"] == pytest.approx(100 * (np.sqrt(1 + gx**2 + gy**2) - 1), rel=1e-10)
    # Gwyddion pools the x and y differences, so on a 30 x 40 grid its Sdq of a plane is
    # sqrt(2 (n_x gx^2 + n_y gy^2) / (n_x + n_y)), not |grad z|; its border strips are tilted
    # only along the border, so its Sdr of a plane is a little low.
    g = ss.roughness(s, ["Sdq", "Sdr"], convention="gwyddion")
    n_x, n_y = 30 * 39, 29 * 40
    assert g["Sdq"] == pytest.approx(np.sqrt(2 * (n_x * gx**2 + n_y * gy**2) / (n_x + n_y)), rel=1e-12)
    assert 0.9 * r["Sdr"] < g["Sdr"] < r["Sdr"]


def test_iso_convention_matches_surfalize() -> None:
    surfalize = pytest.importorskip("surfalize")
    rng = np.random.default_rng(11)
    for shape, dx, dy in [((64, 80), 0.5, 0.5), ((50, 70), 0.3, 0.45)]:
        z = np.cumsum(rng.normal(size=shape), axis=1) * 0.05 + rng.normal(size=shape) * 0.02
        ours = ss.roughness(ss.Surface(z, dx, dy), "hybrid")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = surfalize.Surface(z, dx, dy)
            assert ours["Sdq"] == pytest.approx(ref.Sdq(), rel=1e-9)
            assert ours["Sdr"] == pytest.approx(ref.Sdr(), rel=1e-9)


def test_nan_pairs_and_cells_are_skipped() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(20, 30))
    z[5, 7] = z[12, 0] = np.nan
    s = ss.Surface(z, 0.5, 0.25)
    gx = np.diff(z, axis=1) / 0.5
    gy = np.diff(z, axis=0) / 0.25
    expect = np.sqrt(np.nanmean(gx**2) + np.nanmean(gy**2))
    assert ss.roughness(s, ["Sdq"])["Sdq"] == pytest.approx(expect, rel=1e-12)
    # a cell counts only when its four corners are measured: compare with the same cells of a filled map
    full = np.where(np.isnan(z), 0.0, z)
    keep = ~(np.isnan(z[:-1, :-1]) | np.isnan(z[1:, :-1]) | np.isnan(z[:-1, 1:]) | np.isnan(z[1:, 1:]))
    assert keep.sum() == 19 * 29 - 4 - 2
    r = ss.roughness(s, ["Sdr"])["Sdr"]
    assert np.isfinite(r) and r > 0
    assert ss.roughness(ss.Surface(full, 0.5, 0.25), ["Sdr"])["Sdr"] != pytest.approx(r, rel=1e-6)


def test_gwyddion_area_refuses_nan_clearly() -> None:
    z = np.ones((6, 6))
    z[2, 2] = np.nan
    s = ss.Surface(z, 1, 1)
    with pytest.raises(UndefinedParameterError, match="Sdr.*gwyddion"):
        ss.roughness(s, ["Sdr"], convention="gwyddion")
    with pytest.warns(SurfscanWarning, match="Sdr"):
        assert np.isnan(ss.roughness(s, ["Sdr"], convention="gwyddion", undefined="nan")["Sdr"])
    with pytest.raises(ss.SurfscanError, match="convention"):
        ss.roughness(s, ["Sdq"], convention="mountains")


@pytest.mark.skipif(harness() is None, reason="Gwyddion oracle (libgwyddion20-dev, pkg-config, gcc) not available")
@pytest.mark.parametrize(("shape", "dx", "dy"), [((48, 64), 0.5, 0.5), ((40, 57), 0.2, 0.35), ((33, 33), 1.0, 2.0)])
def test_gwyddion_convention_matches_gwyddion(shape, dx: float, dy: float) -> None:
    rng = np.random.default_rng(shape[1])
    z = np.cumsum(rng.normal(size=shape), axis=0) * 0.1 + rng.normal(size=shape) * 0.05
    gwy = gwyddion_parameters(z, dx, dy, plane=False)
    ours = ss.roughness(ss.Surface(z, dx, dy), "hybrid", convention="gwyddion")
    assert ours["Sdq"] == pytest.approx(gwy["Sdq"], rel=1e-6)
    assert ours["Sdr"] == pytest.approx(gwy["Sdr"], rel=1e-6)
    # and the two conventions do differ on such a map, so the option matters
    iso = ss.roughness(ss.Surface(z, dx, dy), "hybrid")
    assert abs(iso["Sdr"] - gwy["Sdr"]) > 1e-4 * gwy["Sdr"]


def test_nearly_flat_sdr_keeps_its_precision() -> None:
    """Sdr = 100 (A/A0 - 1) loses digits when A/A0 is within 1e-9 of 1 (float64 has 16); surfscan sums
    the excess area of each triangle directly. A 1 nm sinusoid: the exact discrete value to 1e-9,
    where surfalize (area / projected - 1) is off by about 4e-4 relative."""
    a, n, dx = 1e-6, 20, 0.5
    x = np.arange(3 * n + 1) * dx
    z = np.tile(a * np.sin(2 * np.pi * x / (n * dx)), (7, 1))
    slope = np.diff(z[0]) / dx
    exact = 100 * np.mean(slope**2 / (np.sqrt(1 + slope**2) + 1))  # sqrt(1+s^2) - 1 without cancellation
    ours = ss.roughness(ss.Surface(z, dx, 0.4), ["Sdr"])["Sdr"]
    assert ours == pytest.approx(exact, rel=1e-9)
    surfalize = pytest.importorskip("surfalize")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = surfalize.Surface(z, dx, 0.4).Sdr()
    assert abs(ref / exact - 1) > 1e-6


def test_sdq_and_sdr_together_equal_each_alone() -> None:
    """Asked together, Sdq and Sdr share one pass over the map; the values are those of separate passes."""
    rng = np.random.default_rng(8)
    z = rng.normal(size=(300, 257)).cumsum(axis=0)
    z[rng.random(z.shape) < 0.02] = np.nan
    s = ss.Surface(z, 0.4, 0.6)
    both = ss.roughness(s, ["Sdq", "Sdr"])
    assert both["Sdq"] == pytest.approx(ss.roughness(s, ["Sdq"])["Sdq"], rel=1e-12)
    assert both["Sdr"] == pytest.approx(ss.roughness(s, ["Sdr"])["Sdr"], rel=1e-12)

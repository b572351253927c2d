"""Levelling: plane, polynomial and row alignment, with masks and NaN."""

from __future__ import annotations

import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError


def grid(ny=60, nx=80):
    return np.mgrid[0:ny, 0:nx].astype(float)


def test_plane_removes_tilt_exactly_with_physical_slopes() -> None:
    yy, xx = grid()
    dx, dy = 0.2, 0.5
    z = 3.0 + 0.7 * xx * dx - 0.4 * yy * dy
    s = ss.Surface(z, dx, dy)
    c, gx, gy = ss.fit_plane(s)
    assert gx == pytest.approx(0.7, rel=1e-12) and gy == pytest.approx(-0.4, rel=1e-12)
    assert np.abs(ss.level(s, "plane").z).max() < 1e-12


def test_plane_matches_lstsq_on_masked_surface() -> None:
    rng = np.random.default_rng(0)
    yy, xx = grid()
    z = 1.0 + 0.1 * xx - 0.05 * yy + rng.normal(0, 0.3, xx.shape)
    z[rng.random(z.shape) < 0.2] = np.nan
    out = ss.level(ss.Surface(z, 1, 1), "plane").z
    m = ~np.isnan(z)
    a = np.c_[np.ones(m.sum()), xx[m], yy[m]]
    coef, *_ = np.linalg.lstsq(a, z[m], rcond=None)
    assert np.allclose(out[m], z[m] - a @ coef, atol=1e-10)
    assert np.isnan(out[~m]).all()


def test_fit_region_mask_is_respected() -> None:
    yy, xx = grid()
    z = 0.05 * xx
    z[:, 40:] += 10.0  # a step: fit only on the left half
    mask = np.zeros(z.shape, bool)
    mask[:, :40] = True
    out = ss.level(ss.Surface(z, 1, 1), "plane", mask=mask).z
    assert np.abs(out[:, :40]).max() < 1e-10
    assert np.allclose(out[:, 40:], 10.0)


@pytest.mark.parametrize("degree", [2, 3, 5, 8])
def test_polynomial_removes_polynomial_form(degree: int) -> None:
    rng = np.random.default_rng(degree)
    yy, xx = grid(70, 90)
    x, y = xx / 89 * 2 - 1, yy / 69 * 2 - 1
    z = np.zeros_like(x)
    for i in range(degree + 1):
        for j in range(degree + 1 - i):
            z += rng.normal() * x**i * y**j
    out = ss.level(ss.Surface(z * 5, 0.3, 0.3), f"poly:{degree}").z
    assert np.abs(out).max() < 1e-8


def test_polynomial_with_nan_matches_lstsq() -> None:
    rng = np.random.default_rng(1)
    yy, xx = grid()
    z = 0.001 * (xx - 30) ** 2 + 0.002 * yy * xx / 10 + rng.normal(0, 0.1, xx.shape)
    z[10:20, 10:30] = np.nan
    out = ss.level(ss.Surface(z, 1, 1), "poly:2").z
    m = ~np.isnan(z)
    x, y = xx[m], yy[m]
    a = np.c_[np.ones_like(x), x, y, x * x, x * y, y * y]
    coef, *_ = np.linalg.lstsq(a, z[m], rcond=None)
    assert np.allclose(out[m], z[m] - a @ coef, atol=1e-9)


def test_poly1_equals_plane() -> None:
    z = np.random.default_rng(2).normal(size=(30, 40)) + np.arange(40) * 0.1
    s = ss.Surface(z, 1, 1)
    assert np.allclose(ss.level(s, "poly:1").z, ss.level(s, "plane").z)


def test_rows_removes_scanline_offsets() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(0, 0.01, (50, 64))
    offsets = rng.normal(0, 5, (50, 1))
    out = ss.level(ss.Surface(base + offsets, 1, 1), "rows").z
    assert np.abs(np.median(out, axis=1)).max() < 1e-12
    assert np.std(out) < 0.02


def test_level_none_and_errors() -> None:
    s = ss.Surface(np.zeros((4, 4)), 1, 1)
    assert ss.level(s, "none") is s
    with pytest.raises(SurfscanError, match="unknown levelling"):
        ss.level(s, "sphere")
    with pytest.raises(SurfscanError, match="poly:N"):
        ss.level(s, "poly:x")
    with pytest.raises(SurfscanError, match="at least 3"):
        ss.level(ss.Surface(np.full((4, 4), np.nan), 1, 1), "plane")


def test_level_does_not_mutate_input_and_records_history() -> None:
    z = np.arange(12.0).reshape(3, 4)
    s = ss.Surface(z.copy(), 1, 1)
    out = ss.level(s, "plane")
    assert np.array_equal(s.z, z)
    assert out.meta["history"] == ["level plane"]

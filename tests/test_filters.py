"""ISO 16610-61 Gaussian filter: transmission, borders, NaN holes, robust variant."""

from __future__ import annotations

import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError


def wave(wavelength_px: float, shape=(64, 1024), dx=0.1, amplitude=1.0, axis=1) -> ss.Surface:
    n = shape[axis]
    k = np.arange(n)
    w = amplitude * np.cos(2 * np.pi * k / wavelength_px)
    z = np.broadcast_to(w[None, :] if axis == 1 else w[:, None], shape).copy()
    return ss.Surface(z, dx, dx)


def transmission(cutoff_px: float, wavelength_px: float, axis=1) -> float:
    shape = (64, 2048) if axis == 1 else (2048, 64)
    s = wave(wavelength_px, shape, axis=axis)
    out = ss.gaussian_filter(s, cutoff_px * s.dx, "low").z
    core = out[24:40, 600:1448] if axis == 1 else out[600:1448, 24:40]
    return float(np.abs(core).max())


@pytest.mark.parametrize("cutoff_px", [8.0, 25.0, 80.0])
@pytest.mark.parametrize("axis", [0, 1])
def test_fifty_percent_at_cutoff(cutoff_px: float, axis: int) -> None:
    assert transmission(cutoff_px, cutoff_px, axis) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("cutoff_px", [8.0, 25.0])
def test_passband_and_stopband(cutoff_px: float) -> None:
    assert transmission(cutoff_px, 10 * cutoff_px) >= 0.99
    assert transmission(cutoff_px, 0.3 * cutoff_px) <= 0.01


def test_high_pass_is_complement_of_low_pass() -> None:
    s = ss.Surface(np.random.default_rng(0).normal(size=(100, 120)), 0.5, 0.5)
    lo = ss.gaussian_filter(s, 5, "low").z
    hi = ss.gaussian_filter(s, 5, "high").z
    assert np.allclose(lo + hi, s.z)


def test_border_does_not_bias() -> None:
    rng = np.random.default_rng(1)
    z = 5.0 + rng.normal(0, 0.1, (300, 300))
    out = ss.gaussian_filter(ss.Surface(z, 1, 1), 40, "low").z
    assert np.all(np.isfinite(out))
    # every border point stays at the level of the surface (no roll-off to zero)
    for edge in (out[0], out[-1], out[:, 0], out[:, -1]):
        assert np.abs(edge - 5.0).max() < 0.05
    assert np.abs(ss.gaussian_filter(ss.Surface(np.full((50, 60), 2.0), 1, 1), 30, "high").z).max() < 1e-12


def test_nan_hole_does_not_bias_neighbours() -> None:
    rng = np.random.default_rng(2)
    z = 1.0 + rng.normal(0, 0.05, (200, 200))
    ref = ss.gaussian_filter(ss.Surface(z, 1, 1), 20, "low").z
    zh = z.copy()
    zh[80:120, 80:120] = np.nan
    out = ss.gaussian_filter(ss.Surface(zh, 1, 1), 20, "low").z
    assert np.isnan(out[80:120, 80:120]).all()
    ring = np.zeros(z.shape, bool)
    ring[70:130, 70:130] = True
    ring[80:120, 80:120] = False
    assert np.abs(out[ring] - 1.0).max() < 0.03
    assert np.abs(out[ring] - ref[ring]).max() < 0.03


def test_long_kernel_fft_path_equals_direct_convolution() -> None:
    from scipy import ndimage

    from surfscan.filters import gaussian_kernel

    rng = np.random.default_rng(3)
    z = rng.normal(size=(150, 170))
    cutoff = 60.0  # 121 taps -> FFT path
    out = ss.gaussian_filter(ss.Surface(z, 1, 1), cutoff, "low").z
    k = gaussian_kernel(cutoff, 1.0)
    num = ndimage.correlate1d(ndimage.correlate1d(z, k, 1, mode="constant"), k, 0, mode="constant")
    den = ndimage.correlate1d(ndimage.correlate1d(np.ones_like(z), k, 1, mode="constant"), k, 0, mode="constant")
    assert np.allclose(out, num / den, atol=1e-10)


@pytest.mark.parametrize("robust", [False, True])
def test_cutoff_far_longer_than_the_field_keeps_the_kernel_to_the_field(robust: bool) -> None:
    from scipy import ndimage

    from surfscan.filters import gaussian_kernel

    rng = np.random.default_rng(4)
    z = rng.normal(size=(30, 40))
    # the taps beyond +-(n - 1) only meet the zero padding: dropping them leaves the filter unchanged
    k = gaussian_kernel(3000.0, 1.0)  # 6001 taps, every one kept
    assert k.size == 6001 and gaussian_kernel(3000.0, 1.0, 40).size == 79
    num = ndimage.correlate1d(ndimage.correlate1d(z, k, 1, mode="constant"), k, 0, mode="constant")
    den = ndimage.correlate1d(ndimage.correlate1d(np.ones_like(z), k, 1, mode="constant"), k, 0, mode="constant")
    out = ss.gaussian_filter(ss.Surface(z, 1, 1), 3000.0, "low").z
    assert np.allclose(out, num / den, atol=1e-12)
    # a cut-off of a metre on a 0.15 µm grid once asked for 84 GiB; now it is the field-wide mean, quickly
    with pytest.warns(ss.SurfscanWarning, match="longer than the measured field"):
        far = ss.gaussian_filter(ss.Surface(z, 0.15, 0.15), 1e6, "high", robust=robust).z
    assert np.isfinite(far).all() and abs(far.mean()) < 0.2


def test_robust_filter_ignores_deep_valleys() -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(0, 0.02, (200, 200))
    z[::25, :] -= 3.0  # deep scratches
    plain = ss.gaussian_filter(ss.Surface(z, 1, 1), 30, "low").z
    robust = ss.gaussian_filter(ss.Surface(z, 1, 1), 30, "low", robust=True).z
    core = (slice(40, 160), slice(40, 160))
    assert np.abs(robust[core]).max() < 0.05 < np.abs(plain[core]).max()


def test_bad_cutoff_and_kind() -> None:
    s = ss.Surface(np.zeros((10, 10)), 1, 1)
    with pytest.raises(SurfscanError):
        ss.gaussian_filter(s, -1)
    with pytest.raises(SurfscanError):
        ss.gaussian_filter(s, 5, kind="band")

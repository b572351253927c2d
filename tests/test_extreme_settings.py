"""Lengths a user can type that are far outside the image (a cut-off of a metre, a smallest object of a
kilometre): one clear error or a sensible result, never a hang or a giant allocation.

Each case here once ran for minutes or asked for gigabytes: a Gaussian of millions of taps, a blur whose
kernel grew with a width in µm, a pyramid level blurred by a kernel wider than memory.
"""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

import surfscan as ss
from surfscan.blur import DIRECT_SIGMA_PX, gaussian_blur
from surfscan.errors import SurfscanError
from surfscan.protrusions.regions import _fold

SEM = "sample_images/sem_anode_protrusions_100x.tif"
HEIGHT = "sample_images/electrode_A_good_site1.x3p"
PEAK_MB = 400.0  # the analyses themselves need ~100-200 MB on these files


def _peak_mb(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def sem():
    return ss.read(SEM)


@pytest.fixture(scope="module")
def height():
    return ss.level(ss.read(HEIGHT), "plane")


def test_smallest_object_wider_than_the_image_is_one_clear_error(sem):
    for size in (2 * sem.shape[1] * sem.pixel_size, 1e15):
        with pytest.raises(SurfscanError, match="wider than the image"):
            ss.detect_protrusions(sem, min_size_um=size)


def test_largest_object_far_beyond_the_image_means_no_upper_limit(sem):
    found, peak = _peak_mb(lambda: ss.detect_protrusions(sem, max_size_um=1e15))
    assert peak < PEAK_MB
    assert found.summary["settings"]["max_size_um"] <= min(sem.shape) * sem.pixel_size + 1e-9
    assert abs(found.summary["count"] - ss.detect_protrusions(sem).summary["count"]) <= 3


def test_height_map_protrusions_with_a_huge_largest_size(height):
    # the automatic background cut-off is 4 x max_size: once a kernel of thousands of taps on a padded grid
    found, peak = _peak_mb(lambda: ss.detect_protrusions(height, max_size_um=1e15))
    assert peak < PEAK_MB and found.summary["count"] >= 0


@pytest.mark.parametrize("robust", [False, True])
def test_roughness_with_a_cutoff_of_a_metre(height, robust):
    with pytest.warns(ss.SurfscanWarning, match="longer than the measured field"):
        rough, peak = _peak_mb(lambda: ss.gaussian_filter(height, 1e6, "high", robust=robust))
    assert peak < PEAK_MB
    # the field-wide mean is all a cut-off that long takes away: Sa as without the filter
    assert ss.roughness(rough, ["Sa"])["Sa"] == pytest.approx(ss.roughness(height, ["Sa"])["Sa"], rel=0.02)


def test_particles_with_a_background_and_smoothing_wider_than_the_image(sem):
    w = sem.shape[1] * sem.pixel_size
    wide = ss.measure_particles(sem, background_um=3 * w)
    plain = ss.measure_particles(sem)
    # a background wider than the field is nearly flat: the same particles
    assert wide.summary["count"] == pytest.approx(plain.summary["count"], rel=0.05)
    smooth, peak = _peak_mb(lambda: ss.measure_particles(sem, smooth_um=w, min_count=1))
    assert peak < PEAK_MB and smooth.summary["count"] >= 0


@pytest.mark.parametrize("sigma", [DIRECT_SIGMA_PX + 1, 90.0, 400.0])
def test_wide_gaussian_blur_matches_opencv(sigma):
    rng = np.random.default_rng(5)
    a = cv2.GaussianBlur(rng.standard_normal((300, 420)).astype(np.float32), (0, 0), 4) * 10
    a += np.linspace(0, 30, 420, dtype=np.float32)[None, :]
    ref = cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    assert np.abs(gaussian_blur(a, sigma) - ref).max() < 0.01 * np.ptp(a)
    narrow = DIRECT_SIGMA_PX
    assert np.array_equal(gaussian_blur(a, narrow), cv2.GaussianBlur(a, (0, 0), narrow, borderType=cv2.BORDER_REFLECT))


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_folded_kernel_is_the_same_filter_on_a_mirrored_signal(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    k = np.exp(-0.5 * (np.arange(-301, 302) / 90.0) ** 2)
    k /= k.sum()

    def mirrored(kernel):
        h = kernel.size // 2
        padded = np.pad(x, h, mode="symmetric")
        return np.convolve(padded, kernel, mode="valid")

    folded = _fold(k, n)
    assert folded.size <= 2 * n + 1 and folded.sum() == pytest.approx(1.0)
    assert np.allclose(mirrored(folded), mirrored(k), atol=1e-12)


def test_background_cutoff_under_two_pixels_is_one_clear_error(sem, height):
    # it made the background follow every pixel; the errors that followed ("flat", "no texture") hid why
    for data in (sem, height):
        with pytest.raises(SurfscanError, match="shorter than two pixels"):
            ss.detect_protrusions(data, lambda_c_um=1e-6)


def test_porosity_of_a_region_left_without_contrast_is_one_clear_error(sem):
    # a smoothing far wider than the image leaves one grey level: Otsu's histogram raised a bare ValueError
    with pytest.raises(SurfscanError, match="one grey level"):
        ss.porosity_from_section(sem, smooth_px=1e7)
    with pytest.raises(SurfscanError, match="one grey level"):
        ss.porosity_from_section(ss.Micrograph(np.full((50, 60), 7, np.uint8), 0.1, {}))


def test_tiny_images_and_inverted_filter_band_are_clear_errors(height):
    rng = np.random.default_rng(0)
    for shape in ((5, 5), (1, 2000)):  # smaller than the smallest object: once a TypeError in the message
        with pytest.raises(SurfscanError, match="wider than the image"):
            ss.detect_protrusions(ss.Micrograph(rng.integers(0, 255, shape).astype(np.uint8), 0.1, {}))
    with pytest.raises(SurfscanError, match="automatic lambda_c_um"):  # a one-row map names the automatic cut-off
        ss.detect_protrusions(ss.Surface(rng.normal(size=(1, 500)), 1, 1))
    with pytest.raises(SurfscanError, match="must be shorter than lambda_c"):
        ss.apply_filters(height, lambda_s=50, lambda_c=2.5)

"""Disc opening and dilation (surfscan.protrusions.morphology): the distance-transform path for wide discs
agrees with OpenCV's elliptical kernel, and costs the same whatever the disc."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from surfscan.protrusions.morphology import DIRECT_MAX_PX, disc_dilate, disc_open


def _blobs(seed: int, shape=(400, 500), sigma: float = 40.0) -> np.ndarray:
    """Smooth random blobs some ``3 sigma`` across, about half the field."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return noise > 0


def _ellipse(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


@pytest.mark.parametrize("size", [65, 101])
@pytest.mark.parametrize("seed", [1, 2])
def test_wide_discs_agree_with_the_elliptical_kernel(size: int, seed: int) -> None:
    m = _blobs(seed)
    ref_dil = cv2.dilate(m.view(np.uint8), _ellipse(size)).view(bool)
    ref_open = cv2.morphologyEx(m.view(np.uint8), cv2.MORPH_OPEN, _ellipse(size)).view(bool)
    dil, opened = disc_dilate(m, size), disc_open(m, size)
    assert dil.dtype == bool and opened.dtype == bool
    # the discrete ellipse and the Euclidean disc differ by at most their one-pixel rim
    assert np.count_nonzero(dil ^ ref_dil) <= 0.002 * m.size
    assert np.count_nonzero(opened ^ ref_open) <= 0.002 * m.size
    assert np.count_nonzero(ref_open) > 0  # the opening kept something to compare


def test_narrow_discs_are_the_elliptical_kernel_exactly() -> None:
    m = _blobs(3, sigma=12.0)
    size = DIRECT_MAX_PX
    assert np.array_equal(disc_dilate(m, size), cv2.dilate(m.view(np.uint8), _ellipse(size)).view(bool))
    assert np.array_equal(disc_open(m, size), cv2.morphologyEx(m.view(np.uint8), cv2.MORPH_OPEN,
                                                                _ellipse(size)).view(bool))


def test_empty_full_and_border_cases() -> None:
    empty, full = np.zeros((50, 60), bool), np.ones((50, 60), bool)
    for size in (9, 201):
        assert not disc_dilate(empty, size).any() and not disc_open(empty, size).any()
        assert disc_dilate(full, size).all() and disc_open(full, size).all()
    # a band along the border survives an opening wider than itself from the image side, as in OpenCV
    band = np.zeros((200, 200), bool)
    band[:, :80] = True
    assert np.array_equal(disc_open(band, 101), band)


def test_a_disc_wider_than_the_image_costs_no_more_than_a_narrow_one() -> None:
    m = _blobs(4, (768, 1024))
    t0 = time.perf_counter()
    out = disc_open(m, 2561)
    dil = disc_dilate(out, 2561)
    assert time.perf_counter() - t0 < 5.0  # OpenCV's kernel took about 2.8 s for each of 23 such calls
    assert not out.any() and not dil.any()

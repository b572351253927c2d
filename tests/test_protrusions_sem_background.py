"""SEM protrusions: a large faint object must not lift the background under itself.

The substrate search sets aside regions beyond 3 substrate rms at pixel scale. On a correlated
texture a large object at 2 x the texture rms is not beyond that, so before the faint-object pass
the background's Gaussian (sigma ~48 px on 768 rows) took in part of it: a 120 px flat-top disc
was measured at 1.32 x the texture rms instead of 2, over 66 % of its area.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

import surfscan as ss
from surfscan.protrusions.sem import _without_faint_objects

RMS = 0.03  # texture rms, relative to the mean grey level
PX = 0.1  # µm


def _scene(seed: int, contrast: float, radius: float = 60.0, shape=(768, 1024)) -> ss.Micrograph:
    """Gaussian-correlated grain (sigma 2 px) and one flat-top disc of ``contrast`` x the texture rms."""
    rng = np.random.default_rng(seed)
    t = ndi.gaussian_filter(rng.standard_normal(shape), 2.0, mode="wrap")
    t /= t.std()
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    disc = 0.5 * (1 - np.tanh((np.hypot(yy - shape[0] / 2, xx - shape[1] / 2) - radius) / 2.0))
    img = 100.0 * (1 + RMS * (t + contrast * disc))
    return ss.Micrograph(img.astype(np.float32), PX, {})


@pytest.mark.parametrize("seed", [3, 4])
def test_large_faint_disc_keeps_its_contrast(seed):
    p = ss.detect_protrusions(_scene(seed, 2.0))
    t = p.table
    j = int(np.argmin(np.hypot(t.x_um / PX - 512, t.y_um / PX - 384)))
    assert np.hypot(t.x_um.iloc[j] / PX - 512, t.y_um.iloc[j] / PX - 384) < 10
    assert t.mean_contrast.iloc[j] / RMS == pytest.approx(2.0, rel=0.15)
    assert t.area_um2.iloc[j] / PX**2 >= 0.72 * np.pi * 60**2


def test_faint_pass_leaves_an_object_free_field_alone():
    m = _scene(5, 0.0)
    assert ss.detect_protrusions(m).count == 0


def test_faint_pass_skips_small_images():
    grey = np.full((40, 50), 100.0, np.float32)
    assert _without_faint_objects(grey, grey / 100 - 1, None, 20.0, 1) is None

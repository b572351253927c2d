"""SEM protrusions on a two-phase (porous) texture: bright struts and dark pores, about half of each.

Each phase's own spread is only its noise, so the substrate search (beyond 3 rms of the histogram
mode) took the whole other phase for object candidates and left 8-16 % of the field. Thresholds
from one phase then lay far below the texture's own blobs: an object-free porous field gave 127
detections. Below a quarter of the field the statistics now come from the whole field, and the
quality block says why.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

import surfscan as ss
from surfscan.grey import grey_levels
from surfscan.protrusions.substrate import find_substrate

PX = 0.1  # µm
SHAPE = (768, 1024)


def _porous(seed: int, pores: float = 0.56, sigma: float = 3.5, domes: int = 0, diameter: float = 100.0,
            contrast: float = 4.0) -> tuple[ss.Micrograph, np.ndarray]:
    """Smoothed noise through a steep step at its ``pores`` quantile (struts 1, pores 0), shot noise on top.

    ``domes`` Gaussian domes (FWHM half their ``diameter`` px) of peak ``contrast`` x the texture's rms,
    on a grid. Returns the micrograph and the domes' centres (rows, columns).
    """
    rng = np.random.default_rng(seed)
    n = ndi.gaussian_filter(rng.standard_normal(SHAPE), sigma, mode="wrap")
    phase = 1.0 / (1.0 + np.exp(-(n - np.quantile(n, pores)) / (0.12 * n.std())))
    clean = 80.0 + 40.0 * phase
    rms = float(np.std(clean + rng.normal(0.0, 4.0, SHAPE)))
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    centres = [(192 + 384 * (i // 4), 128 + 256 * (i % 4)) for i in range(domes)]
    s = diameter / 2 / 2.355
    for cy, cx in centres:
        clean += contrast * rms * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    img = clean + rng.normal(0.0, 4.0, SHAPE)
    return ss.Micrograph(img.astype(np.float32), PX, {}), np.array(centres, float).reshape(-1, 2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_object_free_porous_field_has_no_detection(seed):
    m, _ = _porous(seed)
    sub = find_substrate(grey_levels(m.image), 1, 256.0, 8.0)
    assert sub.whole_field is not None and sub.whole_field < 0.25  # the search alone leaves too little
    assert sub.fraction == 1.0
    p = ss.detect_protrusions(m)
    assert p.count == 0
    q = p.summary["quality"]
    assert not q["reliable"] and any("two phases" in r for r in q["reasons"])


@pytest.mark.parametrize("seed", [4, 5])
def test_domes_on_a_porous_field_are_found_without_texture(seed):
    m, centres = _porous(seed, domes=8)
    t = ss.detect_protrusions(m).table
    xy = np.c_[t.y_um / PX, t.x_um / PX]
    d = np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1])
    assert (d.min(axis=0) <= 53).all()  # every dome found
    assert (d.min(axis=1) <= 53).all()  # nothing else


def test_a_field_with_substrate_keeps_its_mask():
    m, _ = _porous(6, pores=0.9)  # sparse struts: the pores are the substrate
    sub = find_substrate(grey_levels(m.image), 1, 256.0, 8.0)
    assert sub.whole_field is None and 0.25 <= sub.fraction < 1.0

"""How far an automatic particle measurement can be trusted: the ``quality`` block of its summary.

Rule for ``reliable`` (each failed test adds a reason):

- at least ``min_count`` particles are measured (fewer give an unstable D50);
- the agglomeration index (mean number of measured particles per connected
  foreground blob that holds any) is at most ``MAX_AGGLOMERATION`` (6.5): above
  it most particles were cut out of large clumps, where the split is least
  certain;
- at most ``MAX_OVERSIZED_SHARE`` (25 %) of the measured area lies in
  particles more than ``OVERSIZED_FACTOR`` (6) times the median particle
  area: such particles are usually clumps that were not split;
- at most ``MAX_SATURATED_SHARE`` (5 %) of the foreground is saturated (at the
  image's largest grey level with more than 1 % of the image there, or at the
  full scale of an integer image, and above the image's median): saturated
  clumps show no separation lines;
- the particles stand out of the noise: the median grey level of the
  foreground differs from that of the background by at least
  ``MIN_CONTRAST_TO_NOISE`` (2) times the pixel noise (the robust rms of
  neighbour differences over sqrt 2). Below it the threshold cuts through
  noise: an image without particles (a grid under heavy noise, a smooth
  carbon layer) gave 10 000-18 000 "particles" at 0.9-1.2; real particle
  images read 16-44, the noisier synthetic sample 6.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from .grey import to_grey
from .protrusions.regions import robust_sigma

__all__ = [
    "particle_quality", "MAX_AGGLOMERATION", "MAX_OVERSIZED_SHARE", "OVERSIZED_FACTOR", "MAX_SATURATED_SHARE",
    "MIN_CONTRAST_TO_NOISE",
]

MAX_AGGLOMERATION = 6.5
MAX_OVERSIZED_SHARE = 0.25
OVERSIZED_FACTOR = 6.0
MAX_SATURATED_SHARE = 0.05
MIN_CONTRAST_TO_NOISE = 2.0


def _saturated(image: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """Foreground pixels at the top of the grey scale (clipped by the detector)."""
    img = np.asarray(image)
    if img.ndim == 3:
        img = img[..., :3].max(axis=-1)
    if img.size == 0:
        return np.zeros_like(foreground)
    top = img.max()
    full = np.iinfo(img.dtype).max if np.issubdtype(img.dtype, np.integer) else None
    at_top = img == top
    if top <= np.median(img) or (top != full and np.count_nonzero(at_top) < 0.01 * img.size):
        return np.zeros_like(foreground)
    return at_top & foreground


def contrast_to_noise(grey: np.ndarray, foreground: np.ndarray) -> float | None:
    """``|median(foreground) - median(background)|`` over the pixel noise of a grey image.

    The noise is the robust rms (1.4826 MAD) of the differences between
    horizontal neighbours over sqrt 2 (texture that varies slowly cancels
    out). None when the image has no pixel noise to measure or one of the
    two parts is empty.
    """
    fg = np.asarray(foreground, bool)
    step = max(1, int(np.sqrt(grey.size / 400_000)))  # a regular subsample is enough for three medians
    g, f = grey[::step, ::step], fg[::step, ::step]
    if not f.any() or f.all():
        return None
    noise = robust_sigma(np.diff(grey[::step], axis=1).ravel())[1] / np.sqrt(2.0)
    if noise <= 0:
        return None
    return abs(float(np.median(g[f])) - float(np.median(g[~f]))) / noise


def particle_quality(labels: np.ndarray, foreground: np.ndarray, image: np.ndarray, min_count: int,
                     grey: np.ndarray | None = None) -> dict[str, Any]:
    """The ``quality`` block of a particle measurement.

    Parameters
    ----------
    labels : ndarray of int
        Measured particles (0 = background or not measured).
    foreground : ndarray of bool
        Particle foreground before splitting.
    image : ndarray
        The image as stored (for saturation).
    min_count : int
        Particles needed for a stable D50.
    grey : ndarray, optional
        ``image`` as grey levels (:func:`surfscan.grey.to_grey`), when the
        caller has it already.

    Returns
    -------
    dict
        ``agglomeration_index`` (measured particles per foreground blob that
        holds any; 1.0 = no touching particles, 0.0 when no particle is
        measured), ``split_fraction`` (0..1,
        share of the measured area in blobs split into two or more
        particles), ``oversized_share`` (0..1, share of the measured area in
        particles over ``OVERSIZED_FACTOR`` times the median area),
        ``saturated_fraction`` (0..1 of the foreground),
        ``contrast_to_noise`` (:func:`contrast_to_noise`; None when it cannot
        be measured),
        ``detection_limit_curve`` (None: particles have none), ``reliable``
        and ``reasons`` (why not reliable; empty when reliable). See the
        module notes for the rule.
    """
    blobs, _ = ndimage.label(foreground | (labels > 0))
    ids = np.unique(labels[labels > 0])
    area = np.bincount(labels.ravel())
    reasons: list[str] = []
    out: dict[str, Any] = {"agglomeration_index": 0.0, "split_fraction": 0.0, "oversized_share": 0.0}
    if ids.size:
        # the blob of each measured particle (a particle lies in one blob)
        blob_of = np.zeros(int(labels.max()) + 1, np.int64)
        blob_of[labels[labels > 0]] = blobs[labels > 0]
        per_blob = np.bincount(blob_of[ids])
        n_in_blob = per_blob[blob_of[ids]]
        out["agglomeration_index"] = float(ids.size / np.count_nonzero(per_blob))
        out["split_fraction"] = float(area[ids][n_in_blob >= 2].sum() / area[ids].sum())
        big = area[ids] > OVERSIZED_FACTOR * np.median(area[ids])
        out["oversized_share"] = float(area[ids][big].sum() / area[ids].sum())
    n_fg = int(np.count_nonzero(foreground))
    out["saturated_fraction"] = float(np.count_nonzero(_saturated(image, foreground)) / n_fg) if n_fg else 0.0
    if ids.size < min_count:
        reasons.append(f"only {ids.size} particles measured: D50 is not stable below about {min_count}")
    if out["agglomeration_index"] > MAX_AGGLOMERATION:
        reasons.append(f"heavily agglomerated: {out['agglomeration_index']:.1f} particles per clump "
                       f"(above {MAX_AGGLOMERATION:g}), the split is uncertain")
    if out["oversized_share"] > MAX_OVERSIZED_SHARE:
        reasons.append(f"{100 * out['oversized_share']:.0f} % of the particle area lies in particles over "
                       f"{OVERSIZED_FACTOR:g}x the median area (likely unsplit clumps)")
    if out["saturated_fraction"] > MAX_SATURATED_SHARE:
        reasons.append(f"{100 * out['saturated_fraction']:.0f} % of the foreground is saturated: "
                       "clumps there show no separation lines")
    cnr = contrast_to_noise(to_grey(image) if grey is None else grey, foreground)
    out["contrast_to_noise"] = cnr
    if ids.size and cnr is not None and cnr < MIN_CONTRAST_TO_NOISE:
        reasons.append(f"the particles differ from the background by only {cnr:.1f} x the pixel noise (below "
                       f"{MIN_CONTRAST_TO_NOISE:g}): the threshold may be cutting through noise")
    out["detection_limit_curve"] = None
    out["reliable"] = not reasons
    out["reasons"] = reasons
    return out

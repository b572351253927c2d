"""Where the bare substrate is, before anything is detected: the pixels SEM statistics may come from.

Thresholds rest on the substrate's texture. Measured over the whole image,
a field crowded with bright objects looks like a wildly heavy-tailed
texture and nothing gets detected. So the substrate is found first from
grey levels alone:

1. Shading (:func:`shading`): a low-pass fitted, in a few rounds, to the
   pixels near the substrate level only (the histogram mode of the image
   over the previous round's shading), however crowded the field is.
2. Relative contrast ``sign * (grey / shading - 1)``, smoothed lightly
   (sigma a sixth of the smallest object, at least 1 pixel).
3. Its histogram mode is the substrate level and the spread of the values
   on the narrower side of the mode is the substrate's rms (objects widen
   only the other side).
4. Candidates: pixels more than 3 such rms from the mode, on either side
   (objects of the other polarity are not substrate either). Only candidate
   regions at least as wide as the smallest object and as 2.5 grains of the
   substrate texture are kept (an opening by that disc): the texture's own
   bright grains, and clusters of them, must stay in the statistics. The
   grain (:func:`substrate_grain_px`) is measured on pixels near the mode
   only, so crowded objects do not pass for coarse texture. The regions
   kept are widened by the same disc.
5. When less than a quarter of the field is left, the spread on the
   narrow side of the mode is not the texture's: the texture has two
   phases (the bright struts and dark pores of a porous coating, each
   phase's own spread just its noise, the other phase then all
   "candidates"), or objects cover the field. The two cannot be told
   apart from grey levels, and on a two-phase texture the statistics of
   one phase put the thresholds far below the texture's own blobs
   (hundreds of false detections on an object-free porous field). So the
   whole field is used instead: robust statistics of a field that holds
   objects undercount them, which errs the safe way, and the quality
   block says so (``whole_field``).

The mask steers statistics and the background fit only; detection itself
happens in the scale space.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..blur import gaussian_blur
from .morphology import disc_dilate, disc_open
from .regions import MAD_TO_SIGMA, robust_background, subsample
from .sem_quality import MIN_QUIET

__all__ = ["Substrate", "find_substrate", "shading", "substrate_grain_px"]

_SHADING_ROUNDS = 3
_SHADING_SIDE = 256  # pixels on the shorter side of the copy the shading is fitted on
_Z_NEAR = 2.5
_Z_CANDIDATE = 3.0
GRAINS_PER_CANDIDATE = 2.5  # candidate regions narrower than this many texture grains stay in the statistics
_HIST_BINS = 256


@dataclass
class Substrate:
    """Bare-substrate pixels and the numbers found with them.

    Attributes
    ----------
    mask : ndarray of bool
        True where no object candidate is (full resolution).
    level : float
        Substrate level of the relative contrast (histogram mode).
    rms : float
        Substrate rms of the lightly smoothed relative contrast (narrower side of the mode).
    grain_px : float
        Grain diameter of the substrate texture (pixels), from near-mode pixels only.
    whole_field : float or None
        None normally; when the search left less than a quarter of the field
        (step 5 of the module notes), the share it left, and ``mask`` is then
        the whole field.
    """

    mask: np.ndarray
    level: float
    rms: float
    grain_px: float
    whole_field: float | None = None

    @property
    def fraction(self) -> float:
        """Share of the field that is bare substrate."""
        return float(np.count_nonzero(self.mask)) / max(self.mask.size, 1)


def shading(grey: np.ndarray, cutoff_px: float) -> np.ndarray:
    """Coarse background brightness (float32, image shape) fitted to the pixels near the substrate level.

    A Gaussian low-pass (cut-off ``cutoff_px``) of all pixels first; then,
    three times, the histogram mode of ``grey / background`` and its
    narrower side's rms pick the pixels within 2.5 rms of the substrate
    level, and the low-pass is fitted to those alone. Crowded bright (or
    dark) objects leave the mode on the substrate, so they drop out of the
    fit however much of a region they cover.
    """
    ny, nx = grey.shape
    f = max(1, min(ny, nx) // _SHADING_SIDE)  # the shading is smooth: fitted on a reduced copy
    small = cv2.resize(grey, (max(1, nx // f), max(1, ny // f)), interpolation=cv2.INTER_AREA) if f > 1 else grey
    bg = robust_background(small, None, cutoff_px / f)
    for _ in range(_SHADING_ROUNDS):
        np.maximum(bg, 1e-6, out=bg)
        ratio = small / bg
        mode, rms = _mode_and_rms(subsample(ratio))
        if rms <= 0:
            break
        near = np.abs(ratio - mode) <= _Z_NEAR * rms
        if np.count_nonzero(near) < 0.05 * near.size:
            break
        bg = robust_background(small, near, cutoff_px / f)
    return bg if f == 1 else cv2.resize(bg, (nx, ny), interpolation=cv2.INTER_LINEAR)


def _mode_and_rms(values: np.ndarray) -> tuple[float, float]:
    """Histogram mode of ``values`` and the robust rms of the narrower side of it (1.4826 x median distance).

    Objects widen one side of the substrate's peak (bright ones the upper,
    dark ones the lower); the narrower side is the substrate's own spread.
    """
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        return float(lo), 0.0
    hist, edges = np.histogram(values, bins=_HIST_BINS, range=(lo, hi))
    hist = np.convolve(hist, np.ones(5) / 5, mode="same")
    k = int(np.argmax(hist))
    mode = 0.5 * (edges[k] + edges[k + 1])
    below, above = mode - values[values < mode], values[values > mode] - mode
    if min(below.size, above.size) < 50:
        return mode, 0.0
    return mode, MAD_TO_SIGMA * min(float(np.median(below)), float(np.median(above)))


def find_substrate(grey: np.ndarray, sign: int, cutoff_px: float, min_size_px: float) -> Substrate:
    """The bare substrate of an SEM image (see the module notes).

    Parameters
    ----------
    grey : ndarray of float32
        Grey levels.
    sign : int
        +1 for bright objects, -1 for dark ones.
    cutoff_px : float
        Background cut-off (pixels); the shading blocks are a quarter of it.
    min_size_px : float
        Diameter of the smallest object (pixels).
    """
    bg = shading(grey, cutoff_px)
    level = float(np.median(bg[::8, ::8]))
    np.maximum(bg, max(1e-3 * abs(level), 1e-6), out=bg)
    flat = grey / bg - 1.0
    if sign < 0:
        np.negative(flat, out=flat)
    smooth = gaussian_blur(flat, max(1.0, min_size_px / 6.0))
    mode, rms = _mode_and_rms(subsample(smooth))
    if rms <= 0:
        return Substrate(np.ones(grey.shape, bool), mode, 0.0, 0.5)
    grain = substrate_grain_px(flat, np.abs(smooth - mode) <= 3.5 * rms)
    cand = np.abs(smooth - mode) > _Z_CANDIDATE * rms
    size = max(3, int(round(max(min_size_px, GRAINS_PER_CANDIDATE * grain))) | 1)
    mask = ~disc_dilate(disc_open(cand, size), size)
    left = float(np.count_nonzero(mask)) / mask.size
    if left < MIN_QUIET:  # two phases, or a field covered by objects: the whole field (step 5)
        return Substrate(np.ones(grey.shape, bool), mode, rms, grain, whole_field=left)
    return Substrate(mask, mode, rms, grain)


def substrate_grain_px(flat: np.ndarray, near: np.ndarray) -> float:
    """Grain diameter (pixels, FWHM of a speck) of the texture, from pixel pairs that both lie near the mode.

    For a Gaussian-correlated texture the correlation at lag ``d`` is
    ``rho(d) = A exp(-d² / (2 l²))`` (``A < 1`` with white noise added), so
    ``rho(2) / rho(1) = exp(-3 / (2 l²))``; the grain is ``2.355 l / sqrt 2``.
    Rows are subsampled; at least 0.5.
    """
    step = max(1, flat.shape[0] // 192)
    rows, ok = flat[::step], near[::step]
    var0 = _var(rows[ok])
    if var0 <= 0:
        return 0.5
    rho = []
    for lag in (1, 2):
        both = ok[:, lag:] & ok[:, :-lag]
        rho.append(1.0 - _var((rows[:, lag:] - rows[:, :-lag])[both]) / (2 * var0))
    if rho[0] <= 0.05 or rho[1] <= 0 or rho[1] >= rho[0]:
        return 0.5 if rho[0] <= 0.05 or rho[1] <= 0 else float(flat.shape[1])
    ell = np.sqrt(-3.0 / (2.0 * np.log(rho[1] / rho[0])))
    return float(max(0.5, 2.355 * ell / np.sqrt(2.0)))


def _var(v: np.ndarray) -> float:
    if v.size > 200_000:
        v = v[:: v.size // 200_000]
    return float(np.var(v)) if v.size else 0.0

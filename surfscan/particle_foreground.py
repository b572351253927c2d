"""Which pixels of an SEM image belong to particles (the foreground of :func:`surfscan.measure_particles`).

The grey image is smoothed, optionally flattened (a wide Gaussian background
subtracted) and thresholded with hysteresis: pixels above the *high* level
(an automatic threshold such as Otsu's, or a given grey level) seed the
particles, and the particles grow through connected pixels above the *low*
level, a fraction ``hysteresis`` of the way from the background level (the
median of the pixels below the high level) to the high level. Dim particles
half hidden behind bright ones are kept that way, while isolated dim
substrate texture is not. Holes are filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from .blur import gaussian_blur
from .errors import SurfscanError

__all__ = ["Foreground", "particle_foreground", "THRESHOLD_METHODS"]

#: The automatic threshold methods (names of scikit-image's ``threshold_*`` functions).
THRESHOLD_METHODS = ("otsu", "li", "triangle", "isodata", "yen")


@dataclass(frozen=True)
class Foreground:
    """Particle foreground of one image.

    Attributes
    ----------
    mask : ndarray of bool
        Particle pixels (holes filled).
    flat : ndarray of float32
        The image before smoothing, particles positive-going (negated for
        dark particles) and flattened when a background width was given.
    signal : ndarray of float32
        The smoothed (and flattened) image the thresholds apply to, particles
        positive-going (the negated image for dark particles).
    high, low : float
        The hysteresis levels in ``signal`` units.
    background : float
        Background level of ``signal`` (median of the pixels below ``high``).
    """

    mask: np.ndarray
    flat: np.ndarray
    signal: np.ndarray
    high: float
    low: float
    background: float

    @property
    def contrast(self) -> float:
        """Particle contrast above the background, ``high - background`` (at least 1e-6)."""
        return max(self.high - self.background, 1e-6)


def _auto_threshold(img: np.ndarray, method: str) -> float:
    from skimage import filters  # scikit-image is imported on first use (it slows `import surfscan`)

    if method not in THRESHOLD_METHODS:
        raise SurfscanError(f"unknown threshold method {method!r}; use {', '.join(THRESHOLD_METHODS)} or a number")
    return float(getattr(filters, f"threshold_{method}")(img))


def particle_foreground(
    grey: np.ndarray,
    *,
    polarity: str = "bright",
    threshold: float | str = "otsu",
    smooth_px: float = 1.0,
    background_px: float = 0.0,
    hysteresis: float = 0.4,
    edge_level: float = 0.5,
    edge_px: int = 2,
) -> Foreground:
    """Threshold an SEM image into particle foreground with hysteresis.

    Parameters
    ----------
    grey : ndarray
        2-D grey image (float32).
    polarity : {"bright", "dark"}
        Particles brighter or darker than the background.
    threshold : str or float
        Automatic method (:data:`THRESHOLD_METHODS`) or a grey level of the
        image for the high level.
    smooth_px : float
        Gaussian smoothing sigma (pixels) before thresholding; 0 for none.
    background_px : float
        Sigma (pixels) of a Gaussian background subtracted first; 0 for none.
    hysteresis : float
        Low level as a fraction of the way from the background level to the
        high level (0..1; 1 = a single threshold).
    edge_level : float
        Edges sit where the signal has risen this fraction (0..1) of the way
        from the background level to the brightest pixel within ``edge_px``
        (half-maximum for 0.5): a blurred edge of a dim particle and of a
        bright one then lie at the same place. 0 keeps the hysteresis edge.
    edge_px : int
        Radius (pixels) of the neighbourhood for ``edge_level``.

    Returns
    -------
    Foreground
    """
    if not 0.0 <= hysteresis <= 1.0:
        raise SurfscanError(f"hysteresis must lie between 0 and 1, not {hysteresis!r}")
    flat = np.asarray(grey if polarity == "bright" else -grey, np.float32)
    if background_px > 0:
        flat = flat - gaussian_blur(flat, background_px)
    img = gaussian_blur(flat, smooth_px) if smooth_px > 0 else flat
    if isinstance(threshold, str):
        high = _auto_threshold(img, threshold)
    else:
        high = float(threshold) if polarity == "bright" else -float(threshold)
    below = img[img < high]
    background = float(np.median(below)) if below.size else float(img.min())
    low = background + hysteresis * (high - background)
    seeds = img > high
    grown, n = ndimage.label(img > low)
    if n:
        keep = np.zeros(n + 1, bool)
        keep[grown[seeds]] = True
        keep[0] = False
        mask = keep[grown]
    else:
        mask = seeds
    if edge_level > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge_px + 1, 2 * edge_px + 1))
        peak = cv2.dilate(img, k, borderType=cv2.BORDER_REFLECT)
        mask &= img >= background + edge_level * (peak - background)
    mask = ndimage.binary_fill_holes(mask)
    return Foreground(mask, flat, img, high, low, background)

"""Grey levels of an image: the one RGB(A) -> grey conversion of surfscan.

SEM images are grey, but some are exported as RGB(A) (a coloured scale bar or
annotation, or a viewer's screenshot). Particle sizing, porosity, the
protrusion detector and the information-bar search all turn such an image into
grey levels with :func:`to_grey`, so the same pixel has the same grey level in
every analysis.

>>> import numpy as np
>>> to_grey(np.array([[[200, 0, 0], [0, 200, 0], [0, 0, 200]]], np.uint8)).round(1)   # 0.299, 0.587, 0.114
array([[ 59.8, 117.4,  22.8]], dtype=float32)
>>> to_grey(np.zeros((2, 3), np.uint16)).dtype        # a grey image is returned unchanged
dtype('uint16')
"""

from __future__ import annotations

import numpy as np

from .errors import SurfscanError

__all__ = ["LUMA_WEIGHTS", "to_grey", "grey_levels"]

#: Weights of red, green and blue in a grey level: ITU-R BT.601 luma, as in OpenCV's ``COLOR_RGB2GRAY`` and
#: Pillow's ``convert("L")``; they add up to 1, so a grey image stored as three equal channels keeps its levels
#: (to float32 rounding).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def to_grey(image: np.ndarray) -> np.ndarray:
    """An image as 2-D grey levels.

    Parameters
    ----------
    image : ndarray
        A 2-D grey image, or an RGB(A) image of shape ``(rows, cols, 3 or 4)``.

    Returns
    -------
    ndarray
        RGB(A): float32 luma ``0.299 R + 0.587 G + 0.114 B`` (:data:`LUMA_WEIGHTS`; alpha
        ignored), in the units of the input's grey levels. A 2-D image is returned unchanged
        (same array, same dtype), so integer data keep their step of one level.
    """
    a = np.asarray(image)
    if a.ndim == 3:
        return a[..., :3].astype(np.float32) @ LUMA_WEIGHTS
    return a


def grey_levels(image: np.ndarray) -> np.ndarray:
    """An SEM image as float32 grey levels (:func:`to_grey`), checked to be finite numbers.

    Raises
    ------
    SurfscanError
        When the image is not numeric (or complex) or holds NaN or infinite grey levels.
    """
    a = to_grey(image)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise SurfscanError(f"an SEM image needs numeric grey levels, not {a.dtype}")
    out = a.astype(np.float32)  # a copy: the detectors' results hold it, the micrograph keeps its own
    if not np.isfinite(out).all():
        raise SurfscanError("the SEM image holds NaN or infinite grey levels")
    return out

"""From scale-space blob detections to objects: each detection's extent, and the merge of detections of one object.

A detection at scale ``sigma`` takes its extent from the contrast smoothed
at about ``sigma / 2`` (three scales finer): the connected region around its
centre where that smoothed contrast exceeds ``z_grow`` (3) robust rms of the
texture at that smoothing. A detection whose centre lies below that level
(a faint object found only through the larger scale's averaging) takes a
disc of radius ``sqrt 2 sigma``. The extents of all detections are
combined; each 8-connected piece of the combination is one object, and the
detections inside it are merged into it (a large agglomerate found at a
coarse scale and at the scale of each of its grains counts once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .scalespace import SCALES_PER_OCTAVE, Blobs, Scale

__all__ = ["Objects", "objects_from_blobs"]

_Z_GROW = 3.0
_PEAK_FRACTION = 0.5  # an extent reaches down to half the detection's peak (above the median)
_REACH = 4.0  # an extent is looked for within 4 sigma of the detection


@dataclass
class Objects:
    """Merged objects: ``labels`` (int32, 0 = background, 1..n) and ``detections`` (detections per object,
    indexed by label - 1)."""

    labels: np.ndarray
    detections: np.ndarray

    @property
    def count(self) -> int:
        """Number of objects."""
        return int(self.detections.size)


def _grow_scale(i: int) -> int:
    return max(0, i - SCALES_PER_OCTAVE)


def _extent(sc: Scale, level: float, y: int, x: int, radius: int) -> tuple[slice, slice, np.ndarray] | None:
    """Region of ``sc.smooth`` above ``level`` connected to (y, x) within ``radius`` (level pixels), or None."""
    a = sc.smooth
    y0, y1 = max(0, y - radius), min(a.shape[0], y + radius + 1)
    x0, x1 = max(0, x - radius), min(a.shape[1], x + radius + 1)
    crop = (a[y0:y1, x0:x1] > level).view(np.uint8)
    if not crop[y - y0, x - x0]:
        return None
    _, lab = cv2.connectedComponents(crop, connectivity=8, ltype=cv2.CV_32S)
    return slice(y0, y1), slice(x0, x1), lab == lab[y - y0, x - x0]


def _full_resolution(sy: slice, sx: slice, part: np.ndarray, f: int, shape: tuple[int, int]):
    """A level-pixel region as full-image slices and mask."""
    if f == 1:
        return sy, sx, part
    fy = slice(sy.start * f, min(shape[0], sy.stop * f))
    fx = slice(sx.start * f, min(shape[1], sx.stop * f))
    up = np.repeat(np.repeat(part, f, axis=0), f, axis=1)
    return fy, fx, up[: fy.stop - fy.start, : fx.stop - fx.start]


def objects_from_blobs(scales: list[Scale], blobs: Blobs, shape: tuple[int, int]) -> Objects:
    """Objects (extents and merged detection counts) from the detections of :func:`.scalespace.find_blobs`.

    Detections are taken from the coarsest scale down. One whose centre lies
    in an object already made is merged into it (its extent fills only free
    pixels); any other starts a new object. Objects whose extents merely
    touch stay apart.
    """
    labels = np.zeros(shape, np.int32)
    counts: list[int] = []
    floors: dict[int, tuple[float, float]] = {}
    for k in np.argsort(-blobs.sigma, kind="stable"):
        sc = scales[_grow_scale(int(blobs.scale[k]))]
        if id(sc) not in floors:
            med = float(np.median(sc.smooth[::4, ::4]))
            floors[id(sc)] = (med, med + _Z_GROW * sc.smooth_rms)
        med, floor = floors[id(sc)]
        f = sc.factor
        y = int(np.clip(round((blobs.y[k] + 0.5) / f - 0.5), 0, sc.smooth.shape[0] - 1))
        x = int(np.clip(round((blobs.x[k] + 0.5) / f - 0.5), 0, sc.smooth.shape[1] - 1))
        peak = float(sc.smooth[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].max())
        region = _extent(sc, max(floor, med + _PEAK_FRACTION * (peak - med)), y, x,
                         int(math.ceil(_REACH * blobs.sigma[k] / f)) + 2)
        if region is None:
            r = max(1, int(round(math.sqrt(2.0) * blobs.sigma[k])))
            disc = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
            cv2.circle(disc, (r, r), r, 1, thickness=-1)
            cy, cx = int(round(blobs.y[k])), int(round(blobs.x[k]))
            y0, x0 = max(0, cy - r), max(0, cx - r)
            fy, fx = slice(y0, min(shape[0], cy + r + 1)), slice(x0, min(shape[1], cx + r + 1))
            part = disc[y0 - (cy - r) : y0 - (cy - r) + fy.stop - fy.start,
                        x0 - (cx - r) : x0 - (cx - r) + fx.stop - fx.start].astype(bool)
        else:
            fy, fx, part = _full_resolution(*region, f, shape)
        cy = int(np.clip(round(blobs.y[k]), 0, shape[0] - 1))
        cx = int(np.clip(round(blobs.x[k]), 0, shape[1] - 1))
        own = int(labels[cy, cx])
        if own == 0:
            counts.append(0)
            own = len(counts)
        counts[own - 1] += 1
        target = labels[fy, fx]
        target[part & (target == 0)] = own
    return Objects(labels, np.asarray(counts, int))

"""From scale-space blob detections to objects: each detection's extent, and the merge of detections of one object.

A detection at scale ``sigma`` is first outlined on the contrast smoothed
at about ``sigma / 2`` (three scales finer): the region connected to its
centre (within ``4 sigma``) above half its peak over the median, and at
least ``z_grow`` (3) robust rms of that smoothed contrast. That outline is
right for a faint object under texture but blurs across narrow gaps, so it
is then cut back to the pixels where the contrast smoothed over about one
pixel is above the same level (holes filled), keeping the piece at (or
nearest to) the detection's centre: two agglomerates a few pixels apart stay
two objects.

Detections are taken from the coarsest scale down. One whose centre lies in
an object already made is merged into it; any other makes an extent, and
extents that overlap or touch are one object (a large agglomerate found at a
coarse scale and at the scale of each of its particles counts once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from .scalespace import SCALES_PER_OCTAVE, Blobs, Scale

__all__ = ["Objects", "objects_from_blobs", "anchor_positions", "fine_contrast", "Z_GROW"]

#: An object's outline: where the smoothed contrast is at least this many robust rms above its median
#: (low enough to take in an object's flanks, high enough that the texture does not join neighbours).
Z_GROW = 3.0
_PEAK_FRACTION = 0.5  # an extent reaches down to half the detection's peak (above the median)
_REACH = 4.0  # an extent is looked for within 4 sigma of the detection
_FINE_SIGMA = 1.0  # pixels: the smoothing of the contrast that extents are cut back to


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


def _coarse_extent(sc: Scale, level: float, y: int, x: int, radius: int) -> tuple[slice, slice, np.ndarray] | None:
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


def _cut_back(part: np.ndarray, fine: np.ndarray, level: float, cy: int, cx: int) -> np.ndarray:
    """The piece of ``part & (fine > level)`` (holes filled) at or nearest to ``(cy, cx)`` (crop coordinates)."""
    keep = part & (fine > level)
    if not keep.any():
        return part
    n, lab = cv2.connectedComponents(keep.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    own = lab[cy, cx]
    if own == 0:
        ys, xs = np.nonzero(lab)
        k = int(np.argmin((ys - cy) ** 2 + (xs - cx) ** 2))
        own = lab[ys[k], xs[k]]
    return fill_holes(lab == own)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with its holes filled: the background not 4-connected to the border, as
    :func:`scipy.ndimage.binary_fill_holes` (a flood fill, several times faster on small crops)."""
    pad = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    pad[1:-1, 1:-1] = mask
    cv2.floodFill(pad, None, (0, 0), 1, flags=4)
    return mask | (pad[1:-1, 1:-1] == 0)


def _disc(cy: int, cx: int, r: int, shape: tuple[int, int]) -> tuple[slice, slice, np.ndarray]:
    disc = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    cv2.circle(disc, (r, r), r, 1, thickness=-1)
    y0, x0 = max(0, cy - r), max(0, cx - r)
    fy, fx = slice(y0, min(shape[0], cy + r + 1)), slice(x0, min(shape[1], cx + r + 1))
    part = disc[y0 - (cy - r): y0 - (cy - r) + fy.stop - fy.start, x0 - (cx - r): x0 - (cx - r) + fx.stop - fx.start]
    return fy, fx, part.astype(bool)


class _Merger:
    """Union-find over provisional object ids."""

    def __init__(self) -> None:
        self.parent: list[int] = [0]
        self.count: list[int] = [0]

    def new(self) -> int:
        self.parent.append(len(self.parent))
        self.count.append(0)
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.count[ra] += self.count[rb]
        return ra


def fine_contrast(flat: np.ndarray) -> np.ndarray:
    """The flattened contrast smoothed over about a pixel: what extents are cut back to."""
    return cv2.GaussianBlur(flat, (0, 0), _FINE_SIGMA, borderType=cv2.BORDER_REFLECT)


def objects_from_blobs(
    scales: list[Scale], blobs: Blobs, shape: tuple[int, int], fine: np.ndarray, merge_touching: bool = True
) -> Objects:
    """Objects (extents and merged detection counts) from the detections of :func:`.scalespace.find_blobs`.

    ``fine`` is :func:`fine_contrast` of the flattened contrast (full resolution). With
    ``merge_touching=False`` touching extents stay separate objects (the ``split`` setting); a detection
    whose centre lies in an existing object is still merged into it.
    """
    labels = np.zeros(shape, np.int32)
    uf = _Merger()
    for k in np.argsort(-blobs.sigma, kind="stable"):
        cy = int(np.clip(round(blobs.y[k]), 0, shape[0] - 1))
        cx = int(np.clip(round(blobs.x[k]), 0, shape[1] - 1))
        if labels[cy, cx]:
            uf.count[uf.find(int(labels[cy, cx]))] += 1
            continue
        sc = scales[_grow_scale(int(blobs.scale[k]))]
        med, floor = sc.smooth_median, sc.smooth_median + Z_GROW * sc.smooth_rms
        f = sc.factor
        y = int(np.clip(round((blobs.y[k] + 0.5) / f - 0.5), 0, sc.smooth.shape[0] - 1))
        x = int(np.clip(round((blobs.x[k] + 0.5) / f - 0.5), 0, sc.smooth.shape[1] - 1))
        peak = float(sc.smooth[max(0, y - 1): y + 2, max(0, x - 1): x + 2].max())
        if peak < floor:
            continue  # not brighter than the substrate: the response came from darker surroundings
        level = max(floor, med + _PEAK_FRACTION * (peak - med))
        region = _coarse_extent(sc, level, y, x, int(math.ceil(_REACH * blobs.sigma[k] / f)) + 2)
        if region is None:
            fy, fx, part = _disc(cy, cx, max(1, int(round(math.sqrt(2.0) * blobs.sigma[k]))), shape)
        else:
            fy, fx, part = _full_resolution(*region, f, shape)
            part = _cut_back(part, fine[fy, fx], level, cy - fy.start, cx - fx.start)
        own = uf.new()
        uf.count[own] = 1
        near = labels[max(0, fy.start - 1): fy.stop + 1, max(0, fx.start - 1): fx.stop + 1]
        grown = cv2.dilate(np.pad(part, 1).view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        grown = grown[(0 if fy.start else 1): grown.shape[0] - (1 if fy.stop >= shape[0] else 0),
                      (0 if fx.start else 1): grown.shape[1] - (1 if fx.stop >= shape[1] else 0)]
        if merge_touching:
            for other in np.unique(near[grown & (near > 0)]):
                own = uf.union(own, int(other))
        target = labels[fy, fx]
        target[part & (target == 0)] = own
    roots = np.array([uf.find(i) for i in range(len(uf.parent))], np.int64)
    ids = np.unique(roots[1:]) if roots.size > 1 else np.zeros(0, np.int64)
    lut = np.zeros(len(uf.parent), np.int32)
    lut[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
    lut = lut[roots]
    lut[0] = 0
    return Objects(lut[labels], np.asarray([uf.count[i] for i in ids], int))


def anchor_positions(labels: np.ndarray, ids: np.ndarray, cy: np.ndarray, cx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (pixels) moved, where one falls outside its object, to the object's pixel nearest to it."""
    cy, cx = np.asarray(cy, float).copy(), np.asarray(cx, float).copy()
    if ids.size == 0:
        return cy, cx
    ry = np.clip(np.rint(cy).astype(int), 0, labels.shape[0] - 1)
    rx = np.clip(np.rint(cx).astype(int), 0, labels.shape[1] - 1)
    outside = np.flatnonzero(labels[ry, rx] != ids)
    if outside.size == 0:
        return cy, cx
    slices = ndimage.find_objects(labels)
    for i in outside:
        sl = slices[int(ids[i]) - 1]
        ys, xs = np.nonzero(labels[sl] == ids[i])
        ys, xs = ys + sl[0].start, xs + sl[1].start
        k = int(np.argmin((ys - cy[i]) ** 2 + (xs - cx[i]) ** 2))
        cy[i], cx[i] = float(ys[k]), float(xs[k])
    return cy, cx

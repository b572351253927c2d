"""Splitting touching particles the way a person does (used by :func:`surfscan.measure_particles`).

Evidence SEM gives between two touching particles, in the order it is used:

1. **Dark separation lines.** Where one particle lies against or over
   another, a thin dark line (a shadowed gap one or two pixels wide) runs
   between them. :func:`dark_line_strength` measures it as the largest
   eigenvalue of the Hessian of the image (a valley's curvature across the
   line) divided by the local brightness of the particles, so a line is as
   strong on a dim particle as on a bright one.
2. **Necks.** The foreground is cut along the strong lines, and the distance
   transform of what is left, smoothed in proportion to the particle size,
   peaks once per particle; its h-maxima (peaks
   at least ``h`` above the saddle to any higher peak) are the markers.
3. **Watershed and merging.** A marker-controlled watershed of the distance
   map fills the whole foreground; then neighbours whose shared boundary
   carries no dark line *and* is as wide as the smaller particle (no neck)
   are merged again (:func:`merge_unseparated`).

Every length is set in units of the typical particle radius measured on the
image itself (:func:`typical_radius`: the median largest inscribed radius of
the foreground blobs, which for a clump is about the radius of its largest
particle), so the same defaults work from 100x to 50 kx.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

#: Necks shallower than this (pixels) are boundary noise, whatever the particle size.
MIN_NECK_PX = 0.5
#: The distance map is smoothed by this many typical radii before its peaks are read (1 px at the ~12 px radius
#: of 1x images) ...
DISTANCE_SMOOTH = 0.085
#: ... and by at least this many pixels: below it, the pixel steps of small particles' distance maps make peaks.
DISTANCE_SMOOTH_MIN_PX = 1.0
#: A blob whose core is at least this many typical radii high (the default neck depth) is a particle, however
#: large ``neck_depth`` is; lower ones are slivers.
SLIVER_RADIUS = 0.1

__all__ = ["dark_line_strength", "typical_radius", "h_maxima", "split_touching", "merge_unseparated"]


def typical_radius(mask: np.ndarray, min_area_px: float = 20.0) -> float:
    """Typical particle radius (pixels): the area-weighted median largest inscribed radius of the foreground blobs.

    Weighting by area makes specks of noise count for little; blobs smaller
    than ``min_area_px`` are left out; 0 when no blob is left.
    """
    comp, n = ndimage.label(mask)
    if n == 0:
        return 0.0
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    peak = np.zeros(n + 1, np.float32)
    np.maximum.at(peak, comp[mask], dist[mask])
    area = np.bincount(comp.ravel(), minlength=n + 1)
    keep = area[1:] >= min_area_px
    if not keep.any():
        return float(peak[1:].max())
    r, w = peak[1:][keep], area[1:][keep].astype(float)
    order = np.argsort(r)
    cum = np.cumsum(w[order])
    return float(r[order][np.searchsorted(cum, 0.5 * cum[-1])])


def dark_line_strength(flat: np.ndarray, background: float, contrast: float, sigma_px: float = 0.7,
                       local_px: float = 3.0, floor: float = 0.2) -> np.ndarray:
    """Strength of thin dark lines: Hessian valley curvature over the local particle brightness.

    Parameters
    ----------
    flat : ndarray
        Image, particles bright (float32).
    background, contrast : float
        Background level of ``flat`` and the particle contrast above it.
    sigma_px : float
        Gaussian scale of the Hessian (pixels): about half the line width.
    local_px : float
        Gaussian width (pixels) of the local brightness the curvature is divided by.
    floor : float
        The local brightness is taken as at least ``floor * contrast``.

    Returns
    -------
    ndarray of float32
        Per pixel, ``max(lambda_1, 0) * sigma^2 / 0.49 / local brightness`` (dimensionless; about
        0.1 for a clear separation line at sigma 0.7 px).
    """
    g = cv2.GaussianBlur(flat, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    ixx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REFLECT) / 4
    iyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REFLECT) / 4
    ixy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, borderType=cv2.BORDER_REFLECT) / 4
    l1 = 0.5 * (ixx + iyy) + np.sqrt(0.25 * (ixx - iyy) ** 2 + ixy**2)
    local = cv2.GaussianBlur(flat, (0, 0), local_px, borderType=cv2.BORDER_REFLECT) - background
    local = np.maximum(local, floor * contrast)
    return (np.maximum(l1, 0) * (sigma_px**2 / 0.49) / local).astype(np.float32)


def h_maxima(f: np.ndarray, h: float, mask: np.ndarray) -> np.ndarray:
    """Peaks of ``f`` at least ``h`` high (their dynamic), as a boolean image.

    Grey reconstruction by dilation of ``f - h`` under ``f`` with repeated
    3x3 dilations (OpenCV), restricted to ``mask``; the h-maxima are where
    ``f`` stands at least ``h`` above the reconstruction (less a small tolerance).
    """
    f = np.where(mask, f, 0).astype(np.float32)
    rec = np.maximum(f - h, 0)
    kernel = np.ones((3, 3), np.uint8)
    for i in range(10_000):
        nxt = np.minimum(cv2.dilate(rec, kernel), f)
        if i % 8 == 7 and np.array_equal(nxt, rec):
            break
        rec = nxt
    return mask & (f - rec >= h - 1e-3)


def split_touching(mask: np.ndarray, lines: np.ndarray, radius_px: float, *, line_level: float = 0.1,
                   neck_depth: float = 0.10) -> np.ndarray:
    """Marker-controlled watershed of the foreground cut along dark lines.

    Parameters
    ----------
    mask : ndarray of bool
        Particle foreground.
    lines : ndarray
        :func:`dark_line_strength` of the image.
    radius_px : float
        Typical particle radius (pixels).
    line_level : float
        Line strength above which the foreground is cut (``inf`` to ignore lines).
    neck_depth : float
        ``h`` of the h-maxima markers as a fraction of ``radius_px`` (at least ``MIN_NECK_PX``, 0.5 px).

    Returns
    -------
    ndarray of int32
        Labels filling ``mask``.
    """
    from skimage import segmentation

    core = mask & ~(lines > line_level)
    dist = cv2.distanceTransform(core.astype(np.uint8), cv2.DIST_L2, 5)
    dist = cv2.GaussianBlur(dist, (0, 0), max(DISTANCE_SMOOTH * radius_px, DISTANCE_SMOOTH_MIN_PX))
    h = max(neck_depth * radius_px, MIN_NECK_PX)
    peaks = h_maxima(dist, h, core)
    # slivers narrower than 2h get no marker and are dropped; but a blob at least 0.2 typical radii wide is a
    # particle even when h is larger than its height (a large neck_depth)
    if h > SLIVER_RADIUS * radius_px:
        blobs, n = ndimage.label(mask, structure=np.ones((3, 3)))
        marked = np.zeros(n + 1, bool)
        marked[blobs[peaks]] = True
        bare = np.flatnonzero(~marked[1:]) + 1
        for y, x in ndimage.maximum_position(dist, blobs, bare) if bare.size else ():
            if dist[y, x] >= SLIVER_RADIUS * radius_px:
                peaks[y, x] = True
    markers, _ = ndimage.label(peaks, structure=np.ones((3, 3)))
    return segmentation.watershed(-dist, markers, mask=mask).astype(np.int32)


def _shared_boundaries(labels: np.ndarray, evidence: np.ndarray):
    """Adjacent label pairs (a < b), the length of their shared boundary (pixel pairs) and its mean evidence."""
    n1 = int(labels.max()) + 1
    keys, vals = [], []
    for a, b, ea, eb in ((labels[:, :-1], labels[:, 1:], evidence[:, :-1], evidence[:, 1:]),
                         (labels[:-1], labels[1:], evidence[:-1], evidence[1:])):
        m = (a != b) & (a > 0) & (b > 0)
        lo = np.minimum(a[m], b[m]).astype(np.int64)
        hi = np.maximum(a[m], b[m]).astype(np.int64)
        keys.append(lo * n1 + hi)
        vals.append(np.maximum(ea[m], eb[m]))
    key, val = np.concatenate(keys), np.concatenate(vals)
    pairs, inv, length = np.unique(key, return_inverse=True, return_counts=True)
    return pairs // n1, pairs % n1, length, np.bincount(inv, weights=val) / length


def _inscribed_radius(labels: np.ndarray) -> np.ndarray:
    """Largest inscribed radius (pixels) of every label, its own boundaries with neighbours included."""
    inner = labels.copy()
    inner[:, :-1][labels[:, :-1] != labels[:, 1:]] = 0
    inner[:-1][labels[:-1] != labels[1:]] = 0
    dist = cv2.distanceTransform((inner > 0).astype(np.uint8), cv2.DIST_L2, 3) + 1.0
    out = np.ones(int(labels.max()) + 1, np.float32)
    fg = labels > 0
    np.maximum.at(out, labels[fg], dist[fg])
    return out


def merge_unseparated(labels: np.ndarray, lines: np.ndarray, *, line_level: float = 0.1, width: float = 1.0,
                      rounds: int = 3) -> np.ndarray:
    """Merge neighbours with no dark line and no neck between them.

    Two adjacent labels are merged when the mean :func:`dark_line_strength`
    along their shared boundary is below ``line_level`` *and* the boundary is
    longer than ``width`` times the diameter (twice the inscribed radius) of
    the smaller label, i.e. there is no neck. Each round merges every label
    at most once, weakest line first; ``rounds`` rounds are run.
    """
    for _ in range(rounds):
        n = int(labels.max())
        if n < 2:
            break
        a, b, length, line = _shared_boundaries(labels, lines)
        if a.size == 0:
            break
        radius = _inscribed_radius(labels)
        ok = (line < line_level) & (length > width * 2 * np.minimum(radius[a], radius[b]))
        if not ok.any():
            break
        order = np.argsort(line[ok])
        lut = np.arange(n + 1)
        used = np.zeros(n + 1, bool)
        for x, y in zip(a[ok][order], b[ok][order]):
            if not (used[x] or used[y]):
                lut[y] = x
                used[x] = used[y] = True
        labels = lut[labels].astype(np.int32)
    return labels

"""Objects outlined by a bright closed rim, found by following the rim.

In secondary-electron images the edge of a raised object often shows as a
thin bright line (the edge effect) around a plateau only a little brighter
than the substrate. The blob response then stays low, because a ring one to
three pixels wide carries little of the energy a blob filter sums, and lies
near the zero crossing of the Laplacian kernel. The rim itself is strong
evidence, though, once it is followed all the way round.

1. Evidence: the bright-line strength (:func:`line_strength`) of the
   contrast, clipped at its ``_CLIP_QUANTILE`` over the substrate (one strong
   feature, a scan line or a grain edge, cannot make a ring alone) and set to
   0 on and beside the objects found (a rim is new evidence).
2. Radii: one per octave from ``_MIN_RADIUS_PX`` to the largest object
   radius, each searched on the coarsest pyramid level (at least 1) where it
   spans ``_LEVEL_RADIUS_PX``.
3. Candidates: the local maxima of the mean line strength on a circle of
   that radius (a soft annulus), the ``_CANDIDATES`` strongest outside the
   objects found.
4. Paths: around each candidate, the strength is sampled on a polar grid and
   dynamic programming finds the best path round it: one radius per angle,
   moving at most one radius step from one angle to the next, so ellipses
   are followed. The candidate is then moved to the centre of its path and
   the search repeated (``_RECENTRE`` times). The score is the path's mean
   strength.
5. Level: the same search from the ``_NULL_POINTS`` strongest circle maxima
   on the substrate (the texture's own most ring-like spots) gives each
   radius its null distribution: a Gumbel law (the maximum of many paths)
   fitted to its quartiles, robust to rims among them. Random substrate
   points understate it (on real images their paths are weaker than those
   round the texture's ring-like spots). Candidates are kept below
   ``budget`` per radius over the candidates (the false detections allowed
   on an image, as shared between the blob search's scales) or,
   once the image holds objects (found before, or one rim at that level),
   by the Benjamini-Hochberg rule at the false-discovery ``rate``.
6. A kept path encloses a new object, unless more than ``_MAX_OVERLAP`` of
   it lies on objects already found, or its inside is not brighter on
   average than the substrate's median.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .regions import subsample
from .scalespace import down_mask, pyramid

__all__ = ["line_strength", "ring_objects"]

_LINE_SIGMA_PX = 2.5  # bright rims are looked for at this width (Gaussian sigma, full-image pixels)
_MIN_RADIUS_PX = 24.0  # rims are looked for around objects of at least this radius (a path of 150 px) ...
_LEVEL_RADIUS_PX = 32.0  # ... at one radius per octave, on the coarsest pyramid level (at least 1) where it spans this
_CANDIDATES = 40  # the strongest ring-shaped spots searched per radius
_CIRCLE_RADIUS_PX = 8.0  # ... found on the line strength reduced (area mean) until the radius spans about this
_ANGLES = 96  # angular steps of a path (1-4 level pixels of arc)
_THETA = np.linspace(0.0, 2 * np.pi, _ANGLES, endpoint=False)
_RADII = 48  # radius steps of a path, over _RADIUS_RANGE times the searched radius
_RADIUS_RANGE = (0.55, 1.5)  # covers one octave of radii and ellipses up to an aspect of 1.6
_CLIP_QUANTILE = 0.99  # the line strength is clipped at this quantile over the substrate ...
_CLIP_SAMPLE = 20_000  # ... taken from about this many values
_NULL_POINTS = 96  # the substrate's strongest ring-shaped spots give each radius its null distribution ...
_MIN_NULL = 24  # ... at least this many, or that radius is not searched
_RECENTRE = 1  # times a point is moved to the centre of its path and the path found again
_INNER = 0.8  # the inside of a path (this share of its radii, the rim left out) must be brighter on average than the
# substrate's median: a hole between particles, ringed by their edges, is not a protrusion
_MAX_OVERLAP = 0.05  # a path enclosing more than this share of objects already found is not a new object


def line_strength(contrast: np.ndarray, sigma: float = _LINE_SIGMA_PX) -> np.ndarray:
    """Bright-line strength: ``sigma² max(0, -l1 - max(0, -l2))`` with ``l1 <= l2`` the Hessian eigenvalues.

    A bright line (``l1`` strongly negative, ``l2`` near 0) scores ``-l1``;
    a bright spot (both negative alike) scores near 0, so isolated bright
    grains do not pass for a rim.
    """
    g = cv2.GaussianBlur(contrast, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    q = np.float32(0.25)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REFLECT) * q
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REFLECT) * q
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, borderType=cv2.BORDER_REFLECT) * q
    half = (dxx + dyy) * np.float32(0.5)
    disc = np.sqrt(np.maximum(half * half - (dxx * dyy - dxy * dxy), 0))
    out = np.maximum(disc - half - np.maximum(-(half + disc), 0), 0)  # -l1 - max(0, -l2), l = half -+ disc
    out *= np.float32(sigma * sigma)
    return out


def _polar(line: np.ndarray, ys: np.ndarray, xs: np.ndarray, r0: float) -> tuple[np.ndarray, np.ndarray]:
    """``line`` on a polar grid around each point: (angles, points, radii), and the radii."""
    rr = np.linspace(_RADIUS_RANGE[0] * r0, _RADIUS_RANGE[1] * r0, _RADII)
    py = (ys[None, :, None] + np.sin(_THETA)[:, None, None] * rr[None, None, :]).astype(np.float32)
    px = (xs[None, :, None] + np.cos(_THETA)[:, None, None] * rr[None, None, :]).astype(np.float32)
    n = ys.size
    v = cv2.remap(line, px.reshape(_ANGLES, -1), py.reshape(_ANGLES, -1), cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_REFLECT)
    return v.reshape(_ANGLES, n, _RADII), rr


def _best_paths(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the best path through ``v`` (angles, points, radii) per point, and its radius index per angle."""
    total = np.empty_like(v)
    total[0] = v[0]
    for t in range(1, v.shape[0]):
        prev, cur = total[t - 1], total[t]
        cur[:] = prev
        np.maximum(cur[:, 1:], prev[:, :-1], out=cur[:, 1:])
        np.maximum(cur[:, :-1], prev[:, 1:], out=cur[:, :-1])
        cur += v[t]
    n, nr = v.shape[1], v.shape[2]
    idx = np.arange(n)
    k = np.argmax(total[-1], axis=1)
    score = total[-1][idx, k] / v.shape[0]
    path = np.empty((v.shape[0], n), int)
    path[-1] = k
    low = np.float32(-np.inf)
    for t in range(v.shape[0] - 1, 0, -1):
        prev = total[t - 1]
        options = np.stack([np.where(k > 0, prev[idx, np.maximum(k - 1, 0)], low), prev[idx, k],
                            np.where(k < nr - 1, prev[idx, np.minimum(k + 1, nr - 1)], low)])
        k = k + np.argmax(options, axis=0) - 1
        path[t - 1] = k
    return score, path.T


def _search(lines: dict[int, np.ndarray], groups: list[tuple[int, float, np.ndarray, np.ndarray]]):
    """Best paths of every group (level, radius in level pixels, ys, xs in level pixels), recentred.

    Returns per group the scores, radii (points, angles; level pixels) and centres.
    """
    ys = [g[2].astype(float) for g in groups]
    xs = [g[3].astype(float) for g in groups]
    for rnd in range(_RECENTRE + 1):
        polar = [_polar(lines[lev], y, x, r0) for (lev, r0, _, _), y, x in zip(groups, ys, xs)]
        score, path = _best_paths(np.concatenate([p[0] for p in polar], axis=1))
        out, start = [], 0
        for j, (v, rr) in enumerate(polar):
            n = v.shape[1]
            radii = rr[path[start:start + n]]
            out.append((score[start:start + n], radii, ys[j], xs[j]))
            if rnd < _RECENTRE:  # move each point to its path's centre
                ys[j] = ys[j] + np.mean(radii * np.sin(_THETA), axis=1)
                xs[j] = xs[j] + np.mean(radii * np.cos(_THETA), axis=1)
            start += n
    return out


def _gumbel_tail(null: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Probability that a Gumbel law fitted to the quartiles of ``null`` exceeds each ``x``."""
    q25, q75 = (float(v) for v in np.quantile(null, [0.25, 0.75]))
    beta = max(q75 - q25, 1e-12) / 1.5725  # Gumbel quartiles: mu - 0.3266 beta, mu + 1.2459 beta
    mu = q25 + 0.3266 * beta
    return -np.expm1(-np.exp(-(x - mu) / beta))


def _polygon(y: float, x: float, radii: np.ndarray) -> np.ndarray:
    """Integer vertices (x, y) of a path of ``radii`` (one per angle) around (``y``, ``x``), for ``cv2.fillPoly``."""
    return np.rint(np.stack([x + radii * np.cos(_THETA), y + radii * np.sin(_THETA)], axis=1)).astype(np.int32)


def _level_of(r0: float) -> int:
    return max(1, int(math.floor(math.log2(r0 / _LEVEL_RADIUS_PX))))


def _circle_candidates(line: np.ndarray, f: float, r0: float, labels: np.ndarray, quiet: np.ndarray):
    """Candidates and null points (2 x n, full-image rows and columns), strongest first.

    The mean line strength on a circle (a soft annulus) of radius ``r0``
    (level pixels; level factor ``f``) around each pixel; its local maxima
    (``r0 / 2`` apart) outside the objects found are the candidates (the
    ``_CANDIDATES`` strongest), those on the substrate (``quiet``) the null
    points (the ``_NULL_POINTS`` strongest).
    """
    g = max(1, int(r0 // _CIRCLE_RADIUS_PX))  # summed on the line strength reduced g times (area mean)
    small = line if g == 1 else cv2.resize(line, (line.shape[1] // g, line.shape[0] // g), interpolation=cv2.INTER_AREA)
    rs = r0 / g
    k = int(math.ceil(1.3 * rs))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    ker = np.exp(-0.5 * ((np.hypot(yy, xx) - rs) / (0.15 * rs)) ** 2).astype(np.float32)
    acc = cv2.filter2D(small, -1, ker / ker.sum(), borderType=cv2.BORDER_REFLECT)
    size = max(3, int(rs / 2) | 1)
    peak = acc >= cv2.dilate(acc, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    my, mx = np.nonzero(peak & (acc > 0))
    mv = acc[my, mx]
    order = np.argsort(-mv, kind="stable")
    my, mx = my[order], mx[order]
    yf, xf = (my + 0.5) * (f * g) - 0.5, (mx + 0.5) * (f * g) - 0.5
    h, w = labels.shape
    rf = r0 * f
    keep = (yf >= rf) & (yf <= h - 1 - rf) & (xf >= rf) & (xf <= w - 1 - rf)
    yf, xf = yf[keep], xf[keep]
    iy, ix = np.rint(yf).astype(int), np.rint(xf).astype(int)
    c = labels[iy, ix] == 0
    q = quiet[iy, ix]
    return np.stack([yf[c], xf[c]])[:, :_CANDIDATES], np.stack([yf[q], xf[q]])[:, :_NULL_POINTS]


def _evidence(level_image: np.ndarray, level: int, quiet: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Line strength of a pyramid level, clipped at its ``_CLIP_QUANTILE`` over ``quiet`` and 0 on and beside
    ``found`` (full-size masks)."""
    line = line_strength(level_image, max(1.0, _LINE_SIGMA_PX / 2**level))
    vals = line[down_mask(quiet, line.shape)]
    if vals.size:
        cap = float(np.quantile(vals[:: max(1, vals.size // _CLIP_SAMPLE)], _CLIP_QUANTILE))
        if cap > 0:
            np.minimum(line, np.float32(cap), out=line)
    near = cv2.dilate(down_mask(found, line.shape).view(np.uint8), np.ones((3, 3), np.uint8))
    line[near > 0] = 0
    return line


def ring_objects(contrast: np.ndarray, quiet: np.ndarray, labels: np.ndarray, max_radius: float, budget: float,
                 rate: float) -> list[np.ndarray]:
    """Regions (boolean masks, full size) enclosed by bright rims, beside the objects found.

    Parameters
    ----------
    contrast : ndarray of float32
        The flattened relative contrast (bright objects positive).
    quiet : ndarray of bool
        The substrate away from the objects found.
    labels : ndarray of int
        The objects found (0 = none); rims are looked for outside them.
    max_radius : float
        The largest object radius looked for, pixels.
    budget : float
        False detections the search may add to an image without objects, per
        radius searched (what the blob search spends per octave of sizes).
    rate : float
        Share of false ones allowed among the rims kept, once the image holds objects.
    """
    h, w = contrast.shape
    if max_radius < _MIN_RADIUS_PX or not np.any(quiet):
        return []
    radii = [_MIN_RADIUS_PX * 2.0**o for o in range(int(math.floor(math.log2(max_radius / _MIN_RADIUS_PX))) + 1)]
    levels = sorted({_level_of(r) for r in radii})
    pyr = pyramid(contrast, levels[-1])
    if levels[-1] >= len(pyr):
        return []
    found_mask = labels > 0
    lines = {lev: _evidence(pyr[lev], lev, quiet, found_mask) for lev in levels}
    groups = []  # level, radius (level pixels), rows and columns (level pixels; null points first), null points
    for r in radii:
        lev = _level_of(r)
        f = 2.0**lev
        cand, null = _circle_candidates(lines[lev], f, r / f, labels, quiet)
        if null.shape[1] < _MIN_NULL or not cand.size:
            continue
        yx = np.concatenate([null, cand], axis=1)
        groups.append((lev, r / f, (yx[0] + 0.5) / f - 0.5, (yx[1] + 0.5) / f - 0.5, null.shape[1]))
    if not groups:
        return []
    found = []  # (p-value, y, x, radii), full-image pixels
    for (lev, _, _, _, m), (score, rad, ys, xs) in zip(groups, _search(lines, [g[:4] for g in groups])):
        f = 2.0**lev
        p = _gumbel_tail(score[:m], score[m:])
        for j in range(p.size):
            i = m + j
            found.append((float(p[j]), (ys[i] + 0.5) * f - 0.5, (xs[i] + 0.5) * f - 0.5, rad[i] * f))
    if not found:
        return []
    found.sort(key=lambda t: t[0])
    pv = np.array([t[0] for t in found])
    cut = budget * len(groups) / pv.size  # at most ``budget`` false detections per radius on an empty image
    # once the image is known to hold objects (found before, or one rim at that level): Benjamini-Hochberg at rate
    if found_mask.any() or pv[0] <= cut:
        bh = np.flatnonzero(pv <= rate * np.arange(1, pv.size + 1) / pv.size)
        cut = max(cut, float(pv[bh[-1]]) if bh.size else 0.0)
    level = float(np.median(subsample(contrast, quiet, _CLIP_SAMPLE)))
    taken = np.zeros((h, w), bool)
    out = []
    for p, y, x, rad in found:
        if p > cut:
            break
        iy, ix = int(round(y)), int(round(x))
        if not (0 <= iy < h and 0 <= ix < w) or taken[iy, ix] or labels[iy, ix]:
            continue
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [_polygon(y, x, rad)], 1)
        region = mask.view(bool)
        if np.count_nonzero(region & found_mask) > _MAX_OVERLAP * np.count_nonzero(region):
            continue
        inner = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inner, [_polygon(y, x, _INNER * rad)], 1)
        if not np.mean(contrast[inner.view(bool)]) > level:  # a protrusion's inside is brighter than the substrate
            continue
        taken |= region
        out.append(region)
    return out

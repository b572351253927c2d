"""Normalised Laplacian-of-Gaussian scale space of a flattened SEM contrast image, with a threshold per scale.

The contrast is analysed at scales ``sigma_i = sigma_min * 2^(i/3)``
(pixels of the full image) up to ``sigma_max``. A blob of diameter ``D``
answers most strongly near ``sigma = D / (2 sqrt 2)``. Coarse scales are
computed on a Gaussian pyramid (``cv2.pyrDown``), so every scale costs about
the same few operations on at most ``(1.6 / sigma)²`` of the pixels.

The response at a scale is ``R = -sigma² ∇²(G_sigma * contrast)`` (the
normalised LoG: a bright disc of relative contrast C gives about the same
peak R whatever its size). Its threshold, from the response's own
statistics over quiet pixels (the substrate), is ``median + h s z*``:

- ``s`` the robust (MAD) rms of R and ``z*`` the Gaussian random-field
  level whose expected Euler characteristic ``A lambda2 (2 pi)^(-3/2) z
  exp(-z²/2)`` equals the false alarms allowed at that scale (``A`` the
  area in pixels, ``lambda2`` the variance of R's gradient over its
  variance, measured from neighbour differences);
- ``h >= 1`` the tail heaviness: the k-th largest maximum of R (k a
  twentieth of the maxima above one rms, 3 to 20) against the level a
  Gaussian field exceeds k times. It is measured where a scale has at
  least 300 maxima and carried to coarser scales, falling as ``1/sigma``
  (a smoothed texture's skewness does; objects would be a large share of
  a coarse scale's few maxima). Where fewer than 2500 maxima lie above one
  rms, k is at least a fifth of them, so that the objects the first pass
  missed cannot set the texture's tail and lift the threshold above
  themselves;
- where a well-measured scale has fewer than 2500 maxima above one rms, the
  response's extreme minima bound ``h`` from below (the k-th deepest, k a
  twentieth of them up to 20, against a Gaussian field's level). Only minima
  at least 2 sigma from everything left out of the statistics count, beyond
  a bright object's negative surround: objects sit among the maxima, never
  among those minima, so on a texture as wild on the dark side as on the
  bright one they give the extreme tail the maxima cannot;
- where ``h > 1.15`` on a well-measured scale, a Hill fit of the maxima's
  power-law tail may raise the level further (sparse bright grains, and the
  real substrates whose faint bumps are many);
- where the texture is skewed to bright values (the upper 1 % of R over
  quiet pixels lies more than 1.15 times as far from the median as the
  lower 1 %), the quiet pixels understate its tail: the substrate search
  leaves out its brightest patches, which are the texture's own. There the
  level also comes from the maxima of the whole field (objects included:
  they are few among the 1000 or more a scale needs for this), whose top
  tenth is fitted with an exponential tail, its scale from the median
  excess (robust to the objects among them). Coarser scales with too few
  maxima carry that heaviness, falling as ``1/sigma``, as long as the
  texture stays skewed there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .regions import robust_sigma, subsample

__all__ = ["Scale", "scale_space", "scale_thresholds", "random_field_level", "find_blobs", "Blobs"]

SCALES_PER_OCTAVE = 3
_MIN_LEVEL_SIGMA = 1.6  # a scale is computed on the coarsest pyramid level where it spans >= 1.6 pixels
_HEAVY = 1.15  # a tail this much heavier than Gaussian also gets the Hill fit
_TOP_K_MAX = 20  # the tail heaviness is read at the k-th largest maximum, k a twentieth of them up to this ...
_FEW_PEAKS = 2500  # ... but with fewer maxima above one rms, undetected objects could fill that top ...
_FEW_PEAKS_RANK = 0.2  # ... so there it is read at least this share of the way down them
_BORDER_FREE_SIGMA = 12.0  # pixels: maxima at finer scales may lie on the border
_BORDER_SCORE = 1.6  # ... if they beat the threshold by this factor (half their support is mirrored)
_TAIL_DECAY = 1.0  # heaviness - 1 falls as 1/sigma from scale to scale (the skewness of a smoothed texture)
_WELL_MEASURED = 300  # maxima a scale needs for its tail heaviness to be carried to coarser scales
_WHOLE_FIELD_MAXIMA = 1000  # maxima a scale needs for the tail fit of its whole field's maxima (objects a small share)
_STAT_SAMPLE = 10_000  # response values per scale that its statistics come from
_EDGE_RATIO = 10.0  # Hessian eigenvalue ratio above which a response is a ridge, not a blob
_LOBE_REACH = 2.0  # minima this many sigma from objects (and other non-quiet pixels) are beyond their negative surround


@dataclass
class Scale:
    """One scale of the scale space.

    Attributes
    ----------
    sigma_px : float
        Gaussian sigma in pixels of the full image.
    level : int
        Pyramid level (the arrays have ``1 / 2**level`` of the full resolution).
    smooth : ndarray of float32
        The contrast smoothed to ``sigma_px`` at that level.
    response : ndarray of float32
        Normalised LoG response ``-sigma² ∇² smooth`` (bright blobs positive).
    threshold : float
        Detection level of the response (set by :func:`scale_thresholds`).
    lam2 : float or None
        Gradient variance over variance of the response (measured once).
    top_maxima : ndarray or None
        The largest tenth (at most 300) of the response's maxima over the
        whole field, found once (empty when the scale has too few maxima).
    maxima_yx : tuple of ndarray or None
        Rows, columns and response values of the response's 3 x 3 local
        maxima, located once and shared by both passes.
    rms : float
        Robust rms of the response over quiet pixels.
    smooth_rms, smooth_median : float
        Robust rms and median of ``smooth`` over quiet pixels (the substrate's level at this scale).
    """

    sigma_px: float
    level: int
    smooth: np.ndarray
    response: np.ndarray
    threshold: float = math.inf
    rms: float = 0.0
    smooth_rms: float = 0.0
    smooth_median: float = 0.0
    heaviness: float = 1.0
    lam2: float | None = None
    top_maxima: np.ndarray | None = None
    maxima_yx: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    minima_yx: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def factor(self) -> int:
        """Full-image pixels per pixel of this scale's arrays."""
        return 2**self.level


def pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """``image`` and up to ``levels`` ``cv2.pyrDown`` reductions of it (stopping below 16 pixels)."""
    out = [image]
    for _ in range(levels):
        prev = out[-1]
        if min(prev.shape) < 16:
            break
        out.append(cv2.pyrDown(prev, borderType=cv2.BORDER_REFLECT))
    return out


def level_blur(level: int) -> float:
    """Gaussian sigma (full-image pixels) that ``level`` pyrDown steps have already applied."""
    return math.sqrt((4.0**level - 1.0) / 3.0)


def blur_at_level(sigma: float, level: int) -> float:
    """Gaussian sigma (in that level's pixels) that brings pyramid ``level`` to ``sigma`` full-image pixels
    (at least half a level pixel)."""
    f = 2.0**level
    return math.sqrt(max(sigma * sigma - level_blur(level) ** 2, 0.25 * f * f)) / f


def scale_space(contrast: np.ndarray, sigma_min: float, sigma_max: float) -> list[Scale]:
    """Normalised LoG responses from ``sigma_min`` to ``sigma_max`` (pixels), three scales per octave."""
    n = max(1, int(math.floor(SCALES_PER_OCTAVE * math.log2(max(sigma_max / sigma_min, 1.0)))) + 1)
    sigmas = [sigma_min * 2.0 ** (i / SCALES_PER_OCTAVE) for i in range(n)]
    top = max(0, int(math.floor(math.log2(sigmas[-1] / _MIN_LEVEL_SIGMA))))
    pyr = pyramid(contrast, top)
    scales = []
    for s in sigmas:
        level = min(len(pyr) - 1, max(0, int(math.floor(math.log2(s / _MIN_LEVEL_SIGMA)))))
        f = 2.0**level
        smooth = cv2.GaussianBlur(pyr[level], (0, 0), sigmaX=blur_at_level(s, level), borderType=cv2.BORDER_REFLECT)
        lap = cv2.Laplacian(smooth, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
        lap *= np.float32(-((s / f) ** 2))
        scales.append(Scale(s, level, smooth, lap))
    return scales


def random_field_level(n_eff: float, expected: float) -> float:
    """``z`` (in rms units) with ``n_eff z exp(-z²/2) = expected`` (at least 1): the Gaussian random-field level."""
    if n_eff <= expected:
        return 1.0
    z = 3.0
    for _ in range(30):
        z = math.sqrt(2.0 * math.log(max(n_eff * z / expected, 1.0 + 1e-9)))
    return max(1.0, z)


def _robust_var(v: np.ndarray) -> float:
    return robust_sigma(v)[1] ** 2


def _local_maxima(a: np.ndarray) -> np.ndarray:
    return a >= cv2.dilate(a, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REFLECT)


def _maxima_yx(sc: Scale) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and values of the response's 3 x 3 local maxima (located once per scale, shared by both passes)."""
    if sc.maxima_yx is None:
        my, mx = np.nonzero(_local_maxima(sc.response))
        sc.maxima_yx = (my, mx, sc.response[my, mx])
    return sc.maxima_yx


def _minima_yx(sc: Scale) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and values of the response's 3 x 3 local minima (located once per scale)."""
    if sc.minima_yx is None:
        my, mx = np.nonzero(_local_maxima(-sc.response))
        sc.minima_yx = (my, mx, sc.response[my, mx])
    return sc.minima_yx


def _lower_tail_heaviness(sc: Scale, far: tuple[int, np.ndarray], med: float, n_eff: float) -> float:
    """How much wider than a Gaussian field's the response's extreme MINIMA lie (at least 1).

    Where a scale has few maxima, :func:`_tail_heaviness` reads their tail a
    fifth of the way down, because objects the search has not found may
    fill its top; so it misses a texture's own rare bright extremes. The
    dark extremes hold no objects: only minima further than
    ``_LOBE_REACH`` sigma from everything left out of the statistics are
    used, beyond the negative surround the LoG gives a bright object
    (``far``: a pyramid level and, on it, the distance in its pixels to the
    nearest pixel that is not quiet). On a texture as wild on the dark side
    as on the bright one (cells of random brightness, edge-brightened grain
    boundaries) this is the tail its brightest patches come from; on one
    skewed to bright values it is lighter and changes nothing. The ``k``-th
    largest depth beyond one rms is read as :func:`_tail_heaviness` reads
    the maxima, ``k`` at most 20.
    """
    my, mx, mv = _minima_yx(sc)
    level, dist = far
    shift = sc.level - level  # the map's pixels are 2**shift of this scale's: a shift of the indices
    ry, rx = (my >> -shift, mx >> -shift) if shift < 0 else (my << shift, mx << shift)
    ry, rx = np.minimum(ry, dist.shape[0] - 1), np.minimum(rx, dist.shape[1] - 1)
    depth = med - mv[dist[ry, rx] > _LOBE_REACH * sc.sigma_px / 2.0**level]
    return _tail_heaviness(np.sort(depth[depth > sc.rms]), 0.0, sc.rms, n_eff, objects_among=False)


def down_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean ``mask`` resampled to ``shape`` (nearest pixel)."""
    if mask.shape == shape:
        return mask
    return cv2.resize(mask.view(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).view(bool)


def scale_thresholds(scales: list[Scale], quiet: np.ndarray, expected: float, k: float | None = None,
                     robust: bool = False, min_sigma: float = 0.0) -> None:
    """Set ``threshold``, ``rms``, ``smooth_rms`` and ``heaviness`` of every scale (``expected`` false alarms each).

    With ``k`` the threshold is the median plus ``k`` robust rms of the
    response at every scale instead (no random-field level, no tail fit).

    ``robust=True`` leaves out every estimate that objects among the quiet
    pixels can inflate: the upper tail is read at least a fifth of the way
    down the maxima at every scale (not only where they are few), bounded
    below by the extreme minima, and there is no Hill fit and no
    whole-field level. Objects too faint for the substrate search but
    crowded (a tenth of the field) otherwise fill the top of the maxima and
    of the whole field's tail, and lift every threshold above themselves.
    Scales finer than ``min_sigma`` (pixels) are skipped (threshold inf).

    ``quiet`` (full resolution, True = no object candidate) selects the
    pixels the statistics come from; a scale with too few quiet pixels
    uses all of them. See the module notes for the levels.
    """
    stats = []
    skewed = False
    masks: dict[tuple[int, int], np.ndarray] = {quiet.shape: quiet}
    far: tuple[int, np.ndarray] | None = None  # a level, and on it the distance to the nearest pixel that is not quiet
    for sc in scales:
        if sc.sigma_px < min_sigma:
            sc.threshold = math.inf
            stats.append(None)
            continue
        r = sc.response
        my, mx, mv = _maxima_yx(sc)
        if r.shape not in masks:  # each level's mask from the previous, finer one (cheaper than from full size)
            masks[r.shape] = down_mask(masks[list(masks)[-1]], r.shape)
        q = masks[r.shape]
        if np.count_nonzero(q) < 0.05 * q.size or np.count_nonzero(q) < 400:
            q = np.ones(r.shape, bool)
        v = subsample(r, q, _STAT_SAMPLE)
        med = float(np.median(v)) if v.size else 0.0
        sc.rms = math.sqrt(_robust_var(v))
        if not robust:  # the substrate's level at this scale (outlines, the detection limit): not needed to find blobs
            vs = subsample(sc.smooth, q, _STAT_SAMPLE)
            sc.smooth_median = float(np.median(vs)) if vs.size else 0.0
            sc.smooth_rms = math.sqrt(_robust_var(vs))
        if sc.rms <= 0 or k is not None:
            sc.threshold = math.inf if sc.rms <= 0 else med + k * sc.rms
            stats.append(None)
            continue
        frac = np.count_nonzero(q) / q.size
        if sc.lam2 is None:
            sc.lam2 = gradient_ratio(r, q, sc.rms)
        n_eff = r.size * sc.lam2 / (2 * math.pi) ** 1.5
        tops = q[my, mx]  # the maxima among the quiet pixels
        peaks = np.sort(mv[tops & (mv > med + sc.rms)])
        # few maxima (coarse scales): objects would be a large share of them, so the tail is carried from finer
        # scales instead of measured
        well = int(np.count_nonzero(tops)) >= _WELL_MEASURED
        sc.heaviness = _tail_heaviness(peaks, med, sc.rms, n_eff * frac, deep=robust) if well else 1.0
        if well and (robust or peaks.size < _FEW_PEAKS):
            # the maxima's tail was read a fifth of the way down (objects could fill its top): the dark extremes,
            # away from objects, bound the bright ones of a texture as wild on both sides
            if far is None:  # one distance map for every scale, on level 2 or coarser (others read it at shifted indices)
                lev = max(sc.level, 2)
                shape = quiet.shape
                for _ in range(lev):
                    shape = ((shape[0] + 1) // 2, (shape[1] + 1) // 2)
                far = (lev, cv2.distanceTransform(down_mask(quiet, shape).view(np.uint8), cv2.DIST_L2, 3))
            sc.heaviness = max(sc.heaviness, _lower_tail_heaviness(sc, far, med, n_eff * frac))
        # a texture skewed to bright values (upper tail heavier than the lower one, at this scale, or just heavier
        # on the next finer scale that was): its brightest patches are its own, see _whole_field_level
        skew = _upper_skew(v, med) if v.size and not robust else 1.0
        skewed = skew > _HEAVY or (skewed and skew > 1.0)
        whole = _whole_field_level(sc, med, n_eff, expected) if skewed else -math.inf
        stats.append((med, frac, n_eff, peaks, well, skewed, whole))
    carried = 1.0  # tail heaviness carried from finer scales
    carried_whole = 1.0  # ... and that of the whole field's maxima, while the texture stays skewed
    decay = 2.0 ** (-_TAIL_DECAY / SCALES_PER_OCTAVE)
    for sc, st in zip(scales, stats):
        if st is None:
            continue
        med, frac, n_eff, peaks, well, skewed, whole = st
        z_star = random_field_level(n_eff, expected)
        if math.isfinite(whole):
            carried_whole = max(1.0, (whole - med) / (sc.rms * z_star))
        elif not skewed:
            carried_whole = 1.0
        sc.heaviness = max(sc.heaviness, carried)
        carried = sc.heaviness
        sc.heaviness = max(sc.heaviness, carried_whole)
        carried_whole = 1.0 + (carried_whole - 1.0) * decay
        sc.threshold = med + sc.heaviness * sc.rms * z_star
        if well and sc.heaviness > _HEAVY and not robust:
            sc.threshold = max(sc.threshold, med + _hill_level(peaks - med, expected * frac))
        # a texture's tail gets lighter with smoothing, as its skewness: 1 / sigma
        carried = 1.0 + (carried - 1.0) * decay


def _hill_level(excess: np.ndarray, expected: float) -> float:
    """Level (above the median) that a heavy, power-law tail of maxima exceeds ``expected`` times.

    ``excess`` (sorted, positive) are the maxima above the median; the Hill
    estimator over the top ``k`` (a tenth of them, 10 to 300) gives the tail
    index ``xi`` and the level is ``x_k (k / expected)^xi`` (0 without maxima).
    """
    if excess.size == 0:
        return 0.0
    k = int(min(300, max(10, excess.size // 10)))
    top = excess[-k:]
    xk = float(top[0])
    if xk <= 0:
        return 0.0
    xi = float(np.mean(np.log(top / xk)))
    return xk * (k / max(expected, 1e-12)) ** xi


def _upper_skew(v: np.ndarray, med: float) -> float:
    """How much further the upper 1 % of ``v`` lies from the median than the lower 1 % (1 for a symmetric field)."""
    k = v.size // 100
    lo, hi = np.partition(v, (k, v.size - 1 - k))[[k, v.size - 1 - k]]
    return float((hi - med) / max(med - lo, 1e-12))


def _whole_field_level(sc: Scale, med: float, n_eff: float, expected: float) -> float:
    """Level from the maxima of the WHOLE field when their tail is heavier than a Gaussian field's (else -inf).

    The quiet pixels leave out the substrate's brightest patches, so on a
    heavy-tailed texture (sparse bright grains) their maxima understate the
    tail. Over all maxima (objects included, but they are few at a scale
    with hundreds of maxima), the ``k``-th largest (``k`` a tenth of them,
    at most 300) is compared with the level a Gaussian field of the scale's
    rms exceeds ``k`` times; when it lies more than ``_HEAVY`` times higher,
    the tail above it is taken as exponential, with the scale from the
    median excess of the top ``k`` (robust to the objects among them), and
    the level it exceeds ``expected`` times is returned.
    """
    if sc.top_maxima is None:  # the same in both passes: found once
        vals = _maxima_yx(sc)[2]
        k = int(min(300, vals.size // 10)) if vals.size >= _WHOLE_FIELD_MAXIMA else 0
        sc.top_maxima = np.partition(vals, vals.size - k)[vals.size - k:] if k else vals[:0]
    top = sc.top_maxima
    if top.size == 0:
        return -math.inf
    k = top.size
    u = float(top.min())
    z_k = random_field_level(n_eff, float(k))
    if u - med <= _HEAVY * sc.rms * z_k:
        return -math.inf
    beta = float(np.median(top - u)) / math.log(2.0)
    return u + beta * math.log(k / max(expected, 1e-12))


def _tail_heaviness(peaks: np.ndarray, med: float, s: float, n_eff: float, objects_among: bool = True,
                    deep: bool = False) -> float:
    """How much wider than a Gaussian field of rms ``s`` the texture's extreme maxima lie (at least 1).

    The ``k``-th largest maximum (``k`` a twentieth of them, 3 to 20) is
    compared with the level a Gaussian random field of rms ``s`` exceeds
    ``k`` times: their ratio scales the random-field threshold. On a scale
    with fewer than 2500 maxima above one rms, ``k`` is at least a fifth of
    them: objects the first pass missed must not be the ``k`` largest, or
    they raise the threshold above themselves (15 to 60 low-contrast objects
    of one size hid each other that way). ``objects_among=False`` (extremes
    no object can be among, :func:`_lower_tail_heaviness`) keeps ``k`` at
    most 20.
    """
    if peaks.size < 3:
        return 1.0
    kk = max(3, min(peaks.size // 20, _TOP_K_MAX))
    if objects_among and (deep or peaks.size < _FEW_PEAKS):
        kk = max(kk, int(peaks.size * _FEW_PEAKS_RANK))
    z_k = random_field_level(n_eff, float(kk))
    return max(1.0, (float(peaks[-kk]) - med) / (s * z_k))


def gradient_ratio(r: np.ndarray, q: np.ndarray, s: float) -> float:
    """``lambda2``: the variance of the response's gradient (neighbour differences on a regular subsample of
    positions, robust) over its variance ``s²``; the random-field constant is ``A lambda2 / (2 pi)^(3/2)``."""
    step = max(1, int(math.sqrt(r.size / _STAT_SAMPLE)))
    gx = (r[::step, 1:] - r[::step, :-1])[:, ::step][(q[::step, 1:] & q[::step, :-1])[:, ::step]]
    gy = (r[1:, ::step] - r[:-1, ::step])[::step][(q[1:, ::step] & q[:-1, ::step])[::step]]
    return 0.5 * (_robust_var(gx) + _robust_var(gy)) / (s * s)


@dataclass
class Blobs:
    """Blob detections in full-image pixels: centre ``y``, ``x``, ``sigma`` (pixels), ``scale`` index and
    ``score`` (response over the scale's threshold, > 1)."""

    y: np.ndarray
    x: np.ndarray
    sigma: np.ndarray
    scale: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.y.size)

    def take(self, idx: np.ndarray) -> Blobs:
        """The detections at ``idx`` (indices or a boolean mask)."""
        return Blobs(self.y[idx], self.x[idx], self.sigma[idx], self.scale[idx], self.score[idx])


def _sample(near: np.ndarray, factor: int, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Values of ``near`` (a scale's largest normalised score around each of its pixels) at full-image points."""
    yy = np.clip(np.rint(y / factor).astype(int), 0, near.shape[0] - 1)
    xx = np.clip(np.rint(x / factor).astype(int), 0, near.shape[1] - 1)
    return near[yy, xx]


def _is_blob(sc: Scale, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Hessian test at level pixels: both curvatures downward and not a ridge (eigenvalue ratio < 10)."""
    a = sc.smooth
    ny, nx = a.shape
    y0, y1, y2 = np.clip(yy - 1, 0, ny - 1), yy, np.clip(yy + 1, 0, ny - 1)
    x0, x1, x2 = np.clip(xx - 1, 0, nx - 1), xx, np.clip(xx + 1, 0, nx - 1)
    dxx = a[y1, x2] + a[y1, x0] - 2 * a[y1, x1]
    dyy = a[y2, x1] + a[y0, x1] - 2 * a[y1, x1]
    dxy = (a[y2, x2] - a[y2, x0] - a[y0, x2] + a[y0, x0]) / 4
    tr, det = dxx + dyy, dxx * dyy - dxy * dxy
    r = _EDGE_RATIO
    return (tr < 0) & (det > 0) & (tr * tr * r < (r + 1) ** 2 * det)


def find_blobs(scales: list[Scale], valid_margin: int = 1) -> Blobs:
    """Local maxima of the normalised scores above 1, maximal across neighbouring scales too, that are blobs.

    A candidate at scale ``i`` is a 3 x 3 spatial maximum of ``R_i / t_i``
    above 1 that is at least as strong as the scores of scales ``i - 1`` and
    ``i + 1`` around the same point (non-maximum suppression across scale)
    and passes the Hessian blob test of :func:`_is_blob`.
    """
    ys, xs, sg, ix, sc_ = [], [], [], [], []
    near: dict[int, np.ndarray] = {}  # per scale, the largest normalised score within one pixel (of its level)

    def around(j: int) -> np.ndarray:
        if j not in near:
            near[j] = cv2.dilate(scales[j].response / np.float32(scales[j].threshold), np.ones((3, 3), np.uint8))
        return near[j]

    for i, sc in enumerate(scales):
        if not math.isfinite(sc.threshold):
            continue
        t = np.float32(sc.threshold)
        my, mx, mv = _maxima_yx(sc)
        above = mv > t
        yy, xx = my[above], mx[above]
        if yy.size == 0:
            continue
        keep = _is_blob(sc, yy, xx)
        yy, xx = yy[keep], xx[keep]
        val = sc.response[yy, xx] / t
        f = sc.factor
        yf, xf = (yy + 0.5) * f - 0.5, (xx + 0.5) * f - 0.5
        full = (sc.response.shape[0] * f, sc.response.shape[1] * f)
        # near the border a coarse response sees mirrored texture and the background's extrapolation; fine
        # scales keep objects cut by the border
        edge = np.minimum(np.minimum(yf, full[0] - 1 - yf), np.minimum(xf, full[1] - 1 - xf))
        ok = (edge >= max(0.0, sc.sigma_px - _BORDER_FREE_SIGMA)) & ((edge >= sc.sigma_px) | (val >= _BORDER_SCORE))
        for j in (i - 1, i + 1):
            if 0 <= j < len(scales) and math.isfinite(scales[j].threshold):
                ok &= val >= _sample(around(j), scales[j].factor, yf, xf)
        ys.append(yf[ok])
        xs.append(xf[ok])
        sg.append(np.full(int(ok.sum()), sc.sigma_px))
        ix.append(np.full(int(ok.sum()), i))
        sc_.append(val[ok])
    if not ys:
        e = np.zeros(0)
        return Blobs(e, e, e, e.astype(int), e)
    return Blobs(*(np.concatenate(a) for a in (ys, xs, sg)), np.concatenate(ix).astype(int), np.concatenate(sc_))

"""Protrusions on SEM images: a normalised scale space with a threshold per scale.

1. Grey levels as float32 (colour images converted to grey); the pixel size
   comes from the calibration or the ``pixel_size`` setting, otherwise the
   image is refused (densities per mm² need a scale).
2. The bare substrate, from grey levels alone (:mod:`.substrate`): a
   shading fitted to the pixels near the substrate's level (the histogram
   mode), then the regions beyond 3 substrate rms on either side that are
   wider than the smallest object and 2.5 texture grains. Thresholds and
   the background rest on the rest, so a field crowded with objects is not
   mistaken for a wild texture.
3. Background flattening: ``contrast = image / background - 1`` with a
   robust large-scale background over the substrate (cut-off ``lambda_c_um``,
   default a third of the shorter side): shading and vignetting go, and
   every object is a relative brightness change. Polarity ``dark`` flips
   the sign. Objects too faint for the substrate search (step 2) but plain
   once the contrast is smoothed are then left out of the background too:
   regions 3 robust rms above the median at 8 pixels, and at a sixth of the
   largest diameter those that also peak above the level the texture alone
   reaches as often as the false-alarm budget allows (a random-field level:
   a texture patch that wide, set aside, would keep its contrast and stand
   out like an object). The contrast is
   computed again, and the search repeated on it until it finds nothing new
   (at most 3 rounds): a large faint object would otherwise lift the
   background under itself and lose part of its contrast, and each object
   set aside lets the next, fainter one stand out.
4. Scale space (:mod:`.scalespace`): the normalised LoG response at three
   scales per octave, for diameters from ``min_size_um`` (default 8 pixels) to
   ``max_size_um`` (default a fifth of the shorter side of the field),
   computed on a Gaussian pyramid, so defaults hold at any magnification.
5. A threshold at each scale from that scale's own statistics over the
   substrate: the Gaussian random-field level for the false-alarm budget
   (``false_alarms_per_mm2``, shared equally between the scales), widened
   by the texture's measured tail heaviness (its extreme maxima against a
   Gaussian field's, carried to coarse scales with at most a ``1/sigma``
   decay) and, where the tail is heavy, a Hill fit of the maxima; on a
   texture skewed to bright values, also by an exponential tail fitted to
   the maxima of the whole field (its brightest patches are its own,
   though the substrate search set them aside). The
   default budget is per field: ``DEFAULT_FALSE_ALARMS_PER_FIELD`` (0.01)
   false detections per 1024 x 768 pixels whatever the pixel size, because
   an object-free texture's maxima scale with the number of pixels, not
   with the area (at 2 µm pixels a 1024 x 768 field is 3.1 mm², at 0.01 µm
   8e-5 mm²). A numeric ``k`` replaces the level by ``k`` robust rms of the
   response at every scale. A second pass repeats the statistics without
   the objects the first found, with the budget raised to
   ``false_discovery_rate`` (default 5 %) of the objects the first pass
   found when that is larger: once objects are known to be on the image,
   faint ones of the same kind are counted rather than missed, at a
   bounded share of texture among them, while an image without objects
   keeps the budget above. Before the first pass, thresholds that
   objects cannot inflate (:func:`.scalespace.scale_thresholds`,
   ``robust``) find wide blobs; when the first pass misses more than 90 %
   of them, it is repeated with them set aside from its statistics: faint
   objects crowded over a tenth of the field otherwise fill the top of the
   maxima every tail estimate reads and lift the thresholds above
   themselves (real substrates' own bumps, missed 20-80 %, stay).
6. Blobs: maxima above the threshold in space and across neighbouring
   scales, not ridges (Hessian test); near the border, where half a coarse
   kernel sees mirrored texture, they must beat the threshold by 1.6x.
7. Objects (:mod:`.sem_objects`): each detection's extent (half its peak at
   half its scale, cut back at pixel scale so neighbours a few pixels apart
   stay apart); touching extents are one object, so an agglomerate counts
   once. Then the gates: area, equivalent diameter at least 0.75
   ``min_size_um`` and at most ``2 * max_size_um`` (when given), elongation
   (``max_aspect``; twice that for objects merged from several detections)
   so crack rims and scratches are not counted. Objects touching the border
   are kept and flagged. The position is the centroid, or the object's
   pixel nearest to it when a curved object's centroid falls outside it.
8. Rims (:mod:`.rings`): objects seen mainly by a thin bright edge (the SE
   edge effect around a faint plateau) answer the blob filter weakly. Paths
   of bright-line strength round the strongest ring-shaped spots outside the
   objects found are scored against the same paths round the substrate's
   own strongest spots; those kept (at the false-alarm budget, or once the
   image holds objects at the false-discovery rate) become the objects they
   enclose, if brighter inside than the substrate.
9. ``summary["detection_limit"]`` gives the minimum detectable peak
   contrast against diameter (``curve``) and ``summary["quality"]`` an
   agglomeration index, the split fraction and a reliability flag
   (:mod:`.sem_quality`).
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from ..blur import gaussian_blur
from ..errors import SurfscanError
from ..grey import grey_levels
from ..model import Micrograph
from .morphology import disc_dilate
from .regions import (
    apply_gates,
    hysteresis_labels,
    measure_regions,
    object_table,
    robust_background,
    robust_sigma,
    split_touching,
    subsample,
    upper_sigma,
)
from .result import Protrusions, ProtrusionSettings, checked_cutoff_px, percentiles
from .rings import ring_objects
from .scalespace import (
    SCALES_PER_OCTAVE,
    Blobs,
    Scale,
    blur_at_level,
    down_mask,
    find_blobs,
    gradient_ratio,
    pyramid,
    random_field_level,
    scale_space,
    scale_thresholds,
)
from .sem_objects import Z_GROW, Objects, anchor_positions, fine_contrast, objects_from_blobs
from .sem_quality import detection_limit_curve, quality_block
from .substrate import GRAINS_PER_CANDIDATE, find_substrate

__all__ = ["detect_on_micrograph", "grey_levels"]

_MIN_SIZE_PX = 8.0  # default smallest diameter (pixels)
_MIN_DIAMETER_GATE = 0.75  # objects narrower than 0.75 x min_size_um are dropped
_MAX_SIZE_FRACTION = 0.2  # default largest diameter: a fifth of the shorter side
_CUTOFF_FRACTION = 1 / 3  # default background cut-off: a third of the shorter side
DEFAULT_FALSE_ALARMS_PER_FIELD = 0.01  # expected false detections per FIELD_PX pixels
FIELD_PX = 1024 * 768
_CUTOFF_PER_MAX_SIZE = 4.0  # auto background cut-off: 4 x max_size_um, so the background varies well above object sizes
_MIN_AREA_PX = 9  # default smallest area: a 3 x 3 pixel object (smaller is noise at any calibration)
_MERGED_ASPECT = 2.0  # an object merged from several detections may be this much more elongated
_SPLIT_SADDLE_RMS = 3.0  # split=True: a peak stands this many substrate rms above its saddle
_MIN_WEIGHTED_SUBSTRATE = 0.05  # a substrate mask covering less of the image is not used to weight the background
_PERCENTILE_STEP = 8  # background percentiles on every 8th pixel in each direction (a smooth field)
_DISPLAY_STEP = 4  # display range from every 4th pixel in each direction
_DISPLAY_PERCENTILES = (0.5, 99.5)  # display range: clip the extreme 0.5 % at each end
_BACKGROUND_FLOOR = 1e-3  # the background is kept above this share of its median (no division by ~0)
_DIAMETER_PER_SIGMA = 2 * math.sqrt(2.0)  # a disc of diameter D answers best at the LoG scale sigma = D / (2 sqrt 2)
_FAINT_SIGMA_PX = 8.0  # faint objects are looked for in the contrast smoothed at this sigma (pixels) ...
_FAINT_SIGMA_PER_MAX_SIZE = 1 / 6  # ... and at this share of the largest diameter (such an object spans +-3 sigma)
_FAINT_Z = 3.0  # ... where they stand this many robust rms above its median over the substrate (at the wide one, with
# a peak above the level the texture alone exceeds as often as the false-alarm budget allows)
_FAINT_LEVELS = 2  # ... computed on the image reduced this many times by 2 (pyrDown), so it costs little
_FAINT_MIN_SPAN = 3.0  # a wide smoothing runs on the coarsest pyramid level where its sigma spans this many pixels
_FAINT_SAMPLE = 10_000  # values its statistics come from
_MISSED_SHARE = 0.9  # the first pass is repeated without the robust blobs when it misses more than this share of them
_FAINT_ROUNDS = 3  # set aside, background fitted again and looked for again until none is new, at most this often


def _flatten(
    grey: np.ndarray, weight: np.ndarray | None, cutoff_px: float, sign: int, dmax: float, fa: float
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Relative contrast ``sign * (grey / background - 1)`` and the background's 1st, 50th, 99th percentiles.

    The background is fitted over ``weight`` and then again without the faint
    objects :func:`_without_faint_objects` finds (``dmax`` the largest
    diameter in pixels, ``fa`` the image's false-alarm budget).
    """
    flat = _contrast(grey, robust_background(grey, weight, cutoff_px), sign)
    again = _without_faint_objects(grey, flat[0], weight, cutoff_px, sign, dmax, fa)
    return flat if again is None else again


def _contrast(grey: np.ndarray, bg: np.ndarray, sign: int) -> tuple[np.ndarray, tuple[float, float, float]]:
    """``sign * (grey / bg - 1)`` (``bg`` kept above a small share of its median) and bg's 1st, 50th, 99th percentiles."""
    lo, level, hi = (float(v) for v in np.percentile(bg[::_PERCENTILE_STEP, ::_PERCENTILE_STEP], [1, 50, 99]))
    floor = max(_BACKGROUND_FLOOR * abs(level), 1e-6)
    np.maximum(bg, floor, out=bg)
    flat = grey / bg
    flat -= 1.0
    if sign < 0:
        np.negative(flat, out=flat)
    return flat, (lo, level, hi)


def _without_faint_objects(grey: np.ndarray, flat: np.ndarray, weight: np.ndarray | None, cutoff_px: float,
                           sign: int, dmax: float, fa: float) -> tuple[np.ndarray, tuple[float, float, float]] | None:
    """The contrast again, its background fitted without the faint objects the substrate search kept.

    Everything runs on the image reduced 4 times (two ``pyrDown`` steps: the
    background varies far more slowly); the background comes back at full
    size. Each round smooths the contrast at each of :func:`_faint_sigmas`
    and sets aside what :func:`_faint_regions` finds there (at the wide
    smoothing, peaks the texture reaches as often as ``fa``, the image's
    false-alarm budget, allows), fits the
    background again without it and computes the reduced contrast again.
    The rounds stop when nothing new is found (at most ``_FAINT_ROUNDS``).
    None when the image is too small to reduce, nothing is found, or too
    little substrate would be left.
    """
    f = 2**_FAINT_LEVELS
    if min(flat.shape) < 16 * f:
        return None
    small = pyramid(grey, _FAINT_LEVELS)[-1]
    reduced = pyramid(flat, _FAINT_LEVELS)[-1]
    substrate = np.ones(small.shape, bool) if weight is None else down_mask(weight, small.shape)
    faint = np.zeros(small.shape, bool)
    bg = None
    for _ in range(_FAINT_ROUNDS):
        before = np.count_nonzero(faint)
        for i, sigma in enumerate(_faint_sigmas(dmax)):
            faint |= _faint_regions(reduced, sigma, substrate & ~faint, fa if i else None)
        w = substrate & ~faint
        if np.count_nonzero(faint) == before or np.count_nonzero(w) < _MIN_WEIGHTED_SUBSTRATE * w.size:
            break
        bg = robust_background(small, w, cutoff_px * small.shape[0] / grey.shape[0])
        reduced = _contrast(small, bg, sign)[0]
    if bg is None:
        return None
    return _contrast(grey, cv2.resize(bg, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR), sign)


def _faint_sigmas(dmax: float) -> tuple[float, ...]:
    """Smoothings (pixels) the faint-object search looks at: 8 px, and a sixth of the largest diameter if more."""
    wide = _FAINT_SIGMA_PER_MAX_SIZE * dmax
    return (_FAINT_SIGMA_PX, wide) if wide > 1.5 * _FAINT_SIGMA_PX else (_FAINT_SIGMA_PX,)


def _faint_regions(reduced: np.ndarray, sigma: float, substrate: np.ndarray, fa: float | None) -> np.ndarray:
    """Where the ``reduced`` contrast smoothed at ``sigma`` (full-image pixels) stands 3 robust rms (over
    ``substrate``) above its median (all False when flat).

    With ``fa``, only the regions that also peak above the random-field level
    the texture alone exceeds ``fa`` times on the image. That is for the wide
    smoothing: a texture patch as wide as an object, once set aside, keeps the
    contrast the background would otherwise take from it and stands out like
    an object, so it may happen only as often as a false detection may (at
    8 px a texture patch is too small for that). A wide smoothing is done on
    the image reduced further (``pyrDown``, while it still spans 3 pixels
    there) and its regions brought back to ``reduced``'s size.
    """
    further = max(0, int(math.floor(math.log2(sigma / (_FAINT_MIN_SPAN * 2**_FAINT_LEVELS)))))
    pyr = pyramid(reduced, further)
    level = _FAINT_LEVELS + len(pyr) - 1
    smooth = cv2.GaussianBlur(pyr[-1], (0, 0), blur_at_level(sigma, level), borderType=cv2.BORDER_REFLECT)
    q = down_mask(substrate, smooth.shape)
    med, s = robust_sigma(subsample(smooth, q, _FAINT_SAMPLE))
    if s <= 0:
        return np.zeros(reduced.shape, bool)
    if fa is None:
        found = smooth > med + _FAINT_Z * s
    else:
        n_eff = smooth.size * gradient_ratio(smooth, q, s) / (2 * math.pi) ** 1.5
        high = med + max(_FAINT_Z, random_field_level(n_eff, fa)) * s
        labels, keep = hysteresis_labels(smooth, high, med + _FAINT_Z * s)
        found = keep[labels] & (labels > 0)
    if found.shape != reduced.shape:
        found = cv2.resize(found.view(np.uint8), (reduced.shape[1], reduced.shape[0]),
                           interpolation=cv2.INTER_NEAREST).view(bool)
    return found


def _cutoff_px(m: Micrograph, st: ProtrusionSettings, px: float) -> float:
    if st.lambda_c_um is None:
        raise SurfscanError("SEM images need a background removal: lambda_c_um must be a length in µm or 'auto'")
    if st.lambda_c_um != "auto":
        return checked_cutoff_px(float(st.lambda_c_um), px)
    if st.max_size_um:
        return _CUTOFF_PER_MAX_SIZE * st.max_size_um / px
    return _CUTOFF_FRACTION * min(m.shape)


def false_alarms_per_image(st: ProtrusionSettings, shape: tuple[int, int], px: float) -> float:
    """Expected false detections on the whole image: the setting per mm², or the default per field of pixels."""
    if st.false_alarms_per_mm2 is not None:
        return float(st.false_alarms_per_mm2) * shape[0] * shape[1] * px * px * 1e-6
    return DEFAULT_FALSE_ALARMS_PER_FIELD * shape[0] * shape[1] / FIELD_PX


def discovery_budget(fa: float, rate: float, found: int) -> float:
    """False detections allowed on an image where ``found`` objects were detected: ``max(fa, rate * found)``.

    ``fa`` is the budget of an object-free image; with objects present the
    budget becomes a share ``rate`` (the false-discovery rate) of them when
    that is larger, so a field with many objects is not thresholded as if it
    held none.
    """
    return max(fa, rate * found)


def _size_range_px(st: ProtrusionSettings, shape: tuple[int, int], px: float) -> tuple[float, float]:
    """Smallest and largest object diameter (pixels); no larger than the image's shorter side."""
    side = float(min(shape))
    dmin = st.min_size_um / px if st.min_size_um else _MIN_SIZE_PX
    if dmin > side:
        what = f"min_size_um {st.min_size_um:g} µm" if st.min_size_um else f"the smallest object ({dmin:g} px)"
        raise SurfscanError(f"{what} is wider than the image ({shape[1]} x {shape[0]} pixels, {shape[1] * px:.4g} x "
                            f"{shape[0] * px:.4g} µm): no object that size fits in it")
    dmax = min(st.max_size_um / px, side) if st.max_size_um else _MAX_SIZE_FRACTION * side
    return dmin, max(dmax, dmin)


def _detect(scales: list[Scale], quiet: np.ndarray, st: ProtrusionSettings, fa: float, fine: np.ndarray):
    """Thresholds from the ``quiet`` pixels, blobs and merged objects (``fine``: :func:`.sem_objects.fine_contrast`)."""
    scale_thresholds(scales, quiet, fa / len(scales), st.k_fixed)  # shared evenly (Bonferroni: errs safe)
    blobs = find_blobs(scales)
    return blobs, objects_from_blobs(scales, blobs, fine.shape, fine, merge_touching=not st.split)


def _robust_blobs(scales: list[Scale], substrate: np.ndarray, fa: float, wide: float) -> Blobs:
    """Blobs at the scales of objects ``wide`` or more across (pixels) that thresholds objects cannot inflate find.

    Objects too faint for the substrate search but crowded fill the top of
    the maxima the thresholds rest on and lift them above themselves
    (:func:`.scalespace.scale_thresholds`, ``robust``). The scales'
    thresholds are left at the robust values: the caller sets them again.
    """
    scale_thresholds(scales, substrate, fa / len(scales), robust=True, min_sigma=wide / _DIAMETER_PER_SIGMA)
    return find_blobs(scales)


def _set_aside(blobs: Blobs, substrate: np.ndarray, wide: float) -> np.ndarray:
    """``substrate`` without the ``blobs``, each a disc of its diameter widened by ``wide`` (pixels)."""
    aside = np.zeros(substrate.shape, np.uint8)
    for y, x, s in zip(blobs.y, blobs.x, blobs.sigma):
        cv2.circle(aside, (int(round(x)), int(round(y))), int(round((s * _DIAMETER_PER_SIGMA + wide) / 2)), 1, -1)
    return substrate & (aside == 0)


def _missed(blobs: Blobs, objects: Objects) -> np.ndarray:
    """Which ``blobs`` (of :func:`_robust_blobs`) lie outside every object of ``objects``."""
    ny, nx = objects.labels.shape
    yy = np.clip(np.rint(blobs.y).astype(int), 0, ny - 1)
    xx = np.clip(np.rint(blobs.x).astype(int), 0, nx - 1)
    return objects.labels[yy, xx] == 0


def _quiet_after(objects: Objects, substrate: np.ndarray, wide: float) -> np.ndarray:
    """Substrate pixels away from the first pass's objects at least ``wide`` pixels across (widened by that).

    ``wide`` is the smallest object and 2.5 texture grains, whichever is
    larger: smaller finds of a permissive first pass are as likely the
    texture's own extremes, which the second pass's statistics must keep.
    """
    area = np.bincount(objects.labels.ravel(), minlength=objects.count + 1)
    big = 4 * area / np.pi >= wide * wide
    big[0] = False
    size = max(3, int(round(wide)) | 1)
    return substrate & ~disc_dilate(big[objects.labels], size)


def _with_rims(objects: Objects, flat: np.ndarray, quiet: np.ndarray, dmax: float, budget: float,
               rate: float) -> Objects:
    """``objects`` and the rim-outlined objects :func:`.rings.ring_objects` finds beside them (step 8).

    ``dmax`` is the largest diameter (pixels). The search may add ``budget``
    false detections per radius searched (one per octave of sizes) to an
    image without objects; once it holds objects, a share ``rate`` of the
    rims it keeps.
    """
    rims = ring_objects(flat, quiet, objects.labels, dmax / 2, budget, rate)
    if not rims:
        return objects
    labels = objects.labels.copy()
    for j, region in enumerate(rims):
        labels[region & (labels == 0)] = objects.count + 1 + j
    return Objects(labels, np.concatenate([objects.detections, np.ones(len(rims), int)]))


def _split(objects: Objects, flat: np.ndarray, dmin: float, rms: float) -> Objects:
    """``split=True``: objects cut by a watershed at the valleys between their peaks (each peak at least
    ``dmin / 2`` from the next and 3 substrate rms above its saddle); every piece counts as one detection."""
    signal = gaussian_blur(flat, max(1.0, dmin / 4))
    labels, n = split_touching(objects.labels, signal, _SPLIT_SADDLE_RMS * rms, max(3.0, dmin / 2))
    return Objects(labels, np.ones(n, int))


def _measure(objects: Objects, flat: np.ndarray, st: ProtrusionSettings, px: float, dmin: float):
    """Table and gated labels of the objects, and the detections merged into each kept object.

    The elongation gate (``max_aspect``) applies in full to objects seen
    once; an object merged from several detections (an agglomerate, a chain
    of particles) may be up to twice as elongated. The reported position is
    the centroid, or for a curved object whose centroid falls outside it,
    its pixel nearest to the centroid (so it always points at the object).
    """
    n = objects.count
    keep = np.arange(n + 1) > 0
    stats, ids = measure_regions(objects.labels, keep, flat)
    table = object_table(stats, px, px)
    table["mean_contrast"] = stats.total / np.maximum(stats.area_px, 1) * st.sign
    table["detections"] = objects.detections
    cy, cx = anchor_positions(objects.labels, ids, stats.cy, stats.cx)
    table["x_um"], table["y_um"] = cx * px, cy * px
    aspect = table["aspect_ratio"].to_numpy().copy()
    table["_aspect"] = aspect
    if st.max_aspect:
        table["aspect_ratio"] = np.where(objects.detections >= 2, aspect / _MERGED_ASPECT, aspect)
    min_area = st.min_area_um2 if st.min_area_um2 is not None else _MIN_AREA_PX * px * px
    dmax = 2 * st.max_size_um if st.max_size_um else None
    labels, table = apply_gates(objects.labels, keep.size, ids, table, min_area, _MIN_DIAMETER_GATE * dmin * px, dmax,
                                st.max_aspect)
    table["aspect_ratio"] = table.pop("_aspect")
    merged = table.pop("detections").to_numpy(int)
    return labels, table, merged, min_area


def detect_on_micrograph(m: Micrograph, st: ProtrusionSettings) -> Protrusions:
    """Protrusions (bright or dark objects) on an SEM image; see the module notes."""
    px = float(st.pixel_size_um) if st.pixel_size_um else m.require_pixel_size("protrusion detection")
    grey = grey_levels(m.image)
    lam_px = _cutoff_px(m, st, px)
    dmin, dmax = _size_range_px(st, grey.shape, px)
    fa = false_alarms_per_image(st, grey.shape, px)
    substrate = find_substrate(grey, st.sign, lam_px, dmin)
    weight = substrate.mask if substrate.fraction > _MIN_WEIGHTED_SUBSTRATE else None
    flat, background = _flatten(grey, weight, lam_px, st.sign, dmax, fa)
    scales = scale_space(flat, dmin / _DIAMETER_PER_SIGMA, dmax / _DIAMETER_PER_SIGMA)
    fine = fine_contrast(flat)
    wide = max(dmin, GRAINS_PER_CANDIDATE * substrate.grain_px)  # objects set aside from statistics are this wide
    seen = _robust_blobs(scales, substrate.mask, fa, wide) if st.k_fixed is None else None
    blobs, objects = _detect(scales, substrate.mask, st, fa, fine)
    if seen is not None and np.count_nonzero(_missed(seen, objects)) > _MISSED_SHARE * len(seen):
        # the first pass's thresholds were lifted by what it missed: again without it
        blobs, objects = _detect(scales, _set_aside(seen, substrate.mask, wide), st, fa, fine)
    quiet = _quiet_after(objects, substrate.mask, wide)
    fa_used = discovery_budget(fa, st.false_discovery_rate, objects.count) if st.k_fixed is None else fa
    if np.count_nonzero(quiet) != np.count_nonzero(substrate.mask) or fa_used > fa:
        # statistics without what the first pass found; the budget raised to a share of it
        blobs, objects = _detect(scales, quiet, st, fa_used, fine)
    if not all(math.isfinite(s.threshold) for s in scales):
        raise SurfscanError("the SEM image has no texture or noise (robust rms 0): nothing to threshold against")
    before = objects.count
    if st.k_fixed is None:  # objects outlined by a bright rim (the edge effect), beside those found
        rim_budget = fa * SCALES_PER_OCTAVE / len(scales)  # per radius searched: what the blob search spends per octave
        objects = _with_rims(objects, flat, substrate.mask & (objects.labels == 0), dmax, rim_budget,
                             st.false_discovery_rate)
    rims = objects.count - before
    grain = substrate.grain_px if st.min_size_um is None else None
    if st.split and objects.count:
        objects = _split(objects, flat, dmin, scales[0].smooth_rms)
    labels, table, merged, min_area = _measure(objects, flat, st, px, dmin)
    texture_rms = upper_sigma(subsample(flat, quiet if quiet.any() else None))[1]
    curve = detection_limit_curve(scales, texture_rms, px)
    quality = quality_block(merged, table["area_um2"].to_numpy() / (px * px), grey.size,
                            float(np.count_nonzero(quiet)) / quiet.size, background, curve,
                            table["mean_contrast"].to_numpy(), substrate.whole_field)
    limit = _detection_limit(st, scales, curve, texture_rms, background[1], px, grain, dmin, dmax, fa, fa_used)
    resolved = {**dataclasses.asdict(st), "k": st.k if st.k_fixed is None else st.k_fixed, "pixel_size_um": px,
                "min_size_um": dmin * px, "max_size_um": dmax * px, "lambda_c_um": lam_px * px,
                "min_area_um2": min_area, "false_alarms_per_mm2": fa / (grey.size * px * px * 1e-6)}
    for name in ("h_abs_um", "form", "despike"):
        resolved.pop(name)
    area_mm2 = grey.size * px * px * 1e-6
    summary = {
        "kind": "sem",
        "count": len(table),
        "count_touching_edge": int(table["touches_edge"].sum()),
        "density_per_mm2": len(table) / area_mm2,
        "valid_area_mm2": area_mm2,
        "area_fraction": float(table["area_um2"].sum() * 1e-6 / area_mm2),
        "equivalent_diameter_um": percentiles(table["equivalent_diameter_um"]),
        "mean_contrast": percentiles(np.abs(table["mean_contrast"])),
        "detections": len(blobs) + rims,
        "detection_limit": limit,
        "quality": quality,
        "settings": resolved,
    }
    lo, hi = np.percentile(grey[::_DISPLAY_STEP, ::_DISPLAY_STEP], _DISPLAY_PERCENTILES)
    return Protrusions(table, labels, summary, grey, (float(lo), float(max(hi, lo + 1e-6))))


def _detection_limit(st: ProtrusionSettings, scales: list[Scale], curve: dict, texture_rms: float, level: float,
                     px: float, grain: float | None, dmin: float, dmax: float, fa: float, fa_used: float) -> dict:
    """``summary["detection_limit"]``: thresholds in physical units, the curve and a sentence.

    ``fa`` is the false-alarm budget of an object-free image, ``fa_used`` the
    one the thresholds were set for (raised by the false-discovery rate when
    objects were found).
    """
    need = [v for v in curve["min_contrast"] if v is not None]
    small = need[0] if need else math.inf
    large = min(need) if need else math.inf
    grow = Z_GROW * scales[0].smooth_rms  # the outline threshold of the finest scale
    area_mm2 = scales[0].response.size * px * px * 1e-6
    return {
        "contrast_threshold": small,
        "contrast_threshold_large_objects": large,
        "grow_threshold": grow,
        "noise_rms": texture_rms,
        "grey_level_threshold": small * level,
        "background_grey_level": level,
        "min_size_um": dmin * px,
        "max_size_um": dmax * px,
        "texture_grain_um": None if grain is None else grain * px,
        "false_alarms_per_image": fa_used,
        "false_alarms_per_mm2": fa_used / area_mm2,
        "false_alarms_per_image_without_objects": fa,
        "scale_sigma_um": [s.sigma_px * px for s in scales],
        "scale_threshold": [s.threshold for s in scales],
        "curve": curve,
        "statement": (
            f"objects of {dmin * px:.3g} µm need a peak relative contrast of {small:.3g} "
            f"({small * level:.3g} grey levels at the median background {level:.4g}; "
            f"{small / max(texture_rms, 1e-12):.2g} x the texture rms {texture_rms:.3g}); larger objects down to "
            f"{large:.3g} ({large / max(texture_rms, 1e-12):.2g} x the texture rms), up to {dmax * px:.3g} µm; "
            f"{fa_used:.2g} false detections expected per image"
            + (f" (at most {st.false_discovery_rate:.0%} of the objects found; {fa:.2g} on an image without objects)"
               if fa_used > fa else "")
        ),
    }

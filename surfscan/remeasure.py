"""Measurements from a label image a person drew or corrected (the napari correction loop, ``<image>.labels.tif``).

Automatic segmentation is not always right: a person paints, erases, splits
(paints a new label over part of an object) and merges (fills one object
with another's label) in napari, and the numbers are then computed from
those labels alone - no threshold, no watershed:

- :func:`measure_particles_from_labels` gives the particle table, number- and
  volume-weighted D10/D50/D90 and the summary of
  :func:`surfscan.measure_particles`;
- :func:`measure_protrusions_from_labels` gives the count, the density per mm²
  and the object table of :func:`surfscan.detect_protrusions`, on an SEM image
  or a height map.

Labels
------
A 2-D array of non-negative integers with the image's shape (an SEM image
as surfscan reads it, information bar removed); 0 is background and every
other value one object. Values need not be consecutive (editing leaves
gaps) and keep their value in the table's ``id`` column, so table rows and
the objects on screen stay matched. A label that an eraser cut into several
disconnected pieces stays **one** object by default (``relabel=False``): the
label value is the person's statement of what belongs together (a particle
partly hidden by another, an agglomerate whose parts touch only at a
corner), and the ids stay those on screen. ``relabel=True`` makes every
8-connected piece its own object: the first piece (in raster order) keeps
the value, the others get new values above the largest.

Local background
----------------
Contrast (SEM) and height (height maps) are measured against each object's
own surroundings: the median of the unlabelled (and, on height maps,
measured) pixels in a ring around the object, those closer to this object
than to any other, no further than ``ring_um`` from it (default: half the
object's equivalent radius, at least 3 pixels). An object without any such
pixel falls back to the median of all unlabelled pixels.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from scipy import ndimage

from .errors import SurfscanError, SurfscanWarning
from .model import Micrograph, Surface
from .particles import Particles, _measure, _summary, grey_image
from .protrusions.regions import measure_regions, object_table
from .protrusions.result import Protrusions, percentiles

__all__ = ["measure_particles_from_labels", "measure_protrusions_from_labels", "check_labels"]

_POLARITY = {"bright": 1, "up": 1, "dark": -1, "down": -1}
_MIN_RING_PX = 3.0
_HUMAN_QUALITY_REASON = "labels drawn or corrected by a person"


def check_labels(labels: Any, shape: tuple[int, int], relabel: bool = False) -> np.ndarray:
    """A validated int32 copy of a label image for an image of ``shape``.

    Parameters
    ----------
    labels : array_like
        2-D non-negative integers (0 = background); booleans and floats are refused.
    shape : tuple of int
        ``(rows, columns)`` of the image.
    relabel : bool
        Make every 8-connected piece of a label its own object (see the module notes).

    Raises
    ------
    SurfscanError
        Wrong shape, not integers, negative values or values beyond 2**31 - 1.
    """
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.shape != tuple(shape):
        raise SurfscanError(f"the labels have shape {arr.shape}, the image {tuple(shape)}: they must match "
                            "(labels of another image, or of the image with its information bar?)")
    if arr.dtype.kind not in "iu":
        raise SurfscanError(f"labels must be integers (0 = background), not {arr.dtype}")
    if arr.size and int(arr.min()) < 0:
        raise SurfscanError(f"labels must not be negative (found {int(arr.min())})")
    if arr.size and int(arr.max()) > np.iinfo(np.int32).max:
        raise SurfscanError(f"label values must be at most 2**31 - 1 (found {int(arr.max())})")
    out = arr.astype(np.int32, copy=True)
    return _split_pieces(out) if relabel else out


def _split_pieces(labels: np.ndarray) -> np.ndarray:
    """Every 8-connected piece of a label becomes its own object; the first piece keeps the value."""
    ids = _object_ids(labels)
    compact = _compact(labels, ids)
    out = labels.copy()
    nxt = int(ids[-1]) + 1 if ids.size else 1
    for i, sl in enumerate(ndimage.find_objects(compact)):
        if sl is None:
            continue
        pieces, n = ndimage.label(compact[sl] == i + 1, structure=np.ones((3, 3)))
        view = out[sl]
        for k in range(2, n + 1):
            view[pieces == k] = nxt
            nxt += 1
    if nxt - 1 > np.iinfo(np.int32).max:
        raise SurfscanError("too many label values to give each piece its own")
    return out


def _object_ids(labels: np.ndarray) -> np.ndarray:
    """The label values present (> 0), sorted."""
    top = int(labels.max()) if labels.size else 0
    if top <= 4 * labels.size + 1024:
        return np.flatnonzero(np.bincount(labels.ravel(), minlength=top + 1)[1:]) + 1
    ids = np.unique(labels)
    return ids[ids > 0]


def _compact(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Labels renumbered 1..n in the order of ``ids`` (0 stays 0)."""
    out = np.zeros(labels.shape, np.int32)
    fg = labels > 0
    out[fg] = np.searchsorted(ids, labels[fg]) + 1
    return out


def _group_median(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group 1..n (NaN for an empty group)."""
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    wanted = np.arange(1, n + 1)
    lo, hi = np.searchsorted(g, wanted, "left"), np.searchsorted(g, wanted, "right")
    cnt = hi - lo
    out = np.full(n, np.nan)
    ok = cnt > 0
    a, b = lo[ok] + (cnt[ok] - 1) // 2, lo[ok] + cnt[ok] // 2
    out[ok] = 0.5 * (v[a] + v[b])
    return out


def _ring_background(values: np.ndarray, compact: np.ndarray, usable: np.ndarray, width_px: np.ndarray) -> np.ndarray:
    """Per object 1..n: median of the usable unlabelled pixels nearest to it, within ``width_px[i - 1]``.

    Falls back to the median of all usable unlabelled pixels for an object without any.
    """
    n = width_px.size
    free = (compact == 0) & usable
    if not free.any():
        raise SurfscanError("every pixel is labelled (or not measured): there is no background to measure against")
    # distance to, and index of, the nearest labelled pixel (OpenCV numbers the zero pixels of its input
    # 1, 2, ... in raster order); 5x5 chamfer L2 distances, within 0.4 px of the exact ones
    dist, which = cv2.distanceTransformWithLabels((compact == 0).view(np.uint8), cv2.DIST_L2, 5,
                                                  labelType=cv2.DIST_LABEL_PIXEL)
    nearest = compact.ravel()[np.flatnonzero(compact.ravel())[which.ravel() - 1]].reshape(compact.shape)
    reach = np.concatenate([[0.0], width_px])[nearest]
    ring = free & (dist <= reach)
    bg = _group_median(nearest[ring], values[ring].astype(np.float64), n)
    missing = np.isnan(bg)
    if missing.any():
        bg[missing] = float(np.median(values[free]))
    return bg


def _ring_widths(area_px: np.ndarray, ring_px: float | None) -> np.ndarray:
    if ring_px is not None:
        return np.full(area_px.size, max(1.0, ring_px))
    return np.maximum(_MIN_RING_PX, 0.5 * np.sqrt(area_px / math.pi))


def measure_particles_from_labels(
    micrograph: Micrograph,
    labels: Any,
    *,
    linear_above: float = 2.0,
    min_count: int = 50,
    exclude_border: bool = True,
    relabel: bool = False,
) -> Particles:
    """Measure particles from a label image (drawn or corrected by a person) instead of segmenting.

    Parameters
    ----------
    micrograph : Micrograph
        The calibrated SEM image the labels belong to (information bar removed).
    labels : array_like of int
        Same shape as the image; 0 = background, each other value one particle
        (values need not be consecutive; see the module notes).
    linear_above : float
        Aspect ratio (Feret max / min) above which a particle is "linear".
    min_count : int
        Fewer particles give a warning that D50 is unstable.
    exclude_border : bool
        Leave particles touching the image border out of the table and the
        statistics (their size is unknown), as :func:`surfscan.measure_particles`
        does; they stay in the returned labels. False measures every label.
    relabel : bool
        Split labels made of several disconnected pieces into one particle per piece.

    Returns
    -------
    Particles
        The table, label image and summary of :func:`surfscan.measure_particles`
        (lengths in µm; ``id`` = label value), with ``summary["source"] =
        "labels"`` and a quality block that counts the result as reliable.

    Examples
    --------
    >>> import surfscan as ss
    >>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")
    >>> labels = ss.measure_particles(m).labels              # or a label image edited by hand
    >>> p = ss.measure_particles_from_labels(m, labels)
    >>> p.summary["count"], round(p.summary["d50_um"], 1)
    (426, 5.3)
    """
    if not isinstance(micrograph, Micrograph):
        raise SurfscanError(f"particles are measured on an SEM image (Micrograph), not {type(micrograph).__name__}")
    px = micrograph.require_pixel_size("the particle size distribution")
    lab = check_labels(labels, micrograph.shape, relabel)
    measured = lab
    if exclude_border:
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        measured = np.where(np.isin(lab, edge[edge > 0]), 0, lab)
    table = _measure(measured, px, linear_above)
    summary = _summary(table, min_count)
    summary["excluded_border"] = _object_ids(lab).size - len(table) if exclude_border else 0
    summary["source"] = "labels"
    summary["settings"] = {"source": "labels", "exclude_border": exclude_border, "linear_above": linear_above,
                           "relabel": relabel, "pixel_size_um": px}
    summary["quality"] = _human_quality()
    for w in summary["warnings"]:
        warnings.warn(f"{micrograph.meta.get('source_file', 'image')}: {w}", SurfscanWarning, stacklevel=2)
    return Particles(table, lab, summary)


def _human_quality() -> dict[str, Any]:
    """The quality block of a result measured from a person's labels: reliable by definition."""
    return {"agglomeration_index": None, "split_fraction": None, "detection_limit_curve": None, "reliable": True,
            "reasons": [_HUMAN_QUALITY_REASON]}


def _grey(image: np.ndarray) -> np.ndarray:
    """Grey levels as float64 (RGB(A) to luma, as :func:`surfscan.particles.grey_image`), finite numbers only."""
    a = np.asarray(image)
    if a.dtype.kind not in "iuf":
        raise SurfscanError(f"an SEM image needs numeric grey levels, not {a.dtype}")
    out = grey_image(a).astype(np.float64)
    if not np.isfinite(out).all():
        raise SurfscanError("the SEM image holds NaN or infinite grey levels")
    return out


def measure_protrusions_from_labels(
    data: Surface | Micrograph,
    labels: Any,
    *,
    polarity: str = "bright",
    ring_um: float | None = None,
    pixel_size: float | None = None,
    relabel: bool = False,
) -> Protrusions:
    """Count and measure protrusions from a label image instead of detecting them.

    Parameters
    ----------
    data : Surface or Micrograph
        The height map (µm) or SEM image the labels belong to.
    labels : array_like of int
        Same shape as the image; 0 = background, each other value one object
        (values need not be consecutive; see the module notes).
    polarity : {"bright", "dark"}
        Height maps: ``"bright"``/``"up"`` for protrusions, ``"dark"``/``"down"``
        for pits (the sign of ``max_height_um`` and ``volume_um3``; as in
        :func:`surfscan.detect_protrusions`). SEM contrast is signed anyway.
    ring_um : float, optional
        Width of the ring that gives each object's local background (µm);
        default half the object's equivalent radius, at least 3 pixels.
    pixel_size : float, optional
        SEM: pixel size in µm overriding the image's calibration.
    relabel : bool
        Split labels made of several disconnected pieces into one object per piece.

    Returns
    -------
    Protrusions
        ``table`` with the detector's columns (``id`` = label value, centroid,
        area, equivalent diameter, aspect ratio, ``touches_edge``; SEM:
        ``mean_contrast`` = mean grey level / local background - 1; height maps:
        ``max_height_um``, ``volume_um3`` above the local background and
        ``touches_invalid``) plus the local background, ``labels``, and a
        ``summary`` with ``count``, ``density_per_mm2`` (per mm² of measured
        area), percentiles, ``source = "labels"`` and a quality block that
        counts the result as reliable.

    Examples
    --------
    >>> import surfscan as ss
    >>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")
    >>> edited = ss.detect_protrusions(m).labels.copy()
    >>> edited[edited == 1] = 0                              # a person erased object 1 (in napari)
    >>> ss.measure_protrusions_from_labels(m, edited).summary["count"]
    69
    """
    if str(polarity).lower() not in _POLARITY:
        raise SurfscanError(f"polarity must be 'bright' or 'dark' (or 'up'/'down'), not {polarity!r}")
    if ring_um is not None and not (math.isfinite(ring_um) and ring_um > 0):
        raise SurfscanError(f"ring_um must be a positive length in µm, got {ring_um!r}")
    if isinstance(data, Surface):
        return _height_objects(data, labels, _POLARITY[str(polarity).lower()], ring_um, relabel)
    if isinstance(data, Micrograph):
        px = float(pixel_size) if pixel_size else data.require_pixel_size("protrusion density")
        return _sem_objects(data, labels, px, ring_um, relabel)
    raise SurfscanError(f"protrusions are measured on a Surface or a Micrograph, not {type(data).__name__}")


@dataclass(frozen=True, eq=False)
class _LabelledProtrusions(Protrusions):
    """:class:`Protrusions` whose label values are a person's (gaps allowed); the overlay numbers them 1..n."""

    def write_overlay(self, path: str | Path) -> Path:
        """Write a PNG: the image with object outlines (green; orange where touching the border)."""
        ids = self.table["id"].to_numpy()
        compact = _compact(np.where(np.isin(self.labels, ids), self.labels, 0), np.sort(ids))
        table = self.table.assign(id=np.searchsorted(np.sort(ids), ids) + 1)
        plain = Protrusions(table, compact, self.summary, self.image, self.display_range)
        return plain.write_overlay(path)


def _base_table(lab: np.ndarray, signal: np.ndarray, dx: float, dy: float, invalid: np.ndarray | None):
    """Ids, the compact label image, region statistics and the common table columns (``id`` = label value)."""
    ids = _object_ids(lab)
    compact = _compact(lab, ids)
    keep = np.ones(ids.size + 1, bool)
    keep[0] = False
    stats, _ = measure_regions(compact, keep, signal, invalid)
    table = object_table(stats, dx, dy)
    table["id"] = ids.astype(np.int32)
    return ids, compact, stats, table


def _sem_objects(m: Micrograph, labels: Any, px: float, ring_um: float | None, relabel: bool) -> Protrusions:
    grey = _grey(m.image)
    lab = check_labels(labels, grey.shape, relabel)
    ids, compact, stats, table = _base_table(lab, grey, px, px, None)
    if ids.size:
        widths = _ring_widths(stats.area_px, None if ring_um is None else ring_um / px)
        bg = _ring_background(grey, compact, np.ones(grey.shape, bool), widths)
        free = lab[::4, ::4] == 0
        level = float(np.median(grey[::4, ::4][free])) if free.any() else 1.0
        bg_safe = np.maximum(bg, max(1e-3 * abs(level), 1e-6))
        table["mean_contrast"] = stats.total / np.maximum(stats.area_px, 1) / bg_safe - 1.0
        table["background_grey_level"] = bg
    else:
        table["mean_contrast"] = pd.Series(dtype=float)
        table["background_grey_level"] = pd.Series(dtype=float)
    area_mm2 = grey.size * px * px * 1e-6
    summary = _summary_common("sem", table, area_mm2, {"pixel_size": px, "ring_um": ring_um, "relabel": relabel})
    summary["mean_contrast"] = percentiles(np.abs(table["mean_contrast"].to_numpy(float)))
    lo, hi = np.percentile(grey[::4, ::4], [0.5, 99.5])
    return _LabelledProtrusions(table, lab, summary, grey.astype(np.float32), (float(lo), float(max(hi, lo + 1e-6))))


def _height_objects(s: Surface, labels: Any, sign: int, ring_um: float | None, relabel: bool) -> Protrusions:
    valid = s.valid
    lab = check_labels(labels, s.shape, relabel)
    measured = lab.copy()
    measured[~valid] = 0  # only measured points have a height; an object on a hole touches_invalid
    z = np.where(valid, s.z, 0.0) * sign
    ids, compact, stats, table = _base_table(measured, z, s.dx, s.dy, ~valid if s.has_invalid else None)
    table["touches_invalid"] = stats.touches_invalid
    if ids.size:
        widths = _ring_widths(stats.area_px, None if ring_um is None else ring_um / math.sqrt(s.dx * s.dy))
        bg = _ring_background(z, compact, valid, widths)
        table["max_height_um"] = (stats.peak - bg) * sign
        table["volume_um3"] = (stats.total - stats.area_px * bg) * s.dx * s.dy * sign
        table["background_height_um"] = bg * sign
    else:
        for c in ("max_height_um", "volume_um3", "background_height_um"):
            table[c] = pd.Series(dtype=float)
    if len(ids) < len(_object_ids(lab)):
        lost = len(_object_ids(lab)) - len(ids)
        warnings.warn(f"{s.meta.get('source_file', 'height map')}: {lost} labelled object(s) lie on non-measured "
                      "points only and are not counted", SurfscanWarning, stacklevel=3)
    valid_mm2 = np.count_nonzero(valid) * s.dx * s.dy * 1e-6
    summary = _summary_common("height", table, valid_mm2, {"polarity": "bright" if sign > 0 else "dark",
                                                           "ring_um": ring_um, "relabel": relabel})
    summary["max_height_um"] = percentiles(np.abs(table["max_height_um"].to_numpy(float)))
    heights = (z - np.median(z[valid])) * sign if valid.any() else z
    span = float(np.percentile(np.abs(heights[valid]), 99.5)) if valid.any() else 1.0
    return _LabelledProtrusions(table, measured, summary, heights.astype(np.float32), (-max(span, 1e-9), max(span, 1e-9)))


def _summary_common(kind: str, table: pd.DataFrame, area_mm2: float, settings: dict[str, Any]) -> dict[str, Any]:
    n = len(table)
    return {
        "kind": kind,
        "source": "labels",
        "count": n,
        "count_touching_edge": int(table["touches_edge"].sum()) if n else 0,
        "density_per_mm2": n / area_mm2 if area_mm2 else float("nan"),
        "valid_area_mm2": area_mm2,
        "area_fraction": float(table["area_um2"].sum() * 1e-6 / area_mm2) if area_mm2 else 0.0,
        "equivalent_diameter_um": percentiles(table["equivalent_diameter_um"].to_numpy(float)),
        "detection_limit": {"statement": "objects drawn or corrected by a person: no detection threshold applies"},
        "quality": _human_quality(),
        "settings": {"source": "labels", **settings},
    }

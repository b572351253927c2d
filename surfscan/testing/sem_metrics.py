"""Scores of SEM detectors against manual masks (the definitions of issue 13, used by tests and bench/).

Particles
    Manual particles are the 4-connected components of the mask (touching
    particles are separated by one-pixel lines); those of at least
    ``min_area_px`` (20) pixels that do not touch the image border are
    *eligible*. Each eligible particle's IoU is its best IoU with any
    measured particle; the **mean instance IoU** is the mean over eligible
    particles. **F1** counts one-to-one matches at IoU >= 0.5 (at that level
    a match is unique); precision divides by the measured particles, less
    those that match (IoU >= 0.5) a manual particle that is not eligible
    (too small or cut by the border), which are neither right nor wrong.
    The **D50 error** of an image is ``D50 / D50_manual - 1``, with
    ``D50_manual`` the median ECD of the eligible manual particles. Over a
    set, the images' figures are averaged (each image once; the D50 error's
    median), or :func:`pooled_particle_scores` takes IoU and F1 over every
    eligible particle of the set at once.

Agglomerates (protrusions on a flat substrate)
    An agglomerate is an 8-connected component of the mask after a closing
    by a disc of radius 2 px, of at least 50 px. It is *found* when the
    centroid of a detection lies in it or within 3 px of it; a detection
    further than 3 px from every agglomerate is a false one.

Nothing here is used by the library itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

__all__ = [
    "ParticleScore",
    "AgglomerateScore",
    "score_particles",
    "pooled_particle_scores",
    "score_agglomerates",
    "manual_particles",
    "agglomerates",
    "real_sem_pairs",
    "REAL_SEM_DIR",
]

REAL_SEM_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-sem-particles"


def real_sem_pairs(root: Path | None = None) -> list[tuple[Path, Path]]:
    """(image, mask) paths of the annotated real SEM set; empty when the folder is absent."""
    root = REAL_SEM_DIR if root is None else Path(root)
    if not (root / "images").is_dir():
        return []
    pairs = []
    for img in sorted((root / "images").glob("*.tif")):
        mask = root / "masks" / f"{img.stem}_m.tif"
        if mask.is_file():
            pairs.append((img, mask))
    return pairs


def _crop(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0]
    return m[: shape[0], : shape[1]] > 0


def manual_particles(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Label image of the manual particles (4-connected), cropped to the image area ``shape``."""
    lab, _ = ndimage.label(_crop(mask, shape), structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    return lab.astype(np.int32)


def _touches_border(labels: np.ndarray) -> np.ndarray:
    """``out[label]`` is True for the labels that touch the image border."""
    n = int(labels.max()) + 1
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    out = np.zeros(n, bool)
    out[edge] = True
    out[0] = False
    return out


def _overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (label in a, label in b) that overlap, their intersection, and the areas of every label."""
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    both = (a > 0) & (b > 0)
    key = a[both].astype(np.int64) * nb + b[both]
    pairs, inter = np.unique(key, return_counts=True)
    area_a = np.bincount(a.ravel(), minlength=na)
    area_b = np.bincount(b.ravel(), minlength=nb)
    return pairs // nb, pairs % nb, inter, area_a, area_b


@dataclass(frozen=True)
class ParticleScore:
    """Particle segmentation of one image against its manual mask."""

    mean_iou: float
    precision: float
    recall: float
    f1: float
    d50_manual_um: float
    d50_um: float
    n_manual: int
    n_measured: int
    n_matched: int = 0

    @property
    def d50_error(self) -> float:
        """``D50 / D50_manual - 1`` (signed)."""
        return self.d50_um / self.d50_manual_um - 1.0 if self.d50_manual_um > 0 else float("nan")


def pooled_particle_scores(scores: list[ParticleScore]) -> tuple[float, float, float, float]:
    """Mean instance IoU, precision, recall and F1 over every eligible manual particle of several images at once.

    The images' own figures averaged count each image once; pooled, an image
    with more particles counts more (the dense images, where splitting is
    hardest, weigh most).
    """
    n_manual = sum(s.n_manual for s in scores)
    n_measured = sum(s.n_measured for s in scores)
    matched = sum(s.n_matched for s in scores)
    iou = sum(s.mean_iou * s.n_manual for s in scores if s.n_manual) / n_manual if n_manual else float("nan")
    precision = matched / n_measured if n_measured else 0.0
    recall = matched / n_manual if n_manual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return iou, precision, recall, f1


def score_particles(
    measured: np.ndarray, mask: np.ndarray, pixel_size_um: float, d50_um: float | None = None, min_area_px: int = 20
) -> ParticleScore:
    """Score a measured label image against a manual mask (see the module notes).

    Parameters
    ----------
    measured : ndarray of int
        Label image of the measured particles (0 = background), the image area's shape.
    mask : ndarray
        Manual mask (non-zero = particle); rows below the image area are ignored.
    pixel_size_um : float
        Pixel size (µm), for the D50 values.
    d50_um : float, optional
        The D50 the tool reports; default the median ECD of ``measured``.
    """
    measured = np.asarray(measured)
    truth = manual_particles(mask, measured.shape)
    area_t = np.bincount(truth.ravel())
    eligible = (area_t >= min_area_px) & ~_touches_border(truth)
    eligible[0] = False
    ta, mb, inter, area_a, area_b = _overlaps(truth, measured)
    iou = inter / (area_a[ta] + area_b[mb] - inter)
    best = np.zeros(area_a.size)
    np.maximum.at(best, ta, iou)
    ids_t = np.flatnonzero(eligible)
    mean_iou = float(best[ids_t].mean()) if ids_t.size else float("nan")
    good = iou >= 0.5
    tp = int(np.count_nonzero(good & eligible[ta]))
    ignored = np.unique(mb[good & ~eligible[ta]])
    n_meas = int(np.count_nonzero(area_b[1:])) - ignored.size
    precision = tp / n_meas if n_meas else 0.0
    recall = tp / ids_t.size if ids_t.size else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ecd_t = 2 * np.sqrt(area_t[ids_t] / np.pi) * pixel_size_um
    if d50_um is None:
        am = area_b[1:][area_b[1:] > 0]
        d50_um = float(np.median(2 * np.sqrt(am / np.pi) * pixel_size_um)) if am.size else 0.0
    return ParticleScore(mean_iou, precision, recall, f1, float(np.median(ecd_t)) if ecd_t.size else 0.0,
                         float(d50_um or 0.0), int(ids_t.size), n_meas, tp)


def agglomerates(mask: np.ndarray, shape: tuple[int, int], min_area_px: int = 50) -> np.ndarray:
    """Label image of the agglomerates: 8-connected components after a 2-px closing, at least 50 px."""
    m = _crop(mask, shape).astype(np.uint8)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    closed = cv2.morphologyEx(m, cv2.MORPH_CLOSE, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    lab, n = ndimage.label(closed, structure=np.ones((3, 3)))
    area = np.bincount(lab.ravel(), minlength=n + 1)
    keep = area >= min_area_px
    keep[0] = False
    lut = np.zeros(n + 1, np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1)
    return lut[lab]


@dataclass(frozen=True)
class AgglomerateScore:
    """Protrusion detections of one image against the agglomerates of its manual mask."""

    n_agglomerates: int
    n_found: int
    n_detections: int
    n_false: int

    @property
    def recall(self) -> float:
        return self.n_found / self.n_agglomerates if self.n_agglomerates else 1.0

    @property
    def precision(self) -> float:
        return 1.0 - self.n_false / self.n_detections if self.n_detections else 1.0


def score_agglomerates(
    rows: np.ndarray, cols: np.ndarray, mask: np.ndarray, shape: tuple[int, int], tolerance_px: float = 3.0
) -> AgglomerateScore:
    """Score detection centroids (``rows``, ``cols`` in pixels) against the agglomerates of ``mask``."""
    agg = agglomerates(mask, shape)
    n = int(agg.max())
    rows, cols = np.asarray(rows, float), np.asarray(cols, float)
    if n == 0:
        return AgglomerateScore(0, 0, rows.size, rows.size)
    # nearest agglomerate pixel of every pixel, and the distance to it
    dist, (iy, ix) = ndimage.distance_transform_edt(agg == 0, return_indices=True)
    r = np.clip(np.rint(rows).astype(int), 0, shape[0] - 1)
    c = np.clip(np.rint(cols).astype(int), 0, shape[1] - 1)
    ok = dist[r, c] <= tolerance_px
    hit = agg[iy[r, c], ix[r, c]][ok]
    return AgglomerateScore(n, int(np.unique(hit).size), rows.size, int(np.count_nonzero(~ok)))

"""Shape measurements of labelled objects: Feret diameters from convex hulls.

Feret (caliper) diameters are measured on the convex hull of the pixel
*corners* of each object, so a digitised disc of diameter d has Feret
diameters close to d (measuring on pixel centres would lose one pixel).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["feret_diameters"]


def _hull(coords: np.ndarray) -> np.ndarray:
    """Convex hull (k, 2) of the corners of the pixels at ``coords`` (row, col)."""
    corners = (coords[:, None, :] + np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])).reshape(-1, 2)
    hull = cv2.convexHull(corners[:, ::-1].astype(np.float32))  # (x, y)
    return hull.reshape(-1, 2).astype(np.float64)


def feret_diameters(coords: np.ndarray) -> tuple[float, float, float]:
    """Maximum and minimum Feret diameter (pixels) and the angle of the maximum (degrees from x).

    Parameters
    ----------
    coords : ndarray, shape (n, 2)
        ``(row, col)`` of the object's pixels.

    Returns
    -------
    feret_max, feret_min : float
        Largest and smallest caliper width in pixels.
    angle_deg : float
        Direction of the largest width, counter-clockwise from the x axis
        with y pointing down the rows (image convention).
    """
    hull = _hull(np.asarray(coords, dtype=np.float64))
    d = hull[:, None, :] - hull[None, :, :]
    dist2 = (d**2).sum(-1)
    i, j = np.unravel_index(int(np.argmax(dist2)), dist2.shape)
    fmax = float(np.sqrt(dist2[i, j]))
    vx, vy = hull[j] - hull[i]
    angle = float(np.degrees(np.arctan2(-vy, vx)) % 180.0)
    edges = np.roll(hull, -1, axis=0) - hull
    length = np.hypot(edges[:, 0], edges[:, 1])
    ok = length > 1e-12
    normals = np.stack([-edges[ok, 1], edges[ok, 0]], axis=1) / length[ok, None]
    proj = hull @ normals.T  # (k, edges)
    widths = proj.max(axis=0) - proj.min(axis=0)
    fmin = float(widths.min()) if widths.size else fmax
    return fmax, fmin, angle

"""Overlay PNG: the image with the outline of every detected protrusion."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import SurfscanError

__all__ = ["write_overlay", "overlay_image"]

_INSIDE = (80, 220, 60)  # BGR green
_EDGE = (0, 160, 255)  # BGR orange: touches the border


def overlay_image(result) -> np.ndarray:
    """BGR uint8 image: the grey background with green outlines (orange where touching the border)."""
    lo, hi = result.display_range
    img = result.image if result.image is not None else np.zeros(result.labels.shape, np.float32)
    grey = np.clip((np.asarray(img, np.float32) - lo) * (255.0 / max(hi - lo, 1e-12)), 0, 255).astype(np.uint8)
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    table = result.table
    if len(table) == 0:
        return bgr
    edge_ids = table.loc[table["touches_edge"], "id"].to_numpy()
    is_edge = np.zeros(len(table) + 1, bool)
    is_edge[edge_ids] = True
    for flag, colour in ((False, _INSIDE), (True, _EDGE)):
        mask = ((result.labels > 0) & (is_edge[result.labels] == flag)).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(bgr, contours, -1, colour, 1)
    return bgr


def write_overlay(result, path: str | Path) -> Path:
    """Write :func:`overlay_image` of ``result`` as a PNG; returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    if not cv2.imwrite(str(path), overlay_image(result)):
        raise SurfscanError(f"{path}: could not write the overlay PNG")
    return path

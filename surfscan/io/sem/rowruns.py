"""Horizontal runs and row fractions of pixel masks, for the information-bar search."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["flat_runs", "fraction", "opening", "run_lengths", "runs_longer"]


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """Length of the horizontal run of set cells holding each cell of a 2-D uint8/bool mask (0 where unset)."""
    rows, cols = mask.shape
    padded = np.zeros((rows, cols + 1), np.int8)  # a zero after each row ends its last run
    padded[:, :cols] = mask
    flat = padded.ravel()
    edges = np.diff(flat, prepend=np.int8(0))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    out = np.zeros(flat.size, np.int32)
    out[flat.view(bool)] = np.repeat(lengths, lengths)
    return out.reshape(rows, cols + 1)[:, :cols]


def opening(mask: np.ndarray, length: int) -> np.ndarray:
    """Cells of ``mask`` (uint8) inside a horizontal run of at least ``length`` set cells."""
    return ndimage.maximum_filter1d(ndimage.minimum_filter1d(mask, length, axis=1), length, axis=1).view(bool)


def flat_runs(equal: np.ndarray, *lengths: int) -> list[np.ndarray]:
    """Pixels inside horizontal runs of at least each of ``lengths`` equal pixels (``equal``: neighbour equality)."""
    runs = run_lengths(equal)
    out = []
    for length in lengths:
        run = runs >= length - 1
        flat = np.zeros((equal.shape[0], equal.shape[1] + 1), bool)
        flat[:, 1:] = run
        flat[:, :-1] |= run
        out.append(flat)
    return out


def fraction(mask: np.ndarray) -> np.ndarray:
    return np.count_nonzero(mask, axis=1) / mask.shape[1]


def runs_longer(rows: np.ndarray, joined: np.ndarray, length: int) -> np.ndarray:
    """Rows in runs of more than ``length`` consecutive set rows, each ``joined`` to the one above."""
    starts = rows & ~(joined & np.concatenate([[False], rows[:-1]]))
    ids = np.cumsum(starts) * rows
    sizes = np.bincount(ids)
    sizes[0] = 0
    return sizes[ids] > length

"""Find an SEM information bar (data bar, data zone) at the bottom of an image.

An information bar is a band of synthetic pixels across the full width at
the bottom of the frame: a flat background, text and scale marks in a colour
far from it, and often full-width separator lines. It is either appended
below the image or drawn inside it (Zeiss data zone, Hitachi tabletop).

The search looks at rows from the bottom up. A row belongs to the bar when

* it is a separator line: nearly all pixels equal one value, or
* most pixels equal the bar background, the rest are "ink" far from it
  (few intermediate grey levels, as text and marks have), and the ink does
  not form long horizontal runs (natural texture does, text strokes do not).

The bar is accepted only when its top row is clean (a line or plain
background), rows just above it are not bar rows, and it holds text-like ink.
Anything doubtful returns 0: no bar found means no crop, never a guess.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["find_databar", "to_grey"]

_BOTTOM_ROWS = 12  # rows used to estimate the bar background
_MIN_ROWS = 8  # shorter bands are not accepted as bars
_MAX_FRACTION = 0.45  # a bar never covers more than this fraction of the frame
_NEAR_MIN = 0.2  # fraction of background pixels in a text row
_MOSTLY_BACKGROUND = 0.5  # rows this plain may hold JPEG ringing around text
_MOSTLY_PLAIN = 0.7  # fraction of background in one of the first rows of a bar
_CLEAN = 0.85  # fraction of one value in a line or plain background row
_LONG_RUN_MAX = 0.25  # fraction of a row in long non-background runs (texture)
_BOTTOM_SLACK = 2  # odd rows allowed at the very bottom (scan artefacts)
_MIN_GLYPH = 8  # pixels in a connected piece of text or mark; noise specks are smaller
_EXACT_MIN = 0.35  # fraction of the bottom rows exactly at the background in a synthetic bar
_MAX_LINE = 5  # a uniform block thicker than this is not a separator line


def to_grey(image: np.ndarray) -> np.ndarray:
    """A 2-D view of the image for bar detection: RGB(A) averaged, else unchanged."""
    a = np.asarray(image)
    if a.ndim == 3:
        return a[..., :3].astype(np.float32).mean(axis=2)
    return a


def _normalise(grey: np.ndarray) -> np.ndarray:
    a = np.asarray(grey, dtype=np.float32)
    finite = np.isfinite(a)
    if not finite.all():
        a = np.where(finite, a, np.nan)
    if not finite.any():
        return np.zeros(a.shape, np.float32)
    lo, hi = np.nanmin(a), np.nanmax(a)
    if hi <= lo:
        return np.zeros(a.shape, np.float32)
    out = (a - lo) / (hi - lo)
    return np.nan_to_num(out, nan=0.5)


def _background(region: np.ndarray) -> tuple[float, float]:
    """Bar background value and the tolerance for "equal to it" (normalised units)."""
    bottom = region[-_BOTTOM_ROWS:].ravel()
    hist, edges = np.histogram(bottom, bins=128, range=(0.0, 1.0))
    k = int(hist.argmax())
    sel = bottom[(bottom >= edges[max(k - 1, 0)]) & (bottom <= edges[min(k + 2, 128)])]
    b = float(np.median(sel)) if sel.size else float(np.median(bottom))
    close = bottom[np.abs(bottom - b) <= 0.1]  # background with its noise and JPEG ringing
    sigma = 1.4826 * float(np.median(np.abs(close - b))) if close.size else 0.0
    spread = float(np.percentile(np.abs(close - b), 90)) if close.size else 0.0
    return b, float(np.clip(max(4.0 * sigma, 1.5 * spread), 0.008, 0.06))


def _row_features(region: np.ndarray, b: float, tol: float) -> dict[str, np.ndarray]:
    """Per-row fractions: background, ink, intermediate, long runs, and whether the row is a line."""
    cols = region.shape[1]
    dev = np.abs(region - b)
    near = dev <= tol
    ink = dev >= max(0.1, 2.0 * tol)
    run = max(24, cols // 32)
    step = np.abs(np.diff(region, axis=1)) > tol
    varying = np.zeros_like(near)
    varying[:, 1:] |= step
    varying[:, :-1] |= step
    textured = (~near & varying).astype(np.float32)  # natural texture; flat lines and strokes are not
    inside = ndimage.uniform_filter1d(textured, run, axis=1, mode="constant") > 0.999
    long_runs = ndimage.maximum_filter1d(inside.astype(np.uint8), run, axis=1, mode="constant") > 0
    med = np.median(region, axis=1, keepdims=True)
    line = np.mean(np.abs(region - med) <= tol, axis=1) >= _CLEAN
    line_off = line & (np.abs(med[:, 0] - b) > tol)  # a line in a colour other than the background
    f_near, f_ink = near.mean(axis=1), ink.mean(axis=1)
    return {
        "near": f_near,
        "ink": f_ink,
        "mid": 1.0 - f_near - f_ink,
        "long": long_runs.mean(axis=1),
        "line": line,
        "line_off": line_off,
        "ink_mask": ink,
    }


def _bar_rows(f: dict[str, np.ndarray]) -> np.ndarray:
    few_mid = (f["mid"] <= 0.06 + 0.8 * f["ink"]) | (f["near"] >= _MOSTLY_BACKGROUND)
    text_row = (f["near"] >= _NEAR_MIN) & few_mid & (f["long"] <= _LONG_RUN_MAX)
    return f["line"] | text_row


def _top_of_run(is_bar: np.ndarray) -> int | None:
    """Index of the top row of the bar-row run reaching the bottom (one-row gaps bridged)."""
    n = len(is_bar)
    i = n - 1
    slack = 0
    while i >= 0 and not is_bar[i] and slack < _BOTTOM_SLACK:
        i, slack = i - 1, slack + 1
    if i < 0 or not is_bar[i]:
        return None
    top = i
    while i > 0:
        if is_bar[i - 1]:
            i -= 1
            top = i
        elif i >= 3 and is_bar[i - 2] and is_bar[i - 3]:
            i -= 2  # a single odd row inside the bar
            top = i
        else:
            break
    return top


def _refine_top(f: dict[str, np.ndarray], top: int) -> int:
    """Move the top down past a thick uniform block, or onto the separator under plain background.

    A uniform block thicker than a separator line is a clipped image region
    (or a frame colour), not part of the bar. Plain background rows directly
    above a full-width ink line are image rows of the bar's colour: the line
    is the bar's top edge.
    """
    n = len(f["line"])
    i = n - 1
    while i >= top:  # lowest block of uniform off-background rows thicker than a line
        if f["line_off"][i]:
            j = i
            while j - 1 >= top and f["line_off"][j - 1]:
                j -= 1
            if i - j + 1 > _MAX_LINE:
                top = i + 1
                break
            i = j
        i -= 1
    j = top
    while j < n and f["near"][j] >= _CLEAN and f["ink"][j] <= 0.002:
        j += 1
    if top < j < n and f["line_off"][j] and f["ink"][j] >= _CLEAN:
        top = j
    return top


def _text_like(f: dict[str, np.ndarray], top: int) -> bool:
    """The band holds ink in short strokes (text, marks), not only lines or blobs."""
    band = f["ink_mask"][top:][~f["line"][top:]]
    if band.size == 0:
        return False
    count = int(band.sum())
    if count < max(20, 0.002 * band.size):
        return False
    rows_with_ink = int((band.sum(axis=1) > 0).sum())
    edges = int(np.count_nonzero(np.diff(band.astype(np.int8), axis=1)))
    if rows_with_ink < 3 or edges < 0.15 * count:
        return False
    labels, n = ndimage.label(band, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    return int(sizes[sizes >= _MIN_GLYPH].sum()) >= 0.5 * count  # strokes, not noise specks


def find_databar(image: np.ndarray) -> int:
    """Rows of information bar at the bottom of an SEM image (0 when there is none).

    Parameters
    ----------
    image : ndarray, shape (rows, columns) or (rows, columns, 3|4)
        The stored frame, any integer or float dtype.

    Returns
    -------
    int
        Number of bottom rows that form the bar; 0 when no bar is found.
    """
    grey = to_grey(image)
    if grey.ndim != 2 or grey.shape[0] < 4 * _MIN_ROWS or grey.shape[1] < 32:
        return 0
    rows = grey.shape[0]
    start = rows - int(rows * _MAX_FRACTION) - 4
    region = _normalise(grey)[start:]
    b, tol = _background(region)
    if np.mean(np.abs(region[-_BOTTOM_ROWS:] - b) <= 0.008) < _EXACT_MIN:
        return 0  # the bottom is noisy image, not a drawn background
    f = _row_features(region, b, tol)
    is_bar = _bar_rows(f)
    top = _top_of_run(is_bar)
    if top is None:
        return 0
    refined = _refine_top(f, top)
    if refined == top and (top < 4 or int(is_bar[top - 3 : top].sum()) > 1):
        return 0  # the run reaches the search limit, or the rows above it look like bar rows too
    top = refined
    height = len(is_bar) - top
    head = slice(top, top + 4)  # JPEG blocks smear the first rows of the bar
    clean_top = bool(np.any(f["line"][head] | (f["near"][head] >= _MOSTLY_PLAIN)))
    if height < _MIN_ROWS or not clean_top or not _text_like(f, top):
        return 0
    return height

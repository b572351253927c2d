"""Find an SEM information bar (data bar, data zone) at the bottom of an image.

An information bar is a band of synthetic pixels across the full width at
the bottom of the frame: a flat background, text, scale bars and logos in an
ink colour, often full-width separator lines, sometimes panels of another
flat grey. It is either appended below the image or drawn inside it (Zeiss
data zone, Hitachi tabletop).

The search works on row profiles of the bottom part of the frame:

1. The background is the level of the bottom rows that fills most columns;
   its tolerance comes from the spread of the pixels around it. When the
   frame went through JPEG (:mod:`.jpegtrace`) a wider tolerance, measured on
   the bar's rows with exact background runs, takes in the ringing. A bar
   with mild noise (not JPEG) is first put back on exact levels around its
   background, if one level then fills the bottom rows across the width.
2. Each row is clean (background or panels nearly everywhere, or a
   uniform separator line), image (texture in long runs, little of the
   background, panels and ink), or in between (text rows, judged by their
   ink and exact background runs). Thick uniform blocks at another level are
   clipped image, not lines.
3. The top is the split that maximises the summed row scores below it (on
   ties, the row with the strongest step); plain or image rows above a
   separator line give way to the line, and a JPEG-smeared edge moves to
   where the image rows end within its 8-row block.
4. The band is accepted only with a sharp top edge (crisp, a separator
   line, or smeared within one JPEG block with a step in the profiles), a
   drawn background (exact horizontal runs, not a clipped or speckled image
   region) and text-like ink (glyph-sized pieces away from the band's top).

Anything doubtful returns 0: no bar found means no crop, never a guess.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ...grey import to_grey
from .jpegtrace import jpeg_compressed
from .rowruns import flat_runs, fraction, opening, runs_longer

__all__ = ["find_databar", "to_grey"]

_MAX_FRACTION = 0.45  # a bar never covers more than this fraction of the frame
_BOTTOM_ROWS = 8  # rows used to estimate the bar background
_MIN_ROWS = 10  # shorter bands are not accepted as bars
_EXACT_MIN = 0.25  # fraction of the bottom rows at the background (within 4 levels) in a drawn bar
_LINE = 0.85  # fraction of a row within tolerance of its median: a uniform row at the background
_SEPARATOR_LINE = 0.97  # the same for a separator line at another level (noisy clipped rows are less)
_SEPARATOR_LINE_JPEG = 0.93  # the same after JPEG, which rings along the line
_MAX_LINE = 3  # a uniform off-background block thicker than this is image, not a line
_SEPARATOR_CONTRAST = 0.1  # a separator line differs this much from the background
_LEVEL = 0.02  # rows of a uniform block within this of each other are one level (JPEG shifts them a little)
_LONG_RUN_MAX = 0.3  # fraction of a row in long textured runs: image
_CLEAN = 0.85  # background fraction of a clean bar row
_IMAGE_NEAR = 0.3  # background fraction at or below which a row is image
_STRONG_MIN = 0.005  # fraction of strong ink in a text row
_SOME_BACKGROUND = 0.1  # a bar row that is not a line shows at least this much background
_EDGE_STEP = 0.4  # rise in plain fraction from the row above to the bar's first row
_MIN_GLYPH = 8  # pixels in a connected piece of text or mark; noise specks are smaller
_MIN_GLYPHS = 3  # glyph-sized pieces of ink in a bar
_SEPARATOR = 0.6  # fraction of a band column in ink: a vertical separator line
_FLAT_RAW = 0.6  # share of background pixels in exact runs: drawn, uncompressed
_FLAT_JPEG = 0.3  # the same after JPEG (ringing around text breaks runs)
_STEP_PLAIN = 0.4  # change in plain fraction over three rows at a JPEG edge
_STEP_MEAN = 0.1  # change in row mean over three rows at a JPEG edge
_BLOCK = 8  # JPEG block rows
_FLAT_ROW = 0.2  # fraction of a row in exact background runs: a bar row
_FLAT_CLEAN = 0.1  # exact background runs in a clean row with JPEG ringing
_FLAT_SOME = 0.02  # some exact background runs: not image
_JPEG_LEVELS = 4  # least background tolerance after JPEG, in data steps
_RUN = 8  # pixels in a flat run: one JPEG block
_PANEL = 32  # a flat run this long is a panel or a bar, not a text stroke
_PANEL_MAX = 0.5  # panels fill at most this share of a bar row; more is a uniform image region
_PANEL_SHARE = 0.08  # share of the bottom rows at one level other than the background: a panel
_ABOVE_LINE = 4  # rows above a separator line looked at to tell the bar's top line from an inner one
_FLAT_HALF = 0.3  # share of a row in exact background runs that makes it a bar row
_QUIET_SHARE = 0.5  # share of the bottom rows at the background level of a noisy bar
_QUIET_COLUMNS = 0.9  # share of columns where it fills a quarter of the bottom rows
_DRAWN = 0.75  # share of a bar row that is background, panels or ink
_DRIFT = 0.1  # change in level between neighbouring rows of one smooth region
_MAX_SMEAR = 6  # more uniform off-background rows in a row, at drifting levels, are a smooth image region
_EDGE_MARGIN = 0.3  # a tied split moves up to a row whose profiles step by this much more
_NOISE_STEPS = 5  # a noisy bar's data step: this many noise levels
_MAX_NOISE = 0.015  # more noise than this in the bottom rows is image, not a bar
_FLOAT_STEP = 1.0 / 255  # data step of float images (and the largest step): one level of an 8-bit image
_HALF_NORMAL_MEDIAN = 0.954  # median |a - b| of two N(0, sigma^2) neighbours, in sigma (0.6745 sqrt 2)
_DRAWN_EQUAL = 0.5  # share of exactly equal neighbours in the bottom rows of a drawn (noise-free) bar
_LEVEL_BINS = 256  # histogram bins over the scaled [0, 1] range when looking for levels
_FILLED = 0.25  # a level fills a column when it holds a quarter of the bottom rows there (a line does not)
_COVER_MARGIN = 0.05  # a level found across more columns beats a commoner one by at least this share
_EXACT_LEVELS = 4  # pixels within this many data steps of the background count as exactly at it
_NEAR_BACKGROUND = 0.1  # deviations up to this are the background's noise and ringing, not ink or panels
_TOL_SPREAD = 1.5  # background tolerance: 1.5 x the 90th percentile of those deviations ...
_TOL_MAX = 0.06  # ... at most this (and at least two data steps)
_MIN_INK = 0.1  # ink differs from the background by at least this (and by 2 x the wide tolerance)
_STRONG_CONTRAST = 0.5  # strong ink: at least half the contrast of the bottom rows' marks
_FAINT_CONTRAST = 0.25  # faint ink (grey text beside white marks): a quarter of it
_INK_BINS = 64  # histogram bins when looking for the ink colour
_MIN_LONG_RUN = 24  # textured runs at least this long (and 1/32 of the width) are image, not text
_INKED_ROW = 0.002  # share of a row in ink that makes it a text row
_MIN_INK_PIXELS = 20  # a text band holds at least this many ink pixels (and _INKED_ROW of its area)


def _region(grey: np.ndarray) -> tuple[np.ndarray, float, int] | None:
    """The bottom part of the frame that may hold a bar, scaled to [0, 1] by its range, and one data step.

    The step is one level of the stored integers in the scaled units (1/255 for
    float data): pixel values of a drawn bar are equal to within it.
    """
    rows = grey.shape[0]
    start = max(0, rows - int(rows * _MAX_FRACTION) - 2 * _BLOCK) // _BLOCK * _BLOCK  # on the JPEG block grid
    a = np.asarray(grey[start:], dtype=np.float32)
    if not np.isfinite(a).all():
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(a.min()), float(a.max())
    if not hi > lo:
        return None
    step = 1.0 / (hi - lo) if grey.dtype.kind in "ui" else _FLOAT_STEP
    return (a - lo) * np.float32(1.0 / (hi - lo)), min(step, _FLOAT_STEP), start


def _bar_noise(region: np.ndarray, step: float) -> float:
    """Noise of the bar background in the bottom rows (0 for a drawn bar), capped at _MAX_NOISE.

    Some frame grabbers add mild noise to the whole frame, bar included. The
    median absolute difference of horizontal neighbours measures it: in a bar
    most neighbours are both background (a drawn bar gives 0). Data equal to
    within a few noise levels are then treated as equal.
    """
    rows = region[-_BOTTOM_ROWS:]
    d = np.abs(np.diff(rows, axis=1))
    if np.mean(d <= 0.5 * step) >= _DRAWN_EQUAL:
        return 0.0  # drawn: most neighbours exactly equal
    sigma = float(np.median(d)) / _HALF_NORMAL_MEDIAN
    return sigma if sigma <= _MAX_NOISE else 0.0


def _quieten(region: np.ndarray, step: float) -> tuple[np.ndarray, float]:
    """A bar with mild noise drawn as exact levels again: the region on a grid of levels centred on the background.

    Only when the bottom rows are noisy (not drawn exactly) but quiet enough
    for a bar: the grid step is about five noise levels, so the background's
    pixels fall on its level exactly. Returns the region and its data step.
    """
    sigma = _bar_noise(region, step)
    if sigma <= 0:
        return region, step
    b, tol, _, _ = _background(region, step)
    q = max(2 * tol, _NOISE_STEPS * sigma)
    quiet = np.float32(b) + np.float32(q) * np.round((region - np.float32(b)) * np.float32(1 / q))
    at = quiet[-_BOTTOM_ROWS:] == np.float32(b)
    if at.mean() < _QUIET_SHARE or np.mean(at.mean(axis=0) >= _FILLED) < _QUIET_COLUMNS:
        return region, step  # no one level across the bottom rows: a smooth image, not a bar
    return quiet, q


def _background(region: np.ndarray, step: float) -> tuple[float, float, float, list[float]]:
    """Bar background value, tolerance for "equal to it", fraction of bottom pixels at it, and panel levels.

    The background is the mode of the bottom rows. Drawn backgrounds are
    exact; the tolerance grows with JPEG ringing seen there (flat runs at
    another level, panels, are not ringing). Panels are other levels that
    cover a good share of the bottom rows mostly in long flat runs.
    """
    rows = region[-_BOTTOM_ROWS:]
    bottom = rows.ravel()
    hist, edges = np.histogram(bottom, bins=_LEVEL_BINS, range=(0.0, 1.0))
    k = _widest_level(rows, hist, edges)
    sel = bottom[(bottom >= edges[max(k - 1, 0)]) & (bottom <= edges[min(k + 2, _LEVEL_BINS)])]
    b = float(np.median(sel)) if sel.size else float(np.median(bottom))
    dev = np.abs(bottom - b)
    exact = float(np.mean(dev <= _EXACT_LEVELS * step))
    equal = (np.abs(np.diff(rows, axis=1)) <= 0.5 * step).view(np.uint8)
    short, long_flat = flat_runs(equal, _RUN, _PANEL)
    panel = short.ravel() & (dev > step)
    close = dev[(dev <= _NEAR_BACKGROUND) & ~panel]  # background with its noise and JPEG ringing, not flat panels
    spread = float(np.percentile(close, 90)) if close.size else 0.0
    tol = float(np.clip(_TOL_SPREAD * spread, 2 * step, _TOL_MAX))
    return b, tol, exact, _panel_levels(bottom, hist, edges, b, tol, long_flat.ravel())


def _widest_level(rows: np.ndarray, hist: np.ndarray, edges: np.ndarray) -> int:
    """Histogram bin of the background: of the commonest levels, the one found across most columns.

    A panel or bold text can outnumber the background in the bottom rows
    (JPEG ringing spreads the background around text), but only the
    background runs across the whole width.
    """
    hist = hist.copy()
    best, best_cover = int(hist.argmax()), -1.0
    for _ in range(3):
        k = int(hist.argmax())
        if hist[k] == 0:
            break
        at = (rows >= edges[max(k - 1, 0)]) & (rows <= edges[min(k + 2, _LEVEL_BINS)])
        cover = float(np.mean(at.mean(axis=0) >= _FILLED))  # columns where it fills a quarter of the rows
        if cover > best_cover + _COVER_MARGIN:
            best, best_cover = k, cover
        hist[max(k - 2, 0) : k + 3] = 0
    return best


def _panel_levels(bottom: np.ndarray, hist: np.ndarray, edges: np.ndarray, b: float, tol: float, long_flat) -> list:
    """Levels other than the background that fill panels: common in the bottom rows, mostly in long flat runs."""
    levels = []
    hist = hist.copy()
    hist[np.abs(0.5 * (edges[:-1] + edges[1:]) - b) <= max(tol, 2.0 / _LEVEL_BINS)] = 0
    for _ in range(2):
        k = int(hist.argmax())
        if hist[k] < _PANEL_SHARE * bottom.size:
            break
        at = (bottom >= edges[max(k - 1, 0)]) & (bottom <= edges[min(k + 2, _LEVEL_BINS)])
        hist[max(k - 2, 0) : k + 3] = 0
        runs = (at & long_flat).reshape(_BOTTOM_ROWS, -1)
        if runs.sum() >= 0.5 * at.sum() and np.count_nonzero(runs.any(axis=1)) == _BOTTOM_ROWS:
            levels.append(float(np.median(bottom[at & long_flat])))  # in every bottom row: not a line or mark
    return levels


def _base_features(
    region: np.ndarray, b: float, tol: float, step: float, levels: list, jpeg: bool
) -> dict[str, np.ndarray]:
    """Per-row profiles that depend on the background's own tolerance: plain rows, exact runs, lines.

    Plain pixels are the background, long flat runs (panels, lines) and the
    levels of panels seen in the bottom rows (JPEG rings inside panels too).
    """
    cols = region.shape[1]
    dev = np.abs(region - np.float32(b))
    near = dev <= tol
    equal = (np.abs(np.diff(region, axis=1)) <= 0.5 * step).view(np.uint8)
    flat, runs = flat_runs(equal, _RUN, _PANEL)  # long runs: flat panels and lines, plain like the background
    panel = runs.copy()
    for level in levels:
        panel |= np.abs(region - np.float32(level)) <= max(tol, 2 * step)
    med = np.median(region[:, :: max(1, cols // 256)], axis=1)
    uniform = fraction((np.abs(region - med[:, None]) <= tol) | panel)  # panels do not break a uniform row
    return {
        "region": region,
        "tol": tol,
        "dev": dev,
        "flat_mask": flat,
        "panel_mask": panel,
        "runs_mask": runs,
        "mean": region.mean(axis=1),
        "median": med,
        "near": fraction(near),
        "plain": fraction(near) + np.minimum(fraction(panel & ~near), _PANEL_MAX),
        "flat_b": fraction(flat & (dev <= max(2 * step, tol))),
        "uniform": uniform,
        "off": np.abs(med - b) > 0.99 * max(step, 0.5 * tol),  # another level than the background
        "away": np.abs(med - b) > 0.99 * (max(1.5 * step, 0.5 * tol) if jpeg else step),  # JPEG shifts levels a little
        "contrast": float(np.percentile(dev[-2 * _BOTTOM_ROWS :], 99.5)),  # text and marks in the bottom rows
    }


def _row_features(base: dict[str, np.ndarray], wide: float) -> dict[str, np.ndarray]:
    """Add the profiles judged with ``wide``, the tolerance that also takes in JPEG ringing around text.

    ``wide`` judges rows with text and texture (strong ink, long textured
    runs); the background's own tolerance judges clean rows and lines.
    """
    dev, flat, panel = base["dev"], base["flat_mask"], base["panel_mask"]
    cols = dev.shape[1]
    near_wide = dev <= wide
    strong = dev >= max(_MIN_INK, 2.0 * wide, _STRONG_CONTRAST * base["contrast"])
    faint = dev >= max(_MIN_INK, 2.0 * wide, _FAINT_CONTRAST * base["contrast"])  # grey text beside white marks
    region = base["region"]
    ink_rows = region[-2 * _BOTTOM_ROWS :][strong[-2 * _BOTTOM_ROWS :]]
    if ink_rows.size:  # the ink colour: the commonest strong level in the bottom rows
        hist, edges = np.histogram(ink_rows, bins=_INK_BINS, range=(0.0, 1.0))
        level = 0.5 * (edges[int(hist.argmax())] + edges[int(hist.argmax()) + 1])
        inky = np.abs(region - np.float32(level)) <= max(wide, 1.0 / _INK_BINS)
    else:
        inky = np.zeros_like(strong)
    ink = strong & ~base["runs_mask"]
    textured = (~near_wide & ~flat & ~inky).view(np.uint8)
    long_runs = opening(textured, max(_MIN_LONG_RUN, cols // 32))
    uniform = base["uniform"]
    if wide > base["tol"]:
        uniform = np.maximum(uniform, fraction((np.abs(base["region"] - base["median"][:, None]) <= wide) | panel))
    off = base["off"]
    separator = _SEPARATOR_LINE_JPEG if wide > base["tol"] or base.get("jpeg") else _SEPARATOR_LINE
    line = np.where(off, uniform >= separator, base["uniform"] >= _LINE)  # separators are near perfect
    f = dict(base)
    f.update(
        line=line,
        plain_wide=fraction(near_wide) + np.minimum(fraction(panel & ~near_wide), _PANEL_MAX),
        near_wide=fraction(near_wide),
        inky=fraction(inky & ~near_wide),
        ink=fraction(ink),
        strong=fraction(strong),
        long=fraction(long_runs),
        ink_mask=faint & ~base["runs_mask"],
    )
    return f


def _thick_blocks(f: dict[str, np.ndarray], tol: float) -> np.ndarray:
    """Rows in runs of more than _MAX_LINE uniform rows at one level other than the background.

    Such a block is a clipped image region or a frame, not a separator line.
    JPEG smears a line into a few uniform rows at different levels; those
    are not one block.
    """
    away = f["away"] & (np.abs(f["median"] - f["b"]) > 0.5 * f["wide"])  # beyond JPEG ringing levels
    block = away & (f["uniform"] >= _LINE)
    same = np.zeros_like(block)
    same[1:] = np.abs(np.diff(f["median"])) <= max(tol, _LEVEL)
    drift = np.ones_like(block)
    drift[1:] = np.abs(np.diff(f["median"])) <= _DRIFT
    return runs_longer(block, same, _MAX_LINE) | runs_longer(f["line"] & away, drift, _MAX_SMEAR)


def _row_classes(f: dict[str, np.ndarray], tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows that are clearly bar (a line, or background nearly everywhere) and clearly image (texture)."""
    ringing = (f["plain_wide"] >= _CLEAN) & (f["flat_b"] >= _FLAT_CLEAN)  # JPEG: background with ringing
    clean = f["line"] | (f["plain"] >= _CLEAN) | ringing
    drawn = f["plain_wide"] + f["inky"]  # background, panels and ink: what a bar row is made of
    texture = (drawn <= _IMAGE_NEAR) | (f["long"] > _LONG_RUN_MAX) | (f["near_wide"] < _SOME_BACKGROUND)
    image = ~f["line"] & texture
    lone = image.copy()  # one textured row between bar rows is a drawn box edge or mark, not image
    lone[1:] &= ~image[:-1]
    lone[:-1] &= ~image[1:]
    flat = f["flat_b"] >= _FLAT_CLEAN
    lone[1:-1] &= flat[:-2] & flat[2:]  # between rows with exact runs of the background
    lone[[0, -1]] = False
    image &= ~lone
    thick = _thick_blocks(f, tol)
    return clean & ~thick, image | thick


def _row_scores(f: dict[str, np.ndarray]) -> np.ndarray:
    """+1 clean bar row, -1 image row; rows in between score by background fraction when they hold ink.

    A row between clean and image without any strong ink scores negative (a
    dark, partly clipped image row), or zero when it holds exact runs of the
    background (a bar row with JPEG ringing).
    """
    s = np.clip((f["plain_wide"] - _IMAGE_NEAR) / 0.5, 0.0, 0.5)
    bare = f["flat_b"] <= _FLAT_SOME  # ink without any exact background run: image or a smeared edge
    s[bare] = np.clip((f["plain_wide"] + f["inky"] - _DRAWN) / 0.6, -0.5, 0.0)[bare]
    s[(f["strong"] < _STRONG_MIN)] = np.where(f["flat_b"] > _FLAT_SOME, 0.0, -0.5)[f["strong"] < _STRONG_MIN]
    s[f["flat_b"] >= _FLAT_HALF] = 0.5  # long exact runs of the background: drawn, whatever JPEG does nearby
    s[f["clean"]] = 1.0
    s[f["image"]] = -1.0
    return s


def _split(s: np.ndarray, edge: np.ndarray | None = None) -> int | None:
    """The row that maximises the summed scores below it.

    On ties (rows scoring 0 between the bar and the image: panels or JPEG
    ringing) the row with the clearly strongest ``edge`` (step in the row
    profiles from the row above) wins, else the lowest.
    """
    if len(s) < _MIN_ROWS:
        return None
    below = np.cumsum(s[::-1])[::-1][: len(s) - _MIN_ROWS + 1]  # below[t] = sum of s[t:]
    best = float(below.max())
    if best <= 0:
        return None
    ties = np.flatnonzero(below >= best - 1e-6)
    if edge is None or ties.size == 1:
        return int(ties[-1])
    strength = edge[np.maximum(ties, 1)]
    k = int(np.argmax(strength))
    return int(ties[k]) if strength[k] > strength[-1] + _EDGE_MARGIN else int(ties[-1])


def _refine(f: dict[str, np.ndarray], top: int, jpeg: bool) -> int:
    """Adjust the split: onto a separator line under plain rows, or onto the edge JPEG smeared.

    Plain background rows right above a full-width line of another colour are
    image rows of the bar's colour (a clipped region): the line is the top.
    Otherwise the split is kept, unless the image went through JPEG and the
    edge is smeared: then the top moves up to the row after the last image
    row within one block, or else to the strongest step of the row profiles.
    """
    n = len(f["near"])
    separator = f["line"] & (np.abs(f["median"] - f["b"]) >= _SEPARATOR_CONTRAST)
    j = top
    while j < n and (f["clean"][j] or (j - top <= _BLOCK and f["s"][j] >= 0)) and not separator[j]:
        if f["ink"][j] > _INKED_ROW:
            break
        j += 1
    if top < j < n - _MIN_ROWS and separator[j] and abs(f["median"][j] - f["median"][j - 1]) >= _SEPARATOR_CONTRAST:
        return j
    line = _top_separator(f, separator, top)
    if line is not None:
        return line
    if not jpeg or top < 1 or (f["clean"][top] and f["image"][top - 1]) or (separator[top] and not f["line"][top - 1]):
        return top  # a crisp edge, or a separator line under image rows
    lo = max(1, top - _BLOCK + 1)
    image = np.flatnonzero(f["image"][lo - 1 : top])
    if image.size:  # the rows between the last image row and the split are the bar's smeared first rows
        return lo + int(image[-1])
    m, q, u = f["mean"], f["near"], f["uniform"]
    r = np.arange(lo, top + 1)
    strength = np.abs(m[r] - m[r - 1]) + np.abs(q[r] - q[r - 1]) + np.abs(u[r] - u[r - 1])
    return int(r[int(np.argmax(strength))])


def _top_separator(f: dict[str, np.ndarray], separator: np.ndarray, top: int) -> int | None:
    """The highest separator line below the split with neither text nor clean bar rows right above it.

    A line inside a bar has text or blank bar background above it; a line
    with only image rows above it (a dark, noisy or clipped region the split
    took in) is the bar's top.
    """
    n = len(separator)
    first = separator & ~np.concatenate([[False], f["line"][:-1]])
    for j in np.flatnonzero(first[top + _ABOVE_LINE + 1 : n - _MIN_ROWS]) + top + _ABOVE_LINE + 1:
        above = slice(j - _ABOVE_LINE, j)
        if abs(f["median"][j] - f["median"][j - 1]) < _SEPARATOR_CONTRAST:
            continue
        if not f["clean"][above].any() and (f["ink"][above] <= _INKED_ROW).all() and (f["s"][j : j + 3] > 0).all():
            return int(j)
    return None


def _sharp_edge(f: dict[str, np.ndarray], top: int, jpeg: bool) -> bool:
    """The image ends right above the bar's first row, or JPEG smeared the edge within one block.

    Crisp edge: the top row is a separator line, or a clean row right under
    an image row (or under a clearly less plain row). JPEG codes 8 x 8 blocks
    on a grid from the frame's corner (the search region starts on it): it
    smears the edge only inside the block holding it, so image rows reach
    that block, the next block holds no image row, and the row profiles step
    there.
    """
    n = len(f["near"])
    if f["line"][top] and f["off"][top]:  # a separator line, different from the row above
        return not (f["line"][top - 1] and abs(f["median"][top] - f["median"][top - 1]) <= f["tol"])
    if f["clean"][top] and not f["clean"][top - 1]:
        if f["image"][top - 1] or f["plain"][top] - f["plain"][top - 1] >= _EDGE_STEP:
            return True
    if not jpeg:
        return False
    block = top // _BLOCK * _BLOCK
    image_above = bool((f["s"][max(0, block - 2) : top] <= -0.5).any())  # image, or image-like near the background
    bar_below = not f["image"][block + _BLOCK : min(n, block + 2 * _BLOCK)].any()
    return image_above and bar_below and _jpeg_step(f, top)


def _text_like(f: dict[str, np.ndarray], top: int) -> bool:
    """The band holds strong ink in glyph-sized pieces (text, marks), not only lines, panels or specks.

    Separator lines (full rows and full-height columns) are left out, and so
    are pieces touching the band's first two rows: they can be image
    reaching into the band (a ragged edge, JPEG ringing), while text sits
    inside the bar.
    """
    band = f["ink_mask"][top:][~(f["line"][top:] & f["off"][top:])]
    band = band & ~(band.mean(axis=0) >= _SEPARATOR)[None, :]
    count = int(np.count_nonzero(band))
    if count < max(_MIN_INK_PIXELS, _INKED_ROW * band.size):
        return False
    labels, n = ndimage.label(band, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    sizes[np.unique(labels[:2])] = 0
    glyphs = sizes >= _MIN_GLYPH
    return int(np.count_nonzero(glyphs)) >= _MIN_GLYPHS and int(sizes[glyphs].sum()) >= 0.5 * count


def _drawn_background(f: dict[str, np.ndarray], top: int, jpeg: bool) -> bool:
    """The band's background is drawn: flat in long exact runs, not a clipped, speckled image region.

    Below the first JPEG block of the band, most background pixels lie in
    exact horizontal runs (JPEG keeps blocks without ink exactly flat).
    """
    n = len(f["near"])
    rows = slice(top + _BLOCK, n) if n - top > 2 * _BLOCK else slice(top, n)
    near = float(f["near"][rows].sum())
    return near > 0 and float(f["flat_b"][rows].sum()) >= (_FLAT_JPEG if jpeg else _FLAT_RAW) * near


def _jpeg_step(f: dict[str, np.ndarray], top: int) -> bool:
    """A JPEG-smeared edge is still a step: plain fraction or row mean changes fast around the top.

    The rows looked at run from one block above the top to the end of the
    block holding it (where JPEG stops smearing).
    """
    n = len(f["near"])
    r = np.arange(max(3, top - _BLOCK), min(n, top // _BLOCK * _BLOCK + _BLOCK + 3))
    m = f["mean"]
    plain = np.maximum(np.abs(f["plain"][r] - f["plain"][r - 3]), np.abs(f["plain_wide"][r] - f["plain_wide"][r - 3]))
    return bool(np.max(plain) >= _STEP_PLAIN or np.max(np.abs(m[r] - m[r - 3])) >= _STEP_MEAN)


def _rejection(f: dict[str, np.ndarray], top: int, jpeg: bool) -> str:
    """Why the band from ``top`` down is not a bar ("" when it is one)."""
    n = len(f["near"])
    if n - top < _MIN_ROWS or top < _BLOCK + 2:
        return "too short or reaches the search limit"
    if not _sharp_edge(f, top, jpeg):
        return "no sharp top edge"
    if not _drawn_background(f, top, jpeg):
        return "background not drawn"
    if not _text_like(f, top):
        return "no text-like ink"
    return ""


def _ringing_tolerance(region: np.ndarray, f: dict[str, np.ndarray], step: float) -> float:
    """Tolerance for the background that takes in JPEG ringing, from all rows of the bar's background.

    Rows holding exact runs of the background are bar rows (JPEG keeps blocks
    without ink exactly flat; image rows hardly ever have such runs); the
    spread of their near-background pixels is the ringing around the text.
    """
    rows = np.flatnonzero(f["flat_b"] >= _FLAT_ROW)
    if rows.size == 0:
        return f["tol"]
    dev = np.abs(region[rows[:: max(1, rows.size // 64)]] - f["b"])
    close = dev[dev <= 0.1]
    spread = float(np.percentile(close, 90)) if close.size else 0.0
    return float(np.clip(1.5 * spread, 2 * step, 0.06))


def _search(base: dict[str, np.ndarray], b: float, tol: float, wide: float, jpeg: bool) -> dict:
    f = _row_features(base, wide)
    f.update(b=b, tol=tol, wide=wide)
    f["clean"], f["image"] = _row_classes(f, tol)
    f["s"] = _row_scores(f)
    m, q, u = f["mean"], f["near"], f["uniform"]
    edge = np.zeros_like(m)
    edge[1:] = np.abs(np.diff(m)) + np.abs(np.diff(q)) + np.abs(np.diff(u))
    top = _split(f["s"], edge)
    f["top"] = None if top is None else _refine(f, top, jpeg)
    return f


def _analyse(grey: np.ndarray) -> tuple[int, dict] | None:
    out = _region(grey)
    if out is None:
        return None
    region, step, start = out
    jpeg = jpeg_compressed(grey, start)
    if not jpeg:  # JPEG leaves flat blocks exact and has its own tolerance for ringing
        region, step = _quieten(region, step)
    b, tol, exact, levels = _background(region, step)
    if exact < _EXACT_MIN:
        return None  # the bottom is noisy image, not a drawn background
    if jpeg:  # JPEG codes flat blocks near text at levels a few steps apart
        tol = max(tol, _JPEG_LEVELS * step)
    base = _base_features(region, b, tol, step, levels, jpeg)
    base["jpeg"] = jpeg
    f = _search(base, b, tol, tol, jpeg)
    if jpeg:
        wide = _ringing_tolerance(region, f, step)
        if wide > 1.5 * tol:  # ringing higher up in the bar than in its bottom rows
            f = _search(base, b, tol, wide, jpeg)
    f["exact"] = exact
    top = f["top"]
    f["why"] = "no split" if top is None else _rejection(f, top, jpeg)
    if f["why"]:
        return 0, f
    return len(f["s"]) - top, f


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
    out = _analyse(grey)
    return 0 if out is None else out[0]

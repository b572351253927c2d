"""Seeded generator of SEM-like images, with and without an information bar, for bar-search tests.

Textures imitate SEM micrographs of coatings: grains with dark boundaries,
shading, noise, scan-line jitter, bright particles with edge glow, dark or
bright (sometimes clipped) bottoms and flat no-signal regions. Images without
a bar sometimes carry text and a scale bar drawn straight onto the texture.

Bars are black, white or grey, 16-150 rows, with text drawn by
``cv2.putText``, separator lines, cell grids, scale bars, logos and
gradient-free panels of another grey; they are appended below the image or
drawn inside it; images are 8-bit (optionally JPEG-compressed, quality
50-95) or 16-bit (full range or 12-bit).

The bar's top edge is always a real edge: when the bar's first row would
look like the image rows just above it (a black bar under a clipped black
bottom), a separator line in a contrasting colour is drawn there, as the
truth would otherwise be unknowable from the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

__all__ = ["SynthImage", "texture", "draw_bar", "make_image", "make_batch", "EDGE_CONTRAST"]

EDGE_CONTRAST = 0.05  # least mean |difference| between the bar's top row and the image rows above it

_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)
_WORDS = [
    "HV",
    "5.00 kV",
    "WD",
    "4.1 mm",
    "Mag",
    "5 000 x",
    "HFW",
    "59.7 um",
    "det",
    "ETD",
    "SE",
    "10 um",
    "EHT = 15.00 kV",
    "Signal A = InLens",
    "Date :12 Mar 2024",
    "x2,500",
    "500nm",
    "BSE",
    "spot 3.0",
    "curr 0.40 nA",
    "mode",
    "tilt 0",
    "Pixel 12.3 nm",
    "View field: 2.56 mm",
    "SEM MAG: 108 x",
]


@dataclass(frozen=True)
class SynthImage:
    """One generated frame and the truth: ``bar_rows`` (0 = no bar) and how it was made."""

    image: np.ndarray
    bar_rows: int
    placement: str
    bar_style: str
    jpeg_quality: int | None


def _grains(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    size = rng.uniform(6, 40)
    n = max(4, int(rows * cols / size**2))
    seeds = np.zeros((rows, cols), bool)
    seeds[rng.integers(0, rows, n), rng.integers(0, cols, n)] = True
    labels, _ = ndimage.label(seeds)
    _, (iy, ix) = ndimage.distance_transform_edt(~seeds, return_indices=True)
    grain = labels[iy, ix]
    values = rng.uniform(0.3, 0.7, labels.max() + 1)
    img = values[grain]
    edges = ndimage.morphological_gradient(grain, size=2) > 0
    img = img - rng.uniform(0.0, 0.25) * edges
    return ndimage.gaussian_filter(img, rng.uniform(0.5, 2.0))


def _particles(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    rows, cols = img.shape
    for _ in range(int(rng.integers(0, 25))):
        cy, cx, r = rng.uniform(0, rows), rng.uniform(0, cols), rng.uniform(2, 15)
        y0, y1 = max(0, int(cy - r - 4)), min(rows, int(cy + r + 5))
        x0, x1 = max(0, int(cx - r - 4)), min(cols, int(cx + r + 5))
        if y1 <= y0 or x1 <= x0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot(yy - cy, xx - cx)
        body = np.clip(r - d, 0, 1)
        glow = np.exp(-((d - r) ** 2) / 2.0) * rng.uniform(0.1, 0.4)
        win = img[y0:y1, x0:x1]
        img[y0:y1, x0:x1] = win * (1 - body) + body * rng.uniform(0.7, 1.0) + glow
    return img


def _bottom_shading(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Shading towards black or white at the bottom (charging, tilt, detector shadow), often clipped later."""
    rows = img.shape[0]
    start = rng.uniform(0.3, 0.9)
    ramp = np.clip((np.linspace(0, 1, rows) - start) / (1 - start), 0, 1)[:, None] * rng.uniform(0.7, 1.2)
    if rng.random() < 0.7:
        return img * (1 - ramp)
    return img + (1.2 - img) * ramp


def _flat_region(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """A no-signal region: the rows below a ragged sample edge at one constant level (black or white)."""
    rows, cols = img.shape
    level = 0.0 if rng.random() < 0.7 else 1.0
    edge = rows * rng.uniform(0.55, 0.97) + np.cumsum(rng.normal(0, rng.uniform(0.0, 1.5), cols))
    edge = edge - edge.mean() + rows * rng.uniform(0.6, 0.97)
    below = np.arange(rows)[:, None] >= edge[None, :]
    return np.where(below, level, img)


def texture(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """An SEM-like texture in [0, 1] (float32)."""
    img = _grains(rng, rows, cols)
    y = np.linspace(-1, 1, rows)[:, None]
    x = np.linspace(-1, 1, cols)[None, :]
    img = img + rng.uniform(-0.2, 0.2) * x + rng.uniform(-0.2, 0.2) * y + rng.uniform(-0.15, 0.15) * (x**2 + y**2)
    if rng.random() < 0.6:
        img = _particles(rng, img)
    if rng.random() < 0.4:
        img = _bottom_shading(rng, img)
    img = img * rng.uniform(0.6, 1.4) + rng.uniform(-0.2, 0.2)
    img = img + rng.normal(0, rng.uniform(0.005, 0.08), img.shape)
    if rng.random() < 0.3:  # scan-line jitter: each row a little brighter or darker
        img = img + rng.normal(0, rng.uniform(0.005, 0.03), (rows, 1))
    if rng.random() < 0.08:
        img = _flat_region(rng, img)
    return np.clip(img, 0, 1).astype(np.float32)


def _colours(rng: np.random.Generator) -> tuple[str, float, float]:
    style = str(rng.choice(["black", "white", "grey"]))
    if style == "black":
        bg = rng.uniform(0.0, 0.05)
        return style, bg, rng.uniform(0.75, 1.0)
    if style == "white":
        bg = rng.uniform(0.93, 1.0)
        return style, bg, rng.uniform(0.0, 0.25)
    bg = rng.uniform(0.25, 0.75)
    ink = rng.uniform(0.9, 1.0) if rng.random() < 0.5 or bg < 0.4 else rng.uniform(0.0, 0.1)
    return style, bg, ink


def _text(rng: np.random.Generator, n: int) -> str:
    return "  ".join(str(w) for w in rng.choice(_WORDS, size=n))


def _put_text(rng: np.random.Generator, mask: np.ndarray, base: int, line_h: float, x_range: tuple[int, int]) -> None:
    """One line of words along ``base`` between ``x_range`` (a 0-255 coverage mask)."""
    font = int(rng.choice(_FONTS))
    aa = cv2.LINE_AA if rng.random() < 0.7 else cv2.LINE_8
    size = cv2.getTextSize("Hg", font, 1.0, 1)[0][1]
    scale = float(np.clip(0.7 * line_h / max(size, 1) * rng.uniform(0.7, 1.0), 0.25, 3.0))
    weight = int(rng.integers(1, 3)) if scale > 0.5 else 1
    x = x_range[0] + int(rng.integers(2, 12))
    while x < x_range[1] - 40:
        text = _text(rng, int(rng.integers(1, 3)))
        cv2.putText(mask, text, (x, base), font, scale, 255, weight, aa)
        x += cv2.getTextSize(text, font, scale, weight)[0][0] + int(rng.integers(15, 80))


def _panel(rng: np.random.Generator, bar: np.ndarray, bg: float, first: int) -> None:
    """A gradient-free box of another grey (scale-bar or logo panel), full bar height or below the top rows."""
    height, cols = bar.shape
    w = int(cols * rng.uniform(0.08, 0.35))
    x0 = int(rng.integers(0, cols - w))
    y0 = 0 if rng.random() < 0.5 else first
    step = rng.uniform(0.15, 0.5)
    sign = rng.choice([-1, 1]) if step <= bg <= 1 - step else (1 if bg < 0.5 else -1)
    grey = float(np.clip(bg + sign * step, 0, 1))
    bar[y0:, x0 : x0 + w] = grey


def _logo(rng: np.random.Generator, bar: np.ndarray, ink: float, first: int) -> None:
    """A filled logo (rings and a disc) near the left end of the bar."""
    height, cols = bar.shape
    r = int(max(3, min(0.35 * (height - first), 40)))
    cy, cx = first + (height - first) // 2, int(rng.integers(r + 2, max(r + 3, cols // 8)))
    canvas = np.zeros(bar.shape, np.uint8)
    cv2.ellipse(canvas, (cx, cy), (r, max(2, r // 3)), 30, 0, 360, 255, max(1, r // 8))
    cv2.ellipse(canvas, (cx, cy), (r, max(2, r // 3)), -30, 0, 360, 255, max(1, r // 8))
    cv2.circle(canvas, (cx, cy), max(1, r // 4), 255, -1)
    bar[canvas > 0] = ink


def draw_bar(rng: np.random.Generator, cols: int, height: int) -> tuple[np.ndarray, str]:
    """An information bar ``height`` x ``cols`` in [0, 1] and its style name."""
    style, bg, ink = _colours(rng)
    bar = np.full((height, cols), bg, np.float32)
    top_line = rng.random() < 0.6
    thick = int(rng.integers(1, 3))
    first = thick + int(rng.integers(1, 4)) if top_line else int(rng.integers(2, 6))
    if rng.random() < 0.2:
        _panel(rng, bar, bg, first)
    if top_line:
        bar[:thick] = ink if rng.random() < 0.7 else rng.uniform(0.3, 0.7)
    n_lines = int(np.clip(height // 22, 1, 3))
    line_h = (height - first - 2) / n_lines
    grid = rng.random() < 0.2  # cells framed by lines (TESCAN, newer FEI)
    mask = np.zeros((height, cols), np.uint8)  # cv2.putText draws on 8-bit images only
    for i in range(n_lines):
        _put_text(rng, mask, int(first + (i + 0.8) * line_h), line_h, (0, cols))
        if i + 1 < n_lines and (grid or rng.random() < 0.4):
            bar[int(first + (i + 1) * line_h)] = ink
    alpha = mask.astype(np.float32) / 255
    bar = bar * (1 - alpha) + ink * alpha
    if grid or rng.random() < 0.5:  # vertical separators
        for x in rng.integers(30, cols - 30, int(rng.integers(1, 6))):
            bar[first - 1 if top_line else 0 :, x] = ink
    if grid:
        bar[-1] = ink
    if rng.random() < 0.7:  # scale bar
        x0 = int(rng.integers(cols // 2, cols - 80))
        y0 = int(rng.integers(first, max(first + 1, height - 6)))
        bar[y0 : y0 + int(rng.integers(2, 6)), x0 : x0 + int(rng.integers(30, 75))] = ink
    if rng.random() < 0.25:
        _logo(rng, bar, ink, first)
    return bar.astype(np.float32), style


def _real_edge(rng: np.random.Generator, img: np.ndarray, top: int) -> None:
    """Make the bar's first row differ visibly from the image rows above it (a separator line)."""
    above = img[max(0, top - 3) : top]
    if np.mean(np.abs(above - img[top])) >= EDGE_CONTRAST:
        return
    level = float(np.mean(above))
    colour = rng.uniform(0.8, 1.0) if level < 0.5 else rng.uniform(0.0, 0.2)
    img[top : top + int(rng.integers(1, 3))] = colour


def _overlay(rng: np.random.Generator, img: np.ndarray) -> None:
    """Text and a scale bar drawn straight onto the image (no band behind them)."""
    rows, cols = img.shape
    mask = np.zeros(img.shape, np.uint8)
    h = float(rng.uniform(14, 40))
    base = rows - int(rng.integers(4, 20))
    _put_text(rng, mask, base, h, (cols // 2, cols))
    x0 = int(rng.integers(cols // 2, cols - 80))
    mask[base - int(h) : base - int(h) + 4, x0 : x0 + int(rng.integers(30, 75))] = 255
    ink = 1.0 if rng.random() < 0.7 else 0.0
    alpha = mask.astype(np.float32) / 255
    img[:] = img * (1 - alpha) + ink * alpha


def _to_dtype(rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, int | None]:
    if rng.random() < 0.35:
        top = 65535 if rng.random() < 0.6 else 4095
        return np.round(img * top).astype(np.uint16), None
    out = np.round(img * 255).astype(np.uint8)
    if rng.random() < 0.4:
        q = int(rng.integers(50, 96))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), q
    return out, None


def make_image(rng: np.random.Generator, with_bar: bool = True, cols: int | None = None) -> SynthImage:
    """One SEM-like frame; with a bar of 16-150 rows appended or drawn inside when ``with_bar``."""
    cols = int(cols or rng.integers(384, 641))
    rows = int(cols * rng.uniform(0.6, 0.9))
    img = texture(rng, rows, cols)
    bar_rows, placement, style = 0, "none", "none"
    if with_bar:
        bar_rows = int(rng.integers(16, 151))
        bar, style = draw_bar(rng, cols, bar_rows)
        if rng.random() < 0.5:
            placement = "appended"
            img = np.vstack([img, bar])
        else:
            placement = "inside"
            rows = max(rows, int(bar_rows / 0.4))
            img = texture(rng, rows, cols) if rows != img.shape[0] else img
            img[-bar_rows:] = bar
        _real_edge(rng, img, img.shape[0] - bar_rows)
    elif rng.random() < 0.15 and float(np.std(img[-40:])) >= 0.05:  # on texture: on a flat or clipped band it is a bar
        _overlay(rng, img)
    out, q = _to_dtype(rng, img)
    return SynthImage(out, bar_rows, placement, style, q)


def make_batch(seed: int, n: int, with_bar: bool, cols: int | None = None) -> list[SynthImage]:
    """``n`` images from one seed (reproducible)."""
    rng = np.random.default_rng(seed)
    return [make_image(rng, with_bar, cols) for _ in range(n)]

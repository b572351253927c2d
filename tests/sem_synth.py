"""Seeded generator of SEM-like images, with and without an information bar, for bar-search tests.

Textures imitate SEM micrographs of coatings: grains with dark boundaries,
shading, noise, bright particles with edge glow, and dark (sometimes clipped)
bottoms. Bars are black, white or grey, 16-150 rows, with text drawn by
``cv2.putText``, separator lines and scale bars; they are appended below the
image or drawn inside it; images are 8-bit (optionally JPEG-compressed) or
16-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

__all__ = ["SynthImage", "texture", "draw_bar", "make_image", "make_batch"]

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


def texture(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """An SEM-like texture in [0, 1] (float32)."""
    img = _grains(rng, rows, cols)
    y = np.linspace(-1, 1, rows)[:, None]
    x = np.linspace(-1, 1, cols)[None, :]
    img = img + rng.uniform(-0.2, 0.2) * x + rng.uniform(-0.2, 0.2) * y + rng.uniform(-0.15, 0.15) * (x**2 + y**2)
    if rng.random() < 0.6:
        img = _particles(rng, img)
    if rng.random() < 0.35:  # dark bottom: shading towards black, sometimes clipped
        start = rng.uniform(0.3, 0.9)
        ramp = np.clip((np.linspace(0, 1, rows) - start) / (1 - start), 0, 1)[:, None]
        img = img * (1 - ramp * rng.uniform(0.7, 1.2))
    img = img * rng.uniform(0.6, 1.4) + rng.uniform(-0.2, 0.2)
    img = img + rng.normal(0, rng.uniform(0.005, 0.08), img.shape)
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


def draw_bar(rng: np.random.Generator, cols: int, height: int) -> tuple[np.ndarray, str]:
    """An information bar ``height`` x ``cols`` in [0, 1] and its style name."""
    style, bg, ink = _colours(rng)
    bar = np.full((height, cols), bg, np.float32)
    top_line = rng.random() < 0.6
    thick = int(rng.integers(1, 3))
    if top_line:
        bar[:thick] = ink if rng.random() < 0.7 else rng.uniform(0.3, 0.7)
    first = thick + int(rng.integers(1, 4)) if top_line else int(rng.integers(2, 6))
    n_lines = int(np.clip(height // 22, 1, 3))
    line_h = (height - first - 2) / n_lines
    font = int(rng.choice(_FONTS))
    aa = cv2.LINE_AA if rng.random() < 0.7 else cv2.LINE_8
    mask = np.zeros((height, cols), np.uint8)  # cv2.putText draws on 8-bit images only
    for i in range(n_lines):
        size = cv2.getTextSize("Hg", font, 1.0, 1)[0][1]
        scale = float(np.clip(0.7 * line_h / max(size, 1) * rng.uniform(0.7, 1.0), 0.25, 3.0))
        weight = int(rng.integers(1, 3)) if scale > 0.5 else 1
        base = int(first + (i + 0.8) * line_h)
        x = int(rng.integers(2, 12))
        while x < cols - 40:
            text = _text(rng, int(rng.integers(1, 3)))
            cv2.putText(mask, text, (x, base), font, scale, 255, weight, aa)
            x += cv2.getTextSize(text, font, scale, weight)[0][0] + int(rng.integers(15, 80))
        if i + 1 < n_lines and rng.random() < 0.4:
            y = int(first + (i + 1) * line_h)
            bar[y] = ink
    alpha = mask.astype(np.float32) / 255
    bar = bar * (1 - alpha) + ink * alpha
    if rng.random() < 0.5:  # vertical separators
        for x in rng.integers(30, cols - 30, int(rng.integers(1, 6))):
            bar[first - 1 if top_line else 0 :, x] = ink
    if rng.random() < 0.7:  # scale bar
        x0 = int(rng.integers(cols // 2, cols - 80))
        y0 = int(rng.integers(first, max(first + 1, height - 6)))
        bar[y0 : y0 + int(rng.integers(2, 6)), x0 : x0 + int(rng.integers(30, 75))] = ink
    return bar.astype(np.float32), style


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
    out, q = _to_dtype(rng, img)
    return SynthImage(out, bar_rows, placement, style, q)


def make_batch(seed: int, n: int, with_bar: bool, cols: int | None = None) -> list[SynthImage]:
    """``n`` images from one seed (reproducible)."""
    rng = np.random.default_rng(seed)
    return [make_image(rng, with_bar, cols) for _ in range(n)]

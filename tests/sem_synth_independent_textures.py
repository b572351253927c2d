"""Textures and image artefacts of the independent SEM-like generator (see sem_synth_independent.py)."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

# --------------------------------------------------------------------------- textures


def _stretch(field: np.ndarray) -> np.ndarray:
    """Map a field to [0, 1] using robust (0.5 %, 99.5 %) limits, clipping the tails."""
    sample = field[::3, ::3]
    lo, hi = np.percentile(sample, [0.5, 99.5])
    return np.clip((field - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float, aniso: float = 1.0) -> np.ndarray:
    """Gaussian-filtered white noise with correlation length ``sigma`` pixels (zero mean, unit std).

    Large sigmas are generated on a reduced grid and resized, which keeps the cost
    independent of sigma.
    """
    rows, cols = shape
    down = max(1.0, sigma / 4.0)
    small = (max(4, int(rows / down) + 2), max(4, int(cols / down) + 2))
    noise = rng.standard_normal(small).astype(np.float32)
    field = ndimage.gaussian_filter(noise, (sigma / down, sigma * aniso / down), mode="wrap")
    if down > 1.0:
        field = cv2.resize(field, (cols, rows), interpolation=cv2.INTER_CUBIC)
    else:
        field = field[:rows, :cols]
    return (field - field.mean()) / (field.std() + 1e-12)


def texture_gauss_scales(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Sum of Gaussian-filtered noise at two to four correlation lengths (0.7 px to 1/8 of the frame)."""
    top = max(2.0, min(shape) / 8.0)
    sigmas = np.exp(rng.uniform(np.log(0.7), np.log(top), size=rng.integers(2, 5)))
    field = np.zeros(shape, np.float32)
    for s in sigmas:
        field += rng.uniform(0.2, 1.0) * _smooth_noise(rng, shape, float(s), float(rng.uniform(0.4, 2.5)))
    return _stretch(field)


def texture_fractal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Perlin-like value noise: octaves of random lattices resized with cubic interpolation."""
    rows, cols = shape
    base = int(rng.integers(2, 7))
    persistence = rng.uniform(0.4, 0.75)
    ridged = rng.random() < 0.3
    field = np.zeros(shape, np.float32)
    for octave in range(int(rng.integers(4, 8))):
        cells = base * 2**octave
        if cells > cols // 2:
            break
        lattice = rng.random((max(2, int(cells * rows / cols)) + 1, cells + 1)).astype(np.float32)
        layer = cv2.resize(lattice, (cols, rows), interpolation=cv2.INTER_CUBIC)
        if ridged:
            layer = 1.0 - np.abs(2.0 * layer - 1.0)
        field += persistence**octave * layer
    return _stretch(field)


def texture_gradient(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth gradient (plane plus radial term); shot noise is added later by the caller."""
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    plane = np.cos(angle) * x / cols + np.sin(angle) * y / rows
    cy, cx = rng.uniform(0, rows), rng.uniform(0, cols)
    radial = np.hypot((y - cy) / rows, (x - cx) / cols)
    field = plane + rng.uniform(-1.5, 1.5) * radial + 0.15 * _smooth_noise(rng, shape, min(shape) / 10)
    return _stretch(field) * rng.uniform(0.3, 0.9) + rng.uniform(0.05, 0.3)


def texture_particles(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Bright particles (ellipses with edge brightening) on a dark, slightly textured background."""
    rows, cols = shape
    field = rng.uniform(0.02, 0.25) + 0.03 * _smooth_noise(rng, shape, rng.uniform(2, 30))
    field = field.astype(np.float32)
    count = int(rng.integers(5, 60) * rows * cols / 512**2) + 3
    rmax = rng.uniform(4, 45)
    for _ in range(count):
        centre = (int(rng.integers(0, cols)), int(rng.integers(0, rows)))
        r = float(np.exp(rng.uniform(np.log(1.5), np.log(rmax))))
        axes = (max(1, int(r)), max(1, int(r * rng.uniform(0.5, 1.0))))
        cv2.ellipse(field, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.45, 1.0)), -1)
    field = ndimage.gaussian_filter(field, rng.uniform(0.5, 2.0))
    edges = np.hypot(ndimage.sobel(field, 0), ndimage.sobel(field, 1))
    return np.clip(field + rng.uniform(0.05, 0.25) * edges, 0, 1.2)


def texture_fibres(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Straight or wavy fibres / scratches, aligned or random, blurred."""
    rows, cols = shape
    field = np.full(shape, rng.uniform(0.05, 0.5), np.float32)
    aligned = rng.random() < 0.5
    main = rng.uniform(0, np.pi)
    span = float(np.hypot(rows, cols))
    for _ in range(int(rng.integers(20, 250))):
        ang = main + rng.normal(0, 0.08) if aligned else rng.uniform(0, np.pi)
        cx, cy = rng.uniform(0, cols), rng.uniform(0, rows)
        half = rng.uniform(0.1, 0.8) * span
        n = int(rng.integers(2, 12))
        t = np.linspace(-half, half, n)
        wobble = rng.normal(0, rng.uniform(0, 15), n)
        px = cx + t * np.cos(ang) - wobble * np.sin(ang)
        py = cy + t * np.sin(ang) + wobble * np.cos(ang)
        pts = np.stack([px, py], 1).round().astype(np.int32)
        cv2.polylines(field, [pts], False, float(rng.uniform(0.3, 1.0)), int(rng.integers(1, 9)))
    return np.clip(ndimage.gaussian_filter(field, rng.uniform(0.6, 3.0)), 0, 1)


def texture_flat(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Nearly flat image: a constant level with a contrast of 0.3 % to 3 % of full scale."""
    level = rng.uniform(0.05, 0.95)
    amp = float(np.exp(rng.uniform(np.log(0.003), np.log(0.03))))
    return level + amp * _smooth_noise(rng, shape, rng.uniform(1, 60))


def texture_grains(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Voronoi grains with random shading and dark or bright grain boundaries."""
    rows, cols = shape
    n = int(rng.integers(20, 400) * rows * cols / 512**2) + 5
    seeds = np.ones(shape, bool)
    ys, xs = rng.integers(0, rows, n), rng.integers(0, cols, n)
    seeds[ys, xs] = False
    _, (iy, ix) = ndimage.distance_transform_edt(seeds, return_indices=True)
    label = iy * cols + ix
    values = rng.uniform(0.2, 0.8, size=rows * cols).astype(np.float32)
    field = values[label]
    boundary = (np.diff(label, axis=0, prepend=label[:1]) != 0) | (np.diff(label, axis=1, prepend=label[:, :1]) != 0)
    line = ndimage.gaussian_filter(boundary.astype(np.float32), rng.uniform(0.5, 1.5))
    field = field + rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0) * line
    return np.clip(field + 0.05 * _smooth_noise(rng, shape, rng.uniform(3, 20)), 0, 1)


def texture_layers(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Cross-section: horizontal layers with wavy interfaces, each with its own level and grain."""
    rows, cols = shape
    k = int(rng.integers(2, 6))
    tops = np.sort(rng.uniform(0.05, 0.95, k - 1)) * rows
    field = np.zeros(shape, np.float32)
    y = np.arange(rows, dtype=np.float32)[:, None]
    levels = rng.uniform(0.05, 0.95, k)
    fine = _smooth_noise(rng, shape, rng.uniform(0.8, 6))
    layer_of = np.zeros(shape, np.int32)
    for top in tops:
        wave = _smooth_noise(rng, (1, cols), rng.uniform(10, 200))[0] * rng.uniform(0, 0.04) * rows
        layer_of += (y >= top + wave[None, :]).astype(np.int32)
    amp = rng.uniform(0.01, 0.15, k)
    field = levels[layer_of] + amp[layer_of] * fine
    return np.clip(ndimage.gaussian_filter(field, rng.uniform(0.5, 2)), 0, 1)


def texture_porous(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Bright matrix with dark pores (thresholded smooth noise) and bright pore rims."""
    matrix = rng.uniform(0.45, 0.85) + 0.06 * _smooth_noise(rng, shape, rng.uniform(1, 8))
    pores = _smooth_noise(rng, shape, rng.uniform(2, 15)) < rng.uniform(-1.5, 0.0)
    soft = ndimage.gaussian_filter(pores.astype(np.float32), 1.0)
    rim = np.hypot(ndimage.sobel(soft, 0), ndimage.sobel(soft, 1))
    field = matrix * (1 - soft) + rng.uniform(0.0, 0.15) * soft + rng.uniform(0.1, 0.3) * rim
    return np.clip(field, 0, 1)


TEXTURES = {
    "gauss_scales": texture_gauss_scales,
    "fractal": texture_fractal,
    "gradient_shot": texture_gradient,
    "particles": texture_particles,
    "fibres": texture_fibres,
    "flat": texture_flat,
    "grains": texture_grains,
    "layers": texture_layers,
    "porous": texture_porous,
}

# ------------------------------------------------------------------ image modifiers


def _vignette(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    rows, cols = img.shape
    y, x = np.ogrid[0:rows, 0:cols]
    r2 = ((y - rows / 2) / (rows / 2)) ** 2 + ((x - cols / 2) / (cols / 2)) ** 2
    return img * (1 - rng.uniform(0.1, 0.6) * np.clip(r2 / 2, 0, 1) ** rng.uniform(0.7, 2.0))


def _saturate(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Either a contrast gain that clips both tails, or bright charging blobs clipped at full scale."""
    if rng.random() < 0.5:
        centre = np.median(img[::4, ::4])
        return (img - centre) * rng.uniform(1.3, 3.0) + centre
    out = img.astype(np.float32).copy()
    rows, cols = img.shape
    for _ in range(int(rng.integers(1, 6))):
        centre = (int(rng.integers(0, cols)), int(rng.integers(0, rows)))
        axes = (int(rng.uniform(0.02, 0.15) * cols), int(rng.uniform(0.02, 0.15) * rows))
        cv2.ellipse(out, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.5, -1)
    return ndimage.gaussian_filter(out, 2.0)


def _bottom_ramp(rng: np.random.Generator, img: np.ndarray, target: float) -> np.ndarray:
    """Blend the last 10-45 % of the rows towards ``target`` (dark or bright bottom)."""
    rows = img.shape[0]
    start = int(rows * rng.uniform(0.55, 0.9))
    w = np.zeros((rows, 1), np.float32)
    w[start:, 0] = np.linspace(0, 1, rows - start) ** rng.uniform(0.5, 2.0) * rng.uniform(0.6, 1.0)
    return img * (1 - w) + target * w


def _sample_edge(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Irregular sample edge; below it an empty, dark region (detector floor)."""
    rows, cols = img.shape
    base = rows * rng.uniform(0.55, 0.95)
    edge = base + _smooth_noise(rng, (1, cols), rng.uniform(20, 300))[0] * rng.uniform(0, 0.05) * rows
    edge += np.linspace(0, 1, cols) * rng.uniform(-0.05, 0.05) * rows
    y = np.arange(rows)[:, None]
    below = y > edge[None, :]
    empty = rng.uniform(0.0, 0.07) + rng.uniform(0, 0.03) * np.exp(-(y - edge[None, :]).clip(0) / rng.uniform(3, 40))
    out = np.where(below, empty, img)
    rim = np.abs(y - edge[None, :]) < rng.uniform(1, 4)
    return np.where(rim, np.maximum(out, rng.uniform(0.5, 1.0)), out)


def _scan_lines(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Row-wise offsets as produced by scan instabilities."""
    offsets = rng.normal(0, rng.uniform(0.004, 0.025), (img.shape[0], 1))
    return img + ndimage.gaussian_filter1d(offsets, rng.uniform(0, 1.5), axis=0)


def _modify(rng: np.random.Generator, img: np.ndarray, kind: str) -> tuple[np.ndarray, list[str]]:
    """Apply contrast mapping and random SEM artefacts; return the image and their names."""
    mods: list[str] = []
    if kind != "flat":
        lo = rng.uniform(0.0, 0.45)
        img = lo + rng.uniform(0.15, 1.0 - lo) * img
    steps = [
        ("vignette", 0.25, _vignette),
        ("saturated", 0.15, _saturate),
        ("dark_bottom", 0.12, lambda r, a: _bottom_ramp(r, a, r.uniform(0.0, 0.05))),
        ("bright_bottom", 0.06, lambda r, a: _bottom_ramp(r, a, r.uniform(0.9, 1.0))),
        ("sample_edge", 0.12, _sample_edge),
        ("scan_lines", 0.12, _scan_lines),
    ]
    for name, p, fn in steps:
        if rng.random() < p:
            img = fn(rng, img)
            mods.append(name)
    return img, mods


def _detector_noise(rng: np.random.Generator, img: np.ndarray, kind: str) -> tuple[np.ndarray, str]:
    """Shot (Poisson) or Gaussian detector noise; the result is clipped to [0, 1]."""
    img = np.clip(img, 0, 1)
    if kind == "gradient_shot" or rng.random() < 0.35:
        counts = float(np.exp(rng.uniform(np.log(8), np.log(3000))))
        return rng.poisson(img * counts) / counts, f"poisson{counts:.0f}"
    sigma = float(np.exp(rng.uniform(np.log(0.002), np.log(0.06))))
    return img + rng.normal(0, sigma, img.shape), f"gauss{sigma:.3f}"

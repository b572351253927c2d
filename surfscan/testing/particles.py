"""Seeded SEM-like images with planted particle populations and cross-sections with known pores.

:func:`planted_particles` draws ellipses whose equivalent circular diameters
follow a log-normal distribution (some of them elongated, "linear", some
touching a neighbour) on a textured, shaded, noisy background, and returns
the image with the truth table. :func:`planted_section` draws a coating
cross-section whose pore area fraction is known exactly (counted on the
drawn mask).
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from ..model import Micrograph

__all__ = ["planted_particles", "planted_section"]


def _background(rng: np.random.Generator, shape: tuple[int, int], level: float, texture: float) -> np.ndarray:
    ny, nx = shape
    tex = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 2.0)
    tex /= tex.std() + 1e-9
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    shading = 1.0 + 0.15 * (xx / nx - 0.5) - 0.1 * (yy / ny - 0.5)
    return (level + texture * tex) * shading


def _draw_ellipse(mask: np.ndarray, cx: float, cy: float, a: float, b: float, angle_deg: float, sub: int = 4) -> None:
    """Add the exact pixel coverage of a filled ellipse (semi-axes a, b; sub x sub samples per pixel)."""
    ny, nx = mask.shape
    x0, x1 = max(int(cx - a) - 2, 0), min(int(cx + a) + 3, nx)
    y0, y1 = max(int(cy - a) - 2, 0), min(int(cy + a) + 3, ny)
    if x0 >= x1 or y0 >= y1:
        return
    off = (np.arange(sub) + 0.5) / sub - 0.5
    ys = (np.arange(y0, y1)[:, None] + off[None, :]).ravel()
    xs = (np.arange(x0, x1)[:, None] + off[None, :]).ravel()
    yy, xx = np.meshgrid(ys - cy, xs - cx, indexing="ij")
    t = np.radians(angle_deg)
    u = xx * np.cos(t) + yy * np.sin(t)
    v = -xx * np.sin(t) + yy * np.cos(t)
    inside = ((u / a) ** 2 + (v / b) ** 2 <= 1.0).astype(np.float32)
    cover = inside.reshape(y1 - y0, sub, x1 - x0, sub).mean(axis=(1, 3))
    np.maximum(mask[y0:y1, x0:x1], cover, out=mask[y0:y1, x0:x1])


def _touches_edge(p: dict, ny: int, nx: int) -> bool:
    t = np.radians(p["angle"])
    hx = np.hypot(p["a"] * np.cos(t), p["b"] * np.sin(t))
    hy = np.hypot(p["a"] * np.sin(t), p["b"] * np.cos(t))
    return bool(p["x_px"] - hx < 1.5 or p["y_px"] - hy < 1.5 or p["x_px"] + hx > nx - 2.5 or p["y_px"] + hy > ny - 2.5)


def _free(occupied: np.ndarray, cx: float, cy: float, r: float) -> bool:
    ny, nx = occupied.shape
    y0, y1 = int(max(cy - r, 0)), int(min(cy + r + 1, ny))
    x0, x1 = int(max(cx - r, 0)), int(min(cx + r + 1, nx))
    return not occupied[y0:y1, x0:x1].any()


def planted_particles(
    seed: int,
    shape: tuple[int, int] = (768, 1024),
    pixel_size_um: float = 0.1,
    n: int = 160,
    d50_um: float = 2.5,
    sigma_log: float = 0.25,
    linear_fraction: float = 0.3,
    touching_fraction: float = 0.2,
    noise: float = 10.0,
) -> tuple[Micrograph, pd.DataFrame]:
    """An 8-bit SEM-like image of bright particles and the truth table.

    Truth columns: ``x_um``, ``y_um``, ``ecd_um`` (of the drawn ellipse),
    ``aspect_ratio`` (major/minor), ``shape_class``, ``touching`` (planted
    against a neighbour), ``touches_edge``.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> m, truth = planted_particles(0, shape=(256, 256), n=30)
    >>> found = ss.measure_particles(m, min_count=10)
    >>> round(found.summary["d50_um"], 1), round(float(np.median(truth["ecd_um"])), 1)   # µm
    (2.1, 2.2)
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    img = _background(rng, shape, 55.0, 6.0)
    occupied = np.zeros(shape, np.uint8)
    particles: list[dict] = []
    tries = 0
    while len(particles) < n and tries < 50 * n:
        tries += 1
        d = d50_um * np.exp(sigma_log * rng.standard_normal()) / pixel_size_um
        linear = rng.random() < linear_fraction
        ar = rng.uniform(3.0, 5.0) if linear else rng.uniform(1.0, 1.5)
        a, b = d * np.sqrt(ar) / 2, d / np.sqrt(ar) / 2  # semi-axes, area = pi a b = pi d^2 / 4
        cx, cy, ang = rng.uniform(0, nx), rng.uniform(0, ny), rng.uniform(0, 180)
        group = [(cx, cy, a, b, ang, ar, linear, False)]
        if not linear and rng.random() < touching_fraction:
            d2 = d * rng.uniform(0.8, 1.2)
            t = np.radians(rng.uniform(0, 360))
            dist = (d + d2) / 2 * 0.92  # slight overlap: a neck to split at
            group = [(cx, cy, a, b, ang, ar, False, True),
                     (cx + dist * np.cos(t), cy + dist * np.sin(t), d2 / 2 * 1.1, d2 / 2 / 1.1, ang, 1.21, False, True)]
        if not all(_free(occupied, g[0], g[1], g[2] + 4) for g in group):
            continue
        for gx, gy, ga, gb, gang, gar, glin, gtouch in group:
            cv2.ellipse(occupied, ((gx, gy), (2 * ga + 4, 2 * gb + 4), gang), 1, -1)
            particles.append({"x_px": gx, "y_px": gy, "a": ga, "b": gb, "angle": gang, "aspect_ratio": gar,
                              "linear": glin, "touching": gtouch})
    mask = np.zeros(shape, np.float32)
    for p in particles:
        _draw_ellipse(mask, p["x_px"], p["y_px"], p["a"], p["b"], p["angle"])
    soft = cv2.GaussianBlur(mask, (0, 0), 0.7)
    img = img + soft * 130.0 + rng.normal(0, noise, shape).astype(np.float32)
    image = np.clip(np.round(img), 0, 255).astype(np.uint8)
    truth = pd.DataFrame({
        "x_um": [p["x_px"] * pixel_size_um for p in particles],
        "y_um": [p["y_px"] * pixel_size_um for p in particles],
        "ecd_um": [2 * np.sqrt(p["a"] * p["b"]) * pixel_size_um for p in particles],
        "aspect_ratio": [p["aspect_ratio"] for p in particles],
        "shape_class": ["linear" if p["linear"] else "point-like" for p in particles],
        "touching": [p["touching"] for p in particles],
        "touches_edge": [_touches_edge(p, ny, nx) for p in particles],
    })
    meta = {"source_file": f"planted_particles(seed={seed})", "pixel_size_source": "synthetic"}
    return Micrograph(image, pixel_size_um, meta), truth


def planted_section(
    seed: int,
    shape: tuple[int, int] = (600, 800),
    pixel_size_um: float = 0.05,
    porosity: float = 0.35,
    pore_um: float = 0.6,
    noise: float = 12.0,
    collector_rows: int = 60,
) -> tuple[Micrograph, float, np.ndarray]:
    """A BSE-like cross-section: bright solid, dark pores, a bright current collector at the bottom.

    Returns the micrograph, the true pore fraction of the coating region and
    that region as a boolean mask (everything above the collector).
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), pore_um / pixel_size_um / 2.5)
    region = np.zeros(shape, bool)
    region[: ny - collector_rows] = True
    thr = np.quantile(field[region], porosity)
    pores = (field < thr) & region
    solid_level = 170 + 10 * cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 3)
    img = np.where(pores, 40.0, solid_level)
    img[~region] = 235.0
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.8) + rng.normal(0, noise, shape).astype(np.float32)
    image = np.clip(np.round(img), 0, 255).astype(np.uint8)
    true_fraction = float(pores[region].mean())
    meta = {"source_file": f"planted_section(seed={seed})", "pixel_size_source": "synthetic"}
    return Micrograph(image, pixel_size_um, meta), true_fraction, region

"""Synthetic SEM secondary-electron scenes with bright domes, third independent generator (v3).

Written for issue 13 by a helper session from the prose description below only, without reading the
detector (``surfscan/protrusions/``), the tests, the benches, the docs or the other generators
(``sem_protrusion_scenes.py``, ``sem_protrusion_scenes_v2.py``); it uses the public API only. Two
of its choices differ from the first two generators on purpose and make it the hardest of the three:

* a **rim** dome's peak is its bright edge ring (the SEM edge effect), so its contrast ``C`` is
  measured on the rim and its plateau lies at only 0.26-0.41 of that (the first two generators put
  the rim on top of a dome whose centre carries ``C``);
* two more substrates: **cellular** (Voronoi grains 7-18 px with edge-brightened boundaries) and
  **scratched** (strongly anisotropic fibres along a random direction).

The description it was written from:

    Synthetic SEM secondary-electron images of a coated surface, 1024 x 768 pixels, uint8 or uint16,
    with a pixel size between 0.01 and 2 µm (pixel size is calibration only; the same pixel-scale
    scene whatever the pixel size). Substrate: a random granular texture -- pick kinds per image,
    e.g. (a) fine grain (Gaussian-correlated noise, correlation length 1-6 px), (b) right-skewed
    sparse bright grains, (c) a grain plus a weak blotchy component tens of px across (at most ~30 %
    of the texture variance), (d) something realistic for SEM that the above don't cover (e.g. a
    fibrous/scratched or cellular texture, edge-brightened grain boundaries) -- keep it moderate.
    Plus shot noise growing with brightness, optional horizontal scan-line glitches, a smooth
    shading (gradient/vignette up to +-15 %). Protrusions: bright roundish objects ("domes";
    mildly elliptical allowed, aspect <= 1.6) of visible diameter D px and peak contrast C, where
    C = peak added brightness / rms of the object-free, shading-free texture at pixel level (noise
    included). Vary the profile (Gaussian-like, spherical cap, flat-top with soft edge, optionally
    an SEM bright edge rim). Objects don't overlap and lie inside the frame. Also object-free
    images of the same substrates.

Choices made where the description is open:

* Image: ``S = (B + s_t T + sum of domes) * shading``, then shot noise of variance ``k S``, then
  the optional glitches, then rounding. ``T`` is a zero-mean, unit-variance texture; the shot noise
  is 15-60 % of the pixel variance at the base level ``B``. The reference rms is
  ``sqrt(var(B + s_t T) + k mean(B + s_t T) + 1/12)`` (quantisation included, shading and glitches
  left out), 4-12 grey levels on an 8-bit scale; a dome's peak adds ``C`` times it, before the
  shading, and the texture continues over the domes. 40 % of the images are uint16 (the 8-bit
  scene times 16 or 200). The base level keeps the brightest dome plus 5 rms below full scale.
* Shading: a linear gradient and an off-centre vignette, rescaled to 3-15 % at most.
* Glitches (40 % of the images): 1-5 events, each a band of 1-3 rows offset by 1.5-4 rms or a
  1-2 row horizontal shift of 2-8 px over part of the width.
* Textures: ``fine`` (Gaussian-filtered noise, 1/e correlation length 1-6 px); ``sparse`` (Poisson
  bright grains of exponential amplitude, Gaussian sigma 0.7-2 px, density 0.003-0.02 per px²,
  over a fine grain carrying 25-50 % of the variance); ``blotchy`` (fine grain plus blotches of
  sigma 10-35 px carrying 10-30 %); ``cellular``; ``scratched`` (sigma 8-25 px along, 0.7-1.5 px
  across, 40-65 % of the variance, plus fine grain).
* Domes (D the geometric-mean diameter; round in 40 %, otherwise aspect 1.05-1.6 at a random
  angle): ``gauss`` ``exp(-2 r²)`` (the visible edge at 13.5 %); ``cap`` ``(1 - r²)^p``, p 0.5-1,
  blurred by 0.7 px; ``flattop`` an erfc edge 1 to 0.15 R px wide, half height at D; ``rim`` a
  soft plateau at level L (0.35-0.7) plus a Gaussian ring of height 1, 1-3 px wide, just inside the
  edge, the sum scaled to a peak of 1: the ring stands on the plateau, so the plateau ends at
  ``L / (1 + L)``, 0.26-0.41 of the peak (``rim_level`` records L).
* Placement: inside the frame (4 px margin), at least 6 px between extents, never overlapping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy.spatial import cKDTree
from scipy.special import erfc

H, W = 768, 1024
TEXTURES = ("fine", "sparse", "blotchy", "cellular", "scratched")
PROFILES = ("gauss", "cap", "flattop", "rim")


# --------------------------------------------------------------------------------------------- texture
def _norm(a: np.ndarray) -> np.ndarray:
    a = a - a.mean()
    return a / a.std()


def _fine(rng: np.random.Generator, shape: tuple[int, int], ell: float | None = None) -> tuple[np.ndarray, float]:
    """Gaussian-correlated grain with 1/e correlation length ``ell`` px (drawn in 1-6 when None)."""
    ell = rng.uniform(1.0, 6.0) if ell is None else ell
    return _norm(ndi.gaussian_filter(rng.standard_normal(shape), ell / 2.0, mode="wrap")), ell


def _aniso(rng: np.random.Generator, shape: tuple[int, int], s_along: float, s_across: float,
           theta: float) -> np.ndarray:
    """Anisotropic Gaussian-filtered noise (by FFT): fibres along direction ``theta``."""
    ky = np.fft.fftfreq(shape[0])[:, None] * 2 * np.pi
    kx = np.fft.fftfreq(shape[1])[None, :] * 2 * np.pi
    ka = kx * np.cos(theta) + ky * np.sin(theta)
    kc = -kx * np.sin(theta) + ky * np.cos(theta)
    filt = np.exp(-0.5 * ((ka * s_along) ** 2 + (kc * s_across) ** 2))
    return _norm(np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * filt).real)


def make_texture(rng: np.random.Generator, kind: str, shape: tuple[int, int] = (H, W)) -> tuple[np.ndarray, dict]:
    """A zero-mean, unit-variance substrate texture of one of ``TEXTURES``, and what was drawn."""
    info: dict = {"kind": kind}
    if kind == "fine":
        t, info["ell"] = _fine(rng, shape)
    elif kind == "sparse":
        base, ell = _fine(rng, shape, rng.uniform(1.0, 3.0))
        dens = rng.uniform(0.003, 0.02)
        n = rng.poisson(dens * shape[0] * shape[1])
        imp = np.zeros(shape)
        np.add.at(imp, (rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)), rng.exponential(1.0, n))
        sg = rng.uniform(0.7, 2.0)
        grains = _norm(ndi.gaussian_filter(imp, sg, mode="wrap"))
        fb = rng.uniform(0.25, 0.5)
        t = _norm(np.sqrt(fb) * base + np.sqrt(1 - fb) * grains)
        info.update(ell=ell, density=dens, grain_sigma=sg, base_frac=fb)
    elif kind == "blotchy":
        base, ell = _fine(rng, shape)
        sb = rng.uniform(10, 35)
        blot = _norm(ndi.gaussian_filter(rng.standard_normal(shape), sb, mode="wrap"))
        fb = rng.uniform(0.10, 0.30)
        t = _norm(np.sqrt(1 - fb) * base + np.sqrt(fb) * blot)
        info.update(ell=ell, blotch_sigma=sb, blotch_frac=fb)
    elif kind == "cellular":
        cell = rng.uniform(7, 18)
        n = int(shape[0] * shape[1] / cell**2)
        pts = np.column_stack([rng.uniform(-5, shape[0] + 5, n), rng.uniform(-5, shape[1] + 5, n)])
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
        d, idx = cKDTree(pts).query(np.column_stack([yy.ravel(), xx.ravel()]).astype(float), k=2)
        lev = rng.standard_normal(n)[idx[:, 0]].reshape(shape)
        edge = np.exp(-0.5 * ((d[:, 1] - d[:, 0]).reshape(shape) / 1.2) ** 2)  # bright cell boundaries
        ew = rng.uniform(0.8, 1.6)
        cells = _norm(ndi.gaussian_filter(0.6 * lev + ew * edge, 0.7))
        fb = rng.uniform(0.2, 0.4)
        base, _ = _fine(rng, shape, rng.uniform(1.0, 3.0))
        t = _norm(np.sqrt(1 - fb) * cells + np.sqrt(fb) * base)
        info.update(cell=cell, edge_weight=ew, base_frac=fb)
    elif kind == "scratched":
        sa, sc = rng.uniform(8, 25), rng.uniform(0.7, 1.5)
        th = rng.uniform(0, np.pi)
        fib = _aniso(rng, shape, sa, sc, th)
        base, _ = _fine(rng, shape, rng.uniform(1.0, 4.0))
        ff = rng.uniform(0.40, 0.65)
        t = _norm(np.sqrt(ff) * fib + np.sqrt(1 - ff) * base)
        info.update(s_along=sa, s_across=sc, theta=th, fib_frac=ff)
    else:
        raise ValueError(f"unknown texture {kind!r}; choose one of {TEXTURES}")
    return t, info


# --------------------------------------------------------------------------------------------- domes
def _extent(d: float, profile: str, aspect: float, w: float) -> float:
    r_major = d / 2 * np.sqrt(aspect)
    return 1.5 * r_major if profile == "gauss" else r_major + 2 * w + 1


def dome_profile(d: float, profile: str, aspect: float, theta: float, w: float, p: float, level: float,
                 fr: float, fc: float, half: int) -> np.ndarray:
    """A peak-1 dome profile of diameter ``d`` px on a ``2 half + 1`` square patch, centred at (fr, fc)."""
    r = d / 2.0
    v, u = np.mgrid[-half:half + 1, -half:half + 1].astype(float)
    v -= fr
    u -= fc
    a = u * np.cos(theta) + v * np.sin(theta)
    b = -u * np.sin(theta) + v * np.cos(theta)
    rho = np.sqrt((a / np.sqrt(aspect)) ** 2 + (b * np.sqrt(aspect)) ** 2)
    if profile == "gauss":
        f = np.exp(-2 * (rho / r) ** 2)
    elif profile == "cap":
        f = ndi.gaussian_filter(np.clip(1 - (rho / r) ** 2, 0, None) ** p, 0.7)
    elif profile == "flattop":
        f = 0.5 * erfc((rho - r) / w)
    elif profile == "rim":
        f = level * 0.5 * erfc((rho - r) / w) + np.exp(-0.5 * ((rho - (r - 1.5 * w)) / w) ** 2)
    else:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    return f / f.max()


def _shading(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    yn, xn = yy / shape[0] - 0.5, xx / shape[1] - 0.5
    th = rng.uniform(0, 2 * np.pi)
    lin = np.cos(th) * xn + np.sin(th) * yn
    cy, cx = rng.uniform(-0.2, 0.2, 2)
    vig = -((xn - cx) ** 2 + (yn - cy) ** 2)
    g = (rng.uniform(0, 1) * lin / np.abs(lin).max()
         + rng.uniform(0, 1) * (vig - vig.mean()) / np.abs(vig - vig.mean()).max())
    g -= g.mean()
    amp = rng.uniform(0.03, 0.15)
    return 1 + amp * g / max(np.abs(g).max(), 1e-9), amp


def make_scene(seed: int, kind: str, dome_specs: list[tuple[float, float, str]], dtype=None,
               glitch_p: float = 0.4) -> tuple[np.ndarray, list[dict], dict]:
    """One scene: the image, the domes placed (dicts with row, col, D, C, profile, ...) and what was drawn.

    ``dome_specs`` lists (diameter px, contrast, profile); a dome that finds no free place is left out.
    """
    rng = np.random.default_rng(seed)
    t, tinfo = make_texture(rng, kind)
    if dtype is None:
        dtype = np.uint16 if rng.random() < 0.4 else np.uint8
    scale = 1.0 if dtype == np.uint8 else float(rng.choice([16.0, 200.0]))
    rms = rng.uniform(4, 12)  # grey levels of the 8-bit-like scene
    cmax = max([c for _, c, _ in dome_specs], default=0.0)
    bhi = min(130.0, 215.0 - (cmax + 6.0) * rms)
    blo = max(40.0, 5.0 * rms)
    base = rng.uniform(blo, max(blo, bhi))
    phi = rng.uniform(0.15, 0.6)
    q = 1.0 / 12.0 / scale**2  # quantisation
    s_t = rms * np.sqrt(max(1 - phi, 0.05))
    k = (rms**2 - s_t**2 - q) / base  # shot-noise gain
    tex = base + s_t * t
    rms_ref = float(np.sqrt(tex.var() + k * tex.mean() + q))
    sig = tex.copy()
    domes: list[dict] = []
    placed: list[tuple[float, float, float]] = []
    for d, c, prof in dome_specs:
        aspect = 1.0 if rng.random() < 0.4 else rng.uniform(1.05, 1.6)
        theta = rng.uniform(0, np.pi)
        w = rng.uniform(1.0, max(1.5, 0.15 * d / 2)) if prof == "flattop" else rng.uniform(1.0, 3.0)
        p = rng.uniform(0.5, 1.0)
        level = rng.uniform(0.35, 0.7)
        ext = _extent(d, prof, aspect, w)
        for _ in range(400):
            r0 = rng.uniform(ext + 4, H - 1 - ext - 4)
            c0 = rng.uniform(ext + 4, W - 1 - ext - 4)
            if all((r0 - r1) ** 2 + (c0 - c1) ** 2 >= (ext + e1 + 6) ** 2 for r1, c1, e1 in placed):
                break
        else:
            continue
        placed.append((r0, c0, ext))
        half = int(np.ceil(ext)) + 2
        ir, ic = int(round(r0)), int(round(c0))
        amp = c * rms_ref
        sig[ir - half:ir + half + 1, ic - half:ic + half + 1] += amp * dome_profile(
            d, prof, aspect, theta, w, p, level, r0 - ir, c0 - ic, half)
        domes.append(dict(row=r0, col=c0, D=float(d), C=float(c), profile=prof, aspect=aspect, theta=theta,
                          edge_w=w, rim_level=level if prof == "rim" else None, amp=amp * scale))
    shade, shade_amp = _shading(rng, (H, W))
    s = sig * shade
    noisy = s + np.sqrt(k * np.clip(s, 0, None)) * rng.standard_normal(s.shape)
    glitches = []
    if rng.random() < glitch_p:
        for _ in range(rng.integers(1, 6)):
            row = int(rng.integers(0, H - 3))
            if rng.random() < 0.5:
                nr = int(rng.integers(1, 4))
                off = rng.choice([-1, 1]) * rng.uniform(1.5, 4.0) * rms_ref
                noisy[row:row + nr] += off
                glitches.append(("offset", row, nr, float(off)))
            else:
                nr = int(rng.integers(1, 3))
                sh = int(rng.integers(2, 9)) * int(rng.choice([-1, 1]))
                c1 = int(rng.integers(0, W // 2))
                c2 = int(rng.integers(c1 + 64, W))
                noisy[row:row + nr, c1:c2] = np.roll(noisy[row:row + nr, c1:c2], sh, axis=1)
                glitches.append(("shift", row, nr, sh))
    out = np.rint(noisy * scale)
    top = np.iinfo(dtype).max
    clipped = float(np.mean((out < 0) | (out > top)))
    img = np.clip(out, 0, top).astype(dtype)
    meta = dict(seed=seed, kind=kind, texture=tinfo, dtype=np.dtype(dtype).name, scale=scale, B=base * scale,
                rms_ref=rms_ref * scale, phi=phi, shade_amp=shade_amp, glitches=glitches, clipped=clipped,
                n_requested=len(dome_specs), n_placed=len(domes))
    return img, domes, meta


def truth_table(domes: list[dict]) -> pd.DataFrame:
    """The domes as the table ``sem_protrusion_scenes.score_scene`` grades against (row, col, diameter_px)."""
    return pd.DataFrame({"row": [d["row"] for d in domes], "col": [d["col"] for d in domes],
                         "diameter_px": [d["D"] for d in domes]})


# --------------------------------------------------------------------------------------------- scene sets
DIAMETERS = (16, 24, 32, 40, 60, 80, 120)
CONTRASTS = (2.0, 2.5, 3.0, 4.0, 6.0)
#: name: (images, diameters, contrasts); the empty set holds object-free images
SETS = {
    "large_high_contrast": (24, (40, 60, 80, 120), (3.0, 4.0, 6.0)),
    "large_contrast_2": (24, (60, 80, 120), (2.0,)),
    "small_mid_contrast": (24, (16, 24, 32, 40), (2.5, 3.0, 4.0)),
    "mixed": (30, DIAMETERS, CONTRASTS),
    "empty": (60, (), ()),
}


def draw_dome_specs(rng: np.random.Generator, diameters, contrasts) -> list[tuple[float, float, str]]:
    """Domes drawn until 10-15 % of the frame is covered or 15 domes (at least 3)."""
    target = rng.uniform(0.10, 0.15) * H * W
    specs: list[tuple[float, float, str]] = []
    area = 0.0
    while len(specs) < 15 and (area < target or len(specs) < 3):
        d = float(rng.choice(diameters))
        specs.append((d, float(rng.choice(contrasts)), str(rng.choice(PROFILES))))
        area += np.pi * d * d / 4
    return specs


def scene_list(seed: int = 0, sets: dict = SETS) -> list[dict]:
    """Scene descriptors (set, idx, kind, specs, seed) of every set, textures in turn within a set."""
    rng = np.random.default_rng(seed)
    out = []
    for name, (n, diameters, contrasts) in sets.items():
        for i in range(n):
            specs = draw_dome_specs(rng, diameters, contrasts) if diameters else []
            out.append(dict(set=name, idx=i, kind=TEXTURES[i % len(TEXTURES)], specs=specs,
                            seed=int(rng.integers(0, 2**31))))
    return out

"""Synthetic SEM secondary-electron scenes of a coated surface with bright domes (v2).

A second independent generator for issue 13, written by a separate session from the prose
description below only, without reading the detector (``surfscan/protrusions/``), the tests or the
first generator (``tests/sem_protrusion_scenes.py``). Its substrates differ from the first one's
(difference-of-Gaussians grain, band-limited 1/f noise, sparse bright speckle, grain with slow
waves), its shading is additive and its noise Poisson-like, so it grades the detector on choices
nobody here tuned to. The description:

    An SEM secondary-electron image of a coated surface, 1024 x 768 pixels by default, uint8 or
    uint16, pixel size 0.01-2 um (calibration only). Substrate: a random granular texture, one of
    several kinds per image: 'blobby' (white noise band-passed by a difference of Gaussians, grain
    1.5-5 px), 'fractal' (1/f^beta noise, beta 1.5-2.5, cut off below 2 px and above 60 px),
    'speckle' (sparse bright grains, a Poisson field of 2-4 px spots at 0.5-3 % of pixels, on a
    fine grain), 'grain + gentle waves' (period 80-300 px, at most 20 % of the variance). Detector
    noise (variance proportional to signal). Mean grey level 25-75 % of full scale. Shading up to
    +-15 % (gradient and/or vignette). Protrusions: bright round or mildly elliptical (aspect
    <= 1.5) domes of diameter D and peak contrast C = peak added brightness / rms of the
    object-free, shading-free texture at pixel level (noise included); Gaussian (FWHM D/2-D/1.5),
    paraboloid-cap or soft-edged flat-top profiles, a third with a brighter 1-2 px rim; the texture
    continues over the domes; no overlaps (centres 1.3 x the sum of radii apart), inside the frame.

Modelling choices (where the description is silent):

* Image: uint8 (60 %) or uint16 (40 %, full scale 65535), chosen per image.
  Pixel size is drawn log-uniformly in [0.01, 2] um and only reported in
  ``info['pixel_size_um']``; the scene in pixels never depends on it.
* Composition (grey levels)::

      signal = M + T + M * s(x, y) + A * sum_k p_k(x, y)
      image  = clip(round(signal + sqrt(g * signal) * Z), 0, full_scale)

  ``M`` mean level (25-75 % FS), ``T`` zero-mean texture, ``s`` shading,
  ``p_k`` dome profiles with centre value 1, ``A = C * texture_rms_grey``,
  ``Z`` one standard-normal field (Poisson-like noise, variance ``g*signal``).
  Shading is *additive* (a fraction of ``M``) so that a dome adds exactly
  ``A`` at its centre wherever it lies; the texture continues over domes.
* ``texture_rms_grey`` is *measured*: the std of the rendered, quantised
  image ``M + T`` + noise (no shading, no objects), i.e. pixel-level rms
  with noise.  Before noise, ``T`` has std ``sqrt(1-f)*r`` and the noise has
  variance ``f*r**2`` at level ``M`` (``f`` in [0.1, 0.5]; ``r`` 2-5 % FS).
* Headroom: to avoid clipping, ``M`` is first lowered (not below 25 % FS)
  and then ``r`` reduced so that ``M(1+smax) + r(C + max(T/r) + 1)`` stays
  under 98 % FS (``r`` floor 0.6 % FS; very large C may then clip).
* Textures (each normalised to unit std, then scaled):
  blobby  - white noise filtered by G(s1) - G(s2), s1 = grain/2, grain
            1.5-5 px, s2 = (2-3) s1;
  fractal - radial PSD ~ f**-beta (beta 1.5-2.5) with soft 8th-order
            cut-offs at wavelengths 60 px and 2 px (stationary, periodic);
  speckle - fine grain (Gaussian-blurred noise, sigma 0.6-1 px) plus a
            Poisson field of Gaussian spots (FWHM 2-4 px, density 0.5-3 %
            of pixels, peak 2-5 x fine-grain std);
  waves   - blobby grain (1.5-3 px) plus 1-3 phase-warped plane waves with
            periods 80-300 px carrying 5-20 % of the texture variance.
* Shading: linear gradient, radial vignette (centre jittered) or both,
  zero-mean, peak |s| drawn in [0.02, 0.15].
* Domes: equivalent diameter D (geometric mean of the axes) exactly
  ``diameter_px``; 40 % round, otherwise aspect 1.05-1.5 at a random angle.
  Profile per object (equal odds): Gaussian (FWHM D/2-D/1.5), paraboloid cap
  (zero at the edge), flat top with logistic edge of 10-90 % width 1-4 px.
  About 1/3 get a rim: a Gaussian ring (FWHM 1-2 px) at the edge (flat top:
  edge + width/2), combined as max(profile, rim_level * ring), rim level
  0.3-0.6, so the centre stays the brightest point.  Sub-pixel centres.
* Placement: rejection sampling, centres >= 1.3 x (sum of major semi-axes)
  apart, whole major semi-axis + 2 px inside the frame.  If n_objects cannot
  be placed, fewer are returned (``info['n_placed']``).
* Object draws are made last, so with the same seed an ``n_objects=0`` scene
  has exactly the substrate/shading/noise of the scenes with objects.
  Keyword-only ``objects=False`` / ``shading=False`` render the same draws
  without domes / shading (for checks).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

TEXTURES = ("blobby", "fractal", "speckle", "waves")


def objects_per_image(diameter_px: float, shape: tuple[int, int] = (768, 1024)) -> int:
    """A number of domes that fits easily (about 15 % of the frame at 1.3 D spacing), 3 to 15."""
    return int(np.clip(0.15 * shape[0] * shape[1] / (1.3 * diameter_px) ** 2, 3, 15))


def truth_table(truth: list[dict]) -> pd.DataFrame:
    """The truth list as the table ``sem_protrusion_scenes.score_scene`` grades against (row, col, diameter_px)."""
    return pd.DataFrame(truth, columns=["row", "col", "diameter_px"])
_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _unit(field: np.ndarray) -> np.ndarray:
    """Return ``field`` shifted to zero mean and scaled to unit std."""
    field = field - field.mean()
    sd = field.std()
    return field / sd if sd > 0 else field


def _dog(rng: np.random.Generator, shape, grain: float) -> np.ndarray:
    """Band-passed white noise (difference of Gaussians), unit std."""
    w = rng.standard_normal(shape)
    s1 = grain / 2.0
    s2 = s1 * rng.uniform(2.0, 3.0)
    return _unit(ndi.gaussian_filter(w, s1, mode="wrap") - ndi.gaussian_filter(w, s2, mode="wrap"))


def _fractal(rng: np.random.Generator, shape, beta: float) -> np.ndarray:
    """1/f**beta noise band-limited to wavelengths 2-60 px, unit std."""
    h, w = shape
    f = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :])
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0) / (1.0 + ((1.0 / 60.0) / f) ** 8) / (1.0 + (f / 0.5) ** 8)
    amp[0, 0] = 0.0
    spec = np.fft.rfft2(rng.standard_normal(shape)) * amp
    return _unit(np.fft.irfft2(spec, s=shape))


def _speckle(rng: np.random.Generator, shape, density: float) -> tuple[np.ndarray, dict]:
    """Fine grain plus a Poisson field of small bright Gaussian spots, unit std."""
    h, w = shape
    fine_sigma = rng.uniform(0.6, 1.0)
    fine = _unit(ndi.gaussian_filter(rng.standard_normal(shape), fine_sigma, mode="wrap"))
    n = rng.poisson(density * h * w)
    rows, cols = rng.integers(0, h, n), rng.integers(0, w, n)
    fwhm, amp = rng.uniform(2.0, 4.0, n), rng.uniform(2.0, 5.0, n)
    edges = np.array([2.0, 2.0 + 2 / 3, 2.0 + 4 / 3, 4.0])
    which = np.clip(np.digitize(fwhm, edges) - 1, 0, 2)
    spots = np.zeros(shape)
    for k in range(3):
        m = which == k
        sig = 0.5 * (edges[k] + edges[k + 1]) / _FWHM
        layer = np.zeros(shape)
        np.add.at(layer, (rows[m], cols[m]), amp[m] * 2.0 * np.pi * sig ** 2)
        spots += ndi.gaussian_filter(layer, sig, mode="wrap")
    return _unit(fine + spots), {"fine_sigma": fine_sigma, "n_spots": int(n)}


def _waves(rng: np.random.Generator, shape, frac: float) -> tuple[np.ndarray, dict]:
    """Fine grain plus a weak, slightly warped sinusoidal undulation, unit std."""
    h, w = shape
    grain = rng.uniform(1.5, 3.0)
    base = _dog(rng, shape, grain)
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    warp = _unit(ndi.gaussian_filter(rng.standard_normal((h // 8 + 1, w // 8 + 1)), 8, mode="wrap"))
    warp = ndi.zoom(warp, (h / warp.shape[0], w / warp.shape[1]), order=1)[:h, :w]
    und = np.zeros(shape)
    periods = []
    for _ in range(int(rng.integers(1, 4))):
        period, th, ph = rng.uniform(80, 300), rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        periods.append(period)
        arg = 2 * np.pi * (xx * np.cos(th) + yy * np.sin(th)) / period + ph + 0.8 * warp
        und += rng.uniform(0.5, 1.0) * np.sin(arg)
    field = _unit(math.sqrt(1 - frac) * base + math.sqrt(frac) * _unit(und))
    return field, {"grain_px": grain, "periods_px": periods}


def _shading(rng: np.random.Generator, shape) -> tuple[np.ndarray, dict]:
    """Zero-mean smooth shading field (fraction of the mean level)."""
    h, w = shape
    yy, xx = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
    kind = ("linear", "radial", "both")[int(rng.integers(3))]
    s = np.zeros(shape)
    if kind in ("linear", "both"):
        th = rng.uniform(0, 2 * np.pi)
        s += np.cos(th) * xx + np.sin(th) * yy
    if kind in ("radial", "both"):
        cy, cx = rng.uniform(-0.3, 0.3, 2)
        s -= rng.uniform(0.5, 1.5) * ((xx - cx) ** 2 + (yy - cy) ** 2)
    s -= s.mean()
    amp = rng.uniform(0.02, 0.15)
    return amp * s / np.abs(s).max(), {"kind": kind, "amplitude": amp}


def _place(rng: np.random.Generator, shape, d: float, n: int) -> list[dict]:
    """Rejection-sample non-overlapping dome descriptions inside the frame."""
    h, w = shape
    objs: list[dict] = []
    tries = 0
    while len(objs) < n and tries < 4000 * n:
        tries += 1
        asp = 1.0 if rng.random() < 0.4 else rng.uniform(1.05, 1.5)
        R = 0.5 * d * math.sqrt(asp)
        margin = R + 2.0
        if 2 * margin >= min(h, w) - 1:
            raise ValueError("diameter too large for the frame")
        r, c = rng.uniform(margin, h - 1 - margin), rng.uniform(margin, w - 1 - margin)
        if any(math.hypot(r - o["row"], c - o["col"]) < 1.3 * (R + o["radius_major"]) for o in objs):
            continue
        prof = ("gaussian", "paraboloid", "flat")[int(rng.integers(3))]
        o = {"row": r, "col": c, "diameter_px": float(d), "aspect": asp, "radius_major": R,
             "angle": rng.uniform(0, np.pi), "profile": prof,
             "fwhm": rng.uniform(d / 2.0, d / 1.5), "edge_px": rng.uniform(1.0, 4.0),
             "rim": bool(rng.random() < 1 / 3), "rim_level": rng.uniform(0.3, 0.6),
             "rim_fwhm": rng.uniform(1.0, 2.0)}
        objs.append(o)
    return objs


def _dome(o: dict, shape) -> tuple[tuple[slice, slice], np.ndarray]:
    """Render one dome (centre value 1) in a local window; return (window, patch)."""
    h, w = shape
    d, asp = o["diameter_px"], o["aspect"]
    half = int(math.ceil(1.3 * d * math.sqrt(asp))) + 6
    r0, r1 = max(0, int(o["row"]) - half), min(h, int(o["row"]) + half + 1)
    c0, c1 = max(0, int(o["col"]) - half), min(w, int(o["col"]) + half + 1)
    dy = np.arange(r0, r1)[:, None] - o["row"]
    dx = np.arange(c0, c1)[None, :] - o["col"]
    ct, st = math.cos(o["angle"]), math.sin(o["angle"])
    u, v = dx * ct + dy * st, -dx * st + dy * ct
    a, b = 0.5 * d * math.sqrt(asp), 0.5 * d / math.sqrt(asp)
    rd = 0.5 * d * np.sqrt((u / a) ** 2 + (v / b) ** 2)  # equivalent radial distance, px
    if o["profile"] == "gaussian":
        sig = o["fwhm"] / _FWHM
        p = np.exp(-rd ** 2 / (2 * sig ** 2))
        rim_r = d / 2
    elif o["profile"] == "paraboloid":
        p = np.clip(1.0 - (rd / (d / 2)) ** 2, 0.0, None)
        rim_r = d / 2
    else:
        k = o["edge_px"] / (2 * math.log(9.0))  # 10-90 % width = edge_px
        with np.errstate(over="ignore"):  # far outside the edge exp overflows to inf: p is 0 there
            p = 1.0 / (1.0 + np.exp((rd - d / 2) / k)) * (1.0 + math.exp(-d / 2 / k))
        rim_r = d / 2 + o["edge_px"] / 2
    if o["rim"]:
        ring = np.exp(-(rd - rim_r) ** 2 / (2 * (o["rim_fwhm"] / _FWHM) ** 2))
        p = np.maximum(p, o["rim_level"] * ring)
    return (slice(r0, r1), slice(c0, c1)), p


def make_scene(rng: np.random.Generator, diameter_px: float, contrast: float, n_objects: int,
               shape=(768, 1024), texture: str | None = None, *, objects: bool = True,
               shading: bool = True) -> tuple[np.ndarray, list[dict], dict]:
    """Generate one synthetic SEM scene.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness (the output is deterministic given its state).
    diameter_px : float
        Equivalent dome diameter D in pixels.
    contrast : float
        Peak added brightness / ``texture_rms_grey``.
    n_objects : int
        Number of domes requested (0 gives a bare substrate).
    shape : tuple of int
        (rows, cols) of the image.
    texture : str or None
        One of ``TEXTURES``; random when None.
    objects, shading : bool
        Keyword-only; False renders the same random draws without domes /
        without shading (for checks).  Truth is returned either way.

    Returns
    -------
    image : ndarray of uint8 or uint16
    truth : list of dict
        ``{'row', 'col', 'diameter_px'}`` per dome (sub-pixel centres).
    info : dict
        Includes 'texture', 'texture_rms_grey', 'peak_added_grey', 'objects'
        (full dome descriptions) and the other drawn parameters.
    """
    h, w = shape
    if texture is None:
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
    if texture not in TEXTURES:
        raise ValueError(f"unknown texture {texture!r}")
    dtype = np.uint8 if rng.random() < 0.6 else np.uint16
    fs = float(np.iinfo(dtype).max)
    mean = rng.uniform(0.25, 0.75) * fs
    pixel_size = float(math.exp(rng.uniform(math.log(0.01), math.log(2.0))))
    if texture == "blobby":
        grain = rng.uniform(1.5, 5.0)
        unit, tpar = _dog(rng, shape, grain), {"grain_px": grain}
    elif texture == "fractal":
        beta = rng.uniform(1.5, 2.5)
        unit, tpar = _fractal(rng, shape, beta), {"beta": beta}
    elif texture == "speckle":
        density = rng.uniform(0.005, 0.03)
        unit, tpar = _speckle(rng, shape, density)
        tpar["density"] = density
    else:
        frac = rng.uniform(0.05, 0.2)
        unit, tpar = _waves(rng, shape, frac)
        tpar["wave_variance_fraction"] = frac
    shade, spar = _shading(rng, shape)
    smax = float(np.abs(shade).max())
    noise_frac = rng.uniform(0.1, 0.5)
    r = rng.uniform(0.02, 0.05) * fs
    z = rng.standard_normal(shape)
    # headroom: lower the mean first, then the texture rms
    span_hi = contrast + float(unit.max()) + 1.0
    mean = max(0.25 * fs, min(mean, (0.98 * fs - r * span_hi) / (1 + smax)))
    r = min(r, (0.98 * fs - mean * (1 + smax)) / span_hi,
            (mean * (1 - smax) - 0.01 * fs) / (1.0 - float(unit.min())))
    r = max(r, 0.006 * fs)
    tex = math.sqrt(1.0 - noise_frac) * r * unit
    gain = noise_frac * r ** 2 / mean

    def compose(domes, shaded):
        sig = mean + tex
        if shaded:
            sig = sig + mean * shade
        if domes is not None:
            sig = sig + domes
        noisy = sig + np.sqrt(gain * np.clip(sig, 0.0, None)) * z
        return np.clip(np.rint(noisy), 0, fs).astype(dtype)

    rms = float(compose(None, False).astype(float).std())
    objs = _place(rng, shape, float(diameter_px), int(n_objects)) if n_objects > 0 else []
    peak = contrast * rms
    domes = np.zeros(shape)
    for o in objs:
        win, p = _dome(o, shape)
        domes[win] += peak * p
    image = compose(domes if (objects and objs) else None, shading)
    truth = [{"row": o["row"], "col": o["col"], "diameter_px": o["diameter_px"]} for o in objs]
    info = {"texture": texture, "texture_rms_grey": rms, "texture_params": tpar,
            "peak_added_grey": peak, "contrast": float(contrast), "dtype": np.dtype(dtype).name,
            "full_scale": fs, "mean_grey": mean, "pixel_size_um": pixel_size,
            "shading": spar, "noise_fraction": noise_frac, "noise_gain": gain,
            "n_requested": int(n_objects), "n_placed": len(objs), "objects": objs}
    return image, truth, info

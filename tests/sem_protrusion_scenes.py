"""An independent generator of SEM protrusion scenes, and the scoring that grades a detector on them.

Written for issue 13 (item 5, evaluation) from the written description below only, WITHOUT reading the
protrusion detector (``surfscan/protrusions/``), nor the project's other scene generators
(``tests/sem_synth.py``, ``surfscan/synthetic.py``) nor ``docs/protrusions.md``. It uses the public API
only (``surfscan.Micrograph``), so that it grades the detector from the outside.

The description it was written from (quoted):

    An SEM secondary-electron image of a coated surface, 1024 x 768 pixels (also allow other sizes),
    8-bit or 16-bit, with a pixel size between 0.01 and 2 µm (the pixel size is only calibration: the
    same pixel-scale scene is drawn whatever the pixel size, because a lab images the same kind of
    surface at 100x, 1 kx, 10 kx and 50 kx).

    - Substrate: a random granular texture. Several kinds, each chosen at random per image:
      Gaussian-correlated grain (correlation length 1-6 px), a log-normal (right-skewed, sparse bright
      grains) brightness, a two-scale texture (fine grain plus a weak blotchy component tens of px
      across, at most ~30 % of the texture's variance), plus shot/detector noise (Poisson-like, grows
      with brightness) and optionally a few horizontal scan-line offsets. Mean grey level 30-70 % of
      full scale.
    - Illumination: a smooth shading across the field (a linear gradient and/or a vignette) of up to
      +-15 % of the mean level.
    - Protrusions: bright round domes (also some mildly elliptical, aspect <= 1.6) of diameter D pixels
      and peak contrast C, where C is the dome's peak added brightness divided by the texture's rms (the
      rms of the object-free, shading-free texture at pixel level, noise included). Dome profiles chosen
      at random: Gaussian-like (FWHM = D/2 ... D/1.5 with the object's visible diameter D), spherical
      cap, or flat top with a soft edge; optionally a brighter rim (SEM edge effect) of 1-3 px. The
      texture continues on top of the domes (multiply or add). Objects do not overlap each other (keep
      centres at least 1.2 x the sum of radii apart) and lie fully inside the frame.
    - Images without protrusions: the same substrates and shading, no objects.

Choices the description leaves open, made here (and nowhere tuned to any detector):

- The grain is white noise smoothed by a Gaussian of sigma = l/2, so that its autocorrelation is
  ``exp(-r^2 / l^2)``: the correlation length l (1-6 px) is the distance where it falls to 1/e. The
  log-normal texture is ``exp(s g)`` of such a field g with s in 0.5-1.0 (skewness 1.8-6). The blotchy
  component is white noise smoothed at sigma 8-25 px (bright patches some 20-75 px across) and carries
  5-30 % of the texture variance.
- The texture rms R is 2-6 % of full scale, lowered where needed so that the brightest dome
  (mean + shading + (C + 4) R) stays below full scale. The shot noise is Gaussian with variance
  ``gain * signal`` (its share of R² at the mean level: 10-60 %); the same standard-normal draws give
  the noise of the object-free reference image, so R is measured exactly on that reference (the rms
  used for C is the measured one, quantisation included).
- Scan-line offsets (in 30 % of the images): 1-6 bands of 1-3 rows shifted by +-0.5-2 R.
- Shading: ``1 + linear + vignette`` (vignette quadratic in the radius), rescaled so its largest
  departure from 1 is 3-15 %, with mean 1. It multiplies the signal before the noise is drawn.
- Domes: 30 % are elliptical (aspect 1.1-1.6, random orientation, area of a D-disc). A rim (35 % of
  the objects) is a Gaussian ring of width w = 1-3 px (at most D/8) just inside the visible edge
  (centred at D/2 - w/2; at the half-height radius FWHM/2 on Gaussian domes), 0.3-0.6 of the peak,
  not counted in C (it leaves the centre unchanged). Per image the texture continues on the domes additively (``mu + T + dome``) or
  multiplicatively (``(mu + dome)(1 + T/mu)``).
- Objects are placed by random sequential addition; a ``ValueError`` names the problem when
  ``n_objects`` do not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

import surfscan as ss

TEXTURES = ("grain", "lognormal", "two_scale")
PROFILES = ("gaussian", "cap", "flat_top")


# --------------------------------------------------------------------------------------------- texture
def _unit_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """White noise smoothed by a Gaussian of ``sigma`` px (periodic, by FFT), zero mean, unit variance."""
    spectrum = ndi.fourier_gaussian(np.fft.rfft2(rng.standard_normal(shape)), sigma, n=shape[1])
    f = np.fft.irfft2(spectrum, s=shape)
    return (f - f.mean()) / f.std()


def _texture(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> tuple[np.ndarray, dict]:
    """A zero-mean, unit-variance substrate texture of the given kind, and what was drawn."""
    corr = float(rng.uniform(1.0, 6.0))
    info: dict = {"texture": kind, "correlation_px": corr}
    if kind == "grain":
        t = _unit_field(rng, shape, corr / 2)
    elif kind == "lognormal":
        s = float(rng.uniform(0.5, 1.0))
        t = np.exp(s * _unit_field(rng, shape, corr / 2))
        info["lognormal_sigma"] = s
    elif kind == "two_scale":
        share = float(rng.uniform(0.05, 0.30))
        blotch = float(rng.uniform(8.0, 25.0))
        fine = _unit_field(rng, shape, corr / 2)
        t = np.sqrt(1 - share) * fine + np.sqrt(share) * _unit_field(rng, shape, blotch)
        info.update(blotch_share=share, blotch_sigma_px=blotch)
    else:
        raise ValueError(f"unknown texture {kind!r}; choose one of {TEXTURES}")
    return (t - t.mean()) / t.std(), info


def _scan_lines(rng: np.random.Generator, rows: int, rms: float) -> np.ndarray:
    """Per-row brightness offsets (full-scale units): a few bands of 1-3 rows, or none."""
    off = np.zeros(rows)
    if rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 7))):
            r0 = int(rng.integers(0, rows))
            off[r0:r0 + int(rng.integers(1, 4))] += rng.choice([-1, 1]) * rng.uniform(0.5, 2.0) * rms
    return off


def _shading(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """A multiplicative illumination field of mean 1: linear gradient and/or vignette, max |s - 1| 3-15 %."""
    rows, cols = shape
    y, x = np.ogrid[0:rows, 0:cols]
    xn, yn = (x - (cols - 1) / 2) / cols, (y - (rows - 1) / 2) / rows
    kind = rng.choice(["linear", "vignette", "both"])
    s = np.zeros(shape)
    if kind in ("linear", "both"):
        ang = rng.uniform(0, 2 * np.pi)
        s += np.cos(ang) * xn + np.sin(ang) * yn
    if kind in ("vignette", "both"):
        s -= rng.uniform(0.5, 1.5) * (xn**2 + yn**2)
    s -= s.mean()
    amp = float(rng.uniform(0.03, 0.15))
    return 1.0 + s * (amp / np.abs(s).max()), amp


# --------------------------------------------------------------------------------------------- domes
@dataclass(frozen=True)
class _Dome:
    row: float
    col: float
    diameter: float
    aspect: float
    angle: float
    profile: str
    shape_param: float  # gaussian: D / FWHM; cap: sphere angle (rad); flat_top: edge width px
    rim: float  # rim amplitude as a share of the peak (0 = none)
    rim_width: float

    @property
    def half_major(self) -> float:
        return self.diameter / 2 * np.sqrt(self.aspect)


def _draw_dome(rng: np.random.Generator, row: float, col: float, diameter: float) -> _Dome:
    profile = str(rng.choice(PROFILES))
    param = {"gaussian": rng.uniform(1.5, 2.0), "cap": rng.uniform(np.pi / 6, np.pi / 2),
             "flat_top": rng.uniform(1.0, max(1.0, min(4.0, diameter / 8)))}[profile]
    aspect = float(rng.uniform(1.1, 1.6)) if rng.random() < 0.3 else 1.0
    rim = float(rng.uniform(0.3, 0.6)) if rng.random() < 0.35 else 0.0
    rim_width = float(min(rng.uniform(1.0, 3.0), max(1.0, diameter / 8)))
    return _Dome(row, col, diameter, aspect, float(rng.uniform(0, np.pi)), profile, float(param), rim, rim_width)


def _dome_patch(d: _Dome, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """The dome's added brightness (peak 1 at its centre, rim on top) at pixel coordinates ``rr, cc``."""
    dy, dx = rr - d.row, cc - d.col
    u = dx * np.cos(d.angle) + dy * np.sin(d.angle)
    v = -dx * np.sin(d.angle) + dy * np.cos(d.angle)
    big_r = d.diameter / 2
    r = np.hypot(u / np.sqrt(d.aspect), v * np.sqrt(d.aspect))  # equivalent radius, px
    if d.profile == "gaussian":
        fwhm = d.diameter / d.shape_param
        z = np.exp(-4 * np.log(2) * (r / fwhm) ** 2)
    elif d.profile == "cap":
        rs = big_r / np.sin(d.shape_param)  # sphere radius; the cap meets the substrate at r = D/2
        base = np.sqrt(rs**2 - big_r**2)
        z = np.clip(np.sqrt(np.clip(rs**2 - r**2, 0, None)) - base, 0, None) / (rs - base)
    else:  # flat top, soft edge reaching half height at r = D/2 - w
        w = d.shape_param
        edge = np.clip(big_r - w, 0.5, None)
        z = 0.5 * (1 - np.tanh((r - edge) / (w / 2)))
        z /= 0.5 * (1 - np.tanh((0 - edge) / (w / 2)))
    if d.rim > 0:  # at the visible edge; a Gaussian dome's edge is taken at its half height
        at = d.diameter / d.shape_param / 2 if d.profile == "gaussian" else big_r - d.rim_width / 2
        z = z + d.rim * np.exp(-0.5 * ((r - at) / (d.rim_width / 2)) ** 2)
    return z


def _place(rng: np.random.Generator, shape: tuple[int, int], diameter: float, n: int) -> list[_Dome]:
    """Random sequential addition of ``n`` domes, fully inside, centres >= 1.2 x (r_i + r_j) apart."""
    rows, cols = shape
    domes: list[_Dome] = []
    tries = 0
    while len(domes) < n:
        tries += 1
        if tries > 2000 * max(n, 1):
            raise ValueError(f"{n} objects of {diameter} px do not fit in {rows} x {cols} px "
                             f"(placed {len(domes)})")
        d = _draw_dome(rng, 0.0, 0.0, diameter)
        margin = d.half_major + (d.rim_width if d.rim else 0) + 1
        if 2 * margin >= min(rows, cols):
            raise ValueError(f"an object of {diameter} px does not fit inside {rows} x {cols} px")
        row, col = rng.uniform(margin, rows - 1 - margin), rng.uniform(margin, cols - 1 - margin)
        if all(np.hypot(row - o.row, col - o.col) >= 1.2 * (d.half_major + o.half_major) for o in domes):
            domes.append(_Dome(row, col, d.diameter, d.aspect, d.angle, d.profile, d.shape_param, d.rim,
                               d.rim_width))
    return domes


def _dome_field(shape: tuple[int, int], domes: list[_Dome]) -> np.ndarray:
    """Sum of the unit-peak dome patches over the frame."""
    out = np.zeros(shape)
    for d in domes:
        h = int(np.ceil(d.half_major * 2.0 + 2 * d.rim_width + 2))
        r0, r1 = max(0, int(d.row) - h), min(shape[0], int(d.row) + h + 1)
        c0, c1 = max(0, int(d.col) - h), min(shape[1], int(d.col) + h + 1)
        rr, cc = np.mgrid[r0:r1, c0:c1]
        out[r0:r1, c0:c1] += _dome_patch(d, rr.astype(float), cc.astype(float))
    return out


# --------------------------------------------------------------------------------------------- scene
def _quantise(signal: np.ndarray, full_scale: int, dtype: type) -> np.ndarray:
    return np.clip(np.rint(signal * full_scale), 0, full_scale).astype(dtype)


def make_scene(rng: np.random.Generator, diameter_px: float, contrast: float, n_objects: int,
               pixel_size_um: float, shape: tuple[int, int] = (768, 1024),
               texture: str | None = None) -> tuple[ss.Micrograph, pd.DataFrame]:
    """Draw one SEM protrusion scene and its truth.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (the scene is a deterministic function of its state).
    diameter_px : float
        Visible diameter D of every dome, px (equivalent diameter for elliptical ones).
    contrast : float
        Peak contrast C: the dome's peak added brightness over the texture rms.
    n_objects : int
        Number of domes (0 for an object-free image).
    pixel_size_um : float
        Calibration only, µm per pixel; the pixel-scale scene does not depend on it.
    shape : tuple of int
        ``(rows, columns)`` of the image.
    texture : str, optional
        One of ``TEXTURES``; drawn at random when None.

    Returns
    -------
    micrograph : surfscan.Micrograph
        uint8 or uint16 image (drawn at random) with ``pixel_size_um``.
    truth : pandas.DataFrame
        One row per dome: ``row``, ``col`` (centre, px), ``diameter_px``, ``contrast``, ``profile``,
        ``aspect``, ``rim``. ``truth.attrs`` holds the scene's draws, among them ``texture_rms`` (grey
        levels, the rms used for C), ``mean_level`` (grey levels) and ``full_scale``.
    """
    shape = (int(shape[0]), int(shape[1]))
    if not (diameter_px > 0 and contrast >= 0 and n_objects >= 0 and min(shape) >= 16):
        raise ValueError(f"need diameter_px > 0, contrast >= 0, n_objects >= 0 and a frame of at least "
                         f"16 px, got {diameter_px}, {contrast}, {n_objects}, {shape}")
    kind = str(rng.choice(TEXTURES)) if texture is None else texture
    t, info = _texture(rng, shape, kind)
    bits16 = bool(rng.random() < 0.5)
    full_scale, dtype = (65535, np.uint16) if bits16 else (255, np.uint8)
    mu = float(rng.uniform(0.30, 0.70))
    shade, shade_amp = _shading(rng, shape)
    rms = min(float(rng.uniform(0.02, 0.06)), (0.97 / (1 + shade_amp) - mu) / (contrast + 4))
    noise_share = float(rng.uniform(0.10, 0.60))
    gain = rms**2 * noise_share / mu
    tex = rms * np.sqrt(1 - noise_share) * t
    z = rng.standard_normal(shape)
    lines = _scan_lines(rng, shape[0], rms)[:, None]
    multiply = bool(rng.random() < 0.5)
    domes = _place(rng, shape, float(diameter_px), int(n_objects))

    # the object-free, shading-free reference: its rms (grey levels) is the one C refers to
    base = mu + tex
    reference = _quantise(base + np.sqrt(gain * base) * z + lines, full_scale, dtype)
    rms_grey = float(reference.std())
    peak = contrast * rms_grey / full_scale
    dome = peak * _dome_field(shape, domes)
    signal = (mu + dome) * (1 + tex / mu) if multiply else base + dome
    signal = signal * shade
    image = _quantise(signal + np.sqrt(gain * np.clip(signal, 0, None)) * z + lines, full_scale, dtype)

    truth = pd.DataFrame({
        "row": [d.row for d in domes], "col": [d.col for d in domes],
        "diameter_px": [d.diameter for d in domes], "contrast": float(contrast),
        "profile": [d.profile for d in domes], "aspect": [d.aspect for d in domes],
        "rim": [d.rim > 0 for d in domes],
    })
    truth.attrs.update(info, texture_rms=rms_grey, mean_level=mu * full_scale, full_scale=full_scale,
                       noise_share=noise_share, shading_amplitude=shade_amp, texture_on_domes=(
                           "multiply" if multiply else "add"), scan_lines=bool(np.any(lines)))
    meta = {"pixel_size_source": "synthetic (tests/sem_protrusion_scenes.py)"}
    return ss.Micrograph(image, float(pixel_size_um), meta), truth


# --------------------------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class SceneScore:
    """Counts of one scene: objects, objects found, detections, false detections."""

    objects: int
    found: int
    detections: int
    false: int

    def __add__(self, other: SceneScore) -> SceneScore:
        return SceneScore(self.objects + other.objects, self.found + other.found,
                          self.detections + other.detections, self.false + other.false)

    @property
    def recall(self) -> float:
        """found / objects (NaN without objects)."""
        return self.found / self.objects if self.objects else float("nan")

    @property
    def precision(self) -> float:
        """1 - false / detections (NaN without detections)."""
        return 1 - self.false / self.detections if self.detections else float("nan")


def detection_matches(table: pd.DataFrame, truth: pd.DataFrame, pixel_size_um: float) -> np.ndarray:
    """``near[i, j]``: detection ``i``'s centroid lies within D/2 + 3 px of truth object ``j``'s centre.

    The centroids are ``y_um``, ``x_um`` of ``table`` over the pixel size (row, column); ``truth`` holds
    ``row``, ``col`` and ``diameter_px``.
    """
    det = np.zeros((0, 2))
    if len(table):
        det = np.column_stack([table["y_um"].to_numpy(float), table["x_um"].to_numpy(float)]) / pixel_size_um
    tru = truth[["row", "col"]].to_numpy(float).reshape(-1, 2)
    reach = truth["diameter_px"].to_numpy(float) / 2 + 3.0
    if len(det) and len(tru):
        dist = np.hypot(det[:, None, 0] - tru[None, :, 0], det[:, None, 1] - tru[None, :, 1])
        return dist <= reach[None, :]
    return np.zeros((len(det), len(tru)), bool)


def score_scene(table: pd.DataFrame, truth: pd.DataFrame, pixel_size_um: float) -> SceneScore:
    """Score detections against the truth of one scene.

    A truth object is found when a detection's centroid (``x_um``, ``y_um`` over the pixel size) lies
    within D/2 + 3 px of its centre; a detection further than D/2 + 3 px from every truth object is a
    false one (:func:`detection_matches`).
    """
    near = detection_matches(table, truth, pixel_size_um)
    return SceneScore(near.shape[1], int(near.any(axis=0).sum()), near.shape[0], int((~near.any(axis=1)).sum()))


def objects_per_image(diameter_px: float, shape: tuple[int, int] = (768, 1024)) -> int:
    """A number of domes that fits easily (about 15 % of the frame at 1.2 D spacing), 3 to 15."""
    return int(np.clip(0.15 * shape[0] * shape[1] / (1.2 * diameter_px) ** 2, 3, 15))

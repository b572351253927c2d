"""Seeded synthetic height maps and SEM-like images with planted protrusions.

Used by the tests, the benchmarks and anyone who wants a known truth to
check a setting against. Every generator takes a ``seed`` and returns the
data object together with a :class:`pandas.DataFrame` of the planted
objects (their truth), so a detection can be scored with
:func:`match_objects`.

Coordinates follow the rest of surfscan: ``x_um = column * dx`` and
``y_um = row * dy`` (the centre of the first pixel is the origin).

Height maps (:func:`synthetic_height_map`) are roughness (Gaussian-correlated,
rms ``sq_um``, correlation length ``grain_um``) plus tilt, bow, waviness,
NaN dropouts, single-pixel spikes and pits as distractors, plus paraboloid
protrusions of known peak height and base diameter.

SEM-like images (:func:`synthetic_micrograph`) are a brightness level times
directional shading times vignetting, times ``1 + texture + objects``, plus
noise, quantised to 8 bits. The texture is a skewed (log-normal) grain field
with grain diameter ``grain_um``; the objects are soft-edged discs of known
relative contrast (a protrusion of contrast 0.3 is 30 % brighter than its
surroundings). Optional cracks (dark lines with bright rims) test the shape gate.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pandas as pd

from .model import Micrograph, Surface

__all__ = [
    "synthetic_height_map",
    "synthetic_micrograph",
    "correlated_noise",
    "place_discs",
    "match_objects",
]

_SIGMA_PER_GRAIN = 1.0 / 2.355  # a grain of diameter d (FWHM) is a Gaussian speck with sigma d / 2.355


def correlated_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Gaussian random field with unit rms and a Gaussian correlation of width ``sigma_px`` (pixels)."""
    white = rng.standard_normal(shape, dtype=np.float32)
    if sigma_px > 0.3:
        white = cv2.GaussianBlur(white, (0, 0), sigmaX=sigma_px, borderType=cv2.BORDER_REFLECT)
    white -= white.mean()
    return white / max(float(white.std()), 1e-12)


def place_discs(
    rng: np.random.Generator,
    shape: tuple[int, int],
    diameters_px: np.ndarray,
    margin_px: float = 2.0,
    border_px: float = 0.0,
    taken: list[tuple[float, float, float]] | None = None,
) -> np.ndarray:
    """Random non-overlapping centres ``(row, col)`` for discs of the given diameters (pixels).

    Discs keep ``margin_px`` between their edges and ``border_px`` plus their
    radius from the image border; ``taken`` lists ``(row, col, radius)`` of
    discs already placed. A disc that finds no room after 200 tries is dropped
    (its row is NaN).
    """
    ny, nx = shape
    placed = list(taken or [])
    out = np.full((len(diameters_px), 2), np.nan)
    for i, d in enumerate(diameters_px):
        r = d / 2.0
        lo_y, hi_y = r + border_px, ny - 1 - r - border_px
        lo_x, hi_x = r + border_px, nx - 1 - r - border_px
        if hi_y <= lo_y or hi_x <= lo_x:
            continue
        for _ in range(200):
            cy, cx = rng.uniform(lo_y, hi_y), rng.uniform(lo_x, hi_x)
            if all((cy - py) ** 2 + (cx - px) ** 2 > (r + pr + margin_px) ** 2 for py, px, pr in placed):
                placed.append((cy, cx, r))
                out[i] = cy, cx
                break
    return out


def _stamp(canvas: np.ndarray, cy: float, cx: float, radius: float, profile) -> None:
    """Add ``profile(r)`` (r = distance in pixels from the centre) inside a window around (cy, cx)."""
    ny, nx = canvas.shape
    reach = int(math.ceil(radius + 3))
    y0, y1 = max(0, int(cy) - reach), min(ny, int(cy) + reach + 2)
    x0, x1 = max(0, int(cx) - reach), min(nx, int(cx) + reach + 2)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    r = np.hypot(yy - cy, xx - cx)
    canvas[y0:y1, x0:x1] += profile(r).astype(canvas.dtype)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(math.log(lo), math.log(hi), n))


def _plant(rng: np.random.Generator, canvas: np.ndarray, n: int, diameters_um: tuple[float, float],
           amplitudes: tuple[float, float], px: float, margin_px: float, border_um: float, bump, column: str):
    """Plant up to ``n`` discs into ``canvas``: diameters (µm) and amplitudes log-uniform, non-overlapping.

    ``bump(r, R, A)`` is a disc's added value at distance ``r`` (pixels) from its centre, for radius ``R``
    (pixels) and amplitude ``A``. Returns the truth (``x_um``, ``y_um``, ``diameter_um`` and the amplitude
    as ``column``) and the ``(row, col, radius)`` of the discs placed.
    """
    d_px = _log_uniform(rng, *diameters_um, n) / px
    amp = _log_uniform(rng, *amplitudes, n)
    centres = place_discs(rng, canvas.shape, d_px, margin_px=margin_px, border_px=border_um / px)
    ok = ~np.isnan(centres[:, 0])
    for (cy, cx), d, a in zip(centres[ok], d_px[ok], amp[ok]):
        _stamp(canvas, cy, cx, d / 2, lambda r, R=d / 2, A=a: bump(r, R, A))
    truth = pd.DataFrame({"x_um": centres[ok, 1] * px, "y_um": centres[ok, 0] * px, "diameter_um": d_px[ok] * px,
                          column: amp[ok]})
    return truth, [(cy, cx, d / 2) for (cy, cx), d in zip(centres[ok], d_px[ok])]


def _paraboloid(r: np.ndarray, radius: float, height: float) -> np.ndarray:
    """A paraboloid cap ``h (1 - (r/R)^2)`` (a protrusion on a height map)."""
    return height * np.clip(1 - (r / radius) ** 2, 0, None)


def _form(shape: tuple[int, int], dx: float, dy: float, rng: np.random.Generator, tilt: float, bow: float,
          waviness_um: float, waviness_wavelength_um: float) -> np.ndarray:
    """Tilt (µm/µm), bow (sag at the corners, µm) and a sinusoidal waviness of random direction."""
    ny, nx = shape
    x = (np.arange(nx) - (nx - 1) / 2) * dx
    y = (np.arange(ny) - (ny - 1) / 2) * dy
    a = rng.uniform(0, 2 * math.pi)
    gx, gy = tilt * math.cos(a), tilt * math.sin(a)
    rmax2 = x[-1] ** 2 + y[-1] ** 2
    form = (gx * x)[None, :] + (gy * y)[:, None]
    form = form + bow * ((x**2)[None, :] + (y**2)[:, None]) / rmax2
    if waviness_um:
        b = rng.uniform(0, math.pi)
        k = 2 * math.pi / waviness_wavelength_um
        phase = rng.uniform(0, 2 * math.pi)
        form = form + waviness_um * np.sin(k * (math.cos(b) * x[None, :] + math.sin(b) * y[:, None]) + phase)
    return form.astype(np.float32)


def _dropouts(rng: np.random.Generator, shape: tuple[int, int], fraction: float, taken) -> np.ndarray:
    """A mask of not-measured points: blobs of 2-12 px plus scattered single points."""
    ny, nx = shape
    mask = np.zeros(shape, np.uint8)
    if fraction <= 0:
        return mask.astype(bool)
    n_single = int(fraction * ny * nx * 0.3)
    mask[rng.integers(0, ny, n_single), rng.integers(0, nx, n_single)] = 1
    target = fraction * ny * nx * 0.7
    area = 0.0
    while area < target:
        d = rng.uniform(2, 12)
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        cv2.ellipse(mask, (int(cx), int(cy)), (int(d / 2) + 1, int(rng.uniform(0.3, 1) * d / 2) + 1),
                    rng.uniform(0, 180), 0, 360, 1, -1)
        area += math.pi * d * d / 8
    return mask.astype(bool)


def synthetic_height_map(
    shape: tuple[int, int] = (1536, 2048),
    dx: float = 0.5,
    *,
    seed: int = 0,
    n_protrusions: int = 40,
    heights_um: tuple[float, float] = (0.4, 2.0),
    diameters_um: tuple[float, float] = (6.0, 40.0),
    sq_um: float = 0.05,
    grain_um: float = 1.0,
    tilt: float = 2e-3,
    bow_um: float = 1.0,
    waviness_um: float = 0.1,
    waviness_wavelength_um: float = 250.0,
    nan_fraction: float = 0.01,
    n_spikes: int = 200,
    n_pits: int = 20,
    border_um: float = 0.0,
) -> tuple[Surface, pd.DataFrame]:
    """A height map with roughness, form, distractors and planted protrusions.

    Parameters
    ----------
    shape : (rows, columns)
    dx : float
        Pixel spacing in µm (square pixels).
    seed : int
        Seed of the random generator; the same seed gives the same map.
    n_protrusions : int
        How many protrusions to plant (fewer if they do not fit).
    heights_um, diameters_um : (min, max)
        Peak height above the local surface (µm) and base diameter (µm) of the
        paraboloid protrusions, drawn log-uniformly.
    sq_um : float
        Rms roughness (µm).
    grain_um : float
        Roughness grain diameter (µm): the FWHM of a Gaussian speck.
    tilt : float
        Slope of the tilt (µm/µm) in a random direction.
    bow_um : float
        Sag of a paraboloidal bow at the corners (µm).
    waviness_um, waviness_wavelength_um : float
        Amplitude and wavelength of a sinusoidal waviness in a random direction.
    nan_fraction : float
        Fraction of points not measured (blobs and scattered points).
    n_spikes : int
        Single-pixel spikes (half up, half down) of 5-40 x ``sq_um``.
    n_pits : int
        Paraboloid pits (negative), 5-25 µm wide, 0.3-2 µm deep.
    border_um : float
        Keep protrusions at least this far from the border (beyond their radius).

    Returns
    -------
    surface : Surface
    truth : DataFrame
        One row per planted protrusion: ``x_um``, ``y_um``, ``diameter_um``, ``height_um``.

    Examples
    --------
    >>> import surfscan as ss
    >>> s, truth = synthetic_height_map((256, 256), 0.5, seed=1)
    >>> s.shape, len(truth), list(truth.columns)
    ((256, 256), 30, ['x_um', 'y_um', 'diameter_um', 'height_um'])
    >>> found = ss.detect_protrusions(s).table
    >>> truth_hit, found_hit = match_objects(truth, found)
    >>> int(truth_hit.sum()), int(found_hit.sum()), len(found)   # recall 27/30, precision 27/27
    (27, 27, 27)
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    z = correlated_noise(rng, shape, grain_um * _SIGMA_PER_GRAIN / dx) * np.float32(sq_um)
    z += _form(shape, dx, dx, rng, tilt, bow_um, waviness_um, waviness_wavelength_um)
    truth, taken = _plant(rng, z, n_protrusions, diameters_um, heights_um, dx, 3.0, border_um, _paraboloid, "height_um")
    pit_d = rng.uniform(5, 25, n_pits) / dx
    pits = place_discs(rng, shape, pit_d, margin_px=6.0, taken=taken)
    for (cy, cx), d in zip(pits, pit_d):
        if not np.isnan(cy):
            depth = rng.uniform(0.3, 2.0)
            _stamp(z, cy, cx, d / 2, lambda r, R=d / 2, D=depth: -D * np.clip(1 - (r / R) ** 2, 0, None))
    iy, ix = rng.integers(0, ny, n_spikes), rng.integers(0, nx, n_spikes)
    z[iy, ix] += (rng.uniform(5, 40, n_spikes) * sq_um * np.where(np.arange(n_spikes) % 2, -1, 1)).astype(np.float32)
    z = z.astype(np.float64)
    z[_dropouts(rng, shape, nan_fraction, taken)] = np.nan
    meta = {"instrument": "synthetic", "seed": seed, "sq_um": sq_um, "grain_um": grain_um}
    return Surface(z, dx, dx, meta), truth


def _texture(rng: np.random.Generator, shape: tuple[int, int], grain_px: float, rms: float, skew: float) -> np.ndarray:
    """Skewed grain texture: a log-normal field with relative rms ``rms`` and mean 0."""
    g = correlated_noise(rng, shape, grain_px * _SIGMA_PER_GRAIN)
    t = np.exp(np.float32(skew) * g) if skew > 0 else g
    t -= t.mean()
    return t * np.float32(rms / max(float(t.std()), 1e-12))


def _cracks(rng: np.random.Generator, shape: tuple[int, int], n: int, width_px: float, contrast: float) -> np.ndarray:
    """Dark crack lines with bright rims on both sides (relative brightness change)."""
    ny, nx = shape
    rims = np.zeros(shape, np.float32)
    dark = np.zeros(shape, np.float32)
    w = max(1, int(round(width_px)))
    for _ in range(n):
        pts = [np.array([rng.uniform(0, nx), rng.uniform(0, ny)])]
        ang = rng.uniform(0, 2 * math.pi)
        for _ in range(int(rng.integers(3, 8))):
            ang += rng.normal(0, 0.4)
            pts.append(pts[-1] + rng.uniform(40, 150) * np.array([math.cos(ang), math.sin(ang)]))
        poly = np.round(np.array(pts)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(rims, [poly], False, 1.0, thickness=3 * w)
        cv2.polylines(dark, [poly], False, 1.0, thickness=w)
    return contrast * (rims - 2.0 * dark)


def synthetic_micrograph(
    shape: tuple[int, int] = (1536, 2048),
    pixel_size: float = 0.6,
    *,
    seed: int = 0,
    n_protrusions: int = 40,
    contrasts: tuple[float, float] = (0.3, 1.0),
    diameters_um: tuple[float, float] = (4.0, 40.0),
    grain_um: float = 1.2,
    texture_rms: float = 0.08,
    texture_skew: float = 0.5,
    brightness: float = 110.0,
    shading: float = 0.25,
    vignetting: float = 0.3,
    noise_rms: float = 0.04,
    n_cracks: int = 0,
    polarity: str = "bright",
    border_um: float = 0.0,
) -> tuple[Micrograph, pd.DataFrame]:
    """An SEM-like 8-bit image with grain texture, shading, vignetting, noise and planted protrusions.

    Parameters
    ----------
    shape : (rows, columns)
    pixel_size : float
        µm per pixel.
    seed : int
        Seed of the random generator.
    n_protrusions : int
        How many protrusions to plant (fewer if they do not fit).
    contrasts : (min, max)
        Relative contrast of the protrusions (brightness change over the local
        brightness, log-uniform); negative polarity makes them darker.
    diameters_um : (min, max)
        Disc diameters in µm (log-uniform).
    grain_um : float
        Texture grain diameter in µm (FWHM of a speck).
    texture_rms, texture_skew : float
        Relative rms of the grain texture and its skew (0 = Gaussian;
        larger = sparse bright grains on a darker matrix).
    brightness : float
        Mean grey level before shading and vignetting.
    shading : float
        Relative brightness change across the field (a linear ramp in a random direction).
    vignetting : float
        Relative darkening at the corners (radial, quadratic).
    noise_rms : float
        Relative rms of the pixel noise (white, Gaussian).
    n_cracks : int
        Dark crack lines with bright rims (elongated distractors).
    polarity : {"bright", "dark"}
        Protrusions brighter or darker than their surroundings.
    border_um : float
        Keep protrusions at least this far from the border (beyond their radius).

    Returns
    -------
    micrograph : Micrograph
        uint8 image, calibrated with ``pixel_size``.
    truth : DataFrame
        One row per planted protrusion: ``x_um``, ``y_um``, ``diameter_um``, ``contrast``.

    Examples
    --------
    >>> m, truth = synthetic_micrograph((256, 256), 0.5, seed=1)
    >>> type(m).__name__, m.image.dtype, m.pixel_size, len(truth)
    ('Micrograph', dtype('uint8'), 0.5, 32)
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    rel = _texture(rng, shape, grain_um / pixel_size, texture_rms, texture_skew)
    if n_cracks:
        rel += _cracks(rng, shape, n_cracks, max(1.0, grain_um / pixel_size), 0.5)
    sign = -1.0 if polarity == "dark" else 1.0

    def soft_disc(r: np.ndarray, radius: float, contrast: float) -> np.ndarray:  # edge width 8 % of the radius
        return sign * contrast * 0.5 * (1 - np.tanh((r - radius) / max(0.5, 0.08 * radius)))

    truth, _ = _plant(rng, rel, n_protrusions, diameters_um, contrasts, pixel_size, 4.0, border_um, soft_disc,
                      "contrast")
    yy = (np.arange(ny, dtype=np.float32) - (ny - 1) / 2) / (ny / 2)
    xx = (np.arange(nx, dtype=np.float32) - (nx - 1) / 2) / (nx / 2)
    a = rng.uniform(0, 2 * math.pi)
    ramp = 1 + 0.5 * shading * (math.cos(a) * xx[None, :] + math.sin(a) * yy[:, None])
    vig = 1 - vignetting * (xx[None, :] ** 2 + yy[:, None] ** 2) / 2
    img = brightness * ramp * vig * (1 + rel)
    img += rng.standard_normal(shape, dtype=np.float32) * np.float32(noise_rms * brightness)
    image = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    meta = {"instrument": "synthetic", "seed": seed, "grain_um": grain_um, "pixel_size_source": "synthetic"}
    return Micrograph(image, pixel_size, meta), truth


def match_objects(
    truth: pd.DataFrame, found: pd.DataFrame, max_distance_um: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Match detections to planted objects by centroid distance (greedy, nearest first).

    Parameters
    ----------
    truth, found : DataFrame
        With ``x_um`` and ``y_um`` columns; ``truth`` also ``diameter_um``.
    max_distance_um : float, optional
        Largest accepted centroid distance; default: half the planted
        diameter (at least 2 µm) for each planted object.

    Returns
    -------
    truth_hit : ndarray of bool
        For each planted object, whether a detection was matched to it.
    found_hit : ndarray of bool
        For each detection, whether it was matched to a planted object.
    """
    t = truth[["x_um", "y_um"]].to_numpy(float)
    f = found[["x_um", "y_um"]].to_numpy(float)
    truth_hit = np.zeros(len(t), bool)
    found_hit = np.zeros(len(f), bool)
    if len(t) == 0 or len(f) == 0:
        return truth_hit, found_hit
    if max_distance_um is None:
        lim = np.maximum(truth["diameter_um"].to_numpy(float) / 2, 2.0)
    else:
        lim = np.full(len(t), float(max_distance_um))
    dist = np.hypot(t[:, None, 0] - f[None, :, 0], t[:, None, 1] - f[None, :, 1])
    ii, jj = np.nonzero(dist <= lim[:, None])
    for k in np.argsort(dist[ii, jj], kind="stable"):
        i, j = ii[k], jj[k]
        if not truth_hit[i] and not found_hit[j]:
            truth_hit[i] = found_hit[j] = True
    return truth_hit, found_hit

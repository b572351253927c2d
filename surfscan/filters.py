"""ISO 16610-61 areal Gaussian filter (and the ISO 16610-71 robust variant).

The weighting function is ``s(r) = exp(-pi (r / (alpha * lambda))**2)`` with
``alpha = sqrt(ln 2 / pi)``: a Gaussian with ``sigma = alpha * lambda /
sqrt(2 pi) = 0.1874 lambda`` that transmits 50 % of a sinusoid whose
wavelength equals the cut-off ``lambda``. The kernel is truncated at
``+-lambda`` (0.0004 % of the weight is lost and renormalised).

Borders and non-measured points are handled by normalised (masked)
convolution: the filtered value is ``G*(w z) / G*(w)`` with ``w`` = 1 on
measured points and 0 elsewhere (beyond the border too), so no border rows
are lost and a hole does not pull its neighbours towards zero. Non-measured
points stay NaN in the output.

The 2-D convolution is separable: each axis is convolved directly when the
kernel is short and by zero-padded FFT when it is long.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

from .errors import SurfscanError, SurfscanWarning
from .model import Surface

__all__ = ["gaussian_filter", "robust_gaussian_filter", "apply_filters", "gaussian_kernel", "ALPHA"]

#: ISO 16610-61 constant: alpha = sqrt(ln 2 / pi).
ALPHA = math.sqrt(math.log(2.0) / math.pi)

_FFT_TAPS = 65  # kernels longer than this are applied by FFT


def gaussian_kernel(cutoff: float, spacing: float, samples: int | None = None) -> np.ndarray:
    """Sampled ISO 16610-61 weighting function, truncated at +-cutoff, sum 1.

    Parameters
    ----------
    cutoff : float
        Cut-off wavelength (µm).
    spacing : float
        Sampling interval (µm).
    samples : int, optional
        Length of the data it will filter: taps further than ``samples - 1``
        from the centre only ever meet the zeros beyond the ends, so they are
        left out (the normalised filter is the same; a cut-off of a metre on a
        0.15 µm grid no longer asks for millions of taps).
    """
    half = max(1, int(math.ceil(cutoff / spacing)))
    if samples is not None:
        half = max(1, min(half, int(samples) - 1))
    x = np.arange(-half, half + 1) * spacing
    k = np.exp(-math.pi * (x / (ALPHA * cutoff)) ** 2)
    return k / k.sum()


def _convolve_axis(a: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """Zero-padded ('constant 0 beyond the border') convolution along one axis."""
    if k.size == 1:
        return a * k[0]
    if k.size <= _FFT_TAPS or a.shape[axis] < 2:
        return ndimage.correlate1d(a, k, axis=axis, mode="constant", cval=0.0)
    from scipy import signal  # imported on first use: it adds ~0.5 s to `import surfscan`

    kk = k[None, :] if axis == 1 else k[:, None]
    return signal.oaconvolve(a, kk, mode="same", axes=axis)


def _smooth(a: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    return _convolve_axis(_convolve_axis(a, kx, 1), ky, 0)


def _border_weight(n: int, k: np.ndarray) -> np.ndarray:
    return _convolve_axis(np.ones((1, n)), k, 1)[0]


def _lowpass(z: np.ndarray, valid: np.ndarray | None, kx: np.ndarray, ky: np.ndarray, weight: np.ndarray | None = None):
    """Normalised convolution of z with weights (valid mask times optional robust weights)."""
    if valid is None and weight is None:
        num = _smooth(z, kx, ky)
        den = np.outer(_border_weight(z.shape[0], ky), _border_weight(z.shape[1], kx))
        return num / den
    w = np.ones(z.shape) if weight is None else weight.copy()
    if valid is not None:
        w[~valid] = 0.0
    num = _smooth(np.where(w > 0, z, 0.0) * w, kx, ky)
    den = _smooth(w, kx, ky)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[den <= 1e-12] = np.nan
    return out


def _check(surface: Surface, cutoff: float, kind: str) -> None:
    if not isinstance(surface, Surface):
        raise SurfscanError(f"the Gaussian filter needs a height map (Surface), not {type(surface).__name__}")
    if kind not in ("low", "high"):
        raise SurfscanError(f"filter kind must be 'low' (S-filter) or 'high' (L-filter), not {kind!r}")
    if not (cutoff > 0 and math.isfinite(cutoff)):
        raise SurfscanError(f"the cut-off wavelength must be a positive length in µm, got {cutoff!r}")
    step = max(surface.dx, surface.dy)
    src = f"{surface.meta['source_file']}: " if surface.meta.get("source_file") else ""  # one line naming the file
    if cutoff < 2 * step:
        warnings.warn(
            f"{src}cut-off {cutoff:g} µm is shorter than two pixels ({step:g} µm): the filter barely acts",
            SurfscanWarning,
            stacklevel=3,
        )
    h, w = surface.size_um
    if kind == "high" and cutoff > max(h, w):
        warnings.warn(
            f"{src}cut-off {cutoff:g} µm is longer than the measured field ({w:g} x {h:g} µm)",
            SurfscanWarning,
            stacklevel=3,
        )


def gaussian_filter(surface: Surface, cutoff: float, kind: str = "low", robust: bool = False) -> Surface:
    """ISO 16610-61 areal Gaussian filter.

    Parameters
    ----------
    surface : Surface
    cutoff : float
        Nesting index in µm: ``lambda_s`` for the S-filter (``kind="low"``,
        removes wavelengths shorter than the cut-off) or ``lambda_c`` for the
        L-filter (``kind="high"``, removes wavelengths longer than it and
        keeps the roughness).
    kind : {"low", "high"}
    robust : bool
        Use the ISO 16610-71 robust Gaussian (see :func:`robust_gaussian_filter`).

    Returns
    -------
    Surface
        The filtered surface; NaN where the input was NaN.

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> rough = ss.gaussian_filter(s, 25.0, kind="high")    # L-filter: waviness longer than 25 µm removed
    >>> round(ss.roughness(s, ["Sq"])["Sq"], 4), round(ss.roughness(rough, ["Sq"])["Sq"], 4)
    (0.0842, 0.0821)
    """
    cutoff = float(cutoff)
    _check(surface, cutoff, kind)
    if robust:
        return robust_gaussian_filter(surface, cutoff, kind)
    kx = gaussian_kernel(cutoff, surface.dx, surface.z.shape[1])
    ky = gaussian_kernel(cutoff, surface.dy, surface.z.shape[0])
    z = surface.z
    valid = surface.valid if surface.has_invalid else None
    low = _lowpass(z, valid, kx, ky)
    if valid is not None:
        low[~valid] = np.nan
    out = low if kind == "low" else z - low
    name = "S-filter" if kind == "low" else "L-filter"
    return surface.replace(z=out, step=f"gaussian {name} {cutoff:g} um")


def robust_gaussian_filter(
    surface: Surface, cutoff: float, kind: str = "low", max_iter: int = 20, tol: float = 1e-4
) -> Surface:
    """ISO 16610-71 robust Gaussian filter (Tukey biweight, iterated).

    Deep valleys and protrusions barely pull the mean surface: each iteration
    weights points by ``(1 - (r / c)**2)**2`` for ``|r| < c`` (0 beyond), with
    ``r`` the residual to the current mean surface and ``c = 4.4478 *
    median(|r|)``. Iterates until the mean surface changes by less than
    ``tol * Sq`` or ``max_iter`` is reached.

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> rough = ss.robust_gaussian_filter(s, 25.0, kind="high")
    >>> round(ss.roughness(rough, ["Sa"])["Sa"], 3)
    0.069
    """
    cutoff = float(cutoff)
    _check(surface, cutoff, kind)
    kx = gaussian_kernel(cutoff, surface.dx, surface.z.shape[1])
    ky = gaussian_kernel(cutoff, surface.dy, surface.z.shape[0])
    z = surface.z
    valid = surface.valid
    zv = z[valid]
    if zv.size == 0:
        raise SurfscanError("the surface has no measured points to filter")
    plain = _lowpass(z, valid if surface.has_invalid else None, kx, ky)
    low = plain
    scale = float(np.std(zv)) or 1.0
    for _ in range(max_iter):
        r = z - low
        c = 4.4478 * float(np.median(np.abs(r[valid])))
        if c <= 0:
            break
        u = np.where(valid, r / c, np.inf)
        w = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
        new = _lowpass(z, valid, kx, ky, weight=w)
        new = np.where(np.isnan(new), plain, new)
        delta = float(np.nanmax(np.abs(new - low)))
        low = new
        if delta < tol * scale:
            break
    low = np.where(valid, low, np.nan)
    out = low if kind == "low" else z - low
    name = "S-filter" if kind == "low" else "L-filter"
    return surface.replace(z=out, step=f"robust gaussian {name} {cutoff:g} um")


def apply_filters(
    surface: Surface, lambda_s: float | None = None, lambda_c: float | None = None, robust: bool = False
) -> Surface:
    """S-filter then L-filter, each only when its cut-off is given (µm).

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> s = ss.apply_filters(s, lambda_s=0.8, lambda_c=25.0)
    >>> s.meta["history"]
    ['level plane', 'gaussian S-filter 0.8 um', 'gaussian L-filter 25 um']
    >>> round(ss.roughness(s, ["Sa"])["Sa"], 3)
    0.066
    """
    if lambda_s and lambda_c and float(lambda_s) >= float(lambda_c):
        raise SurfscanError(f"lambda_s ({lambda_s:g} µm) must be shorter than lambda_c ({lambda_c:g} µm): the S-filter "
                            "removes the short wavelengths and the L-filter the long ones, so this leaves no band")
    if lambda_s:
        surface = gaussian_filter(surface, lambda_s, "low", robust=robust)
    if lambda_c:
        surface = gaussian_filter(surface, lambda_c, "high", robust=robust)
    return surface

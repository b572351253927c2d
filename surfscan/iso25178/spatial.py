"""ISO 25178-2 spatial parameters: Sal, Str (from the areal autocorrelation
function) and Std (texture direction, from the angular spectrum).

Autocorrelation
    ``f_ACF(tx, ty)`` is the linear (not circular) autocorrelation of the
    heights about their mean, computed by FFT on a zero-padded grid of at least
    ``(2*ny-1) x (2*nx-1)`` (``scipy.fft.next_fast_len`` sizes, float32) and
    divided at each lag by the number of overlapping points (the unbiased
    estimator). On large maps the lags up to half the field are computed
    first (a grid of ``1.5*ny x 1.5*nx``); every lag is computed only when the
    thresholded region comes near those, so the result is the same. Non-measured points: the heights are set to 0 (the mean) and
    the lag-wise overlap count is the autocorrelation of the validity mask,
    i.e. a normalised correlation; lags with no overlapping pair are undefined.
Sal, Str
    The threshold is ``s * f_ACF(0, 0)`` with ``s = 0.2`` (option
    ``acf_threshold``). The 4-connected region above the threshold around the
    zero lag is found; for every lag just outside it (its 4-neighbours) the
    distance from the origin to the threshold crossing along the ray towards
    it is measured on a cubic B-spline of the ACF. ``Sal`` is the shortest of
    those distances (µm), ``Str`` the shortest divided by the longest. This is
    the construction surfalize 0.19 uses.
    When the region reaches the largest lag (a lay that stays correlated
    across the whole field, such as grooves) the longest decay is not inside
    the field and Str is undefined: by default (option
    ``str_undefined="bound"``) Str is then the shortest length over the
    longest measured one, an upper bound on the true Str, with a
    :class:`~surfscan.errors.SurfscanWarning`; ``"error"`` raises instead. When
    the ACF never falls to the threshold, Sal and Str raise
    :class:`~surfscan.errors.UndefinedParameterError`.
Std
    Texture direction: the angle (degrees, 0 <= Std < 180) of the largest bin
    of the angular spectrum of the 2-D DFT of the mean-removed heights (NaN
    points set to the mean), bins of 0.5 degree (option ``std_step``). The
    angle is measured from the +x axis, counter-clockwise on the map as
    displayed with row 0 at the top (y pointing up the screen), with physical
    frequencies, so dx != dy is handled. By default the bins sum the spectral
    amplitude (angular amplitude density f_AAD, ISO 25178-2:2021, as
    surfalize); ``std_spectrum="power"`` sums the squared amplitude (the
    angular power spectrum). Both give the same angle for a single lay.
    The maximum of the spectrum points ACROSS a lay: parallel grooves whose
    crests run at angle a give Std = (a + 90) mod 180.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

from ..errors import SurfscanError, SurfscanWarning, UndefinedParameterError
from ..model import Surface
from .registry import Context, intermediate, parameter

__all__ = ["autocorrelation_half", "decay_lengths", "texture_direction"]

_MARGIN = 8  # pixels of ACF kept around the region for the spline (boundary influence 0.27**8)
_SMALL = 512 * 512  # below this many points every lag is computed at once


def _correlate_half(a: np.ndarray, ly: int, lx: int) -> np.ndarray:
    """Linear autocorrelation of ``a`` (float32) for lags 0 <= ty <= ly, |tx| <= lx: shape (ly+1, 2*lx+1).

    Zero-padded to at least ``(ny + ly) x (nx + lx)`` points, which keeps those
    lags free of wrap-around.
    """
    ny, nx = a.shape
    py = sfft.next_fast_len(ny + ly)
    px = sfft.next_fast_len(nx + lx, real=True)
    spec = sfft.fft(sfft.rfft(a, n=px, axis=1), n=py, axis=0, overwrite_x=True)
    power = np.empty(spec.shape, dtype=np.float32)
    np.multiply(spec.real, spec.real, out=power)
    power += spec.imag * spec.imag
    del spec
    back = sfft.ifft(power, axis=0, overwrite_x=True)
    del power
    circ = sfft.irfft(back[: ly + 1], n=px, axis=1)
    del back
    half = np.empty((ly + 1, 2 * lx + 1), dtype=np.float32)
    half[:, :lx] = circ[:, px - lx :]
    half[:, lx:] = circ[:, : lx + 1]
    return half


def autocorrelation_half(surface: Surface, lags: tuple[int, int] | None = None) -> np.ndarray:
    """The unbiased ACF (µm²) of a surface's heights about their mean, upper half plane.

    Indexed ``[ty, tx + lx]`` for ``ty = 0 .. ly``, ``tx = -lx .. lx`` (lags in
    points; by default every lag, ``ly = ny-1``, ``lx = nx-1``); float32; NaN
    where no pair of measured points overlaps.
    """
    s = surface
    ny, nx = s.shape
    ly, lx = (ny - 1, nx - 1) if lags is None else (min(lags[0], ny - 1), min(lags[1], nx - 1))
    valid = s.valid
    if not valid.any():
        raise UndefinedParameterError("the surface has no measured points")
    if s.has_invalid:
        mean = float(np.mean(s.z[valid]))
        z0 = np.where(valid, s.z - mean, 0.0).astype(np.float32)
        counts = _correlate_half(valid.astype(np.float32), ly, lx)
        half = _correlate_half(z0, ly, lx)
        ok = counts > 0.5
        half[ok] /= counts[ok]
        half[~ok] = np.nan
        return half
    z0 = (s.z - float(np.mean(s.z))).astype(np.float32)
    half = _correlate_half(z0, ly, lx)
    half /= (ny - np.arange(ly + 1, dtype=np.float32))[:, None]
    half /= (nx - np.abs(np.arange(-lx, lx + 1, dtype=np.float32)))[None, :]
    return half


def _edge_lags(half: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    from . import _acf_kernels as k

    return k.threshold_region(half, threshold)


@intermediate(["Sal", "Str"], start=1)
def decay_lengths(ctx: Context) -> tuple[np.ndarray, bool]:
    """Decay lengths (µm) towards every edge lag of the thresholded ACF, and whether all lie inside the field."""
    s_thr = float(ctx.option("acf_threshold", 0.2))
    if not 0.0 < s_thr < 1.0:
        raise SurfscanError(f"option acf_threshold must be between 0 and 1, not {s_thr}")

    def compute() -> tuple[np.ndarray, bool]:
        from . import _acf_kernels as k

        ny, nx = ctx.surface.shape
        half = None
        if ny * nx > _SMALL:
            # first the lags up to half the field (a smaller FFT); all lags only when the region needs them
            half = autocorrelation_half(ctx.surface, (ny // 2, nx // 2))
            acf0 = float(half[0, (half.shape[1] - 1) // 2])
            er, ec, border, undefined = _edge_lags(half, s_thr * acf0)
            inner = er.size and min(er.min(), ec.min()) >= _MARGIN
            inner = inner and er.max() < 2 * half.shape[0] - 1 - _MARGIN and ec.max() < half.shape[1] - _MARGIN
            if border or not inner:
                half = None
        if half is None:
            half = autocorrelation_half(ctx.surface)  # not cached: only the decay lengths are kept
        ny, w = half.shape
        nx = (w + 1) // 2
        acf0 = float(half[0, nx - 1])
        if not acf0 > 0:
            raise UndefinedParameterError("the surface is flat (zero autocorrelation at zero lag)")
        threshold = s_thr * acf0
        er, ec, border, undefined = _edge_lags(half, threshold)
        if er.size == 0:
            raise UndefinedParameterError(
                f"the autocorrelation stays above {s_thr:g} of its maximum over the whole field; "
                "the field is too small for the correlation length"
            )
        r0, r1 = max(int(er.min()) - _MARGIN, 0), min(int(er.max()) + _MARGIN + 1, 2 * ny - 1)
        c0, c1 = max(int(ec.min()) - _MARGIN, 0), min(int(ec.max()) + _MARGIN + 1, w)
        win = k.window(half, r0, r1, c0, c1)
        np.nan_to_num(win, copy=False, nan=0.0)
        coef = ndimage.spline_filter(win, order=3, mode="mirror")
        lengths = k.decay_lengths(
            coef,
            float(ny - 1 - r0),
            float(nx - 1 - c0),
            (er - r0).astype(np.float64),
            (ec - c0).astype(np.float64),
            threshold,
            ctx.surface.dy,
            ctx.surface.dx,
        )
        return lengths, not (border or undefined)

    return ctx.cached(f"acf_decay_{s_thr!r}", compute)


@parameter("Sal", "um", "spatial", "Autocorrelation length: shortest lag at which the ACF falls to s = 0.2 (option acf_threshold)")
def sal(ctx: Context) -> float:
    lengths, _ = decay_lengths(ctx)
    return float(lengths.min())


@parameter("Str", "1", "spatial", "Texture aspect ratio: fastest over slowest ACF decay to s = 0.2 (1 isotropic, ~0 lay)")
def str_(ctx: Context) -> float:
    lengths, inside = decay_lengths(ctx)
    ratio = float(lengths.min() / lengths.max())
    if inside:
        return ratio
    mode = str(ctx.option("str_undefined", "bound"))
    message = (
        "the autocorrelation does not decay to the threshold inside the field in every direction (a lay longer "
        "than the field)"
    )
    if mode == "error":
        raise UndefinedParameterError(message)
    if mode != "bound":
        raise SurfscanError(f"option str_undefined must be 'bound' or 'error', not {mode!r}")
    warnings.warn(f"Str: {message}; reporting the upper bound {ratio:.4g}", SurfscanWarning, stacklevel=3)
    return ratio


@intermediate(["Std"], start=2)
def texture_direction(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(bin start angles in degrees, angular spectrum) of the mean-removed heights."""
    step = float(ctx.option("std_step", 0.5))
    kind = str(ctx.option("std_spectrum", "amplitude"))
    if kind not in ("amplitude", "power"):
        raise SurfscanError(f"option std_spectrum must be 'amplitude' or 'power', not {kind!r}")
    nbins = int(round(180.0 / step))
    if nbins < 2 or abs(nbins * step - 180.0) > 1e-9:
        raise SurfscanError(f"option std_step must divide 180 degrees, not {step}")

    def compute() -> tuple[np.ndarray, np.ndarray]:
        from . import _acf_kernels as k

        s = ctx.surface
        ny, nx = s.shape
        z0 = s.z - float(np.mean(ctx.values))
        if s.has_invalid:
            z0 = np.where(s.valid, z0, 0.0)
        amp = np.abs(sfft.rfft2(z0.astype(np.float32)))  # float32 is ample to locate a 0.5 degree bin
        if kind == "power":
            amp *= amp
        wcol = np.full(nx // 2 + 1, 2.0)  # the other half plane, except the columns that appear once
        wcol[0] = 1.0
        if nx % 2 == 0:  # the Nyquist column appears once in the full plane, at -f_N
            wcol[-1] = 1.0
        spectrum = k.angular_spectrum(amp, k.angle_bins(ny, nx, float(s.dy), float(s.dx), nbins), wcol, nbins)
        return np.arange(nbins) * step, spectrum

    return ctx.cached(f"angular_{kind}_{step!r}", compute)


@parameter("Std", "deg", "spatial", "Texture direction: angle of the angular spectrum maximum from +x (across the lay)")
def std(ctx: Context) -> float:
    angles, spectrum = texture_direction(ctx)
    if not np.any(spectrum > 0) or not math.isfinite(float(spectrum.max())):
        raise UndefinedParameterError("the surface is flat: no texture direction")
    return float(angles[int(np.argmax(spectrum))])

"""Curves of a height map as outputs: material ratio (Abbott-Firestone) curve, height histogram, PSD, ACF.

Every function takes a :class:`~surfscan.model.Surface` (heights in µm) and
returns a small frozen dataclass of 1-D arrays in physical units, ready to
plot or to write as CSV (``as_columns()``).

Material ratio curve (ISO 25178-2 / ISO 13565-2)
    The sorted measured heights define the inverse curve ``Smc(mr)``
    (linear interpolation between the sorted samples, as
    :mod:`surfscan.iso25178.functional`); the curve is sampled at ``n``
    material ratios from 0 to 100 %. Heights are in the surface's own
    reference (level the surface first to have them about the mean plane),
    so the curve at 50 % is the median height. ``curve.sk`` is the Sk
    construction: the 40 % equivalent straight line, Sk, Smr1, Smr2, Spk,
    Svk, exactly the numbers :func:`surfscan.roughness` reports.
Height histogram
    ``numpy.histogram`` of the measured heights (``bins`` equal bins over
    their range by default 100), with counts and the probability density
    (1/µm).
PSD (as SurfaceTopography defines it)
    ``C(q) = |dx dy sum h exp(-i q.r)|^2 / (Lx Ly)`` (µm⁴) for the 2-D
    spectrum at the wavevectors ``q = 2 pi k / L`` (1/µm, angular: q is
    ``2 pi / wavelength``), radially averaged in logarithmic bins from the
    fundamental ``2 pi / max(Lx, Ly)`` up to the Nyquist wavevector
    ``pi / max(dx, dy)``, the bin edges of SurfaceTopography's ``log``
    collocation (``ceil((decades + 1) * 10)`` edges, 0.01 decade beyond each
    end); each bin reports the mean ``q`` and the mean ``C`` of the
    wavevectors in it, so the numbers agree bin by bin. The heights are mean-removed and
    multiplied by the rotationally symmetric Hann window of
    SurfaceTopography (``w(r) = (1 + cos(pi r / r_max)) / 2`` inside
    ``r_max = min(Lx, Ly) / 2`` around the centre), normalised so that the
    mean of ``w²`` is 1, which is SurfaceTopography's default for
    non-periodic maps; ``window=None`` skips it. The default
    ``window="auto"`` follows SurfaceTopography's rule (no window for a
    periodic map, Hann otherwise) and calls a map periodic when it wraps
    around smoothly: the rms height step across each pair of opposite
    borders is at most 3 times the rms step between neighbouring points and
    at most a third of the rms difference between two points far apart
    (sqrt 2 times the standard deviation)
    (true of synthesised periodic surfaces, never of a measured field, whose
    opposite borders differ like points a field apart; a map with too short
    a correlation to tell gets the window, which then changes little). The 1-D PSD along the rows
    is ``C1D(q) = |dx sum h exp(-i q x)|^2 / Lx`` (µm³) averaged over the
    rows, each row Hann-windowed along x (mean of ``w²`` = 1) unless periodic,
    binned the same way (the map's mean removed, not each row's: level
    with ``"rows"`` first for scan-line offsets). A self-affine surface with Hurst exponent ``H``
    has ``C ~ q^(-2(1+H))`` and ``C1D ~ q^(-(1+2H))``.
ACF
    The areal autocorrelation function of the heights about their mean,
    unbiased (each lag divided by its number of overlapping pairs, NaN points
    left out; the estimator of Sal and Str), normalised to 1 at the zero
    lag, as a 2-D map over lags ``-L/2 .. L/2`` and radially averaged (bins
    one pixel wide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import SurfscanError
from .iso25178 import functional
from .iso25178.registry import Context
from .iso25178.spatial import autocorrelation_half
from .model import Surface

__all__ = [
    "material_ratio_curve",
    "height_histogram",
    "psd",
    "acf",
    "is_periodic",
    "MaterialRatioCurve",
    "SkConstruction",
    "HeightHistogram",
    "PowerSpectrum",
    "Autocorrelation",
]


def _check(surface: Surface, what: str) -> None:
    if not isinstance(surface, Surface):
        raise SurfscanError(f"{what} needs a height map (Surface), not {type(surface).__name__}")
    if surface.has_invalid and not surface.valid.any():
        raise SurfscanError(f"{what}: the surface has no measured points")


# --- material ratio curve -------------------------------------------------------------------------


@dataclass(frozen=True)
class SkConstruction:
    """The ISO 13565-2 construction on the material ratio curve (heights in the curve's reference).

    Attributes
    ----------
    line_top_um, line_bottom_um : float
        Heights of the equivalent straight line at 0 % and 100 % material ratio.
    window_percent : tuple of float
        Material ratios where the 40 % secant window starts and ends.
    Sk, Spk, Svk : float
        Core height, reduced peak height, reduced dale depth (µm).
    Smr1, Smr2 : float
        Material ratios at the top and bottom of the core (%).
    """

    line_top_um: float
    line_bottom_um: float
    window_percent: tuple[float, float]
    Sk: float
    Spk: float
    Svk: float
    Smr1: float
    Smr2: float


@dataclass(frozen=True)
class MaterialRatioCurve:
    """Areal material ratio (Abbott-Firestone) curve; unpacks as ``mr, height = curve``.

    Attributes
    ----------
    mr : ndarray
        Material ratios in % (0 .. 100, ascending).
    height : ndarray
        Height (µm) at which the material ratio is ``mr`` (descending).
    sk : SkConstruction
        The Sk construction.
    """

    mr: np.ndarray
    height: np.ndarray
    sk: SkConstruction
    _sorted: np.ndarray
    _offset: float

    def __iter__(self):
        return iter((self.mr, self.height))

    def height_at(self, mr: float | np.ndarray) -> float | np.ndarray:
        """Smc: height (µm) where the material ratio is ``mr`` (%)."""
        return functional.MaterialCurve(self._sorted).height(mr) + self._offset

    def ratio_at(self, c: float) -> float:
        """Smr: material ratio (%) at height ``c`` (µm, the curve's reference)."""
        return functional.MaterialCurve(self._sorted).ratio(float(c) - self._offset)

    def as_columns(self) -> dict[str, np.ndarray]:
        """``{"mr_percent": ..., "height_um": ...}`` for CSV."""
        return {"mr_percent": self.mr, "height_um": self.height}


def material_ratio_curve(surface: Surface, n: int = 1001) -> MaterialRatioCurve:
    """The areal material ratio curve and its Sk construction.

    Parameters
    ----------
    surface : Surface
        Heights in µm; non-measured points are left out.
    n : int
        Number of material ratios sampled from 0 to 100 % (1001: 0.1 % steps).

    Returns
    -------
    MaterialRatioCurve
        ``mr`` (%), ``height`` (µm, the surface's reference), ``sk``.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> z = np.random.default_rng(0).normal(2.0, 0.1, (50, 60))
    >>> curve = material_ratio_curve(ss.Surface(z, 1.0, 1.0))
    >>> mr, h = curve
    >>> bool(np.isclose(curve.height_at(50.0), np.median(z)))
    True

    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> curve = material_ratio_curve(s)
    >>> round(curve.sk.Sk, 3), round(curve.sk.Smr2, 1)          # core height (µm), material ratio (%)
    (0.26, 93.4)
    """
    _check(surface, "the material ratio curve")
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise SurfscanError(f"n must be an integer >= 2 material ratios, got {n!r}")
    ctx = Context(surface)
    curve = functional.material_curve(ctx)  # sorted heights about their mean
    offset = float(np.mean(ctx.values))
    mr = np.linspace(0.0, 100.0, int(n))
    top, bottom = functional.equivalent_line(ctx)
    slope = (bottom - top) / 100.0
    h = curve.height(np.linspace(0.0, 100.0, functional._SAMPLES))
    w = int(round(functional.LINE_WIDTH / 100.0 * (functional._SAMPLES - 1)))
    start = float(np.argmax(h[w:] - h[:-w])) * 100.0 / (functional._SAMPLES - 1)
    sk = SkConstruction(
        line_top_um=top + offset,
        line_bottom_um=top + 100.0 * slope + offset,
        window_percent=(start, start + functional.LINE_WIDTH),
        Sk=float(functional.sk(ctx)),
        Spk=float(functional.spk(ctx)),
        Svk=float(functional.svk(ctx)),
        Smr1=float(functional.smr1(ctx)),
        Smr2=float(functional.smr2(ctx)),
    )
    return MaterialRatioCurve(mr, curve.height(mr) + offset, sk, curve.v, offset)


# --- histogram ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeightHistogram:
    """Histogram of the measured heights.

    Attributes
    ----------
    edges_um : ndarray
        Bin edges (µm), one more than the bins.
    centres_um : ndarray
        Bin centres (µm).
    counts : ndarray
        Points per bin.
    density_per_um : ndarray
        Probability density (1/µm): counts / (total * bin width); integrates to 1.
    """

    edges_um: np.ndarray
    centres_um: np.ndarray
    counts: np.ndarray
    density_per_um: np.ndarray

    def as_columns(self) -> dict[str, np.ndarray]:
        return {"height_um": self.centres_um, "count": self.counts, "density_per_um": self.density_per_um}


#: More bins than this (or than measured points, when there are more) hold nothing a histogram can show
MAX_BINS = 100_000


def height_histogram(surface: Surface, bins: int | np.ndarray = 100) -> HeightHistogram:
    """Histogram of the measured heights.

    Parameters
    ----------
    surface : Surface
    bins : int or array
        Number of equal bins over the height range (100), or the bin edges (µm).

    Returns
    -------
    HeightHistogram

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> h = ss.height_histogram(s, bins=50)
    >>> int(h.counts.sum()) == int(s.valid.sum()), len(h.centres_um)
    (True, 50)
    """
    _check(surface, "the height histogram")
    v = Context(surface).values
    if isinstance(bins, (int, np.integer)) and bins > max(MAX_BINS, v.size):
        raise SurfscanError(f"bins must be at most {max(MAX_BINS, v.size)} (the larger of {MAX_BINS} and the "
                            f"number of measured points), got {bins}")
    try:
        counts, edges = np.histogram(v, bins=bins)
    except (ValueError, TypeError) as exc:
        raise SurfscanError(f"bins must be a positive count or increasing edges in µm: {exc}") from None
    widths = np.diff(edges)
    density = counts / (v.size * np.where(widths > 0, widths, 1.0))
    return HeightHistogram(edges, 0.5 * (edges[1:] + edges[:-1]), counts, density)


# --- PSD ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerSpectrum:
    """Power spectral density (SurfaceTopography's definition and units).

    Attributes
    ----------
    q : ndarray
        Wavevectors of the radial average (1/µm, ``2 pi / wavelength``).
    C : ndarray
        Radially averaged 2-D PSD (µm⁴).
    q_rows : ndarray
        Wavevectors of the 1-D PSD along the rows (1/µm).
    C_rows : ndarray
        1-D PSD along the rows, averaged over the rows (µm³).
    window : str or None
        The window applied ("hann" or None, also after ``"auto"``).
    """

    q: np.ndarray
    C: np.ndarray
    q_rows: np.ndarray
    C_rows: np.ndarray
    window: str | None

    def as_columns(self) -> dict[str, np.ndarray]:
        return {"q_per_um": self.q, "C_um4": self.C}

    def rows_as_columns(self) -> dict[str, np.ndarray]:
        return {"q_per_um": self.q_rows, "C1D_um3": self.C_rows}


def _hann_radial(ny: int, nx: int, dy: float, dx: float) -> np.ndarray:
    """SurfaceTopography's rotationally symmetric Hann window, mean of its square 1."""
    y = (np.arange(ny) - ny // 2) * dy
    x = (np.arange(nx) - nx // 2) * dx
    r = np.hypot(y[:, None], x[None, :])
    rmax = min(nx * dx, ny * dy) / 2
    w = np.where(r < rmax, 0.5 * (1 + np.cos(np.pi * r / rmax)), 0.0)
    return w * math.sqrt(w.size / float(np.sum(w * w)))


def is_periodic(z: np.ndarray) -> bool:
    """True when the map wraps around smoothly along both axes (see the module docstring)."""

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean(a * a)))

    def wraps(a: np.ndarray) -> bool:  # along axis 1
        n = a.shape[1]
        if n < 4:
            return False
        wrap, step = rms(a[:, 0] - a[:, -1]), rms(np.diff(a, axis=1))
        far = math.sqrt(2) * float(np.std(a))  # rms difference of two points far apart
        return wrap <= 3 * step and 3 * wrap <= far

    return wraps(z) and wraps(z.T)


def psd(surface: Surface, window: str | None = "auto", per_decade: int = 10) -> PowerSpectrum:
    """Radially averaged isotropic PSD and the 1-D PSD along the rows.

    Parameters
    ----------
    surface : Surface
        Heights in µm, no non-measured points (fill them first with
        :func:`surfscan.outliers.fill_nonmeasured`).
    window : {"auto", "hann", None}
        Window against edge effects: ``"auto"`` (default) is Hann unless
        the map is periodic (see the module docstring).
    per_decade : int
        Logarithmic bins per decade of q.

    Returns
    -------
    PowerSpectrum
        ``q`` (1/µm) and ``C`` (µm⁴); ``q_rows`` and ``C_rows`` (µm³).

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> s = ss.fill_nonmeasured(s)                           # the PSD needs a complete map
    >>> spectrum = ss.psd(s)
    >>> len(spectrum.q), round(float(spectrum.q[0]), 4)      # 1/µm: 2 pi / the longer side
    (35, 0.0524)
    """
    _check(surface, "the PSD")
    if surface.has_invalid:
        raise SurfscanError(
            "the PSD needs a complete map: fill the non-measured points first "
            "(surfscan.outliers.fill_nonmeasured, or --fill on the command line)"
        )
    if window not in ("auto", "hann", None):
        raise SurfscanError(f"window must be 'auto', 'hann' or None, not {window!r}")
    ny, nx = surface.shape
    if ny < 4 or nx < 4:
        raise SurfscanError(f"the PSD needs at least 4 x 4 points, got {ny} x {nx}")
    if window == "auto":
        window = None if is_periodic(surface.z) else "hann"
    dx, dy = surface.dx, surface.dy
    lx, ly = nx * dx, ny * dy
    h = surface.z - float(np.mean(surface.z))
    if window == "hann":
        h = h * _hann_radial(ny, nx, dy, dx)
    spec = np.fft.rfft2(h) * (dx * dy)
    c2 = (spec.real**2 + spec.imag**2) / (lx * ly)
    qy = 2 * np.pi * np.fft.fftfreq(ny, dy)
    qx = 2 * np.pi * np.fft.rfftfreq(nx, dx)
    qq = np.hypot(qy[:, None], qx[None, :])
    weight = np.full(qx.size, 2.0)  # the rfft half-plane: each column stands for +-qx ...
    weight[0] = 1.0  # ... except qx = 0
    if nx % 2 == 0:
        weight[-1] = 1.0  # and the Nyquist column
    wmap = np.broadcast_to(weight[None, :], qq.shape)
    qmin, qmax = 2 * np.pi / max(lx, ly), np.pi / max(dx, dy)
    q, c = _log_bins_weighted(qq.ravel(), c2.ravel(), wmap.ravel(), qmin, qmax, per_decade)
    rows = surface.z - float(np.mean(surface.z))  # the map's mean, as SurfaceTopography (level "rows" for more)
    if window == "hann":
        w1 = 0.5 * (1 - np.cos(2 * np.pi * np.arange(nx) / nx))  # scipy's periodic 'hann' (SurfaceTopography)
        rows = rows * (w1 * math.sqrt(nx / float(np.sum(w1 * w1))))[None, :]
    c1 = np.mean(np.abs(np.fft.rfft(rows, axis=1) * dx) ** 2, axis=0) / lx
    q1 = 2 * np.pi * np.arange(nx // 2) / lx  # 0 <= q < pi / dx, as SurfaceTopography
    c1 = c1[: nx // 2]
    q1, c1 = _log_bins_weighted(q1[1:], c1[1:], np.ones(q1.size - 1), 2 * np.pi / lx, np.pi / dx, per_decade)
    return PowerSpectrum(q, c, q1, c1, window)


def _log_bins_weighted(q, c, w, qmin: float, qmax: float, per_decade: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean q and mean C in logarithmic bins between qmin and qmax (empty bins dropped)."""
    n_edges = max(2, int(math.ceil((math.log10(qmax) - math.log10(qmin) + 1) * per_decade)))
    edges = 10 ** np.linspace(math.log10(qmin) - 0.01, math.log10(qmax) + 0.01, n_edges)  # SurfaceTopography's grid
    nb = n_edges - 1
    keep = (q >= edges[0]) & (q <= edges[-1]) & (q > 0)
    q, c, w = q[keep], c[keep], w[keep]
    which = np.clip(np.searchsorted(edges, q, side="right") - 1, 0, nb - 1)
    n = np.bincount(which, weights=w, minlength=nb)
    sq = np.bincount(which, weights=q * w, minlength=nb)
    sc = np.bincount(which, weights=c * w, minlength=nb)
    ok = n > 0
    return sq[ok] / n[ok], sc[ok] / n[ok]


# --- ACF ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Autocorrelation:
    """Normalised areal autocorrelation function.

    Attributes
    ----------
    tx_um, ty_um : ndarray
        Lag axes of ``map`` (µm), symmetric about 0.
    map : ndarray, shape (ty, tx)
        ACF normalised to 1 at the zero lag (NaN where no pair overlaps).
    r_um : ndarray
        Lag distances of the radial average (µm).
    radial : ndarray
        Radially averaged ACF.
    variance_um2 : float
        ACF at the zero lag before normalisation (Sq², µm²).
    """

    tx_um: np.ndarray
    ty_um: np.ndarray
    map: np.ndarray
    r_um: np.ndarray
    radial: np.ndarray
    variance_um2: float

    def as_columns(self) -> dict[str, np.ndarray]:
        return {"lag_um": self.r_um, "acf": self.radial}


def acf(surface: Surface, max_lag_fraction: float = 0.5) -> Autocorrelation:
    """Areal autocorrelation function, 2-D and radially averaged.

    Parameters
    ----------
    surface : Surface
        Heights in µm; non-measured points are left out of every lag.
    max_lag_fraction : float
        Largest lag as a fraction of the field along each axis (0.5).

    Returns
    -------
    Autocorrelation

    Examples
    --------
    >>> import surfscan as ss
    >>> s = ss.fill_nonmeasured(ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane"))
    >>> a = ss.acf(s)
    >>> a.map.shape, round(float(a.radial[0]), 3)            # normalised: 1 at zero lag
    ((599, 799), 1.0)
    """
    _check(surface, "the ACF")
    if not 0 < max_lag_fraction <= 1:
        raise SurfscanError(f"max_lag_fraction must be in (0, 1], got {max_lag_fraction!r}")
    ny, nx = surface.shape
    ly, lx = max(1, int(max_lag_fraction * (ny - 1))), max(1, int(max_lag_fraction * (nx - 1)))
    half = autocorrelation_half(surface, (ly, lx)).astype(np.float64)  # [ty 0..ly, tx -lx..lx]
    c0 = float(half[0, lx])
    if not c0 > 0:
        raise SurfscanError("the ACF is undefined for a flat surface (zero variance)")
    full = np.concatenate([half[:0:-1, ::-1], half], axis=0) / c0  # ACF(-t) = ACF(t)
    ty = np.arange(-ly, ly + 1) * surface.dy
    tx = np.arange(-lx, lx + 1) * surface.dx
    r = np.hypot(ty[:, None], tx[None, :])
    step = min(surface.dx, surface.dy)
    which = np.rint(r / step).astype(np.int64).ravel()
    vals = full.ravel()
    ok = np.isfinite(vals)
    n = np.bincount(which[ok])
    s = np.bincount(which[ok], weights=vals[ok])
    rr = np.bincount(which[ok], weights=r.ravel()[ok])
    keep = n > 0
    radial_r, radial = rr[keep] / n[keep], s[keep] / n[keep]
    rmax = min(ly * surface.dy, lx * surface.dx)
    inside = radial_r <= rmax + 1e-9
    return Autocorrelation(tx, ty, full, radial_r[inside], radial[inside], c0)

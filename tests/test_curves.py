"""Curves as outputs: material ratio curve, height histogram, PSD (vs SurfaceTopography), ACF, CLI."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import surfscan as ss
from surfscan.cli import main
from surfscan.curves import acf, height_histogram, material_ratio_curve, psd
from surfscan.errors import SurfscanError


def self_affine(shape: tuple[int, int], hurst: float, seed: int, dx: float = 0.5) -> np.ndarray:
    """Fourier synthesis written here from the definition: |h(q)| ~ q^-(1+H), so C(q) ~ q^-2(1+H); random phases."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    qy = 2 * np.pi * np.fft.fftfreq(ny, dx)
    qx = 2 * np.pi * np.fft.rfftfreq(nx, dx)
    q = np.hypot(qy[:, None], qx[None, :])
    q[0, 0] = np.inf
    amp = q ** (-(1 + hurst))
    spec = amp * np.exp(2j * np.pi * rng.random(q.shape))
    z = np.fft.irfft2(spec, s=shape)
    return z / z.std() * 0.2


def middle_decade(q: np.ndarray) -> np.ndarray:
    centre = math.sqrt(q.min() * q.max())
    return (q > centre / math.sqrt(10)) & (q < centre * math.sqrt(10))


# --- material ratio curve -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_material_ratio_curve_at_50_percent_is_the_median(seed) -> None:
    rng = np.random.default_rng(seed)
    z = rng.gamma(2.0, 0.1, size=(81, 97)) + 3.0  # skewed, offset, not levelled
    z[rng.random(z.shape) < 0.03] = np.nan
    curve = material_ratio_curve(ss.Surface(z, 0.5, 0.5))
    mr, height = curve
    assert curve.height_at(50.0) == pytest.approx(float(np.nanmedian(z)), abs=1e-12)
    assert height[np.searchsorted(mr, 50.0)] == pytest.approx(float(np.nanmedian(z)), abs=1e-12)
    assert mr[0] == 0 and mr[-1] == 100 and np.all(np.diff(height) <= 0)
    assert height[0] == pytest.approx(np.nanmax(z)) and height[-1] == pytest.approx(np.nanmin(z))
    for c in (3.05, 3.2, 3.4):
        assert curve.height_at(curve.ratio_at(c)) == pytest.approx(c, abs=1e-9)


def test_sk_construction_matches_the_parameters() -> None:
    z = np.random.default_rng(4).gamma(1.5, 0.2, size=(120, 150))
    s = ss.level(ss.Surface(z, 1.0, 1.0), "plane")
    sk = material_ratio_curve(s).sk
    ref = ss.roughness(s, ["Sk", "Spk", "Svk", "Smr1", "Smr2"])
    assert [sk.Sk, sk.Spk, sk.Svk, sk.Smr1, sk.Smr2] == pytest.approx(list(ref.values()), rel=1e-12)
    assert sk.line_top_um - sk.line_bottom_um == pytest.approx(sk.Sk, rel=1e-12)
    assert sk.window_percent[1] - sk.window_percent[0] == pytest.approx(40.0)
    curve = material_ratio_curve(s)
    assert curve.ratio_at(sk.line_top_um) == pytest.approx(sk.Smr1, rel=1e-9)


# --- histogram ----------------------------------------------------------------------------------


def test_height_histogram_counts_and_density() -> None:
    z = np.random.default_rng(1).normal(1.0, 0.1, (100, 120))
    z[:5] = np.nan
    h = height_histogram(ss.Surface(z, 1, 1), bins=50)
    assert h.counts.sum() == np.count_nonzero(~np.isnan(z)) and h.counts.size == 50
    assert float(np.sum(h.density_per_um * np.diff(h.edges_um))) == pytest.approx(1.0)
    peak = h.centres_um[np.argmax(h.density_per_um)]
    assert abs(peak - 1.0) < 0.05
    assert h.density_per_um.max() == pytest.approx(1 / (0.1 * math.sqrt(2 * math.pi)), rel=0.15)
    with pytest.raises(SurfscanError, match="bins"):
        height_histogram(ss.Surface(z, 1, 1), bins=-3)
    # a billion bins once asked for 7.5 GiB of edges (and the CLI was killed): refused, saying the limit
    with pytest.raises(SurfscanError, match="bins must be at most 100000"):
        height_histogram(ss.Surface(z, 1, 1), bins=10**9)


# --- PSD ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, crop", [(0, False), (1, False), (2, False), (3, True), (4, True)])
def test_psd_of_a_self_affine_surface_has_slope_minus_2_1_plus_h(seed, crop) -> None:
    z = self_affine((1024, 1536), 0.8, seed)[:512, :768] if crop else self_affine((512, 768), 0.8, seed)
    p = psd(ss.Surface(z, 0.5, 0.5))
    assert p.window == ("hann" if crop else None)
    mid = middle_decade(p.q)
    slope = np.polyfit(np.log(p.q[mid]), np.log(p.C[mid]), 1)[0]
    # a periodic map needs no window and gives the slope to a few 0.01; a Hann-windowed crop is one
    # periodogram of a random field: its slope scatters by about 0.15 (std over seeds) around -3.6
    assert slope == pytest.approx(-3.6, abs=0.3 if crop else 0.15)
    mid1 = middle_decade(p.q_rows)
    slope1 = np.polyfit(np.log(p.q_rows[mid1]), np.log(p.C_rows[mid1]), 1)[0]
    assert slope1 == pytest.approx(-2.6, abs=0.2)  # 1-D: -(1 + 2H)


@pytest.mark.parametrize(
    "seed, shape, dx, periodic", [(3, (256, 384), 0.5, False), (4, (300, 200), 0.2, False), (5, (256, 256), 1.0, True)]
)
def test_psd_agrees_with_surface_topography(seed, shape, dx, periodic) -> None:
    st = pytest.importorskip("SurfaceTopography")
    z = self_affine(shape, 0.8, seed, dx) if periodic else self_affine((2 * shape[0], 2 * shape[1]), 0.8, seed, dx)
    z = z[: shape[0], : shape[1]]  # a crop of a larger periodic map is not periodic: Hann window
    z -= z.mean()
    p = psd(ss.Surface(z, dx, dx))
    assert p.window == (None if periodic else "hann")
    ny, nx = shape
    topo = st.Topography(z.T, (nx * dx, ny * dx), periodic=periodic)  # SurfaceTopography indexes [x, y]
    q_ref, c_ref = topo.power_spectrum_from_area()
    ok = ~np.ma.getmaskarray(c_ref)  # SurfaceTopography masks empty bins
    q_ref, c_ref = np.ma.getdata(q_ref), np.ma.getdata(c_ref)
    ref = np.exp(np.interp(np.log(p.q), np.log(q_ref[ok]), np.log(c_ref[ok])))
    mid = middle_decade(p.q)
    assert np.all(np.abs(p.C[mid] / ref[mid] - 1) < 0.05)
    np.testing.assert_allclose(p.q, q_ref[ok], rtol=1e-9)  # same bins, same definition: bin by bin
    np.testing.assert_allclose(p.C, c_ref[ok], rtol=1e-9)
    q1, c1 = topo.power_spectrum_from_profile()
    ok1 = ~np.ma.getmaskarray(c1)
    c1 = np.ma.getdata(c1)
    np.testing.assert_allclose(p.C_rows, c1[ok1], rtol=1e-9)


def test_psd_peak_of_a_sinusoid_is_at_2pi_over_the_wavelength() -> None:
    yy, xx = np.mgrid[0:256, 0:256] * 0.25
    wavelength = 8.0
    z = 0.3 * np.sin(2 * np.pi * xx / wavelength)
    p = psd(ss.Surface(z, 0.25, 0.25), window=None)
    q_peak = p.q[np.argmax(p.C)]
    assert q_peak == pytest.approx(2 * np.pi / wavelength, rel=0.12)
    assert p.q_rows[np.argmax(p.C_rows)] == pytest.approx(2 * np.pi / wavelength, rel=0.12)


def test_psd_needs_a_complete_map() -> None:
    z = np.random.default_rng(0).normal(size=(32, 32))
    z[3, 3] = np.nan
    with pytest.raises(SurfscanError, match="fill the non-measured"):
        psd(ss.Surface(z, 1, 1))
    with pytest.raises(SurfscanError, match="window"):
        psd(ss.Surface(np.nan_to_num(z), 1, 1), window="blackman")


# --- ACF ----------------------------------------------------------------------------------------


def test_acf_of_a_sinusoid_and_symmetry() -> None:
    yy, xx = np.mgrid[0:200, 0:240] * 0.5
    z = np.sin(2 * np.pi * xx / 20.0) + 0.01 * np.random.default_rng(0).normal(size=xx.shape)
    a = acf(ss.Surface(z, 0.5, 0.5))
    cy, cx = a.ty_um.size // 2, a.tx_um.size // 2
    assert a.map[cy, cx] == pytest.approx(1.0) and a.ty_um[cy] == 0 and a.tx_um[cx] == 0
    np.testing.assert_allclose(a.map, a.map[::-1, ::-1], atol=1e-6)
    lag = np.abs(a.tx_um) <= 20
    np.testing.assert_allclose(a.map[cy, lag], np.cos(2 * np.pi * a.tx_um[lag] / 20.0), atol=0.05)
    np.testing.assert_allclose(a.map[:, cx], 1.0, atol=0.01)  # no change along y
    assert a.variance_um2 == pytest.approx(np.var(z), rel=1e-3)


def test_acf_radial_average_decays_for_correlated_noise() -> None:
    from surfscan.synthetic import correlated_noise

    z = correlated_noise(np.random.default_rng(2), (256, 256), 4.0)
    z[10:20, 10:20] = np.nan
    a = acf(ss.Surface(z, 1.0, 1.0))
    assert a.radial[0] == pytest.approx(1.0)
    assert a.radial[a.r_um > 30].max() < 0.2 and np.all(np.diff(a.radial[a.r_um < 10]) < 0)


# --- CLI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, header", [("abbott", "mr_percent"), ("histogram", "height_um"), ("psd", "q_per_um"), ("acf", "lag_um")]
)
def test_cli_curves_write_csv_and_png(tmp_path, capsys, kind, header) -> None:
    z = self_affine((96, 128), 0.8, 5)
    src = tmp_path / "map.npy"
    np.save(src, z)
    out_csv, out_png = tmp_path / f"{kind}.csv", tmp_path / f"{kind}.png"
    assert main(["curves", str(src), "--kind", kind, "--csv", str(out_csv), "--png", str(out_png)]) == 0
    rows = list(csv.reader(out_csv.open()))
    assert rows[0][0] == header and len(rows) > 10
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["curves", str(src), "--kind", kind]) == 0
    assert capsys.readouterr().out.splitlines()[0].split(",")[0] == header


def test_cli_curves_abbott_matches_library_and_fills_for_psd(tmp_path, capsys) -> None:
    z = self_affine((64, 80), 0.8, 6)
    z[5:8, 5:9] = np.nan
    src = tmp_path / "map.npy"
    np.save(src, z)
    assert main(["curves", str(src), "--kind", "abbott", "--level", "none"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    mid = [r for r in rows[1:] if float(r[0]) == 50.0][0]
    assert float(mid[1]) == pytest.approx(float(np.nanmedian(z)), abs=1e-9)
    assert main(["curves", str(src), "--kind", "psd"]) == 0
    assert "12 non-measured points filled" in capsys.readouterr().err

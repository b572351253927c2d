"""Olympus LEXT/OLS, Zygo datx and Sensofar plux readers on files built from their documented layouts.

No instrument file of these formats is available here, so each test builds
one (tests/vendor_files.py) and, where a peer reader exists, checks that
surfalize or SurfaceTopography reads the same numbers from the same file.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from vendor_files import make_datx, make_lext, make_ols, make_plux

from surfscan.errors import FormatError, SurfscanError
from surfscan.io import get_format, read
from surfscan.io.registry import detect


@pytest.fixture
def counts():
    rng = np.random.default_rng(11)
    return rng.integers(0, 65535, size=(5, 7)).astype(np.uint16)


def _peers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = pytest.importorskip("SurfaceTopography")
        sz = pytest.importorskip("surfalize")
    return st, sz


# ----------------------------------------------------------------------------- LEXT


def test_lext_heights_calibration_and_invalid_mask(tmp_path, counts):
    invalid = np.zeros(counts.shape, bool)
    invalid[0, :2] = True
    s = read(make_lext(tmp_path / "a.lext", counts, dx_pm=125_000, dy_pm=126_000, z_pm=2000, invalid=invalid))
    assert (s.dx, s.dy) == pytest.approx((0.125, 0.126))
    np.testing.assert_allclose(s.z[~invalid], counts[~invalid] * 2e-3)
    assert np.isnan(s.z[invalid]).all() and s.invalid_fraction == pytest.approx(2 / counts.size)
    assert s.meta["objective"] == "MPLAPON50XLEXT"
    assert s.meta["channels"] == ["intensity", "height"]
    assert not get_format("lext").verified


def test_lext_intensity_channel(tmp_path, counts):
    s = read(make_lext(tmp_path / "a.lext", counts, intensity=np.full(counts.shape, 777, np.uint16)),
             channel="intensity")
    np.testing.assert_array_equal(s.z, 777.0)
    assert "intensity" in s.meta["z_unit"]


def test_lext_detected_by_content(tmp_path, counts):
    path = make_lext(tmp_path / "a.tif", counts)
    assert detect(path).name == "lext"


def test_lext_agrees_with_surfalize(tmp_path, counts):
    _, sz = _peers()
    path = make_lext(tmp_path / "a.lext", counts)
    ours = read(path)
    other = sz.Surface.load(str(path))
    np.testing.assert_allclose(ours.z, other.data, rtol=1e-12)
    assert (other.step_x, other.step_y) == pytest.approx((ours.dx, ours.dy))


def test_lext_without_height_scale_is_a_clear_error(tmp_path, counts):
    import tifffile

    path = tmp_path / "bad.lext"
    with tifffile.TiffWriter(path) as tw:
        tw.write(counts, description="<TiffTagDescData><HeightInfo/></TiffTagDescData>", metadata=None)
        tw.write(counts, description="HEIGHT", metadata=None)
    with pytest.raises(FormatError, match="HeightDataPerPixelX"):
        read(path)


# ----------------------------------------------------------------------------- OLS


def test_ols_heights_and_pixel_size(tmp_path, counts):
    s = read(make_ols(tmp_path / "a.ols", counts, xy_nm=250.0, z_nm=10.0))
    assert s.dx == s.dy == pytest.approx(0.25)
    np.testing.assert_allclose(s.z, counts * 0.01)
    assert s.meta["format"] == "ols" and s.meta["channels"] == ["height", "intensity"]
    np.testing.assert_array_equal(read(tmp_path / "a.ols", channel="intensity").z, 50.0)
    assert detect(make_ols(tmp_path / "b.tif", counts)).name == "ols"


# ----------------------------------------------------------------------------- datx


@pytest.fixture
def heights():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 50, size=(6, 8))
    z[1, 2] = np.nan
    return z


@pytest.mark.parametrize("unit,scale", [("NanoMeters", 1e-3), ("MicroMeters", 1.0), ("Meters", 1e6)])
def test_datx_units_spacing_and_no_data(tmp_path, heights, unit, scale):
    s = read(make_datx(tmp_path / "a.datx", heights, unit=unit, step_m=0.4e-6))
    assert s.dx == s.dy == pytest.approx(0.4)
    valid = ~np.isnan(heights)
    np.testing.assert_allclose(s.z[valid], heights[valid] * scale, rtol=1e-12)
    assert np.isnan(s.z[1, 2]) and s.invalid_fraction == pytest.approx(1 / heights.size)
    assert s.meta["model"] == "NewView 9000" and s.meta["wavelength_nm"] == pytest.approx(570.0)


def test_datx_fixed_size_converters_and_nan_no_data(tmp_path, heights):
    s = read(make_datx(tmp_path / "a.datx", heights, vlen=False, no_data=None))
    assert np.isnan(s.z[1, 2]) and s.dx == pytest.approx(0.5)


def test_datx_intensity_and_wave_units(tmp_path, heights):
    path = make_datx(tmp_path / "a.datx", heights)
    np.testing.assert_array_equal(read(path, channel="intensity").z, 123.0)
    with pytest.raises(FormatError, match="not a length"):
        read(make_datx(tmp_path / "w.datx", heights, unit="Waves"))


def test_datx_hanging_hdf5_read_is_killed(tmp_path, heights, monkeypatch):
    """The HDF5 library can loop forever on a corrupt file; the isolated read gives up with a clear error."""
    import time

    import surfscan.io.zygo_datx as datx

    path = make_datx(tmp_path / "a.datx", heights)
    monkeypatch.setattr(datx, "READ_TIMEOUT_S", 1.0)
    monkeypatch.setattr(datx, "_read_in_process", lambda p, c: time.sleep(60))
    t0 = time.perf_counter()
    with pytest.raises(FormatError, match="did not finish"):
        read(path)
    assert time.perf_counter() - t0 < 10


def test_datx_in_process_read_matches_isolated(tmp_path, heights):
    path = make_datx(tmp_path / "a.datx", heights)
    np.testing.assert_array_equal(read(path, isolate=False).z, read(path).z)


def test_datx_detected_by_content(tmp_path, heights):
    assert detect(make_datx(tmp_path / "a.h5", heights)).name == "datx"


def test_datx_agrees_with_surfacetopography(tmp_path, heights):
    st, _ = _peers()
    path = make_datx(tmp_path / "a.datx", heights, unit="NanoMeters")
    ours = read(path)
    topo = st.open_topography(str(path)).topography()
    theirs = np.ma.filled(topo.heights().T.astype(float), np.nan) * 1e-3
    np.testing.assert_array_equal(np.isnan(theirs), np.isnan(ours.z))
    np.testing.assert_allclose(ours.z[~np.isnan(ours.z)], theirs[~np.isnan(theirs)], rtol=1e-12)
    np.testing.assert_allclose(np.array(topo.physical_sizes) * 1e-3, (ours.shape[1] * ours.dx, ours.shape[0] * ours.dy))


# ----------------------------------------------------------------------------- plux


def test_plux_layers_and_metadata(tmp_path, heights):
    path = make_plux(tmp_path / "a.plux", [heights, heights * 2], step_um=0.69)
    s = read(path)
    assert s.dx == s.dy == pytest.approx(0.69)
    np.testing.assert_allclose(s.z, heights.astype(np.float32), equal_nan=True)
    assert s.meta["channels"] == ["height", "height2", "color"]
    assert s.meta["model"] == "S neox" and s.meta["objective"] == "EPI 50X-N"
    np.testing.assert_allclose(read(path, channel="height2").z, (heights * 2).astype(np.float32), equal_nan=True)
    with pytest.raises(SurfscanError, match="colour"):
        read(path, channel="color")


def test_plux_size_mismatch_is_a_clear_error(tmp_path, heights):
    path = make_plux(tmp_path / "a.plux", [heights[:3]])
    import zipfile

    with zipfile.ZipFile(path) as zf:  # index says 3 rows; rewrite it to claim 300
        text = zf.read("index.xml").decode().replace("<IMAGE_SIZE_Y>3<", "<IMAGE_SIZE_Y>300<")
    bad = tmp_path / "b.plux"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, text if name == "index.xml" else src.read(name))
    with pytest.raises(FormatError, match="truncated|declares"):
        read(bad)


def test_plux_agrees_with_peers(tmp_path, heights):
    st, sz = _peers()
    path = make_plux(tmp_path / "a.plux", [heights])
    ours = read(path)
    other = sz.Surface.load(str(path))
    np.testing.assert_allclose(ours.z, other.data, equal_nan=True)
    topo = st.open_topography(str(path)).topography()
    theirs = np.ma.filled(topo.heights().T.astype(float), np.nan)
    np.testing.assert_allclose(ours.z, theirs, equal_nan=True)
    assert detect(path).name == "plux"

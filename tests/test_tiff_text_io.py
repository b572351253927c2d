"""Float TIFF height maps and plain-text grids: round trips, calibration sources, units, detection."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile

import surfscan as ss
from surfscan.errors import FormatError, SurfscanWarning
from surfscan.io.registry import HEAD_BYTES, detect, get_format
from surfscan.io.text import read_text
from surfscan.io.tiff_height import read_tiff_height


def _heights(shape=(24, 32), seed=0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(0.0, 0.3, shape)
    z[2, 3] = z[-1, 0] = np.nan
    return z


# --------------------------------------------------------------------------- TIFF


def test_tiff_roundtrip_float64_is_exact(tmp_path):
    s = ss.Surface(_heights(), 0.1375, 0.25, {"manufacturer": "ACME", "objective": "50x"})
    path = ss.write(s, tmp_path / "h.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurfscanWarning)
        r = ss.read(path)
    assert r.meta["format"] == "tiff-height"
    assert (r.dx, r.dy) == (s.dx, s.dy)
    np.testing.assert_array_equal(r.z, s.z)  # NaN positions and values bit-exact
    assert r.meta["manufacturer"] == "ACME" and r.meta["objective"] == "50x"
    assert r.meta["pixel_size_source"] == "surfscan description"
    desc = json.loads(tifffile.TiffFile(path).pages.first.description)
    assert desc["surfscan"] == 1 and desc["z_unit"] == "um"


def test_tiff_float32_roundtrip(tmp_path):
    s = ss.Surface(_heights(), 0.5, 0.5)
    r = ss.read(ss.write(s, tmp_path / "h32.tiff", dtype="float32"))
    assert tifffile.TiffFile(tmp_path / "h32.tiff").pages.first.dtype == np.float32
    np.testing.assert_array_equal(r.z, s.z.astype(np.float32).astype(np.float64))


def test_tiff_other_readers_see_the_calibration(tmp_path):
    """The resolution tags written for other software give the same pixel size."""
    path = ss.write(ss.Surface(_heights(), 0.2, 0.4), tmp_path / "r.tif")
    tags = tifffile.TiffFile(path).pages.first.tags
    xr, yr = tags["XResolution"].value, tags["YResolution"].value
    assert tags["ResolutionUnit"].value == 3  # centimetre
    assert 1e4 * xr[1] / xr[0] == pytest.approx(0.2, rel=1e-6)
    assert 1e4 * yr[1] / yr[0] == pytest.approx(0.4, rel=1e-6)


@pytest.mark.parametrize(("unit", "code", "per_unit_um"), [("CENTIMETER", 3, 1e4), ("INCH", 2, 25400.0)])
def test_tiff_pixel_size_from_resolution_tags(tmp_path, unit, code, per_unit_um):
    z = _heights().astype(np.float32)
    tifffile.imwrite(tmp_path / "t.tif", z, resolution=(per_unit_um / 0.8, per_unit_um / 0.6), resolutionunit=unit)
    with pytest.warns(SurfscanWarning, match="heights taken as µm"):
        s = ss.read(tmp_path / "t.tif")
    assert s.dx == pytest.approx(0.8, rel=1e-6) and s.dy == pytest.approx(0.6, rel=1e-6)
    assert s.meta["pixel_size_source"] == "TIFF resolution tags"


def test_tiff_without_calibration_is_one_micrometre_with_warning(tmp_path):
    tifffile.imwrite(tmp_path / "plain.tif", _heights(), resolutionunit="NONE", metadata=None)
    with pytest.warns(SurfscanWarning, match="assuming 1 µm pixels"):
        s = ss.read(tmp_path / "plain.tif")
    assert (s.dx, s.dy) == (1.0, 1.0)


def test_tiff_z_unit_from_description(tmp_path):
    z = _heights()
    desc = json.dumps({"surfscan": 1, "dx_um": 0.3, "dy_um": 0.3, "z_unit": "nm"})
    tifffile.imwrite(tmp_path / "nm.tif", z * 1000, description=desc, metadata=None)
    s = ss.read(tmp_path / "nm.tif")
    np.testing.assert_allclose(s.z, z, rtol=1e-12)


def test_tiff_imagej_micron_calibration(tmp_path):
    tifffile.imwrite(
        tmp_path / "ij.tif",
        _heights().astype(np.float32),
        imagej=True,
        resolution=(4.0, 4.0),
        metadata={"unit": "micron"},
    )
    with pytest.warns(SurfscanWarning):
        s = read_tiff_height(tmp_path / "ij.tif")
    assert s.dx == pytest.approx(0.25)


def test_integer_tiff_is_not_a_height_map(tmp_path):
    img = (np.random.default_rng(1).random((40, 50)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "sem.tif", img)
    head = (tmp_path / "sem.tif").read_bytes()[:HEAD_BYTES]
    fmt = get_format("tiff-height")
    assert fmt.sniff(head, tmp_path / "sem.tif") == 0
    assert detect(tmp_path / "sem.tif").name != "tiff-height"
    with pytest.raises(FormatError, match="not a float height map"):
        read_tiff_height(tmp_path / "sem.tif")


def test_float_tiff_goes_to_the_height_reader(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", _heights().astype(np.float32))
    head = (tmp_path / "f.tif").read_bytes()[:HEAD_BYTES]
    assert get_format("tiff-height").sniff(head, tmp_path / "f.tif") == 60
    assert detect(tmp_path / "f.tif").name == "tiff-height"


def test_rgb_float_tiff_refused(tmp_path):
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((8, 9, 3), np.float32), photometric="rgb")
    with pytest.raises(FormatError, match="2-D"):
        read_tiff_height(tmp_path / "rgb.tif")


# --------------------------------------------------------------------------- text


def test_matrix_csv_with_header_units(tmp_path):
    z = _heights((5, 7))
    np.savetxt(tmp_path / "m.csv", z * 1000, delimiter=",", header="dx_um = 0.5\ndy_um: 0.25\nz_unit = nm")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurfscanWarning)  # units given: no warning
        s = ss.read(tmp_path / "m.csv")
    assert s.meta["format"] == "text" and s.meta["text_layout"] == "matrix"
    assert (s.dx, s.dy) == (0.5, 0.25)
    np.testing.assert_allclose(s.z, z, rtol=1e-12)


def test_matrix_whitespace_without_units_warns(tmp_path):
    z = np.arange(12.0).reshape(3, 4)
    (tmp_path / "w.txt").write_text("\n".join(" ".join(f"{v:g}" for v in row) for row in z) + "\n")
    with pytest.warns(SurfscanWarning) as rec:
        s = ss.read(tmp_path / "w.txt")
    text = " ".join(str(w.message) for w in rec)
    assert "1 µm pixels" in text and "no units" in text
    np.testing.assert_array_equal(s.z, z)


def test_csv_empty_cells_semicolons_and_decimal_commas(tmp_path):
    (tmp_path / "e.csv").write_text("# dx_um = 2\n# z_unit = um\n1;;3,5\n;5;\n7;8;9\n")
    s = ss.read(tmp_path / "e.csv")
    np.testing.assert_array_equal(s.z, [[1, np.nan, 3.5], [np.nan, 5, np.nan], [7, 8, 9]])


def test_xyz_regular_grid_any_order_with_missing_point(tmp_path):
    rng = np.random.default_rng(2)
    z = _heights((6, 9))
    yy, xx = np.mgrid[0:6, 0:9]
    table = np.c_[100 + xx.ravel() * 0.3, -4 + yy.ravel() * 0.2, z.ravel()]
    table = table[rng.permutation(len(table))][1:]  # shuffled, one point missing
    missing = np.isnan(z).sum() + 1
    np.savetxt(tmp_path / "p.xyz", table, header="x y z\nxy_unit = um\nz_unit = um")
    s = ss.read(tmp_path / "p.xyz")
    assert s.shape == (6, 9) and s.meta["text_layout"] == "xyz"
    assert s.dx == pytest.approx(0.3, rel=1e-12) and s.dy == pytest.approx(0.2, rel=1e-12)
    assert np.isnan(s.z).sum() == missing
    ok = ~np.isnan(s.z)
    np.testing.assert_array_equal(s.z[ok], z[ok])


def test_xyz_in_millimetres_with_column_names(tmp_path):
    yy, xx = np.mgrid[0:4, 0:5]
    rows = ["x,y,z"] + [f"{x * 0.001},{y * 0.002},{x + y}" for x, y in zip(xx.ravel(), yy.ravel())]
    (tmp_path / "mm.csv").write_text("# xy_unit = mm\n# z_unit = mm\n" + "\n".join(rows) + "\n")
    s = read_text(tmp_path / "mm.csv")
    assert s.dx == pytest.approx(1.0) and s.dy == pytest.approx(2.0)
    np.testing.assert_allclose(s.z, (xx + yy) * 1000.0)


def test_irregular_xyz_refused(tmp_path):
    pts = np.random.default_rng(3).random((50, 3))
    np.savetxt(tmp_path / "scatter.xyz", pts)
    with pytest.raises(FormatError, match="not a regular grid"):
        ss.read(tmp_path / "scatter.xyz")


def test_layout_option_forces_matrix(tmp_path):
    z = np.arange(15.0).reshape(5, 3)
    np.savetxt(tmp_path / "three.csv", z, delimiter=",", header="dx_um = 1\nz_unit = um")
    s = ss.read(tmp_path / "three.csv", layout="matrix")
    np.testing.assert_array_equal(s.z, z)


def test_ragged_rows_refused(tmp_path):
    (tmp_path / "r.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(FormatError, match="r.csv"):
        ss.read(tmp_path / "r.csv")


def test_text_sniffer_scores(tmp_path):
    fmt = get_format("text")
    assert fmt.sniff(b"# dx_um = 1\n1 2 3\n4 5 6\n", tmp_path / "a.txt") == 30
    assert fmt.sniff(b"$CM_FORMAT JEOL/SEM\n$CM_VERSION 1.0\n", tmp_path / "a.txt") == 0
    assert fmt.sniff(b"\x00\x01\x02binary", tmp_path / "a.txt") == 0
    assert fmt.sniff(b"\x93NUMPY\x01\x00", tmp_path / "a.txt") == 0

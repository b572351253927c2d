"""ISO 25178-72 X3P: real files against expected.json, every encoding, and the writer read back by three readers."""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import x3p_craft as craft

import surfscan as ss
from surfscan.errors import FormatError, SurfscanWarning
from surfscan.io.x3p import read_x3p
from surfscan.io.x3p_write import write_x3p

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
_EXPECTED = REAL / "expected.json"


def _expected_x3p() -> list[str]:
    if not _EXPECTED.is_file():
        return ["<no real files>"]
    return sorted(n for n in json.loads(_EXPECTED.read_text())["height"] if n.lower().endswith(".x3p"))


def _real_x3p_files() -> list[str]:
    folder = REAL / "height"
    return sorted(p.name for p in folder.glob("*.x3p")) if folder.is_dir() else ["<no real files>"]


def _feature_type(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        text = zf.read("main.xml").decode("utf-8", errors="replace")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    m = re.search(r"<FeatureType>\s*(\w+)\s*</FeatureType>", text)
    return m.group(1) if m else "SUR"


# --------------------------------------------------------------------------- real files


@pytest.mark.parametrize("name", _expected_x3p())
def test_real_x3p_matches_expected(name, real_dir, expected):
    exp = expected["height"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurfscanWarning)  # real files: no checksum or metadata complaints
        s = ss.read(real_dir / "height" / name)
    assert isinstance(s, ss.Surface)
    assert list(s.shape) == exp["shape"]
    assert s.dx == pytest.approx(exp["dx_um"], rel=1e-6)
    assert s.dy == pytest.approx(exp["dy_um"], rel=1e-6)
    assert s.invalid_fraction == pytest.approx(exp["invalid_fraction"], abs=1e-6)
    r = ss.roughness(ss.level(s, "plane"), ["Sa", "Sq"])
    assert r["Sa"] == pytest.approx(exp["Sa_um"], rel=1e-6)
    assert r["Sq"] == pytest.approx(exp["Sq_um"], rel=1e-6)
    assert s.meta["format"] == "x3p"


@pytest.mark.parametrize("name", _real_x3p_files())
def test_every_real_x3p_reads_or_is_refused_as_point_cloud(name, real_dir):
    path = real_dir / "height" / name
    if _feature_type(path) == "PCL":
        with pytest.raises(FormatError, match="not a grid") as err:
            ss.read(path)
        assert name in str(err.value)
        return
    s = ss.read(path)
    assert s.z.ndim == 2 and s.z.size > 0
    assert np.isfinite(s.z).any()
    assert s.dx > 0 and s.dy > 0
    assert s.meta.get("manufacturer")  # Record2 kept


@pytest.mark.parametrize("name", _real_x3p_files())
def test_real_x3p_agrees_with_surfalize(name, real_dir):
    """Independent reader: surfalize 0.19.2 gives the same heights (µm) and NaN positions."""
    surfalize = pytest.importorskip("surfalize")
    path = real_dir / "height" / name
    if _feature_type(path) != "SUR":
        pytest.skip("surfalize reads areal (SUR) files only")
    ours = ss.read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = surfalize.Surface.load(path)
        except surfalize.exceptions.UnsupportedFileFormatError as exc:
            pytest.skip(f"surfalize cannot read it: {exc}")
    assert theirs.data.shape == ours.shape
    np.testing.assert_array_equal(np.isnan(theirs.data), np.isnan(ours.z))
    np.testing.assert_allclose(theirs.data, ours.z, rtol=1e-12, atol=1e-9 * np.nanmax(np.abs(ours.z)))
    assert theirs.step_x == pytest.approx(ours.dx, rel=1e-12)
    assert theirs.step_y == pytest.approx(ours.dy, rel=1e-12)


def test_ogps_samples_agree_across_encodings(real_dir):
    """XML DataList and binary encodings of the same openGPS data read the same."""
    h = real_dir / "height"
    xml, binary = ss.read(h / "OGPS_ISO5436-sample1.x3p"), ss.read(h / "OGPS_ISO5436-sample1_bin.x3p")
    np.testing.assert_array_equal(xml.z, binary.z)
    ints, ints_bin = ss.read(h / "OGPS_ISO5436-sample4.x3p"), ss.read(h / "OGPS_ISO5436-sample4_bin.x3p")
    np.testing.assert_array_equal(ints.z, ints_bin.z)
    # the invalid point is the 8th (row 1, column 3): an empty Datum, and bit 7 cleared in valid.bin
    assert np.isnan(binary.z[1, 3]) and np.isnan(ints_bin.z[1, 3])
    assert binary.meta["instrument"] == "NanoFocus AG µSurf X"
    assert binary.meta["serial"] == "12345abc"
    assert binary.meta["probing_system"] == "NonContacting"


# --------------------------------------------------------------------------- encodings (hand-made files)

_RAW = np.array([[1, -2, 3, 4], [5, 6, -7, 8], [9, 10, 11, -12]], dtype=np.float64)


@pytest.mark.parametrize("dtype", ["I", "L", "F", "D"])
def test_binary_data_types_with_increment_and_offset(tmp_path, dtype):
    cz = craft.axis("CZ", kind="A", dtype=dtype, increment="1e-08", offset="2e-06")
    path = craft.binary_x3p(tmp_path / "t.x3p", _RAW, dtype, cz=cz)
    s = read_x3p(path)
    np.testing.assert_allclose(s.z, (_RAW * 1e-8 + 2e-6) * 1e6, rtol=1e-6 if dtype == "F" else 1e-12)
    assert (s.dx, s.dy) == pytest.approx((0.15, 0.25), rel=1e-12)
    assert s.meta["z_datatype"] == dtype and s.meta["x3p_encoding"] == "binary"


def test_valid_bin_least_significant_bit_first(tmp_path):
    valid = np.ones(_RAW.shape, bool)
    valid[0, 2] = valid[2, 3] = False
    s = read_x3p(craft.binary_x3p(tmp_path / "v.x3p", _RAW, "I", valid=valid))
    np.testing.assert_array_equal(np.isnan(s.z), ~valid)
    assert s.invalid_fraction == pytest.approx(2 / 12)


def test_xml_datalist_empty_datum_and_empty_offset(tmp_path):
    values = ["1", "2", None, "4", "5", "6"]
    cz = craft.axis("CZ", kind="A", dtype="I", increment="0.001", offset="")
    xml = craft.main_xml(3, 2, cz=cz, data=craft.datalist(values))
    s = read_x3p(craft.write(tmp_path / "x.x3p", xml))
    expect = np.array([[1, 2, np.nan], [4, 5, 6]]) * 1e-3 * 1e6
    np.testing.assert_allclose(s.z, expect)
    assert s.meta["x3p_encoding"] == "xml"


def test_profile_is_one_row_surface(tmp_path):
    xml = craft.main_xml(5, 1, feature="PRF", cy="", data=craft.datalist(["1e-6", "2e-6", "3e-6", None, "5e-6"]))
    s = read_x3p(craft.write(tmp_path / "p.x3p", xml))
    assert s.shape == (1, 5)
    assert s.dx == pytest.approx(0.15) and s.dy == pytest.approx(0.15)
    np.testing.assert_allclose(s.z, [[1, 2, 3, np.nan, 5]])


def test_point_cloud_refused(tmp_path):
    xml = craft.main_xml(2, 2, feature="PCL", data=craft.datalist(["0;0;1", "1;0;2", "0;1;3", "1;1;4"]))
    with pytest.raises(FormatError, match="not a grid"):
        ss.read(craft.write(tmp_path / "pc.x3p", xml))


def test_absolute_lateral_axis_gives_spacing_or_refuses(tmp_path):
    cy = craft.axis("CY", kind="A", dtype="D")
    rows = [f"{y * 3e-7};{v}" for y in range(3) for v in ("1e-6", "2e-6")]
    s = read_x3p(craft.write(tmp_path / "a.x3p", craft.main_xml(2, 3, cy=cy, data=craft.datalist(rows))))
    assert s.dy == pytest.approx(0.3) and s.shape == (3, 2)
    uneven = [f"{y};{v}" for y in (0, 3e-7, 9e-7) for v in ("1e-6", "2e-6")]
    with pytest.raises(FormatError, match="not a regular grid"):
        read_x3p(craft.write(tmp_path / "b.x3p", craft.main_xml(2, 3, cy=cy, data=craft.datalist(uneven))))


def test_md5_mismatch_is_a_warning(tmp_path):
    path = craft.binary_x3p(tmp_path / "m.x3p", _RAW, "D")
    with zipfile.ZipFile(path) as zf:
        xml, data = zf.read("main.xml"), bytearray(zf.read("bindata/data.bin"))
    data[0] ^= 0xFF
    bad = craft.write(tmp_path / "bad.x3p", xml, {"bindata/data.bin": bytes(data)})
    with pytest.warns(SurfscanWarning, match="MD5 checksum of bindata/data.bin"):
        s = ss.read(bad)
    assert s.shape == _RAW.shape  # still read
    bad_xml = craft.write(
        tmp_path / "badxml.x3p",
        xml.replace(b"ISO5436 - 2000", b"ISO5436 - 2001"),
        {"bindata/data.bin": bytes(data)},
        checksum=False,
    )
    with zipfile.ZipFile(bad_xml, "a") as zf:
        zf.writestr("md5checksum.hex", "0123456789abcdef0123456789abcdef *main.xml\n")
    with pytest.warns(SurfscanWarning, match="MD5 checksum of main.xml"):
        ss.read(bad_xml)


def test_sniff_by_content_not_suffix(tmp_path):
    path = write_x3p_surface(tmp_path / "renamed.dat")
    assert ss.read(path).meta["format"] == "x3p"


def write_x3p_surface(path: Path) -> Path:
    z = np.arange(12, dtype=float).reshape(3, 4)
    write_x3p(ss.Surface(z, 0.5, 0.5), path)
    return path


# --------------------------------------------------------------------------- writer


def _surface(seed: int = 3) -> ss.Surface:
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 0.2, (48, 64)) + 5.0
    z[7, 9] = z[20, :5] = np.nan
    meta = {
        "manufacturer": "ACME",
        "model": "CF-1",
        "serial": "42",
        "software_version": "9.1",
        "date": "2025-03-04T05:06:07",
        "probing_system": "NonContacting",
        "comment": "round trip",
    }
    return ss.Surface(z, 0.1375, 0.2125, meta)


def test_writer_roundtrip_our_reader(tmp_path):
    s = _surface()
    path = ss.write(s, tmp_path / "w.x3p")
    r = ss.read(path)
    assert r.shape == s.shape and r.dx == s.dx and r.dy == s.dy
    np.testing.assert_array_equal(np.isnan(r.z), np.isnan(s.z))
    np.testing.assert_allclose(r.z, s.z, rtol=4e-16, atol=0)  # one rounding in the m <-> µm conversion
    for key in ("manufacturer", "model", "serial", "software_version", "date", "probing_system", "comment"):
        assert r.meta[key] == s.meta[key]
    with zipfile.ZipFile(path) as zf:
        assert {"main.xml", "bindata/data.bin", "bindata/valid.bin", "md5checksum.hex"} <= set(zf.namelist())
        assert "<DataType>D</DataType>" in zf.read("main.xml").decode()


def test_writer_checksums_are_correct(tmp_path):
    import hashlib

    path = ss.write(_surface(), tmp_path / "c.x3p")
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("main.xml")
        assert zf.read("md5checksum.hex").decode().split()[0] == hashlib.md5(xml).hexdigest()
        text = xml.decode()
        for tag, entry in (
            ("MD5ChecksumPointData", "bindata/data.bin"),
            ("MD5ChecksumValidPoints", "bindata/valid.bin"),
        ):
            m = re.search(f"<{tag}>([0-9a-fA-F]+)</{tag}>", text)
            assert m.group(1).lower() == hashlib.md5(zf.read(entry)).hexdigest()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurfscanWarning)
        ss.read(path)


def test_writer_without_nan_writes_no_valid_bin(tmp_path):
    s = ss.Surface(np.arange(20.0).reshape(4, 5), 1.0, 2.0)
    with zipfile.ZipFile(ss.write(s, tmp_path / "n.x3p")) as zf:
        assert "bindata/valid.bin" not in zf.namelist()


@pytest.mark.parametrize(("dtype", "tol"), [("F", 1e-6), ("I", 1.5e-3), ("L", 1e-7)])
def test_writer_compact_types(tmp_path, dtype, tol):
    s = _surface()
    r = ss.read(
        ss.write(s, tmp_path / f"{dtype}.x3p", dtype=dtype, **({"z_increment_um": 0.001} if dtype == "I" else {}))
    )
    np.testing.assert_array_equal(np.isnan(r.z), np.isnan(s.z))
    span = np.nanmax(s.z) - np.nanmin(s.z)
    assert np.nanmax(np.abs(r.z - s.z)) <= tol * (span if dtype != "F" else np.nanmax(np.abs(s.z)))


def test_writer_output_read_by_surfalize(tmp_path):
    surfalize = pytest.importorskip("surfalize")
    s = _surface()
    path = ss.write(s, tmp_path / "sf.x3p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = surfalize.Surface.load(path)
    assert theirs.data.shape == s.shape
    np.testing.assert_array_equal(np.isnan(theirs.data), np.isnan(s.z))
    np.testing.assert_allclose(theirs.data, s.z, rtol=4e-16)
    assert theirs.step_x == pytest.approx(s.dx, rel=1e-15) and theirs.step_y == pytest.approx(s.dy, rel=1e-15)


def test_writer_output_read_by_surfacetopography(tmp_path):
    st = pytest.importorskip("SurfaceTopography")
    s = _surface()
    path = ss.write(s, tmp_path / "st.x3p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topo = st.open_topography(str(path)).topography()
    assert topo.unit == "m"
    heights = np.ma.filled(np.ma.asarray(topo.heights(), dtype=float), np.nan).T * 1e6  # ST is [x, y] in metres
    assert heights.shape == s.shape
    np.testing.assert_array_equal(np.isnan(heights), np.isnan(s.z))
    np.testing.assert_allclose(heights, s.z, rtol=1e-15)
    sx, sy = topo.physical_sizes
    assert (sx * 1e6, sy * 1e6) == pytest.approx((s.dx * s.shape[1], s.dy * s.shape[0]), rel=1e-12)


def test_binary_read_allocates_about_one_map(tmp_path):
    """float64 data.bin is inflated into one buffer and used in place (no extra full-size copies)."""
    import tracemalloc

    z = np.random.default_rng(5).normal(size=(512, 768))
    path = ss.write(ss.Surface(z, 0.1, 0.1), tmp_path / "mem.x3p")
    read_x3p(path)  # warm-up: lazy imports are not the reader's allocations
    tracemalloc.start()
    try:
        s = read_x3p(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.z.flags.writeable and s.z.dtype == np.float64
    assert peak < 1.5 * z.nbytes + (2 << 20), f"peak {peak / z.nbytes:.2f} x the map"

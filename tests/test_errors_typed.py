"""Typed read errors: not this format, truncated/corrupt, unsupported feature, and reader bugs.

A reader that fails on purpose raises a :class:`FormatError` subclass that
names the file and the reason; an unexpected exception inside a reader (a
bug) reaches the user as :class:`ReaderBugError`, not as "corrupt file".
Also: the shared header-value and valid-mask helpers, and ``Surface.quantity``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import surfscan as ss
from surfscan.cli import main
from surfscan.errors import (
    CorruptFileError,
    FormatError,
    NotThisFormatError,
    ReaderBugError,
    SurfscanError,
    SurfscanWarning,
    UnsupportedFeatureError,
)
from surfscan.io import get_format, register
from surfscan.io.checks import header_field, header_number, mask_invalid
from surfscan.io.registry import Format, detect

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
X3P = SAMPLES / "electrode_A_good_site1.x3p"
SEM = SAMPLES / "sem_anode_smooth_100x.tif"


def test_subclasses_stay_format_errors_and_bugs_do_not():
    for cls in (NotThisFormatError, CorruptFileError, UnsupportedFeatureError):
        assert issubclass(cls, FormatError)
    assert issubclass(ReaderBugError, SurfscanError) and not issubclass(ReaderBugError, FormatError)


@pytest.mark.parametrize("name", ["ST_al3d-1.al3d", "ST_sur-2.sur", "ST_plu-1.plu", "SZ_test_1.zon",
                                  "OGPS_ISO5436-sample1_bin.x3p"])
def test_truncated_real_file_is_a_corrupt_file_error(name, real_dir, tmp_path):
    data = (real_dir / "height" / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError) as err:
        ss.read(cut)
    assert str(cut) in str(err.value)


def test_garbage_is_not_this_format(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(NotThisFormatError, match="not a recognised file format"):
        ss.read(path)
    with pytest.raises(NotThisFormatError, match="bad magic"):
        ss.read(path, format="al3d")  # forced format whose magic check says no


def test_compressed_sdf_is_an_unsupported_feature(tmp_path):
    path = tmp_path / "c.sdf"
    path.write_text("aISO-1.0\nNumPoints = 2\nNumProfiles = 2\nXscale = 1e-6\nYscale = 1e-6\nZscale = 1e-6\n"
                    "Compression = 1\n*\n1 2\n3 4\n*\n")
    with pytest.raises(UnsupportedFeatureError, match="compressed SDF"):
        ss.read(path)


def test_a_reader_bug_is_an_internal_error_naming_the_file(tmp_path):
    path = tmp_path / "bug.buggy"
    path.write_bytes(b"BUGGY-FORMAT\0" + bytes(100))

    def reader(p):
        return [][1]  # IndexError: a bug, not a corrupt file

    register(Format("buggy-test", "a reader with a bug (test)", (".buggy",), kind="height", reader=reader,
                    sniff=lambda head, p: 100 if head.startswith(b"BUGGY-FORMAT") else 0))
    try:
        with pytest.raises(ReaderBugError) as err:
            ss.read(path)
        msg = str(err.value)
        assert str(path) in msg and "IndexError" in msg and "report" in msg and "buggy-test" in msg
        assert not isinstance(err.value, FormatError)
        assert isinstance(err.value.__cause__, IndexError)
    finally:
        from surfscan.io import registry

        registry._FORMATS.pop("buggy-test", None)


def test_a_sniffer_bug_is_an_internal_error_and_a_sniffer_no_is_not(tmp_path):
    path = tmp_path / "x.weird"
    path.write_bytes(b"WEIRD" + bytes(50))

    def broken(head, p):
        raise ZeroDivisionError("sniffer bug")

    def refuses(head, p):
        raise NotThisFormatError(p, "not mine")

    from surfscan.io import registry

    try:
        register(Format("refuses-test", "a sniffer that says no by raising", (".weird",), reader=lambda p: None,
                        sniff=refuses))
        assert detect(path).name == "refuses-test"  # said no: only the suffix matched, no error
        register(Format("broken-test", "a sniffer with a bug", (".weird",), reader=lambda p: None, sniff=broken))
        with pytest.raises(ReaderBugError, match="format detection"):
            detect(path)
    finally:
        registry._FORMATS.pop("refuses-test", None)
        registry._FORMATS.pop("broken-test", None)


def test_cli_reports_a_reader_bug_in_one_line(tmp_path, capsys):
    path = tmp_path / "bug.buggy"
    path.write_bytes(b"BUGGY-FORMAT\0" + bytes(100))
    register(Format("buggy-test", "a reader with a bug (test)", (".buggy",), kind="height",
                    reader=lambda p: {}["missing"], sniff=lambda head, p: 100 if head.startswith(b"BUGGY") else 0))
    try:
        assert main(["info", str(path), "--full"]) == 1
    finally:
        from surfscan.io import registry

        registry._FORMATS.pop("buggy-test", None)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "internal error" in lines[0] and str(path) in lines[0]
    assert "corrupt" not in lines[0] and "Traceback" not in err


# --------------------------------------------------------------------------- shared helpers


def test_header_number_messages_and_defaults():
    fields = {"Cols": "12", "Half": "2.5", "Bad": "abc", "Inf": "inf", "Neg": "-1"}
    assert header_field("f.x", fields, "Cols", kind=int) == 12
    assert header_field("f.x", fields, "Half") == 2.5
    assert header_field("f.x", fields, "Missing", default=None) is None
    with pytest.raises(CorruptFileError, match=r"f\.x: the header has no Missing"):
        header_field("f.x", fields, "Missing")
    with pytest.raises(CorruptFileError, match="Bad is not a number"):
        header_field("f.x", fields, "Bad")
    with pytest.raises(CorruptFileError, match="Inf is not finite"):
        header_field("f.x", fields, "Inf")
    with pytest.raises(CorruptFileError, match="Half is not an integer"):
        header_field("f.x", fields, "Half", kind=int)
    with pytest.raises(CorruptFileError, match="Neg must be a positive length"):
        header_field("f.x", fields, "Neg", positive=True)
    assert header_number("f.x", "", "X", where="main.xml", default=1.0) == 1.0


def test_mask_invalid_sets_nan_or_warns_on_shape():
    z = np.zeros((2, 3))
    mask_invalid("f.x", z, np.array([[0, 1, 0], [0, 0, 2]], dtype=np.uint8))
    assert np.isnan(z).sum() == 2 and np.isnan(z[0, 1]) and np.isnan(z[1, 2])
    z = np.zeros((2, 3))
    with pytest.warns(SurfscanWarning, match=r"f\.x: the mask has shape \(3, 2\)"):
        mask_invalid("f.x", z, np.ones((3, 2), dtype=bool))
    assert not np.isnan(z).any()


def test_formats_keep_their_verified_flag():
    assert get_format("plux").verified is False and get_format("lext").verified is False
    assert get_format("x3p").verified is True and get_format("zon").verified is True


# --------------------------------------------------------------------------- typed quantity


def test_quantity_of_height_intensity_and_default():
    s = ss.Surface(np.zeros((3, 4)), 1.0, 1.0)
    assert s.quantity == "height" and not s.is_intensity
    i = ss.Surface(np.zeros((3, 4)), 1.0, 1.0, {}, quantity="intensity")
    assert i.is_intensity and i.replace(z=i.z + 1).quantity == "intensity"
    with pytest.raises(SurfscanError, match="quantity"):
        ss.Surface(np.zeros((3, 4)), 1.0, 1.0, quantity="phase")
    assert ss.read(X3P).quantity == "height"


def test_intensity_channel_is_typed_and_roughness_refuses_it(tmp_path):
    from vendor_files import make_ols

    from surfscan.pipeline import RoughnessSettings, measure_roughness

    path = make_ols(tmp_path / "s.ols", (np.arange(20 * 30).reshape(20, 30) % 500).astype(np.uint16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        height, light = ss.read(path), ss.read(path, channel="intensity")
    assert height.quantity == "height" and light.quantity == "intensity"
    with pytest.raises(SurfscanError, match="intensity"):
        measure_roughness(light, RoughnessSettings(params=("Sa",)))


def test_levelling_sets_the_zero_mean_flag_and_a_new_map_clears_it():
    rng = np.random.default_rng(1)
    s = ss.Surface(rng.normal(size=(30, 40)) + np.arange(40) * 0.1, 0.5, 0.5)
    assert s.zero_mean is False
    flat = ss.level(s, "plane")
    assert flat.zero_mean is True and abs(float(np.mean(flat.z))) < 1e-12
    assert flat.replace(site="a").zero_mean is True  # metadata only
    assert flat.replace(z=flat.z + 1.0).zero_mean is False
    assert ss.level(s, "poly:2").zero_mean is True and ss.level(s, "rows").zero_mean is False


def test_sem_micrograph_is_not_a_surface_quantity():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        m = ss.read(SEM)
    assert isinstance(m, ss.Micrograph) and not hasattr(m, "quantity")

"""``list_channels``: what a file holds, from its header where the format allows it; ``surfscan info`` uses it."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import surfscan
from surfscan.cli import main
from surfscan.errors import CorruptFileError, FormatError, SurfscanWarning
from surfscan.io import list_channels, read

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
X3P = SAMPLES / "electrode_A_good_site1.x3p"
SEM = SAMPLES / "sem_anode_smooth_100x.tif"


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        return read(path, **options)


def test_exported_from_the_package():
    assert surfscan.list_channels is list_channels


def test_x3p_is_listed_from_main_xml_without_the_data(monkeypatch):
    import surfscan.io.x3p as x3p

    def no_data(*args, **kwargs):
        raise AssertionError("the point data was read")

    monkeypatch.setattr(x3p, "_read_binary", no_data)
    found = list_channels(X3P)
    assert found.format == "x3p" and found.kind == "height" and not found.read_data
    assert found.names == ["height"] and found.channels[0].quantity == "height"
    monkeypatch.undo()
    surface = _read(X3P)
    assert found.channels[0].shape == surface.shape
    assert found.header["dx_um"] == pytest.approx(surface.dx) and found.header["dy_um"] == pytest.approx(surface.dy)


def test_sem_is_listed_without_decoding_or_bar_search(monkeypatch):
    import surfscan.io.sem.micrograph as micrograph
    import surfscan.io.sem.semtiff as semtiff

    def forbidden(*args, **kwargs):
        raise AssertionError("pixels decoded or bar searched")

    monkeypatch.setattr(semtiff, "_frame", forbidden)
    monkeypatch.setattr(micrograph, "build_micrograph", forbidden)
    found = list_channels(SEM)
    monkeypatch.undo()
    m = _read(SEM)
    assert found.kind == "sem" and found.format == "sem-tiff" and found.names == ["image"]
    assert found.channels[0].shape == tuple(m.meta["frame_shape"])
    assert found.header["pixel_size_um"] == pytest.approx(m.pixel_size)
    assert found.header["databar_rows"] == m.meta["databar_rows"]  # stated by the FEI metadata
    assert found.header["dtype"] == str(m.image.dtype)


def test_sem_listing_does_not_import_the_bar_search():
    import subprocess

    code = ("import sys, surfscan.io as io; io.list_channels(sys.argv[1]); "
            "print('surfscan.io.sem.databar' in sys.modules, 'scipy.ndimage' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(SEM)], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_multichannel_file_lists_every_channel(tmp_path):
    from vendor_files import make_ols

    path = make_ols(tmp_path / "s.ols", (np.arange(12 * 16).reshape(12, 16) % 300).astype(np.uint16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        found = list_channels(path)
    assert found.read_data and found.format == "ols"
    assert [(c.name, c.quantity) for c in found.channels] == [("height", "height"), ("intensity", "intensity")]
    assert found.channels[0].shape == (12, 16)


@pytest.mark.parametrize("name", ["GWYF_test.gwy", "ST_sur-2.sur", "SZ_test_1.zon", "ST_x3p-2.x3p", "ST_sdf-1.sdf"])
def test_real_height_files(name, real_dir, expected):
    path = real_dir / "height" / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        found = list_channels(path)
    assert found.kind == "height"
    assert found.channels[0].quantity == "height"
    assert list(found.channels[0].shape) == expected["height"][name]["shape"]


@pytest.mark.parametrize("name", ["ODEMIS_tfs_example.tif", "ODEMIS_zeiss_example_sem.tif", "PLR_JEOL_image000.tif"])
def test_real_sem_files(name, real_dir, expected):
    truth = expected["sem"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        found = list_channels(real_dir / "sem" / name)
    assert found.kind == "sem" and list(found.channels[0].shape) == truth["shape"]
    assert found.header["pixel_size_um"] * 1e3 == pytest.approx(truth["pixel_size_nm"], rel=truth.get("pixel_rtol", 1e-3))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        list_channels(tmp_path / "nope.x3p")
    cut = tmp_path / "cut.x3p"
    cut.write_bytes(X3P.read_bytes()[:5000])
    with pytest.raises(CorruptFileError, match="cut.x3p"):
        list_channels(cut)


def test_info_lists_from_the_header_and_full_reads(capsys):
    assert main(["info", str(SEM), "--json"]) == 0
    cheap = json.loads(capsys.readouterr().out)
    assert cheap["read"].startswith("header only") and cheap["channels"] == [
        {"name": "image", "quantity": "image", "shape": [828, 1024]}]
    assert main(["info", str(SEM), "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    for key in ("shape", "frame_shape", "pixel_size_um", "databar_rows", "dtype"):
        assert cheap[key] == full[key], key
    assert main(["info", str(X3P), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["quantity"] == "height" and rec["shape"] == [768, 1024] and "invalid_fraction" not in rec

"""Real SEM files in ../shared/data/real/sem reproduce expected.json through ``surfscan info --json``."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from surfscan import read
from surfscan.cli import main
from surfscan.errors import SurfscanWarning
from surfscan.model import Micrograph

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def _sem_entries() -> list[str]:
    path = REAL / "expected.json"
    if not path.is_file():
        return []
    return sorted(json.loads(path.read_text()).get("sem", {}))


def _info(path, capsys, *extra: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        rc = main(["info", str(path), "--json", "--full", *extra])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


@pytest.mark.parametrize("name", _sem_entries())
def test_sem_file_matches_expected(name, real_dir, expected, capsys):
    truth = expected["sem"][name]
    rec = _info(real_dir / "sem" / name, capsys)
    assert rec["kind"] == "sem"
    rtol = truth.get("pixel_rtol", 1e-3)
    assert rec["pixel_size_um"] is not None, rec["pixel_size_source"]
    assert math.isclose(rec["pixel_size_um"] * 1e3, truth["pixel_size_nm"], rel_tol=rtol), rec["pixel_size_source"]
    assert rec["pixel_size_source"]
    assert rec["databar_rows"] == truth["databar_rows"]
    assert rec["frame_shape"] == truth["shape"]
    assert rec["shape"] == [truth["shape"][0] - truth["databar_rows"], truth["shape"][1]]
    if "dtype" in truth:
        assert rec["dtype"] == truth["dtype"]


@pytest.mark.parametrize("name", _sem_entries())
def test_sem_read_keeps_full_frame(name, real_dir, expected):
    truth = expected["sem"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        m = read(real_dir / "sem" / name)
    assert isinstance(m, Micrograph)
    full = m.meta["full_frame"]
    assert list(full.shape[:2]) == truth["shape"]
    np.testing.assert_array_equal(full[: m.shape[0]], m.image)
    for key in ("vendor", "instrument", "hv_kV", "working_distance_mm", "detector", "date"):
        assert m.meta[key] is not None, key


def test_pixel_size_override(real_dir, capsys):
    rec = _info(real_dir / "sem" / "ODEMIS_tfs_example.tif", capsys, "--pixel-size", "0.5")
    assert rec["pixel_size_um"] == 0.5
    assert "user" in rec["pixel_size_source"]


def _sample_sem() -> list[str]:
    truth = Path(__file__).resolve().parents[1] / "sample_images" / "truth.json"
    if not truth.is_file():
        return []
    return sorted(k for k, v in json.loads(truth.read_text()).items() if "databar_rows" in v)


@pytest.mark.parametrize("name", _sample_sem())
def test_sample_sem_images(name):
    folder = Path(__file__).resolve().parents[1] / "sample_images"
    truth = json.loads((folder / "truth.json").read_text())[name]
    m = read(folder / name)
    assert math.isclose(m.pixel_size, truth["pixel_size_um"], rel_tol=1e-6)
    assert m.meta["databar_rows"] == truth["databar_rows"]
    assert list(m.shape) == truth["image_shape"]
    assert m.meta["pixel_size_source"].startswith("FEI tag 34682")

"""Gwyddion .gwy reader: the real gwyfile test file, and files written with gwyfile."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from surfscan.errors import FormatError, SurfscanError, SurfscanWarning
from surfscan.io import read
from surfscan.io.registry import detect

GWYF = "GWYF_test.gwy"


def _write(path, fields, masks=None):
    """A .gwy file with (title, z, xreal, yreal, xy unit, z unit) channels."""
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    c = GwyContainer()
    for i, (title, z, xreal, yreal, uxy, uz) in enumerate(fields):
        c[f"/{i}/data"] = GwyDataField(np.asarray(z, float), xreal=xreal, yreal=yreal,
                                       si_unit_xy=GwySIUnit(unitstr=uxy), si_unit_z=GwySIUnit(unitstr=uz))
        c[f"/{i}/data/title"] = title
    for i, m in (masks or {}).items():
        c[f"/{i}/mask"] = GwyDataField(np.asarray(m, float), xreal=1.0, yreal=1.0)
    c.tofile(str(path))
    return path


def test_real_gwyfile_sample_reads_as_stored(real_dir, expected):
    exp = expected["height"][GWYF]
    with pytest.warns(SurfscanWarning, match="unit is empty"):
        s = read(real_dir / "height" / GWYF)
    assert list(s.shape) == exp["shape"]
    assert s.meta["channel"] == exp["channel"]
    # unitless: xreal/yreal kept as stored and taken as µm, so the size is xreal x yreal
    assert s.size_um == pytest.approx((exp["yreal"], exp["xreal"]))
    assert (s.meta["xreal"], s.meta["yreal"]) == (exp["xreal"], exp["yreal"])
    assert float(np.mean(s.z)) == pytest.approx(exp["mean_raw"], rel=1e-12)


def test_real_gwyfile_sample_through_cli(real_dir, expected):
    exp = expected["height"][GWYF]
    out = subprocess.run([sys.executable, "-m", "surfscan", "info", "--json", str(real_dir / "height" / GWYF)],
                         capture_output=True, text=True, check=True).stdout
    info = json.loads(out)
    assert info["shape"] == exp["shape"]
    assert info["size_um"] == pytest.approx([exp["yreal"], exp["xreal"]])
    assert info["metadata"]["si_unit_z"] == ""


def test_metres_become_micrometres_and_height_channel_is_chosen(tmp_path):
    rng = np.random.default_rng(2)
    amp = rng.normal(size=(4, 6))
    hgt = rng.normal(scale=1e-7, size=(4, 6))
    path = _write(tmp_path / "a.gwy", [("Amplitude", amp, 6e-6, 4e-6, "m", "V"),
                                       ("Topography", hgt, 6e-6, 4e-6, "m", "m")])
    s = read(path)
    assert s.meta["channel"] == "Topography" and s.meta["channels"] == ["Amplitude", "Topography"]
    assert (s.dx, s.dy) == pytest.approx((1.0, 1.0))
    np.testing.assert_allclose(s.z, hgt * 1e6)
    with pytest.warns(SurfscanWarning, match="not a height"):
        a = read(path, channel="amplitude")
    np.testing.assert_allclose(a.z, amp)
    assert a.meta["z_unit"] == "V"
    assert read(path, channel=0).meta["channel"] == "Amplitude"
    with pytest.raises(SurfscanError, match="no channel"):
        read(path, channel="Phase")


def test_mask_applied_only_on_request(tmp_path):
    z = np.arange(6.0).reshape(2, 3) * 1e-9
    mask = np.zeros((2, 3))
    mask[0, 1] = 1
    path = _write(tmp_path / "m.gwy", [("Height", z, 3e-6, 2e-6, "m", "m")], masks={0: mask})
    assert not read(path).has_invalid and read(path).meta["has_mask"]
    s = read(path, mask_as_invalid=True)
    assert np.isnan(s.z[0, 1]) and s.invalid_fraction == pytest.approx(1 / 6)


def test_detected_by_content(tmp_path):
    path = _write(tmp_path / "a.dat", [("H", np.zeros((2, 2)), 1e-6, 1e-6, "m", "m")])
    assert detect(path).name == "gwy"


def test_unterminated_string_fails_fast_instead_of_looping(tmp_path):
    """gwyfile alone loops forever on this; the structure walk rejects it first."""
    body = b"title\0s" + b"abc"  # a string component without its NUL
    raw = b"GWYP" + b"GwyContainer\0" + struct.pack("<I", len(body)) + body
    path = tmp_path / "bad.gwy"
    path.write_bytes(raw)
    t0 = time.perf_counter()
    with pytest.raises(FormatError, match="unterminated"):
        read(path)
    assert time.perf_counter() - t0 < 1.0


def test_declared_sizes_checked(tmp_path):
    good = _write(tmp_path / "g.gwy", [("H", np.zeros((3, 3)), 1e-6, 1e-6, "m", "m")]).read_bytes()
    cut = tmp_path / "cut.gwy"
    cut.write_bytes(good[:-20])
    with pytest.raises(FormatError, match="corrupt Gwyddion"):
        read(cut)
    pos = good.find(b"xres\0i") + 6
    huge = bytearray(good)
    struct.pack_into("<i", huge, pos, 100000)
    bad = tmp_path / "huge.gwy"
    bad.write_bytes(bytes(huge))
    with pytest.raises(FormatError, match="declares|holds"):
        read(bad)

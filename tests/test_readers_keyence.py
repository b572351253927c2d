"""Keyence readers: VR .zon (real file) and VK-X .vk4/.vk3/.vk6/.vk7 (files built from the documented layout)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from vendor_files import make_vk4, make_vk6, write

from surfscan.errors import FormatError, SurfscanError
from surfscan.io import get_format, read
from surfscan.io.registry import detect
from surfscan.level import level_plane

ZON = "SZ_test_1.zon"


# ----------------------------------------------------------------------------- .zon (real file)


@pytest.fixture(scope="module")
def zon(real_dir):
    return read(real_dir / "height" / ZON)


def test_zon_reproduces_expected(zon, expected):
    exp = expected["height"][ZON]
    assert list(zon.shape) == exp["shape"]
    assert zon.dx == pytest.approx(exp["dx_um"], rel=1e-12)
    assert zon.dy == pytest.approx(exp["dy_um"], rel=1e-12)
    assert abs(zon.invalid_fraction - exp["invalid_fraction"]) < 1e-6
    r = level_plane(zon).z
    r = r[np.isfinite(r)]
    assert np.mean(np.abs(r)) == pytest.approx(exp["Sa_um"], rel=1e-6)
    assert np.sqrt(np.mean(r**2)) == pytest.approx(exp["Sq_um"], rel=1e-6)


def test_zon_metadata_and_channels(zon):
    assert zon.meta["format"] == "zon"
    assert zon.meta["model"] == "VR-6100"
    assert zon.meta["instrument"] == "Keyence VR-6100"
    assert zon.meta["channels"] == ["height", "color"]
    assert zon.meta["date"].startswith("2025-12-18T12:47:39")
    assert zon.meta["z_count_m"] == pytest.approx(1e-8)


def test_zon_colour_channel_is_refused_clearly(real_dir):
    with pytest.raises(SurfscanError, match="colour"):
        read(real_dir / "height" / ZON, channel="color")


def test_zon_through_cli_json(real_dir, expected):
    path = str(real_dir / "height" / ZON)
    exp = expected["height"][ZON]
    info = json.loads(subprocess.run([sys.executable, "-m", "surfscan", "info", "--json", path],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["shape"] == exp["shape"]
    assert abs(info["invalid_fraction"] - exp["invalid_fraction"]) < 1e-6
    rough = json.loads(subprocess.run(
        [sys.executable, "-m", "surfscan", "roughness", "--level", "plane", "--params", "Sa,Sq", "--json", path],
        capture_output=True, text=True, check=True).stdout)[0]["parameters"]
    assert rough["Sa"] == pytest.approx(exp["Sa_um"], rel=1e-6)
    assert rough["Sq"] == pytest.approx(exp["Sq_um"], rel=1e-6)


def test_zon_content_wins_over_suffix(real_dir, tmp_path):
    odd = tmp_path / "measurement.bin"
    odd.write_bytes((real_dir / "height" / ZON).read_bytes())
    assert detect(odd).name == "zon"


def test_zon_without_calibration_is_a_clear_error(tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a", struct.pack("<4I", 2, 2, 4, 8) + np.arange(4, dtype="<i4").tobytes())
    path = write(tmp_path / "x.zon", b"KPK1" + struct.pack("<I", 0) + buf.getvalue())
    with pytest.raises(FormatError, match="MeterPerPixel"):
        read(path)


def test_zon_zstd_bomb_stops_at_the_declared_size(tmp_path):
    import io
    import tracemalloc
    import zipfile

    import zstandard

    bomb = zstandard.ZstdCompressor().compress(bytes(64 << 20))  # 64 MiB of zeros in a few kB
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a", bomb)
    path = write(tmp_path / "bomb.zon", b"KPK1" + struct.pack("<I", 0) + buf.getvalue())
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="expands beyond"):
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20


# ----------------------------------------------------------------------------- VK4 (built from the layout)


@pytest.fixture
def counts():
    rng = np.random.default_rng(4)
    c = rng.integers(1000, 60000, size=(6, 9)).astype(np.uint32)
    c[2, 3] = 0  # not measured
    return c


def test_vk4_heights_calibration_and_invalid(tmp_path, counts):
    path = write(tmp_path / "e1.vk4", make_vk4(counts, dx_pm=138_000, dy_pm=139_000, z_pm=1000))
    s = read(path)
    assert s.shape == counts.shape
    assert s.dx == pytest.approx(0.138) and s.dy == pytest.approx(0.139)
    expect = counts * 1e-3  # 1000 pm per count = 1e-3 µm
    valid = counts != 0
    np.testing.assert_allclose(s.z[valid], expect[valid], rtol=1e-12)
    assert np.isnan(s.z[2, 3]) and s.invalid_fraction == pytest.approx(1 / counts.size)
    assert s.meta["format"] == "vk4"
    assert not get_format("vk4").verified


def test_vk4_metadata(tmp_path, counts):
    s = read(write(tmp_path / "e1.vk4", make_vk4(counts, lens_mag10=500, zoom10=15)))
    assert s.meta["objective_magnification"] == 50.0
    assert s.meta["optical_zoom"] == 1.5
    assert s.meta["date"] == "2024-03-05T14:07:09+01:00"
    assert s.meta["objective"] == "CF IC EPI Plan 50X"
    assert s.meta["title"] == "E1 site 1"
    assert s.meta["channels"] == ["height", "color"]


def test_vk4_zero_kept_on_request(tmp_path, counts):
    s = read(write(tmp_path / "e1.vk4", make_vk4(counts)), zero_is_invalid=False)
    assert s.z[2, 3] == 0.0 and not s.has_invalid


def test_vk4_16_bit_heights(tmp_path):
    c = np.arange(1, 13, dtype=np.uint16).reshape(3, 4)
    s = read(write(tmp_path / "a.vk4", make_vk4(c, z_pm=500)))
    np.testing.assert_allclose(s.z, c * 5e-4)


def test_vk4_light_channel_and_colour_refused(tmp_path, counts):
    light = np.full(counts.shape, 4000, np.uint16)
    path = write(tmp_path / "e1.vk4", make_vk4(counts, light=light))
    s = read(path, channel="light")
    assert s.meta["channel"] == "light" and "intensity" in s.meta["z_unit"]
    np.testing.assert_array_equal(s.z, 4000.0)
    assert read(path).meta["channels"] == ["height", "light", "color"]
    with pytest.raises(SurfscanError, match="colour"):
        read(path, channel="color")
    with pytest.raises(SurfscanError, match="no channel 'height3'"):
        read(path, channel="height3")


def test_vk3_layout(tmp_path, counts):
    s = read(write(tmp_path / "old.vk3", make_vk4(counts, magic=b"VK3_")))
    assert s.meta["file_version"] == "VK3"
    np.testing.assert_allclose(s.z[counts != 0], counts[counts != 0] * 1e-3)


@pytest.mark.parametrize("magic,suffix", [(b"VK6", ".vk6"), (b"VK7", ".vk7")])
def test_vk6_vk7_container(tmp_path, counts, magic, suffix):
    inner = read(write(tmp_path / "in.vk4", make_vk4(counts)))
    outer = read(write(tmp_path / f"c{suffix}", make_vk6(make_vk4(counts), magic=magic)))
    np.testing.assert_array_equal(np.isnan(outer.z), np.isnan(inner.z))
    np.testing.assert_allclose(outer.z[~np.isnan(outer.z)], inner.z[~np.isnan(inner.z)])
    assert outer.meta["container"] == magic.decode() and outer.meta["format"] == "vk6"


def test_vk_sniffers_win_over_suffix(tmp_path, counts):
    assert detect(write(tmp_path / "a.dat", make_vk4(counts))).name == "vk4"
    assert detect(write(tmp_path / "b.zon", make_vk6(make_vk4(counts)))).name == "vk6"


def test_vk4_truncated_and_oversized_headers(tmp_path, counts):
    data = make_vk4(counts, color=False)
    height_off = struct.unpack_from("<I", data, 12 + 6 * 4)[0]
    with pytest.raises(FormatError, match="truncated"):
        read(write(tmp_path / "t.vk4", data[: height_off + 796 + 10]))
    assert read(write(tmp_path / "s.vk4", data[:-3])).shape == counts.shape  # only the strings are cut
    huge = bytearray(data)
    struct.pack_into("<II", huge, height_off, 40000, 40000)  # 1.6e9 points declared
    with pytest.raises(FormatError, match="limit|declares"):
        read(write(tmp_path / "h.vk4", bytes(huge)))
    big = bytearray(data)
    struct.pack_into("<II", big, height_off, 3000, 3000)  # under the cap, far over the bytes present
    struct.pack_into("<I", big, height_off + 16, 3000 * 3000 * 4)
    with pytest.raises(FormatError, match="truncated"):
        read(write(tmp_path / "b.vk4", bytes(big)))


def test_vk4_agrees_with_surfacetopography_and_surfalize(tmp_path, counts):
    """Independent readers of the same built file agree (same reading of the layout)."""
    st = pytest.importorskip("SurfaceTopography")
    sz = pytest.importorskip("surfalize")
    counts = counts.copy()
    counts[counts == 0] = 7  # peers do not mask zeros
    path = write(tmp_path / "x.vk4", make_vk4(counts))
    ours = read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topo = st.open_topography(str(path)).topography()
        other = sz.Surface.load(str(path))
    np.testing.assert_allclose(ours.z, topo.heights().T * 1e-6, rtol=1e-12)  # pm -> µm
    np.testing.assert_allclose(topo.physical_sizes, (ours.shape[1] * ours.dx * 1e6, ours.shape[0] * ours.dy * 1e6))
    np.testing.assert_allclose(ours.z, other.data, rtol=1e-12)
    assert (other.step_x, other.step_y) == pytest.approx((ours.dx, ours.dy))

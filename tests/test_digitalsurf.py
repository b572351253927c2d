"""Digital Surf .sur: write/read round trips (plain and zlib), peers, multi-object and intensity files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import surfscan
from surfscan.cli import main
from surfscan.errors import FormatError, SurfscanError
from surfscan.model import Surface


def _surface(rows: int = 37, cols: int = 53, nan_points: int = 5, seed: int = 3) -> Surface:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    z = 0.8 * np.sin(x / 4.0) + 0.3 * np.cos(y / 3.0) + rng.normal(0, 0.05, (rows, cols)) + 12.0
    z[rng.integers(0, rows, nan_points), rng.integers(0, cols, nan_points)] = np.nan
    return Surface(z, 0.25, 0.5, {})


def _patch(raw: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(raw)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip_through_our_reader(tmp_path, compressed):
    s = _surface()
    path = surfscan.write(s, tmp_path / "a.sur", compressed=compressed)
    assert path.read_bytes()[:12] == (b"DSCOMPRESSED" if compressed else b"DIGITAL SURF")
    t = surfscan.read(path)
    assert t.shape == s.shape
    assert np.array_equal(np.isnan(t.z), np.isnan(s.z))
    span = np.nanmax(s.z) - np.nanmin(s.z)
    assert np.nanmax(np.abs(t.z - s.z)) <= span * 2e-9 + 1e-6 * 1e-3  # 32-bit counts, float32 offset
    assert t.dx == pytest.approx(0.25, rel=1e-7) and t.dy == pytest.approx(0.5, rel=1e-7)
    assert t.meta["compressed"] is compressed and t.quantity == "height"


@pytest.mark.parametrize("compressed", [False, True])
def test_written_file_reads_in_surfalize(tmp_path, compressed):
    surfalize = pytest.importorskip("surfalize")
    s = _surface()
    surfscan.write(s, tmp_path / "b.sur", compressed=compressed)
    peer = surfalize.Surface.load(tmp_path / "b.sur")
    assert peer.data.shape == s.shape
    assert peer.step_x == pytest.approx(s.dx, rel=1e-7) and peer.step_y == pytest.approx(s.dy, rel=1e-7)
    assert np.array_equal(np.isnan(peer.data), np.isnan(s.z))
    assert np.nanmax(np.abs(peer.data - s.z)) < 1e-6


def test_written_file_reads_in_surface_topography(tmp_path):
    st = pytest.importorskip("SurfaceTopography")
    s = _surface(nan_points=0)
    surfscan.write(s, tmp_path / "c.sur")
    topo = st.open_topography(str(tmp_path / "c.sur")).topography()
    assert topo.nb_grid_pts == (s.shape[1], s.shape[0])  # (nx, ny)
    assert topo.physical_sizes == pytest.approx((s.shape[1] * s.dx, s.shape[0] * s.dy), rel=1e-6)
    heights = np.asarray(topo.heights()).T  # back to [row, col]
    # SurfaceTopography ignores the absolute offset: compare after removing the means
    assert np.max(np.abs((heights - heights.mean()) - (s.z - s.z.mean()))) < 1e-6


def test_sixteen_bit_inverted_object_and_mac_byte_order(tmp_path):
    counts = np.arange(12, dtype="<i2").reshape(3, 4) - 5
    head = bytearray(512)
    fields = [("12s", 0, b"DIGITAL SURF"), ("<h", 12, 0), ("<H", 14, 1), ("<h", 16, 1), ("<h", 18, 2),
              ("<h", 98, 16), ("<i", 100, -5), ("<i", 104, 6), ("<i", 108, 4), ("<i", 112, 3), ("<i", 116, 12),
              ("<f", 120, 2.0), ("<f", 124, 3.0), ("<f", 128, 10.0), ("16s", 180, b"nm"), ("16s", 196, b"nm"),
              ("16s", 212, b"nm"), ("<h", 290, 2)]
    for fmt, off, val in fields:
        struct.pack_into(fmt, head, off, val)
    (tmp_path / "pc.sur").write_bytes(bytes(head) + counts.tobytes())
    s = surfscan.read(tmp_path / "pc.sur")
    assert s.dx == pytest.approx(2e-3) and s.dy == pytest.approx(3e-3)
    assert np.allclose(s.z, -(counts[:, ::-1] * 10.0) * 1e-3)  # inversion 2: negated, mirrored left-right
    mac = bytearray(512)
    for fmt, off, val in fields:
        struct.pack_into(fmt.replace("<", ">"), mac, off, val)
    struct.pack_into(">h", mac, 12, 257)
    (tmp_path / "mac.sur").write_bytes(bytes(mac) + counts.astype(">i2").tobytes())
    assert np.array_equal(surfscan.read(tmp_path / "mac.sur").z, s.z)


def _intensity_object(raw: bytes) -> bytes:
    raw = _patch(raw, 18, "<h", 10)  # studiable type: intensity image
    return _patch(raw, 212, "16s", b"")


def test_multi_object_file_lists_objects_and_picks_heights(tmp_path):
    s = _surface(nan_points=0)
    surfscan.write(s, tmp_path / "h.sur", name="height map")
    height = (tmp_path / "h.sur").read_bytes()
    light = _intensity_object(_patch(height, 20, "30s", b"light"))
    (tmp_path / "multi.sur").write_bytes(_patch(light, 14, "<H", 2) + height)
    t = surfscan.read(tmp_path / "multi.sur")
    assert [c["name"] for c in t.meta["channels"]] == ["light", "height map"]
    assert t.meta["channel"] == 1 and t.quantity == "height"
    assert np.max(np.abs(t.z - s.z)) < 1e-6
    i = surfscan.read(tmp_path / "multi.sur", channel="light")
    assert i.quantity == "intensity" and i.is_intensity and i.meta["z_unit"].startswith("intensity")
    with pytest.raises(SurfscanError, match="no channel named"):
        surfscan.read(tmp_path / "multi.sur", channel="missing")


def test_intensity_only_file_is_flagged_and_roughness_refuses(tmp_path, capsys):
    surfscan.write(_surface(nan_points=0), tmp_path / "h.sur")
    (tmp_path / "light.sur").write_bytes(_intensity_object((tmp_path / "h.sur").read_bytes()))
    assert main(["info", "--json", str(tmp_path / "light.sur")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["quantity"] == "intensity"
    assert main(["roughness", "--params", "Sa", str(tmp_path / "light.sur")]) == 1
    err = capsys.readouterr().err
    assert "intensity" in err and "light.sur" in err


def test_corrupt_compressed_stream_is_one_clear_error(tmp_path):
    surfscan.write(_surface(), tmp_path / "z.sur", compressed=True)
    raw = bytearray((tmp_path / "z.sur").read_bytes())
    raw[512 + 12 + 10] ^= 0xFF  # inside the zlib stream
    (tmp_path / "bad.sur").write_bytes(bytes(raw))
    with pytest.raises(FormatError, match="compressed"):
        surfscan.read(tmp_path / "bad.sur")
    bomb = _patch(bytes(raw), 512 + 4, "<I", 1 << 30)  # a stream declared far larger than the grid
    (tmp_path / "bomb.sur").write_bytes(bomb)
    with pytest.raises(FormatError, match="inflate"):
        surfscan.read(tmp_path / "bomb.sur")

"""Vendor readers on files built from their documented layouts, and on patched copies of real samples.

Each test states the layout fact it checks (scale codes, sentinels, padding,
byte offsets) and computes the truth independently with ``struct``/numpy.
"""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest

import surfscan
from surfscan.errors import SurfscanWarning


def _patched(real_dir, tmp_path, name: str, patches: list[tuple[str, int, object]], out: str | None = None):
    raw = bytearray((real_dir / "height" / name).read_bytes())
    for fmt, off, val in patches:
        struct.pack_into(fmt, raw, off, val)
    path = tmp_path / (out or name)
    path.write_bytes(bytes(raw))
    return path


# ----------------------------------------------------------------------------- Zygo MetroPro


@pytest.mark.parametrize("phase_res, counts_per_wave", [(0, 4096), (1, 32768), (2, 131072)])
def test_metropro_phase_resolution_codes(real_dir, tmp_path, phase_res, counts_per_wave):
    path = _patched(real_dir, tmp_path, "ST_metropro-1.dat", [(">h", 218, phase_res)])
    raw = path.read_bytes()
    isf, wavelength, _, obliquity = struct.unpack_from(">4f", raw, 164)
    counts = np.frombuffer(raw, ">i4", 640 * 480, 834 + 614400).reshape(480, 640)
    s = surfscan.read(path)
    assert np.allclose(s.z, counts * isf * wavelength * obliquity / counts_per_wave * 1e6, rtol=1e-12, atol=0)


def test_metropro_sign_sentinel_and_missing_lateral_calibration(real_dir, tmp_path):
    data = 834 + 614400
    path = _patched(real_dir, tmp_path, "ST_metropro-1.dat",
                    [(">h", 232, 1), (">i", data + 4 * 7, 2147483640), (">f", 184, 0.0)])
    ref = surfscan.read(real_dir / "height" / "ST_metropro-1.dat")
    with pytest.warns(SurfscanWarning, match="lateral"):
        s = surfscan.read(path)
    assert np.isnan(s.z[0, 7]) and np.count_nonzero(np.isnan(s.z)) == 1
    ok = ~np.isnan(s.z)
    assert np.array_equal(s.z[ok], -ref.z[ok])
    assert s.dx == 1.0 and s.meta["calibrated"] is False


# ----------------------------------------------------------------------------- Sensofar PLU


def test_plu_heights_start_after_the_two_layer_dimensions(real_dir, tmp_path):
    raw = (real_dir / "height" / "ST_plu-1.plu").read_bytes()
    rows, cols = struct.unpack_from("<2I", raw, 500)
    first = np.frombuffer(raw, "<f4", 3, 508)
    s = surfscan.read(real_dir / "height" / "ST_plu-1.plu")
    assert s.shape == (rows, cols)
    assert np.array_equal(s.z[0, :3], first.astype(np.float64))
    path = _patched(real_dir, tmp_path, "ST_plu-1.plu", [("<f", 508 + 4 * 5, 1000001.0)])
    t = surfscan.read(path)
    assert np.isnan(t.z[0, 5]) and np.count_nonzero(np.isnan(t.z)) == 1


# ----------------------------------------------------------------------------- ISO 25178-71 SDF


def _binary_sdf(values: np.ndarray, zscale: float, magic: bytes = b"bISO-1.0") -> bytes:
    rows, cols = values.shape
    dims = struct.pack("<HH" if magic == b"bISO-1.0" else "<II", cols, rows)
    head = magic + b"surfscan  " + b"010120241200" * 2 + dims + struct.pack("<4d3B", 2e-6, 3e-6, zscale, -1, 0, 5, 0)
    return head + values.astype("<i2").tobytes()


@pytest.mark.parametrize("magic", [b"bISO-1.0", b"bISO-2.0"])
def test_binary_sdf_int16_with_not_measured_marker(tmp_path, magic):
    values = np.arange(-6, 6, dtype=np.int16).reshape(3, 4) * 100
    values[1, 2] = -32768
    (tmp_path / "b.sdf").write_bytes(_binary_sdf(values, 1e-9, magic))
    s = surfscan.read(tmp_path / "b.sdf")
    assert s.dx == pytest.approx(2.0) and s.dy == pytest.approx(3.0)
    expected = values * 1e-3
    assert np.isnan(s.z[1, 2]) and np.count_nonzero(np.isnan(s.z)) == 1
    ok = values != -32768
    assert np.allclose(s.z[ok], expected[ok])


def test_ascii_sdf_bad_points_and_wrong_count(tmp_path):
    text = "aISO-1.0\nManufacID = X\nNumPoints = 3\nNumProfiles = 2\nXscale = 1e-6\nYscale = 1e-6\n" \
           "Zscale = 1e-6\nCompression = 0\nDataType = 7\n*\n1 2 3\n4 BAD 6\n*\n"
    (tmp_path / "a.sdf").write_text(text)
    s = surfscan.read(tmp_path / "a.sdf")
    assert np.isnan(s.z[1, 1]) and s.z[1, 2] == pytest.approx(6.0)
    (tmp_path / "short.sdf").write_text(text.replace("4 BAD 6", "4 BAD"))
    with pytest.raises(surfscan.SurfscanError, match="5 values"):
        surfscan.read(tmp_path / "short.sdf")


# ----------------------------------------------------------------------------- TrueMap TMD


def test_tmd_variable_comment_and_millimetres(real_dir, tmp_path):
    raw = (real_dir / "height" / "ST_tmd-1.tmd").read_bytes()
    longer = raw[:32] + b"A longer comment written by another version\r\n\0" + raw[56:]
    (tmp_path / "c.tmd").write_bytes(longer)
    a, b = surfscan.read(real_dir / "height" / "ST_tmd-1.tmd"), surfscan.read(tmp_path / "c.tmd")
    assert np.array_equal(a.z, b.z) and a.dx == b.dx
    first_mm = np.frombuffer(raw, "<f4", 1, 80)[0]
    assert a.z[0, 0] == pytest.approx(first_mm * 1000.0)


# ----------------------------------------------------------------------------- Alicona AL3D


def _tag(key: str, value: str) -> bytes:
    return key.encode().ljust(20, b"\0") + value.encode().ljust(30, b"\0") + b"\r\n"


def test_al3d_padded_rows_and_invalid_value(tmp_path):
    rows, cols = 2, 3  # 12-byte rows are padded to 16
    depth_m = np.array([[1e-6, 2e-6, 3e-6], [4e-6, 3.0e15, 6e-6]], "<f4")
    tags = [("Cols", str(cols)), ("Rows", str(rows)), ("PixelSizeXMeter", "5e-07"), ("PixelSizeYMeter", "6e-07"),
            ("InvalidPixelValue", "3e+15"), ("DepthImageOffset", "")]
    head_len = 17 + 52 * (2 + len(tags)) + 256
    tags[-1] = ("DepthImageOffset", str(head_len))
    head = b"AliconaImaging\x00\r\n" + _tag("Version", "1") + _tag("TagCount", str(len(tags)))
    head += b"".join(_tag(k, v) for k, v in tags) + bytes(254) + b"\r\n"
    padded = np.zeros((rows, 4), "<f4")
    padded[:, :cols] = depth_m
    (tmp_path / "p.al3d").write_bytes(head + padded.tobytes()[:-4])  # last row's padding may be missing
    s = surfscan.read(tmp_path / "p.al3d")
    assert s.dx == pytest.approx(0.5) and s.dy == pytest.approx(0.6)
    assert np.isnan(s.z[1, 1]) and np.count_nonzero(np.isnan(s.z)) == 1
    assert s.z[1, 2] == pytest.approx(6.0, rel=1e-6) and s.z[0, 0] == pytest.approx(1.0, rel=1e-6)


# ----------------------------------------------------------------------------- FRT


def test_frt_multi_image_block_32_bit_flipped(tmp_path):
    counts = np.array([[10, 20, 30], [40, 1, 60]], "<i4")  # stored bottom row first; 1 = not measured

    def block(tag: int, payload: bytes) -> bytes:
        return struct.pack("<HI", tag, len(payload)) + payload

    images = struct.pack("<4H", 0, 0, 0, 0) + struct.pack("<4I", 0x4, 3, 2, 32) + counts.tobytes()
    body = [block(0x0067, struct.pack("<5dI", 3e-3, 4e-3, 0, 0, 1, 0)), block(0x006C, struct.pack("<Id", 0, 1e-9)),
            block(0x007D, images)]
    (tmp_path / "m.frt").write_bytes(b"FRTM_GLIDERV1.00" + struct.pack("<H", len(body)) + b"".join(body))
    s = surfscan.read(tmp_path / "m.frt")
    assert s.dx == pytest.approx(1000.0) and s.dy == pytest.approx(2000.0)
    assert np.isnan(s.z[0, 1]) and s.z[0, 0] == pytest.approx(40e-3) and s.z[1, 2] == pytest.approx(30e-3)
    assert s.meta["data_source"] == "block 0x007D"


# ----------------------------------------------------------------------------- detection


@pytest.mark.parametrize("name, fmt", [("ST_sur-2.sur", "sur"), ("ST_metropro-1.dat", "metropro"),
                                       ("ST_opd-1.opd", "opd"), ("ST_al3d-1.al3d", "al3d"), ("ST_frt-2.frt", "frt"),
                                       ("ST_tmd-1.tmd", "tmd"), ("ST_sdf-1.sdf", "sdf"), ("ST_nms-1.nms", "nms"),
                                       ("ST_plu-1.plu", "plu")])
def test_detected_by_content_without_suffix(real_dir, tmp_path, name, fmt):
    path = tmp_path / "renamed.bin"
    path.write_bytes((real_dir / "height" / name).read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        assert surfscan.read(path).meta["format"] == fmt

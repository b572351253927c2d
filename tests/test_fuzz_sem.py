"""Seeded fuzzing of the SEM readers: truncations, bit flips, bogus metadata values, huge sidecars.

Small vendor files are built here with tifffile (metadata text taken from the
real samples when present, else written inline). Every mutated file must read
(a Micrograph) or raise a :class:`SurfscanError` -- the reader is called
directly, so nothing is hidden by ``surfscan.read``'s wrapping -- within a
time bound and without allocating far more than the file justifies.
"""

from __future__ import annotations

import re
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from surfscan.errors import SurfscanError, SurfscanWarning
from surfscan.io.sem import read_sem_raster, read_sem_tiff
from surfscan.model import Micrograph

TIME_LIMIT_S = 5.0
ALLOC_LIMIT = 64 << 20

FEI_TEXT = (
    "[User]\r\nDate=06/13/2016\r\nTime=05:06:40 PM\r\n[System]\r\nSystemType=Helios\r\nDnumber=1\r\n"
    "[Beam]\r\nHV=5000\r\n[Scan]\r\nPixelWidth=3.3724e-06\r\nPixelHeight=3.3724e-06\r\nHorFieldsize=0.0002\r\n"
    "[Stage]\r\nWorkingDistance=0.004\r\n[Image]\r\nResolutionX=96\r\nResolutionY=52\r\n"
    "[Detectors]\r\nName=ETD\r\nMode=SE\r\n[PrivateFei]\r\nDatabarHeight=12\r\n"
)
ZEISS_TEXT = (
    "0\r\n0\r\n0\r\n5.9e-07\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 593.3 nm\r\nAP_WIDTH\r\nWidth = 57.0 µm\r\n"
    "AP_MAG\r\nMag = 188 X\r\nAP_ACTUALKV\r\nEHT = 5.00 kV\r\nAP_WD\r\nWD = 5.2 mm\r\nDP_DETECTOR_CHANNEL\r\n"
    "Signal A = InLens\r\nAP_DATE\r\nDate :11 Apr 2023\r\nAP_TIME\r\nTime :8:40:47\r\n"
)
TESCAN_MAIN = (
    "AccFrames=1\r\nDate=2016-05-16\r\nDevice=MIRA3\r\nImageStripSize=12\r\nMagnification=108\r\nPixelSizeX=2.5e-6\r\n"
)
TESCAN_SEM = "Detector=SE\r\nHV=10000\r\nWD=0.013\r\n"
HITACHI_TEXT = "[SemImageFile]\r\nInstructName=S-4800\r\nDataSize=96x52\r\nPixelSize=4.96\r\nMagnification=20000\r\nAcceleratingVoltage=5000 Volt\r\nWorkingDistance=8300 um\r\n"
JEOL_TEXT = "$CM_FORMAT JEOL-SEM\n$CM_MAG 95\n$CM_ACCEL_VOLT 7.00\n$$SM_MICRON_BAR 101\n$$SM_MICRON_MARKER 100um\n$CM_FULL_SIZE 96 52\n"


def _image(dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(0)
    top = np.iinfo(dtype).max
    return (rng.random((64, 96)) * top).astype(dtype)


def _tescan_tag() -> bytes:
    out = b""
    for kind, text in ((2, TESCAN_MAIN), (3, TESCAN_SEM)):
        payload = text.encode()
        out += struct.pack("<IH", len(payload) + 2, kind) + payload
    return out


def _write(path: Path, kind: str) -> Path:
    """A small SEM file of one vendor kind (plus its sidecar)."""
    img = _image(np.uint16 if kind == "tescan" else np.uint8)
    tags = {
        "fei": [(34682, "s", 0, FEI_TEXT.encode("latin-1"), True)],
        "zeiss": [(34118, "s", 0, ZEISS_TEXT.encode("latin-1"), True)],
        "tescan": [(50431, "B", len(_tescan_tag()), _tescan_tag(), True)],
        "hitachi": [(40092, "B", 0, HITACHI_TEXT.encode("utf-16-le"), True)],
        "jeol": [],
    }[kind]
    if kind == "hitachi":
        tags = [(40092, "B", len(tags[0][3]), tags[0][3], True)]
    tifffile.imwrite(path, img, extratags=tags)
    if kind == "jeol":
        path.with_suffix(".txt").write_text(JEOL_TEXT)
    return path


def _attempt(path: Path, reader=read_sem_tiff) -> str:
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            result = reader(path)
        assert isinstance(result, Micrograph)
        outcome = "read"
    except SurfscanError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
        outcome = "error"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    elapsed = time.perf_counter() - t0
    assert elapsed < TIME_LIMIT_S, f"{path.name}: {elapsed:.1f} s"
    assert peak < ALLOC_LIMIT + 40 * path.stat().st_size, f"{path.name}: {peak / 1e6:.0f} MB"
    return outcome


KINDS = ["fei", "zeiss", "tescan", "hitachi", "jeol"]


@pytest.fixture(scope="module", autouse=True)
def _warm_up(tmp_path_factory):
    """Read each container once so lazy imports are not timed (tracemalloc slows imports a lot)."""
    import cv2

    folder = tmp_path_factory.mktemp("warm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        read_sem_tiff(_write(folder / "w.tif", "fei"))
        for suffix in (".png", ".jpg", ".bmp"):
            (folder / f"w{suffix}").write_bytes(cv2.imencode(suffix, _image())[1].tobytes())
            read_sem_raster(folder / f"w{suffix}")


@pytest.mark.parametrize("kind", KINDS)
def test_clean_synthetic_vendor_file(kind, tmp_path):
    path = _write(tmp_path / f"{kind}.tif", kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        m = read_sem_tiff(path)
    assert m.pixel_size is not None and m.pixel_size > 0
    assert m.meta["frame_shape"] == [64, 96]
    expected_bar = {"fei": 12, "tescan": 12, "jeol": 12, "hitachi": 12, "zeiss": 0}[kind]
    assert m.meta["databar_rows"] == expected_bar


@pytest.mark.parametrize("kind", KINDS)
def test_truncations_and_bit_flips(kind, tmp_path):
    base = _write(tmp_path / "base.tif", kind).read_bytes()
    rng = np.random.default_rng(KINDS.index(kind))
    cases = [
        base[:c] for c in sorted({1, 4, 8, 9, 16, 100, len(base) // 2, len(base) - 1, *rng.integers(1, len(base), 12)})
    ]
    for _ in range(40):
        b = bytearray(base)
        for p in rng.integers(0, len(b), int(rng.integers(1, 4))):
            b[p] ^= 1 << int(rng.integers(0, 8))
        cases.append(bytes(b))
    ifd = struct.unpack("<I", base[4:8])[0]
    for _ in range(40):  # values written over IFD entries (counts, offsets, sizes)
        b = bytearray(base)
        off = ifd + 2 + 12 * int(rng.integers(0, 12)) + int(rng.choice([2, 4, 8]))
        value = int(rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, len(base), 1 << 20]))
        b[off : off + 4] = value.to_bytes(4, "little")
        cases.append(bytes(b))
    path = tmp_path / "case.tif"
    if kind == "jeol":
        (tmp_path / "case.txt").write_text(JEOL_TEXT)
    outcomes = set()
    for data in cases:
        path.write_bytes(data)
        outcomes.add(_attempt(path))
    assert "error" in outcomes


BOGUS = ["abc", "-5", "0", "1e308", "nan", "inf", "99999999999", "", "1e-300", "70000"]


@pytest.mark.parametrize("kind", ["fei", "zeiss", "hitachi", "jeol"])
def test_bogus_metadata_values(kind, tmp_path):
    text = {"fei": FEI_TEXT, "zeiss": ZEISS_TEXT, "hitachi": HITACHI_TEXT, "jeol": JEOL_TEXT}[kind]
    numbers = list(re.finditer(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text))
    rng = np.random.default_rng(7)
    img = _image()
    for i in range(30):
        m = numbers[int(rng.integers(0, len(numbers)))]
        bad = text[: m.start()] + BOGUS[i % len(BOGUS)] + text[m.end() :]
        path = tmp_path / f"bogus{i}.tif"
        if kind == "jeol":
            tifffile.imwrite(path, img)
            path.with_suffix(".txt").write_text(bad)
        elif kind == "hitachi":
            raw = bad.encode("utf-16-le")
            tifffile.imwrite(path, img, extratags=[(40092, "B", len(raw), raw, True)])
        else:
            code = {"fei": 34682, "zeiss": 34118}[kind]
            tifffile.imwrite(path, img, extratags=[(code, "s", 0, bad.encode("latin-1"), True)])
        assert _attempt(path) == "read"  # bad metadata is a warning, never fatal
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            micro = read_sem_tiff(path)
        assert micro.pixel_size is None or (np.isfinite(micro.pixel_size) and micro.pixel_size > 0)
        assert 0 <= micro.meta["databar_rows"] < 64


def test_bogus_tescan_chunks(tmp_path):
    rng = np.random.default_rng(3)
    base = _tescan_tag()
    img = _image(np.uint16)
    for i in range(30):
        raw = bytearray(base)
        off = int(rng.integers(0, 8)) if i % 2 else int(rng.integers(0, len(raw) - 4))
        raw[off : off + 4] = int(rng.choice([0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF])).to_bytes(4, "little")
        path = tmp_path / f"t{i}.tif"
        tifffile.imwrite(path, img, extratags=[(50431, "B", len(raw), bytes(raw), True)])
        assert _attempt(path) == "read"


def test_huge_and_binary_sidecars(tmp_path):
    img = _image()
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, img)
    path.with_suffix(".txt").write_bytes(JEOL_TEXT.encode() + b"$X " + b"9" * (3 << 20))
    with pytest.warns(SurfscanWarning):
        m = read_sem_tiff(path)
    assert m.pixel_size is None
    path.with_suffix(".txt").write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert _attempt(path) == "read"
    path.with_suffix(".txt").write_bytes(b"\xff\xfe" + HITACHI_TEXT.encode("utf-16-le")[:-7])
    assert _attempt(path) == "read"


def test_corrupt_png_jpeg_bmp(tmp_path):
    import cv2

    img = _image()
    rng = np.random.default_rng(5)
    for suffix in (".png", ".jpg", ".bmp"):
        ok, buf = cv2.imencode(suffix, img)
        data = buf.tobytes()
        path = tmp_path / f"x{suffix}"
        path.write_bytes(data)
        assert _attempt(path, read_sem_raster) == "read"
        outcomes = set()
        for cut in (2, 10, 30, len(data) // 2, len(data) - 3):
            path.write_bytes(data[:cut])
            outcomes.add(_attempt(path, read_sem_raster))
        for _ in range(15):
            b = bytearray(data)
            off = int(rng.integers(0, min(64, len(b) - 4)))
            b[off : off + 4] = int(rng.choice([0, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])).to_bytes(4, "big")
            path.write_bytes(bytes(b))
            outcomes.add(_attempt(path, read_sem_raster))
        assert "error" in outcomes

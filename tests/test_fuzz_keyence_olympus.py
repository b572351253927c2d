"""Seeded mutation fuzzing of the Keyence, Olympus, Zygo datx, Sensofar plux and Gwyddion readers.

Each reader starts from a real sample (``.zon``, ``.gwy``) or from a file
built from its documented layout, and reads truncations, bit flips and
random header values. For every case: only a SurfscanError may escape, the
read finishes within a few seconds, and the peak memory traced while reading
stays within a small multiple of the file size (a declared size must be
checked against the bytes present before an array is made).
"""

from __future__ import annotations

import logging
import signal
import struct
import tracemalloc
import warnings
import zlib
from collections.abc import Iterator

import numpy as np
import pytest
from vendor_files import make_datx, make_lext, make_ols, make_plux, make_vk4, make_vk6

from surfscan.errors import ReaderBugError, SurfscanError
from surfscan.io import read
from surfscan.model import Micrograph, Surface

CASE_SECONDS = 10
_SPECIAL = [0, 1, 2, 3, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 20, 1 << 24]


def _built(kind: str, tmp_path) -> tuple[bytes, str]:
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 60000, size=(7, 9)).astype(np.uint32)
    heights = rng.normal(size=(7, 9))
    heights[0, 0] = np.nan
    if kind == "vk4":
        return make_vk4(counts, light=counts.astype(np.uint16)), ".vk4"
    if kind == "vk6":
        return make_vk6(make_vk4(counts)), ".vk6"
    if kind == "lext":
        invalid = np.zeros(counts.shape, bool)
        invalid[1, 1] = True
        return make_lext(tmp_path / "s.lext", counts.astype(np.uint16), invalid=invalid).read_bytes(), ".lext"
    if kind == "ols":
        return make_ols(tmp_path / "s.ols", counts.astype(np.uint16)).read_bytes(), ".ols"
    if kind == "datx":
        return make_datx(tmp_path / "s.datx", heights).read_bytes(), ".datx"
    if kind == "plux":
        return make_plux(tmp_path / "s.plux", [heights]).read_bytes(), ".plux"
    raise ValueError(kind)


def mutations(data: bytes, rng: np.random.Generator, n: int) -> Iterator[tuple[str, bytes]]:
    """``n`` mutants: truncations, bit flips (mostly in the header) and random 32-bit header values."""
    head = min(len(data), 4096)
    for i in range(n):
        kind = i % 3
        if kind == 0:
            cut = int(rng.integers(0, len(data))) if i % 2 else int(rng.integers(0, min(len(data), 512)))
            yield f"truncate@{cut}", data[:cut]
        elif kind == 1:
            buf = bytearray(data)
            flips = int(rng.integers(1, 9))
            for _ in range(flips):
                pos = int(rng.integers(0, head if rng.random() < 0.7 else len(data)))
                buf[pos] ^= 1 << int(rng.integers(0, 8))
            yield f"flip x{flips}", bytes(buf)
        else:
            buf = bytearray(data)
            pos = int(rng.integers(0, max(1, head - 4))) & ~3
            value = int(rng.choice(_SPECIAL)) if rng.random() < 0.6 else int(rng.integers(0, 1 << 32))
            struct.pack_into("<I", buf, pos, value)
            yield f"uint32@{pos}={value:#x}", bytes(buf)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _fuzz(data: bytes, suffix: str, tmp_path, n: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    outcome = {"ok": 0, "error": 0}
    old = signal.signal(signal.SIGALRM, _alarm)
    tracemalloc.start()
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # corrupt-TIFF chatter
    try:
        for i, (label, mutant) in enumerate(mutations(data, rng, n)):
            path = tmp_path / f"case{i}{suffix}"
            path.write_bytes(mutant)
            tracemalloc.reset_peak()
            signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    obj = read(path)
                # a mutant may stop looking like its format and be read by another reader (an SEM TIFF)
                assert isinstance(obj, (Surface, Micrograph)), label
                outcome["ok"] += 1
            except ReaderBugError as exc:  # a SurfscanError, but a bug of the reader, not a refused file
                pytest.fail(f"{suffix} case {i} ({label}): {exc}")
            except SurfscanError:
                outcome["error"] += 1
            except _Timeout:
                pytest.fail(f"{suffix} case {i} ({label}): no result within {CASE_SECONDS} s")
            except Exception as exc:  # anything else is a bug
                pytest.fail(f"{suffix} case {i} ({label}): {type(exc).__name__} escaped: {exc}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            peak = tracemalloc.get_traced_memory()[1]
            allowed = 40 * len(data) + (64 << 20)
            assert peak <= allowed, f"{suffix} case {i} ({label}): traced {peak} bytes for a {len(mutant)}-byte file"
            path.unlink()
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGALRM, old)
    return outcome


@pytest.mark.parametrize("kind,n", [("vk4", 90), ("vk6", 45), ("lext", 45), ("ols", 30), ("datx", 30), ("plux", 45)])
def test_fuzz_built_samples(kind, n, tmp_path, monkeypatch):
    import surfscan.io.zygo_datx as datx

    monkeypatch.setattr(datx, "READ_TIMEOUT_S", 3.0)  # the HDF5 library can hang on corrupt files
    data, suffix = _built(kind, tmp_path)
    outcome = _fuzz(data, suffix, tmp_path, n, seed=zlib.crc32(kind.encode()))
    assert outcome["ok"] + outcome["error"] == n


def test_fuzz_real_zon(real_dir, tmp_path):
    data = (real_dir / "height" / "SZ_test_1.zon").read_bytes()
    outcome = _fuzz(data, ".zon", tmp_path, 24, seed=7)
    assert outcome["error"] > 0  # truncations must be reported, not read silently


def test_fuzz_real_gwy(real_dir, tmp_path):
    data = (real_dir / "height" / "GWYF_test.gwy").read_bytes()
    outcome = _fuzz(data, ".gwy", tmp_path, 60, seed=8)
    assert outcome["error"] > 0


def test_mutations_cover_each_kind():
    labels = [label for label, _ in mutations(bytes(100), np.random.default_rng(0), 9)]
    assert sum(label.startswith("truncate") for label in labels) == 3
    assert sum(label.startswith("flip") for label in labels) == 3
    assert sum(label.startswith("uint32") for label in labels) == 3

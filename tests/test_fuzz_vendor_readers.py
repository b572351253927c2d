"""Seeded fuzzing of the vendor height readers, starting from the real sample files.

For each reader: truncations at many lengths, bit flips, and random values
written into header fields. Every case must either read (a Surface) or raise
a :class:`SurfscanError` -- the reader is called directly, so the one-line
wrapping done by ``surfscan.read`` cannot hide a stray exception -- within a
time bound, and without allocating more than the file could justify
(measured with tracemalloc, which sees numpy's buffers).
"""

from __future__ import annotations

import re
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

import surfscan
from surfscan.errors import SurfscanError
from surfscan.io import get_format
from surfscan.model import Surface

#: format -> (sample file, bytes of header region where field mutations land)
SAMPLES = {
    "sur": ("ST_sur-2.sur", 512),
    "plu": ("ST_plu-1.plu", 508),
    "metropro": ("ST_metropro-1.dat", 834),
    "opd": ("ST_opd-1.opd", 2 + 24 * 40),
    "al3d": ("ST_al3d-1.al3d", 1261),
    "nms": ("ST_nms-1.nms", 1400),
    "frt": ("ST_frt-2.frt", 160),
    "tmd": ("ST_tmd-1.tmd", 80),
    "sdf": ("ST_sdf-1.sdf", 300),
}
TIME_LIMIT_S = 5.0
INTERESTING = [0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 0x100000]


def _truncations(data: bytes, rng: np.random.Generator, header: int) -> list[tuple[str, bytes]]:
    n = len(data)
    cuts = {1, 8, 12, 16, 31, header - 1, header, header + 1, header + 8, n // 2, n - 1}
    cuts |= {int(c) for c in rng.integers(1, n, 10)}
    return [(f"truncate@{c}", data[:c]) for c in sorted(c for c in cuts if 0 < c < n)]


def _bit_flips(data: bytes, rng: np.random.Generator, header: int, count: int = 24) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(count):
        b = bytearray(data)
        span = header if rng.random() < 0.8 else len(data)
        positions = rng.integers(0, min(span, len(data)), int(rng.integers(1, 4)))
        for p in positions:
            b[p] ^= 1 << int(rng.integers(0, 8))
        out.append((f"flip@{','.join(map(str, positions))}", bytes(b)))
    return out


def _field_values(data: bytes, rng: np.random.Generator, header: int, count: int = 24) -> list[tuple[str, bytes]]:
    """Random values written over header fields (binary), or over header numbers (text)."""
    out = []
    if data[:1] in (b"a", b" ", b"\n"):  # ASCII SDF: replace numbers in the header text
        numbers = list(re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", data[:header]))
        choices = [b"0", b"-5", b"99999999", b"70000", b"1e308", b"nan", b"abc", b"3.5", b""]
        for _ in range(count):
            m = numbers[int(rng.integers(0, len(numbers)))]
            new = choices[int(rng.integers(0, len(choices)))]
            out.append((f"text@{m.start()}={new!r}", data[: m.start()] + new + data[m.end() :]))
        return out
    for _ in range(count):
        b = bytearray(data)
        width = int(rng.choice([1, 2, 4, 8]))
        off = int(rng.integers(0, max(1, min(header, len(data)) - width)))
        value = int(rng.choice(INTERESTING)) if rng.random() < 0.7 else int(rng.integers(0, 2**32))
        order = "little" if rng.random() < 0.7 else "big"
        b[off : off + width] = (value % (1 << (8 * width))).to_bytes(width, order)
        out.append((f"field@{off}:{width}={value:#x}/{order}", bytes(b)))
    return out


def _cases(fmt: str, data: bytes, header: int) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(sum(map(ord, fmt)) * 7919)
    return _truncations(data, rng, header) + _bit_flips(data, rng, header) + _field_values(data, rng, header)


def _check_case(fmt: str, path: Path, label: str, bound: int) -> None:
    reader = get_format(fmt).reader
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = reader(path)
        assert isinstance(result, Surface), f"{fmt} {label}: returned {type(result).__name__}"
        assert not np.isinf(result.z).any(), f"{fmt} {label}: infinite heights returned"
    except SurfscanError:
        pass
    except Exception as exc:  # noqa: BLE001 -- the point of the test
        pytest.fail(f"{fmt} {label}: {type(exc).__name__} escaped: {exc}")
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < TIME_LIMIT_S, f"{fmt} {label}: took {elapsed:.1f} s"
    assert peak <= bound, f"{fmt} {label}: allocated {peak} bytes for a {path.stat().st_size}-byte file"


def _run(fmt: str, data: bytes, header: int, tmp_path: Path, bound: int) -> int:
    path = tmp_path / f"fuzz{Path(SAMPLES.get(fmt, ('x.bin',))[0]).suffix}"
    cases = _cases(fmt, data, header)
    for label, mutated in cases:
        path.write_bytes(mutated)
        _check_case(fmt, path, label, bound)
    return len(cases)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_mutated_real_samples_fail_cleanly(fmt, real_dir, tmp_path):
    name, header = SAMPLES[fmt]
    data = (real_dir / "height" / name).read_bytes()
    # float64 output (<= 8 bytes per stored byte for 1-byte values), a mask, the file itself, and slack
    bound = 16 * len(data) + (1 << 20)
    assert _run(fmt, data, header, tmp_path, bound) >= 50


def test_mutated_compressed_sur_fails_cleanly(tmp_path):
    rng = np.random.default_rng(5)
    s = Surface(np.cumsum(rng.normal(size=(60, 80)), axis=1), 0.5, 0.5)
    surfscan.write(s, tmp_path / "src.sur", compressed=True)
    data = (tmp_path / "src.sur").read_bytes()
    bound = 16 * s.z.size * 8 + (1 << 20)  # bounded by the declared grid, not by the compressed size
    assert _run("sur", data, 512 + 12, tmp_path, bound) >= 50


@pytest.mark.parametrize("fmt, offsets, code", [
    ("sur", (108, 112), "<i"), ("plu", (500, 504), "<I"), ("metropro", (68, 70), ">H"), ("nms", (1368, 1372), "<I"),
    ("frt", (54, 58), "<I"), ("tmd", (56, 60), "<I"), ("opd", (24020, 24022), "<H"),
])
def test_huge_declared_grid_is_refused_before_allocation(fmt, offsets, code, real_dir, tmp_path):
    import struct

    name, _ = SAMPLES[fmt]
    b = bytearray((real_dir / "height" / name).read_bytes())
    big = 65535 if code.endswith("H") else 1 << 20
    for off in offsets:
        struct.pack_into(code, b, off, big)
    path = tmp_path / name
    path.write_bytes(bytes(b))
    tracemalloc.start()
    with pytest.raises(SurfscanError, match="exceeds the limit|truncated|declares|corrupt"):
        get_format(fmt).reader(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * len(b) + (1 << 20)

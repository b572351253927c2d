"""Bad input gets one clear error naming the file, and no crash, hang or giant allocation.

Covers X3P (empty, truncated, zip bombs, XML entities, huge headers), float
TIFF, text grids and .npy, plus the CLI on the real X3P files and on a mix of
a good and a corrupt file.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import x3p_craft as craft

import surfscan as ss
import surfscan.io.text as text_io
from surfscan.cli import main
from surfscan.errors import FormatError, SurfscanError
from surfscan.io import limits

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
MB = 1 << 20


def _expected_x3p() -> list[str]:
    path = REAL / "expected.json"
    if not path.is_file():
        return []
    return sorted(n for n in json.loads(path.read_text())["height"] if n.lower().endswith(".x3p"))


def _refused(path: Path, match: str | None = None, peak_mb: float = 32.0, **options) -> str:
    """Read ``path``: one FormatError naming it, quickly, without a large allocation."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(FormatError) as err:
            ss.read(path, **options)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    msg = str(err.value)
    assert str(path) in msg
    assert "\n" not in msg
    if match:
        assert match in msg, msg
    assert peak < peak_mb * MB, f"peak allocation {peak / MB:.1f} MiB"
    assert time.perf_counter() - t0 < 10
    return msg


def _good_x3p(path: Path, shape=(40, 50)) -> Path:
    z = np.random.default_rng(0).normal(size=shape)
    z[3, 4] = np.nan
    return ss.write(ss.Surface(z, 0.2, 0.2), path)


def _patch_declared_size(path: Path, entry: str, size: int) -> None:
    """Rewrite the uncompressed size of ``entry`` in its local header and the central directory."""
    raw = bytearray(path.read_bytes())
    name = entry.encode()
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := raw.find(sig, pos)) >= 0:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", raw, pos + off, size)
            pos += 4
    path.write_bytes(bytes(raw))


# --------------------------------------------------------------------------- empty files


@pytest.mark.parametrize("suffix", [".x3p", ".tif", ".csv", ".txt", ".npy"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    _refused(path, "empty")
    _refused(path, "empty", format={".x3p": "x3p", ".tif": "tiff-height", ".npy": "npy"}.get(suffix, "text"))


# --------------------------------------------------------------------------- X3P


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_x3p(tmp_path, fraction):
    good = _good_x3p(tmp_path / "good.x3p")
    raw = good.read_bytes()
    cut = tmp_path / "cut.x3p"
    cut.write_bytes(raw[: int(len(raw) * fraction)])
    _refused(cut)
    _refused(cut, format="x3p")


def test_x3p_declaring_a_1gb_main_xml(tmp_path):
    path = _good_x3p(tmp_path / "big.x3p")
    _patch_declared_size(path, "main.xml", 1 << 30)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("main.xml").file_size == 1 << 30  # the archive really claims 1 GB
    _refused(path, "main.xml")


def test_x3p_deflate_bomb_in_data_bin(tmp_path):
    """8 MiB of zeros that claim to be 800 MiB: refused on the compression ratio before inflating."""
    n = 8 * MB // 8
    xml = craft.main_xml(1024, n // 1024, data=craft.datalink())
    path = craft.write(tmp_path / "bomb.x3p", xml, {"bindata/data.bin": bytes(8 * MB)})
    _patch_declared_size(path, "bindata/data.bin", 800 * MB)
    _refused(path, "compression ratio")


def test_x3p_entry_larger_than_declared(tmp_path):
    path = _good_x3p(tmp_path / "lie.x3p")
    _patch_declared_size(path, "main.xml", 100)
    _refused(path)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE p [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n',
        '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n',
        '<!DOCTYPE p SYSTEM "http://example.invalid/x3p.dtd">\n',
    ],
    ids=["external-entity", "entity-expansion", "external-dtd"],
)
def test_x3p_xml_entities_refused(tmp_path, prolog):
    xml = craft.main_xml(2, 1, data=craft.datalist(["1", "2"]), prolog=prolog)
    xml = xml.replace("<Revision>ISO5436 - 2000</Revision>", "<Revision>&secret;&d;</Revision>")
    _refused(craft.write(tmp_path / "xxe.x3p", xml), "DOCTYPE or ENTITY")


@pytest.mark.parametrize("encoding", ["binary", "xml"])
def test_x3p_header_claiming_1e12_points(tmp_path, encoding):
    data = craft.datalink() if encoding == "binary" else craft.datalist(["1", "2", "3", "4"])
    xml = craft.main_xml(10**6, 10**6, data=data)
    path = craft.write(tmp_path / "huge.x3p", xml, {"bindata/data.bin": bytes(32)})
    _refused(path, "exceeds the limit")


def test_x3p_data_bin_shorter_than_grid(tmp_path):
    xml = craft.main_xml(100, 100, data=craft.datalink())
    _refused(craft.write(tmp_path / "short.x3p", xml, {"bindata/data.bin": bytes(8 * 100 * 99)}), "truncated")


def test_x3p_valid_bin_too_short(tmp_path):
    xml = craft.main_xml(10, 10, data=craft.datalink(valid=True))
    files = {"bindata/data.bin": bytes(800), "bindata/valid.bin": bytes(5)}
    _refused(craft.write(tmp_path / "valid.x3p", xml, files), "validity")


def test_x3p_datalist_count_mismatch(tmp_path):
    xml = craft.main_xml(3, 3, data=craft.datalist(["1"] * 8))
    _refused(craft.write(tmp_path / "count.x3p", xml), "DataList holds 8 points")


@pytest.mark.parametrize(
    ("xml", "match"),
    [
        ("this is not xml", "not well-formed"),
        ("<other/>", "not <ISO5436_2>"),
        (craft.main_xml(3, 3, data=craft.datalist(["1"] * 9)).replace("<SizeX>3", "<SizeX>three"), "SizeX"),
        (craft.main_xml(3, 3, data=craft.datalist(["x"] * 9)), "not a number"),
        (craft.main_xml(3, 3), "neither a DataList nor a PointDataLink"),
        (craft.main_xml(3, 3, data=craft.datalink()), "missing from the archive"),
    ],
    ids=["not-xml", "wrong-root", "bad-size", "bad-number", "no-data", "missing-data-bin"],
)
def test_x3p_corrupt_main_xml(tmp_path, xml, match):
    _refused(craft.write(tmp_path / "c.x3p", xml), match)


def test_zip_without_main_xml_and_garbage(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.x3p", "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(tmp_path / "other.x3p", "without main.xml")
    (tmp_path / "junk.x3p").write_bytes(np.random.default_rng(0).bytes(5000))
    _refused(tmp_path / "junk.x3p")


# --------------------------------------------------------------------------- TIFF


def test_truncated_float_tiff(tmp_path):
    good = ss.write(ss.Surface(np.random.default_rng(1).normal(size=(200, 300)), 0.5, 0.5), tmp_path / "g.tif")
    raw = good.read_bytes()
    for fraction in (0.002, 0.5, 0.99):
        cut = tmp_path / f"cut{fraction}.tif"
        cut.write_bytes(raw[: int(len(raw) * fraction)])
        _refused(cut, format="tiff-height")
        _refused(cut)


def _tiny_tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF whose only IFD declares a float32 image of width x height over 16 bytes."""
    tags = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 32),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, 16),
        (339, 3, 1, 3),
    ]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 24) + bytes(16) + ifd


def test_tiff_header_claiming_1e12_pixels(tmp_path):
    path = tmp_path / "huge.tif"
    path.write_bytes(_tiny_tiff_header(10**6, 10**6))
    _refused(path, "exceeds the limit", format="tiff-height")
    _refused(path)


def test_tiff_pixels_missing(tmp_path):
    path = tmp_path / "small.tif"
    path.write_bytes(_tiny_tiff_header(100, 100))  # 40000 bytes declared, 16 stored
    _refused(path, format="tiff-height")


def test_garbage_with_tiff_suffix(tmp_path):
    (tmp_path / "junk.tif").write_bytes(b"II*\0" + np.random.default_rng(2).bytes(3000))
    _refused(tmp_path / "junk.tif", format="tiff-height")


# --------------------------------------------------------------------------- text


def test_text_grid_over_the_point_limit(tmp_path):
    np.savetxt(tmp_path / "big.csv", np.zeros((60, 60)), delimiter=",")
    old = limits.set_max_points(1000)
    try:
        _refused(tmp_path / "big.csv", "exceeds the limit")
    finally:
        limits.set_max_points(old)


def test_text_huge_line_refused_quickly(tmp_path, monkeypatch):
    monkeypatch.setattr(text_io, "MAX_LINE_BYTES", 4096)
    (tmp_path / "line.txt").write_text("1 " * 50_000)
    _refused(tmp_path / "line.txt", "longer than", format="text")
    (tmp_path / "head.txt").write_text("# " + "x" * 50_000 + "\n1 2\n")
    _refused(tmp_path / "head.txt", "longer than", format="text")


def test_text_file_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(text_io, "MAX_TEXT_BYTES", 1000)
    (tmp_path / "long.csv").write_text("1,2\n" * 1000)
    _refused(tmp_path / "long.csv", "larger than the limit", format="text")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x00\x01binary\x00" * 100, "binary data"),
        (b"# only a header\n# dx_um = 1\n", "no numbers"),
        (b"1,2,3\n4,five,6\n", "not a table of numbers"),
        (b"# dx_um = -1\n1 2\n3 4\n", "positive length"),
        (b"# z_unit = furlong\n1 2\n3 4\n", "unknown z_unit"),
    ],
    ids=["binary", "no-numbers", "word", "negative-dx", "bad-unit"],
)
def test_text_bad_content(tmp_path, content, match):
    (tmp_path / "bad.txt").write_bytes(content)
    _refused(tmp_path / "bad.txt", match, format="text")


# --------------------------------------------------------------------------- npy


def test_npy_truncated_huge_and_pickled(tmp_path):
    np.save(tmp_path / "good.npy", np.zeros((100, 100)))
    raw = (tmp_path / "good.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(raw[: len(raw) // 2])
    _refused(tmp_path / "cut.npy", "truncated")
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    huge = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117) + b"\n" + bytes(64)
    (tmp_path / "huge.npy").write_bytes(huge)
    _refused(tmp_path / "huge.npy", "exceeds the limit")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _refused(tmp_path / "obj.npy", "not a numeric")


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("name", _expected_x3p() or ["<no real files>"])
def test_cli_info_json_on_real_x3p(name, real_dir, expected, capsys):
    exp = expected["height"][name]
    assert main(["info", str(real_dir / "height" / name), "--json", "--full"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["kind"] == "height" and rec["format"] == "x3p"
    assert rec["shape"] == exp["shape"]
    assert rec["dx_um"] == pytest.approx(exp["dx_um"], rel=1e-6)
    assert rec["dy_um"] == pytest.approx(exp["dy_um"], rel=1e-6)
    assert rec["invalid_fraction"] == pytest.approx(exp["invalid_fraction"], abs=1e-6)
    assert rec["metadata"]["manufacturer"]


def test_cli_roughness_json_on_real_x3p(real_dir, expected, capsys):
    names = _expected_x3p()
    files = [str(real_dir / "height" / n) for n in names]
    assert main(["roughness", *files, "--params", "Sa,Sq", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == files
    for name, row in zip(names, rows):
        exp = expected["height"][name]
        assert row["parameters"]["Sa"] == pytest.approx(exp["Sa_um"], rel=1e-6)
        assert row["parameters"]["Sq"] == pytest.approx(exp["Sq_um"], rel=1e-6)
        assert row["units"]["Sa"] in ("um", "µm")
        assert row["settings"]["level"] == "plane"


def test_cli_good_and_corrupt_file(tmp_path, capsys):
    good = _good_x3p(tmp_path / "good.x3p")
    raw = good.read_bytes()
    corrupt = tmp_path / "corrupt.x3p"
    corrupt.write_bytes(raw[: len(raw) // 2])
    for command in (["roughness", "--params", "Sa,Sz", "--json"], ["info", "--json"]):
        rc = main([*command[:1], str(good), str(corrupt), *command[1:]])
        out, err = capsys.readouterr()
        assert rc != 0
        errors = [ln for ln in err.splitlines() if "error" in ln.lower()]
        assert len(errors) == 1 and "corrupt.x3p" in errors[0]
        assert "Traceback" not in err
        reported = json.loads(out)
        reported = reported if isinstance(reported, list) else [reported]
        assert [r["file"] for r in reported] == [str(good)]


def test_read_errors_are_surfscan_errors(tmp_path):
    """The public API raises SurfscanError (FormatError) for a missing file too."""
    with pytest.raises(SurfscanError, match="no such file"):
        ss.read(tmp_path / "missing.x3p")

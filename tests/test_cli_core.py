"""The surfscan command: info, roughness, formats, params and error reporting."""

from __future__ import annotations

import json

import numpy as np
import pytest

import surfscan as ss
from surfscan.cli import main


@pytest.fixture()
def npy_file(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 0.1, (40, 50)) + np.arange(50) * 0.01
    path = tmp_path / "map.npy"
    np.save(path, z)
    return path, z


def run_json(capsys, args):
    code = main(args)
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else None, out.err


def test_roughness_json_matches_library(capsys, npy_file) -> None:
    path, z = npy_file
    code, data, _ = run_json(capsys, ["roughness", str(path), "--params", "Sa,Sq,Sz", "--json"])
    assert code == 0
    (rec,) = data
    ref = ss.roughness(ss.level(ss.Surface(z, 1, 1), "plane"), ["Sa", "Sq", "Sz"])
    assert rec["file"] == str(path)
    for k, v in ref.items():
        assert rec["parameters"][k] == pytest.approx(v, rel=1e-12)
    assert rec["units"] == {"Sa": "um", "Sq": "um", "Sz": "um"}
    assert rec["settings"]["level"] == "plane" and rec["settings"]["lambda_c_um"] is None


def test_roughness_settings_are_applied(capsys, npy_file) -> None:
    path, z = npy_file
    code, data, _ = run_json(
        capsys, ["roughness", str(path), "--level", "poly:2", "--lambda-c", "10", "--params", "height", "--json"]
    )
    assert code == 0
    s = ss.gaussian_filter(ss.level(ss.Surface(z, 1, 1), "poly:2"), 10, "high")
    assert data[0]["parameters"]["Sq"] == pytest.approx(ss.roughness(s, ["Sq"])["Sq"], rel=1e-12)
    assert set(data[0]["parameters"]) >= {"Sa", "Sq", "Sp", "Sv", "Sz", "Ssk", "Sku"}


def test_roughness_csv_and_table(capsys, npy_file) -> None:
    path, _ = npy_file
    assert main(["roughness", str(path), "--params", "Sa,Sz", "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("file,Sa,Sz,chain,") and lines[1].startswith(str(path))  # chain columns follow
    assert main(["roughness", str(path), "--params", "Sa"]) == 0
    assert "Sa [um]" in capsys.readouterr().out


def test_bad_file_among_good_ones(capsys, tmp_path, npy_file) -> None:
    good, _ = npy_file
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00garbage")
    missing = tmp_path / "nope.x3p"
    code = main(["roughness", str(good), str(bad), str(missing), "--params", "Sa", "--json"])
    out = capsys.readouterr()
    assert code != 0
    assert [r["file"] for r in json.loads(out.out)] == [str(good)]
    errors = [ln for ln in out.err.strip().splitlines() if "error:" in ln]
    assert len(errors) == 2
    assert str(bad) in errors[0] and str(missing) in errors[1]
    assert "Traceback" not in out.err


def test_debug_prints_traceback(capsys, tmp_path) -> None:
    bad = tmp_path / "empty.npy"
    bad.write_bytes(b"")
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "empty" in err and "Traceback" not in err
    assert main(["info", str(bad), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_unknown_parameter_and_level(capsys, npy_file) -> None:
    path, _ = npy_file
    assert main(["roughness", str(path), "--params", "Sfoo"]) == 1
    assert "unknown parameter" in capsys.readouterr().err
    assert main(["roughness", str(path), "--level", "sphere"]) == 1
    assert "unknown levelling" in capsys.readouterr().err


def test_info_json(capsys, npy_file) -> None:
    path, z = npy_file
    code, data, err = run_json(capsys, ["info", str(path), "--json"])
    assert code == 0
    assert data["kind"] == "height" and data["shape"] == [40, 50]
    assert data["dx_um"] == 1.0 and data["invalid_fraction"] == 0.0
    assert "pixel size" in err  # uncalibrated .npy warns


def test_formats_and_params_lists(capsys) -> None:
    assert main(["formats", "--json"]) == 0
    names = {f["name"] for f in json.loads(capsys.readouterr().out)}
    assert "npy" in names
    assert main(["params", "--json"]) == 0
    params = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert params["Sa"]["unit"] == "um"


def test_no_command_prints_help(capsys) -> None:
    assert main([]) == 2
    assert "roughness" in capsys.readouterr().out

"""One name per concept on the command line: ``protrusions`` (``defects`` is a deprecated alias for one release)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from surfscan.cli import build_parser, main

CAPS = ((30, 40), (30, 120), (90, 40), (95, 115))  # centres (row, col) of the planted protrusions


@pytest.fixture()
def bumpy_map(tmp_path):
    """A flat, slightly noisy 128 x 160 map (1 µm pixels) with four 1 µm high caps of radius 7 px."""
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 0.01, (128, 160))
    rows, cols = np.mgrid[:128, :160]
    for r0, c0 in CAPS:
        r2 = ((rows - r0) ** 2 + (cols - c0) ** 2) / 7.0**2
        z += np.where(r2 < 1, 1.0 - r2, 0.0)
    path = tmp_path / "bumps.npy"
    np.save(path, z)
    return path


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_protrusions_command_and_the_defects_alias_give_the_same_result(capsys, bumpy_map) -> None:
    code, out, err = _run(capsys, ["protrusions", str(bumpy_map), "--json", "--k", "6"])
    assert code == 0
    (rec,) = json.loads(out)
    assert rec["file"] == str(bumpy_map) and rec["kind"] == "height"
    assert rec["count"] == len(CAPS) == len(rec["objects"])
    found = sorted((round(o["y_um"]), round(o["x_um"])) for o in rec["objects"])
    assert found == sorted(CAPS)  # 1 µm pixels: centroids in µm are pixel positions
    assert "deprecated" not in err

    old_code, old_out, old_err = _run(capsys, ["defects", str(bumpy_map), "--json", "--k", "6"])
    assert old_code == 0
    assert json.loads(old_out) == json.loads(out)
    notes = [ln for ln in old_err.splitlines() if "deprecated" in ln]
    assert notes == ["surfscan: note: 'surfscan defects' is deprecated and will be removed in the next release; "
                     "use 'surfscan protrusions'"]


def test_text_output_of_protrusions(capsys, bumpy_map) -> None:
    code, out, err = _run(capsys, ["protrusions", str(bumpy_map), "--k", "6"])
    assert code == 0
    head, row = out.strip().splitlines()
    assert head.split()[:3] == ["file", "kind", "count"]
    assert row.split()[:3] == [str(bumpy_map), "height", "4"]


def test_help_names_protrusions_only() -> None:
    parser = build_parser()
    text = parser.format_help()
    assert "protrusions" in text and "defects" not in text
    assert "roughness, protrusions and particles" in text.lower()
    args = parser.parse_args(["protrusions", "f.x3p", "--split"])
    assert args.command == "protrusions" and args.split and not hasattr(args, "_deprecated")
    old = parser.parse_args(["defects", "f.x3p", "--split"])
    assert old.command == "defects" and old.split and old._run is args._run
    assert "use 'surfscan protrusions'" in old._deprecated


def test_batch_protrusion_flags_and_their_deprecated_aliases() -> None:
    parser = build_parser()
    base = ["batch", "in", "-o", "out"]
    args = parser.parse_args(base)
    assert args.protrusions is None and args.protrusion_setting == []
    assert not hasattr(args, "_deprecated_options")
    for flag, value in (("--protrusions", True), ("--no-protrusions", False)):
        args = parser.parse_args([*base, flag])
        assert args.protrusions is value and not hasattr(args, "_deprecated_options")
    for flag, value, new in (("--defects", True, "--protrusions"), ("--no-defects", False, "--no-protrusions")):
        args = parser.parse_args([*base, flag])
        assert args.protrusions is value
        assert args._deprecated_options == [f"{flag} is deprecated and will be removed in the next release; use {new}"]
    args = parser.parse_args([*base, "--protrusion-setting", "min_area=4", "--defect-setting", "polarity=dark",
                              "--defect-setting", "split=true"])
    assert args.protrusion_setting == ["min_area=4", "polarity=dark", "split=true"]
    assert len(args._deprecated_options) == 1 and "use --protrusion-setting" in args._deprecated_options[0]
    batch_help = parser._subparsers._group_actions[0].choices["batch"].format_help()
    assert "--no-protrusions" in batch_help and "--protrusion-setting" in batch_help and "defect" not in batch_help


def test_batch_old_flags_still_work_with_a_note(capsys, tmp_path) -> None:
    code, _, err = _run(capsys, ["batch", str(tmp_path), "-o", str(tmp_path / "out"), "--no-roughness",
                                 "--no-defects"])
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == ("surfscan: note: --no-defects is deprecated and will be removed in the next release; "
                        "use --no-protrusions")
    assert "nothing to do: both --no-roughness and --no-protrusions were given" in lines[-1]
    code, _, err = _run(capsys, ["batch", str(tmp_path), "-o", str(tmp_path / "out"), "--protrusions",
                                 "--defect-setting", "bogus=1"])
    assert code == 1
    assert "use --protrusion-setting" in err and "--protrusion-setting: unknown protrusion setting(s) bogus" in err

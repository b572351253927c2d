"""Batch operator chain: --filters auto, --outliers, --fill, the spec keys, and the chain in every result."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.batch import BatchSettings, parse_spec
from surfscan.batch.store import STORE_NAME
from surfscan.cli import main
from surfscan.errors import SurfscanError
from surfscan.nesting import choose_filters
from surfscan.pipeline import RoughnessSettings

DX = 0.5
SHAPE = (160, 200)
SPIKES = {"E1_site1.x3p": [(20, 30), (90, 150)], "E1_site2.x3p": [(60, 60), (100, 20), (140, 180)]}
HOLE = 16  # a 4 x 4 block of non-measured points per file


def synthetic(seed: int, spikes: list[tuple[int, int]]) -> ss.Surface:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]] * DX
    z = 0.3 * np.sin(2 * np.pi * xx / 40.0) + rng.normal(0, 0.05, SHAPE)
    for r, c in spikes:
        z[r, c] += 8.0
    z[40:44, 120:124] = np.nan
    return ss.Surface(z, DX, DX)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "maps"
    d.mkdir()
    for i, (name, spikes) in enumerate(SPIKES.items()):
        ss.write(synthetic(i, spikes), d / name)
    return d


def batch(folder: Path, out: Path, *extra: str) -> pd.DataFrame:
    args = ["batch", str(folder), "-o", str(out), "--no-defects", "--params", "Sa,Sz", "--workers", "1",
            "--export", "csv", "--progress", "lines", *extra]
    assert main(args) == 0
    return pd.read_csv(out / "files.csv").set_index("file")


def expected_counts(folder: Path, name: str, outliers: str, fill: str) -> tuple[int, int]:
    s = ss.remove_outliers(ss.read(folder / name), outliers)
    f = ss.fill_nonmeasured(s, fill)
    return s.meta["outliers_removed"], f.meta["points_filled"]


def test_outliers_and_fill_counts_go_into_every_table(folder, tmp_path):
    out = tmp_path / "out"
    files = batch(folder, out, "--outliers", "--fill", "harmonic")
    for name, spikes in SPIKES.items():
        removed, filled = expected_counts(folder, name, "median", "harmonic")
        assert removed >= len(spikes)  # every planted spike, and few else
        assert removed <= len(spikes) + 0.001 * SHAPE[0] * SHAPE[1]
        row = files.loc[name]
        assert (row["chain_outliers_removed"], row["chain_points_filled"]) == (removed, filled)
        assert filled == removed + HOLE
        assert row["chain_outliers"] == "median" and row["chain_fill"] == "harmonic"
        assert row["chain"].startswith(f"outliers median ({removed} removed) -> fill harmonic ({filled} filled)")
        assert row["Sz"] < 4.0  # the 8 µm spikes are gone
    with sqlite3.connect(out / STORE_NAME) as db:
        stored = db.execute("SELECT path, chain_outliers_removed, chain_points_filled, chain FROM results").fetchall()
    assert sorted((Path(p).name, r, f) for p, r, f, _ in stored) == sorted(
        (n, *expected_counts(folder, n, "median", "harmonic")) for n in SPIKES)
    assert all("F: level plane" in c for *_, c in stored)


def test_without_operators_spikes_stay_and_chain_says_none(folder, tmp_path):
    files = batch(folder, tmp_path / "out")
    assert (files["Sz"] > 7.0).all()  # spikes dominate Sz
    assert files["chain_outliers_removed"].isna().all() and files["chain_points_filled"].isna().all()
    assert (files["chain"] == "F: level plane -> S: none -> L: none").all()


def test_filters_auto_per_file_and_in_the_report(folder, tmp_path):
    out = tmp_path / "out"
    files = batch(folder, out, "--filters", "auto")
    ls, lc, _ = choose_filters(ss.read(folder / "E1_site1.x3p"))
    assert (files["chain_lambda_s_um"] == ls).all() and (files["chain_lambda_c_um"] == lc).all()
    assert ls >= 2 * DX and lc / ls >= 30
    assert (files["setting_filters"] == "auto").all()
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "operator chain" in html and f"lambda_c {lc:g} um [auto]" in html and "(2 files)" in html


def test_spec_keys_set_the_chain_and_the_command_line_wins(folder, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "anode"\nrules = ["Sz < 4 um"]\nfilters = "auto"\noutliers = true\nfill = "nearest"\n')
    files = batch(folder, tmp_path / "a", "--spec", str(spec))
    assert (files["chain_filters"] == "auto").all() and (files["chain_fill"] == "nearest").all()
    assert (files["chain_outliers"] == "median").all() and (files["verdict"] == "pass").all()
    files = batch(folder, tmp_path / "b", "--spec", str(spec), "--lambda-c", "25", "--outliers", "global")
    assert (files["chain_filters"] == "manual").all() and (files["chain_lambda_c_um"] == 25).all()
    assert files["chain_lambda_s_um"].isna().all() and (files["chain_outliers"] == "global").all()


def test_spec_chain_keys_are_checked():
    with pytest.raises(SurfscanError, match="fill = 'zeros'"):
        parse_spec('rules = ["Sa < 1 um"]\nfill = "zeros"\n', "bad.toml")
    with pytest.raises(SurfscanError, match="filters = 'often'"):
        parse_spec('rules = ["Sa < 1 um"]\nfilters = "often"\n', "bad.toml")
    spec = parse_spec('rules = ["Sa < 1 um"]\noutliers = false\nfill = true\n')
    assert (spec.outliers, spec.fill, spec.filters) == (None, "thinplate", None)


def test_cli_refuses_auto_with_cutoffs(folder, tmp_path, capsys):
    code = main(["batch", str(folder), "-o", str(tmp_path / "o"), "--no-defects", "--filters", "auto",
                 "--lambda-s", "1"])
    assert code != 0 and "--filters auto chooses" in capsys.readouterr().err


def test_operators_change_the_settings_hash():
    plain = BatchSettings(protrusions=False)
    hashes = {plain.hash}
    for rough in (RoughnessSettings(outliers="median"), RoughnessSettings(fill="thinplate"),
                  RoughnessSettings(filters="auto")):
        hashes.add(BatchSettings(protrusions=False, roughness_settings=rough).hash)
    assert len(hashes) == 4


def test_a_database_without_chain_columns_is_upgraded(folder, tmp_path):
    out = tmp_path / "out"
    batch(folder, out)
    with sqlite3.connect(out / STORE_NAME) as db:  # make it look like an older surfscan's database
        for col in ("chain_detail", "chain_points_filled", "chain_outliers_removed", "chain_lambda_c_um",
                    "chain_lambda_s_um", "chain"):
            db.execute(f"ALTER TABLE results DROP COLUMN {col}")
    files = batch(folder, out, "--outliers")
    assert (files["chain_outliers_removed"] >= 2).all()

"""Batch options --particles, --porosity and --particle-setting: values, spec rules, settings hash."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tifffile

import surfscan as ss
from surfscan.batch import BatchSettings, parse_spec
from surfscan.cli import main
from surfscan.testing.particles import planted_particles

PX = 0.1  # µm per pixel of the planted image


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ss.Micrograph]:
    """One planted-particle SEM TIFF (no calibration, read with --pixel-size) and one height map."""
    root = tmp_path_factory.mktemp("in")
    mic, _ = planted_particles(3, shape=(320, 400), pixel_size_um=PX, n=60)
    tifffile.imwrite(root / "sem.tif", mic.image)
    z = 0.2 * np.sin(2 * np.pi * np.arange(64) / 16)
    ss.write(ss.Surface(np.broadcast_to(z, (64, 64)).copy(), 0.5, 0.5), root / "height.x3p")
    return root, mic


def _batch(root: Path, out: Path, *extra: str) -> int:
    return main(["batch", str(root), "-o", str(out), "--no-defects", "--workers", "1", "--export", "csv",
                 "--progress", "lines", "--pixel-size", str(PX), *extra])


def _files(out: Path):
    import pandas as pd

    return pd.read_csv(out / "files.csv", keep_default_na=False, na_values=[""]).set_index("file")  # keep "n/a"


def test_values_match_the_library_and_height_maps_stay_empty(folder, tmp_path: Path) -> None:
    root, mic = folder
    out = tmp_path / "out"
    spec = tmp_path / "spec.toml"
    spec.write_text('rules = ["particles_d50_um < 5 um", "porosity_percent > 30 %"]\n')
    assert _batch(root, out, "--particles", "--porosity", "--particle-setting", "min_count=10",
                  "--spec", str(spec)) == 0
    f = _files(out)
    direct = ss.measure_particles(ss.read(root / "sem.tif").replace(pixel_size=PX), min_count=10).summary
    section = ss.porosity_from_section(mic)
    sem, height = f.loc["sem.tif"], f.loc["height.x3p"]
    assert sem["particles_d50_um"] == pytest.approx(direct["d50_um"], rel=1e-9)
    assert sem["particles_count"] == direct["count"] and direct["count"] > 20
    assert sem["particles_d90_v_um"] == pytest.approx(direct["d90_v_um"], rel=1e-9)
    assert sem["porosity_percent"] == pytest.approx(section.porosity_percent, rel=1e-9)
    assert sem["porosity_band_low_percent"] == pytest.approx(section.band_percent[0], rel=1e-9)
    assert sem["porosity_band_high_percent"] == pytest.approx(section.band_percent[1], rel=1e-9)
    assert sem["porosity_band_low_percent"] <= sem["porosity_percent"] <= sem["porosity_band_high_percent"]
    assert math.isnan(height["particles_d50_um"]) and math.isnan(height["porosity_percent"])
    assert not math.isnan(height["Sa"])
    # particles cover well under 30 % of the image: D50 (about 2.5 um) passes, porosity (the particle-free
    # dark area, about 80 %) passes too; the height map has roughness but no rule applies -> n/a
    assert sem["verdict"] == "pass", sem["failed_rules"]
    assert height["verdict"] == "n/a"
    g = __import__("pandas").read_csv(out / "groups.csv").set_index("group").loc["sem"]
    assert g["particles_d50_um_mean"] == pytest.approx(direct["d50_um"]) and g["particles_d50_um_n"] == 1
    assert g["porosity_percent_n"] == 1


def test_spec_rule_fails_and_rerun_without_options_recomputes(folder, tmp_path: Path, capsys) -> None:
    root, _ = folder
    out = tmp_path / "out"
    spec = tmp_path / "spec.toml"
    spec.write_text('rules = ["particles_d50 < 1000 nm"]\n')
    assert _batch(root, out, "--particles", "--spec", str(spec)) == 0
    f = _files(out)
    d50 = f.loc["sem.tif", "particles_d50_um"]
    assert d50 > 1.0 and f.loc["sem.tif", "verdict"] == "fail"
    assert "particles_d50_um" in f.loc["sem.tif", "failed_rules"]
    assert "porosity_percent" not in f.columns
    capsys.readouterr()
    assert _batch(root, out, "--particles", "--spec", str(spec)) == 0
    assert "0 analysed now, 2 already done" in capsys.readouterr().out
    assert _batch(root, out) == 0  # without the options: other settings, both files analysed again
    assert "2 analysed now, 0 already done" in capsys.readouterr().out
    f2 = _files(out)
    assert "particles_d50_um" not in f2.columns
    assert f2["settings_hash"].nunique() == 1 and f2["settings_hash"].iloc[0] != f["settings_hash"].iloc[0]


def test_settings_hash_and_spec_units() -> None:
    base = BatchSettings(protrusions=False)
    assert len({base.hash, BatchSettings(protrusions=False, particles=True).hash,
                BatchSettings(protrusions=False, porosity=True).hash,
                BatchSettings(protrusions=False, particles=True, particle_settings=(("polarity", "dark"),)).hash}) == 4
    rules = parse_spec('rules = ["particles_d50_um < 5 um", "porosity_percent > 30 %", "porosity < 0.5 1"]').rules
    assert rules[0].limit_in("um") == 5.0 and rules[1].limit_in("%") == pytest.approx(30.0)
    assert rules[2].limit_in("%") == pytest.approx(50.0)
    with pytest.raises(ss.SurfscanError, match="cannot be compared"):
        parse_spec('rules = ["particles_d50_um < 5 per mm2"]')
    with pytest.raises(ss.SurfscanError, match="unknown metric"):
        parse_spec('rules = ["particle_d50 < 5 um"]')


def test_unknown_particle_setting_is_refused(folder, tmp_path: Path, capsys) -> None:
    root, _ = folder
    assert _batch(root, tmp_path / "out", "--particles", "--particle-setting", "colour=red") != 0
    assert "unknown setting 'colour'" in capsys.readouterr().err


def test_store_written_before_measures_existed_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    from surfscan.batch import ResultStore
    from surfscan.batch.store import _SCHEMA, STORE_NAME

    old = _SCHEMA.replace("    measures TEXT NOT NULL DEFAULT '{}',\n", "")
    assert old != _SCHEMA
    tmp_path.mkdir(exist_ok=True)
    db = sqlite3.connect(tmp_path / STORE_NAME)
    db.executescript(old)
    db.close()
    with ResultStore(tmp_path) as store:
        result = {"path": "/x/a.tif", "content_hash": "c1", "settings_hash": "s1", "status": "ok",
                  "measures": {"particles_d50_um": 2.5, "porosity_percent": 40.0}}
        store.record(result, {}, (1, 2))
        run = store.start_run({}, "s1", {}, [("/x/a.tif", "/x")])
        (row,) = store.run_files(run)
    assert row["measures"] == {"particles_d50_um": 2.5, "porosity_percent": 40.0}

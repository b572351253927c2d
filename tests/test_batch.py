"""The batch runner: discovery, spec and units, groups, store, resume after SIGKILL, errors, Dask, exports."""

from __future__ import annotations

import io
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.batch import BatchSettings, ResultStore, build_tables, discover, group_of, parse_spec, run_batch
from surfscan.batch.discover import Candidate
from surfscan.batch.groups import summarise
from surfscan.batch.progress import Progress
from surfscan.batch.spec import parse_unit
from surfscan.errors import SurfscanError
from surfscan.pipeline import RoughnessSettings

ROOT = Path(__file__).resolve().parents[1]
NO_PROTRUSIONS = BatchSettings(protrusions=False, roughness_settings=RoughnessSettings(level="none", params=("Sa", "Sz", "Sq")))
SPEC = 'name = "test layer"\nrules = ["Sa < 0.10 um", "Sz < 1000 nm"]\n'


def sinusoid(amplitude: float, n: int = 16, shape: tuple[int, int] = (128, 128), dx: float = 0.5) -> ss.Surface:
    """z = A sin(2 pi col / n): Sa = (2A/n) cot(pi/n), Sz = 2A when 4 divides n (whole periods, no plane)."""
    cols = np.arange(shape[1])
    z = amplitude * np.sin(2 * np.pi * cols / n)
    return ss.Surface(np.broadcast_to(z, shape).copy(), dx, dx)


def sa_of(amplitude: float, n: int = 16) -> float:
    return 2 * amplitude / n / math.tan(math.pi / n)


def drop_times(df: pd.DataFrame) -> pd.DataFrame:
    return df[[c for c in df.columns if not c.startswith("time_")]].reset_index(drop=True)


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """Two samples of three sites each: 'good' (A = 0.1 um) and 'poor' (A = 0.3 um), as X3P."""
    root = tmp_path / "in"
    for name, amp in (("good", 0.1), ("poor", 0.3)):
        (root / name).mkdir(parents=True)
        for i in range(3):
            ss.write(sinusoid(amp * (1 + 0.01 * i)), root / name / f"site{i}.x3p")
    return root


def quiet(**kw):
    return dict(progress=io.StringIO(), live=False, settings=NO_PROTRUSIONS, **kw)


# spec and units ---------------------------------------------------------------------------------------


def test_units_convert_between_scales():
    assert parse_unit("nm").factor == pytest.approx(1e-3)
    assert parse_unit("µm²") == parse_unit("um2")
    per_mm2 = parse_unit("per mm2")
    assert per_mm2.power == -2 and per_mm2.factor == pytest.approx(1e-6)
    assert parse_unit("/mm2") == parse_unit("1/mm2") == parse_unit("mm-2") == per_mm2
    assert parse_unit("µm³/µm²") == parse_unit("um")
    assert parse_unit("%").factor == 0.01


def test_spec_rules_with_units():
    spec = parse_spec('rules = ["Sa < 100 nm", "Sz <= 0.001 mm", "protrusion_density < 5 per mm2",'
                      ' {metric = "Sq", op = "<", limit = 0.2, unit = "um"}]')
    sa, sz, dens, sq = spec.rules
    assert sa.limit_in("um") == pytest.approx(0.1)
    assert sz.op == "<=" and sz.limit_in("um") == pytest.approx(1.0)
    assert dens.limit_in("1/um2") == pytest.approx(5e-6)
    assert dens.limit_in("1/mm2") == pytest.approx(5)
    assert sq.holds(0.19, "um") and not sq.holds(0.21, "um")
    assert sa.holds(0.0999, "um") and not sa.holds(0.1, "um")


@pytest.mark.parametrize("text, words", [
    ('rules = ["Sa < 5 per mm2"]', "cannot be compared"),
    ('rules = ["Sa < 0.1 furlong"]', "unknown unit"),
    ('rules = ["Sfoo < 1 um"]', "unknown metric"),
    ('rules = ["Sa is small"]', "cannot read rule"),
    ('rules = []', "no rules"),
    ('rules = ["Sa < 0.1 um"', "not valid TOML"),
])
def test_bad_specs_are_one_clear_error(text, words):
    with pytest.raises(SurfscanError, match=words):
        parse_spec(text, "bad.toml")


def test_example_spec_reads():
    from surfscan.batch import load_spec

    spec = load_spec(ROOT / "sample_images" / "electrode.toml")
    metrics = {r.metric: r for r in spec.rules}
    assert metrics["Sa"].limit_in("um") == pytest.approx(0.10)
    assert metrics["Sz"].limit_in("um") == pytest.approx(1.0)
    assert metrics["sem_protrusion_density"].limit_in("1/mm2") > 0


# discovery and groups -----------------------------------------------------------------------------------


def test_discover_walks_filters_and_keeps_unreadables(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for p in ("a/1.x3p", "a/2.npy", "a/deep/3.x3p", "a/notes.md", "a/.hidden.x3p", "a/odd.bin"):
        (tmp_path / p).write_bytes(b"x")
    (tmp_path / "a" / "folder.x3p").mkdir()
    os.symlink(tmp_path / "gone.x3p", tmp_path / "a" / "dangling.x3p")
    names = lambda found: sorted(Path(c.path).name for c in found)  # noqa: E731
    assert names(discover([tmp_path / "a"])) == ["1.x3p", "2.npy", "dangling.x3p", "folder.x3p", "odd.bin"]
    assert "3.x3p" in names(discover([tmp_path / "a"], recursive=True))
    assert names(discover([tmp_path / "a"], recursive=True, include=["*.x3p"])) == [
        "1.x3p", "3.x3p", "dangling.x3p", "folder.x3p"]
    with pytest.raises(SurfscanError, match="no such folder"):
        discover([tmp_path / "nope"])


def test_discover_leaves_vendor_sidecars_to_their_image(tmp_path):
    # a JEOL image's .txt is read with the image; taken as a file of its own it was an error on every image
    (tmp_path / "img1.tif").write_bytes(b"x")
    (tmp_path / "img1.txt").write_text("$CM_FORMAT JEOL/SEM\n$CM_MAG 1000\n$CM_FULL_SIZE 1280 960\n")
    (tmp_path / "grid.txt").write_text("0 1 2\n3 4 5\n")  # a text height grid: a measurement
    (tmp_path / "lonely.txt").write_text("$CM_FORMAT JEOL/SEM\n")  # a sidecar without its image: reported
    names = sorted(Path(c.path).name for c in discover([tmp_path]))
    assert names == ["grid.txt", "img1.tif", "lonely.txt"]
    assert "img1.txt" in [Path(c.path).name for c in discover([tmp_path], include=["*.txt"])]


def test_group_names():
    c = Candidate("/data/runs/E12/site3.x3p", "/data/runs")
    assert group_of(c, "parent") == "E12"
    assert group_of(Candidate("/data/runs/site3.x3p", "/data/runs"), "parent") == "runs"
    assert group_of(Candidate("/d/E7_site2.x3p", "/d"), r"regex:^(E\d+)_") == "E7"
    assert group_of(Candidate("/d/other.x3p", "/d"), r"regex:^(E\d+)_") == "(no match)"
    assert group_of(c, "file") == "E12/site3.x3p"
    assert group_of(Candidate("/d/E7_site2.x3p", "/d"), "name") == "E7"
    assert group_of(Candidate("/d/sem_smooth_100x.tif", "/d"), r"regex:^(E\d)_|^sem_(\w+)_100x") == "smooth"


def test_auto_groups_by_folder_or_by_name_without_replicate_number():
    from surfscan.batch.discover import assign_groups

    flat = [Candidate(f"/d/{n}", "/d") for n in ("E1_site1.x3p", "E1_site2.x3p", "E2-1.x3p", "E2-2.x3p", "E12.x3p")]
    assert assign_groups(flat, "auto") == ["E1", "E1", "E2", "E2", "E12"]
    nested = [Candidate("/d/E1/a_site1.x3p", "/d"), Candidate("/d/E2/b_site1.x3p", "/d")]
    assert assign_groups(nested, "auto") == ["E1", "E2"]
    assert assign_groups(flat, "parent") == ["d"] * 5


def test_group_statistics_match_numpy():
    v = np.array([0.07, 0.08, 0.075, np.nan])
    mean, sd, n = summarise(v)
    assert n == 3 and mean == pytest.approx(np.nanmean(v)) and sd == pytest.approx(np.nanstd(v, ddof=1))
    assert summarise(np.array([1.0]))[1] is None


# end to end -----------------------------------------------------------------------------------------------


def test_batch_values_verdicts_and_groups(samples, tmp_path):
    spec = parse_spec(SPEC)
    out = tmp_path / "out"
    summary = run_batch([samples], out, recursive=True, spec=spec, workers=2, **quiet())
    f, g = summary.tables.files, summary.tables.groups
    assert len(f) == 6 and (f["status"] == "ok").all()
    for _, row in f.iterrows():
        amp = (0.1 if row["group"] == "good" else 0.3) * (1 + 0.01 * int(row["file"][-5]))
        assert row["Sa"] == pytest.approx(sa_of(amp), rel=1e-9)
        assert row["Sz"] == pytest.approx(2 * amp, rel=1e-9)
    assert dict(zip(g["group"], g["verdict"])) == {"good": "pass", "poor": "fail"}
    good = g.set_index("group").loc["good"]
    amps = 0.1 * (1 + 0.01 * np.arange(3))
    assert good["Sa_mean"] == pytest.approx(np.mean(sa_of(amps)), rel=1e-9)
    assert good["Sa_sd"] == pytest.approx(np.std(sa_of(amps), ddof=1), rel=1e-6)
    assert good["Sa_n"] == 3
    assert "Sa" in g.set_index("group").loc["poor", "failed_rules"]
    assert set(f.loc[f["group"] == "poor", "verdict"]) == {"fail"}
    # every setting is in every row
    assert (f["setting_level"] == "none").all() and f["settings_hash"].nunique() == 1
    # exports: the same tables in CSV, Parquet and Excel
    csv = pd.read_csv(out / "files.csv")
    pq = pd.read_parquet(out / "files.parquet")
    xl = pd.read_excel(out / "results.xlsx", sheet_name="groups")
    np.testing.assert_allclose(csv["Sa"], f["Sa"])
    np.testing.assert_allclose(pq["Sz"], f["Sz"])
    assert list(xl["verdict"]) == list(g["verdict"])


def test_sample_images_good_layer_passes_worse_layers_fail(tmp_path):
    from surfscan.batch import load_spec
    from surfscan.batch.tasks import protrusions_available

    samples = ROOT / "sample_images"
    if not list(samples.glob("electrode_*_site*.x3p")):
        pytest.skip("sample_images/ holds no electrode height maps yet")
    settings = BatchSettings(protrusions=protrusions_available(), roughness_settings=RoughnessSettings(params=("Sa", "Sz")))
    summary = run_batch([samples], tmp_path / "out", settings, spec=load_spec(samples / "electrode.toml"),
                        workers=2, progress=io.StringIO(), live=False)
    f = summary.tables.files
    assert (f["status"] == "ok").all(), f.loc[f["status"] != "ok", "error"].tolist()
    assert not f["file"].str.endswith((".json", ".toml", ".md", ".py")).any()
    height = f[f["file"].str.startswith("electrode_")]
    assert len(height) == 9
    for layer, verdict in (("A_good", "pass"), ("B_fair", "fail"), ("C_poor", "fail")):
        assert set(height.loc[height["file"].str.contains(layer), "verdict"]) == {verdict}, layer
    g = summary.tables.groups.set_index("group")
    assert g.loc["electrode_A_good", "verdict"] == "pass"
    assert g.loc["electrode_B_fair", "verdict"] == "fail" and g.loc["electrode_C_poor", "verdict"] == "fail"
    assert g.loc["electrode_A_good", "Sa_n"] == 3
    assert 0.06 < g.loc["electrode_A_good", "Sa_mean"] < 0.08  # the lab's table: 0.07 / 0.13 / 0.18 um
    assert 0.16 < g.loc["electrode_C_poor", "Sa_mean"] < 0.20
    if settings.protrusions:  # planted: 6 protrusions in 0.48 mm2 (12.5 per mm2) and 70 (146 per mm2); limit 50
        sem = f.set_index("file")
        assert sem.loc["sem_anode_smooth_100x.tif", "verdict"] == "pass"
        assert sem.loc["sem_anode_protrusions_100x.tif", "verdict"] == "fail"
        assert "sem_protrusion_density" in sem.loc["sem_anode_protrusions_100x.tif", "failed_rules"]


def test_rerun_skips_done_work_and_redoes_changed_files(samples, tmp_path):
    out = tmp_path / "out"
    first = run_batch([samples], out, recursive=True, workers=1, **quiet())
    again = run_batch([samples], out, recursive=True, workers=1, **quiet())
    assert (first.analysed, again.analysed, again.skipped) == (6, 0, 6)
    pd.testing.assert_frame_equal(drop_times(first.tables.files), drop_times(again.tables.files))
    target = samples / "poor" / "site0.x3p"
    ss.write(sinusoid(0.05), target)
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    third = run_batch([samples], out, recursive=True, workers=1, **quiet())
    assert third.analysed == 1
    row = third.tables.files.set_index("file").loc["poor/site0.x3p"]
    assert row["Sa"] == pytest.approx(sa_of(0.05))
    other = run_batch([samples], out, recursive=True, workers=1,
                      progress=io.StringIO(), live=False,
                      settings=BatchSettings(protrusions=False, roughness_settings=RoughnessSettings(
                          level="plane", params=("Sa",))))
    assert other.analysed == 6  # new settings, new results; the old ones stay in the store
    with ResultStore(out) as store:
        assert store.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 6 + 1 + 6


def test_results_folder_from_before_the_protrusion_rename_resumes(samples, tmp_path):
    """A database whose columns and settings still say "defects" is renamed in place: resumes, exports as before."""
    import sqlite3

    out = tmp_path / "out"
    first = run_batch([samples], out, recursive=True, workers=1, **quiet())
    db = sqlite3.connect(out / "surfscan-results.sqlite")  # make it the database an older surfscan wrote
    db.execute("ALTER TABLE results RENAME COLUMN protrusions TO defects")
    db.execute("ALTER TABLE results RENAME COLUMN time_protrusions_s TO time_defects_s")
    for table, key in (("results", "content_hash"), ("runs", "run_id")):
        for k, text in db.execute(f"SELECT {key}, settings FROM {table}").fetchall():
            old = {{"protrusions": "defects", "protrusion_settings": "defect_settings"}.get(n, n): v
                   for n, v in json.loads(text).items()}
            db.execute(f"UPDATE {table} SET settings = ? WHERE {key} = ?", (json.dumps(old, sort_keys=True), k))
    db.commit()
    db.close()
    again = run_batch([samples], out, recursive=True, workers=1, **quiet())
    assert (again.analysed, again.skipped) == (0, 6)
    assert "time_protrusions_s" in again.tables.files.columns and "time_defects_s" not in again.tables.files
    assert (again.tables.files["setting_protrusions"] == False).all()  # noqa: E712 - a column of bools
    pd.testing.assert_frame_equal(drop_times(first.tables.files), drop_times(again.tables.files))


def test_old_batch_setting_names_warn_and_keep_the_results_key():
    with pytest.warns(DeprecationWarning, match="'defects' is deprecated.*use 'protrusions'"):
        old = BatchSettings(defects=False, defect_settings=(("k", 5.0),), pixel_size=0.5)
    new = BatchSettings(protrusions=False, protrusion_settings=(("k", 5.0),), pixel_size_um=0.5)
    assert old == new and old.hash == new.hash
    with pytest.warns(DeprecationWarning, match="use 'protrusion_settings'"):
        assert old.defect_settings == (("k", 5.0),)
    with pytest.warns(DeprecationWarning, match="RoughnessSettings: 'lambda_c' is deprecated.*use 'lambda_c_um'"):
        rough = RoughnessSettings(lambda_s=0.8, lambda_c=80.0)
    assert rough == RoughnessSettings(lambda_s_um=0.8, lambda_c_um=80.0)
    assert rough.as_dict()["lambda_c_um"] == 80.0
    assert BatchSettings(roughness_settings=rough).hash == BatchSettings(
        roughness_settings=RoughnessSettings(lambda_s_um=0.8, lambda_c_um=80.0)).hash


def test_bad_files_are_recorded_and_the_batch_goes_on(samples, tmp_path):
    bad = samples / "good"
    (bad / "corrupt.x3p").write_bytes(b"PK\x03\x04" + os.urandom(200))
    (bad / "unknown.qqq").write_bytes(os.urandom(3000))
    locked = bad / "locked.x3p"
    ss.write(sinusoid(0.1), locked)
    locked.chmod(0)
    (bad / "folder.x3p").mkdir()
    os.symlink(samples / "gone.x3p", bad / "dangling.x3p")
    spec = parse_spec(SPEC)
    out = tmp_path / "out"
    from surfscan.cli import main

    argv = ["batch", str(samples), "-o", str(out), "--recursive", "--no-defects", "--params", "Sa,Sz",
            "--workers", "2", "--progress", "lines", "--spec", str(tmp_path / "s.toml")]
    (tmp_path / "s.toml").write_text(SPEC)
    assert main(argv) == 0
    with ResultStore(out, create=False) as store:
        f = build_tables(store, spec).files.set_index("file")
    errors = f[f["status"] == "error"]
    expected_errors = {"good/corrupt.x3p", "good/unknown.qqq", "good/folder.x3p", "good/dangling.x3p",
                       "good/locked.x3p"}  # a valid file, but mode 000: an error even for root
    assert set(errors.index) == expected_errors
    assert "permission" in f.loc["good/locked.x3p", "error"]
    assert (f.loc[list(expected_errors), "verdict"] == "error").all()
    assert "not a recognised file format" in f.loc["good/unknown.qqq", "error"]
    assert "folder" in f.loc["good/folder.x3p", "error"]
    assert "dangling" in f.loc["good/dangling.x3p", "error"]
    assert (f.loc[[i for i in f.index if i.startswith("poor/")], "status"] == "ok").all()
    locked.chmod(0o644)


def test_worker_crash_is_an_error_for_that_file_only(samples, tmp_path):
    from surfscan.io import registry

    def crash(path, **kw):
        os._exit(3)

    registry.register(registry.Format("crashtest", "a reader that kills its process", (".crash",), "height", crash))
    try:
        (samples / "good" / "boom.crash").write_bytes(b"x" * 10)
        summary = run_batch([samples], tmp_path / "out", recursive=True, workers=2, **quiet())
    finally:
        registry._FORMATS.pop("crashtest", None)
    f = summary.tables.files.set_index("file")
    assert f.loc["good/boom.crash", "status"] == "error"
    assert "worker process died" in f.loc["good/boom.crash", "error"]
    assert (f.drop(index="good/boom.crash")["status"] == "ok").all() and len(f) == 7


def _batch_cmd(inp: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "surfscan", "batch", str(inp), "-o", str(out), "--recursive", "--no-defects",
            "--workers", "2", "--progress", "lines", "--export", "csv,parquet", "--params", "Sa,Sq,Sz,Ssk,Sdr"]


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _results_count(out: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(out / "surfscan-results.sqlite", timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_at_a_random_moment_then_rerun_gives_the_same_tables(tmp_path):
    inp = tmp_path / "in"
    rng = np.random.default_rng(7)
    n = 24
    for i in range(n):
        (inp / f"E{i % 4}").mkdir(parents=True, exist_ok=True)
        s = ss.Surface(rng.normal(0, 0.05 * (1 + i % 4), (128, 128)), 0.5, 0.5)
        ss.write(s, inp / f"E{i % 4}" / f"site{i:02d}.x3p")
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    # the uninterrupted reference, in this process with the settings the command line builds
    cli_settings = BatchSettings(protrusions=False, roughness_settings=RoughnessSettings(
        params=("Sa", "Sq", "Sz", "Ssk", "Sdr")))
    t0 = time.monotonic()
    run_batch([inp], tmp_path / "ref", cli_settings, recursive=True, workers=2, exports=("parquet",),
              progress=io.StringIO(), live=False)
    full = time.monotonic() - t0
    out = tmp_path / "killed"
    proc = subprocess.Popen(_batch_cmd(inp, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while _results_count(out) == 0 and proc.poll() is None:  # kill while files are being analysed
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, full / 3))
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _results_count(out)
    done = subprocess.run(_batch_cmd(inp, out), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{n - killed_at} analysed now, {killed_at} already done" in done.stdout
    for name in ("files", "groups"):
        ref = pd.read_parquet(tmp_path / "ref" / f"{name}.parquet")
        got = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(drop_times(ref), drop_times(got))
    with ResultStore(out) as store:
        assert store.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == n
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and "zombie" not in
                Path(f"/proc/{w}/status").read_text().lower()], "worker processes outlived the killed batch"


def test_dask_local_cluster_gives_the_same_table(samples, tmp_path):
    distributed = pytest.importorskip("distributed")
    (samples / "good" / "junk.x3p").write_bytes(b"not an x3p file")
    local = run_batch([samples], tmp_path / "local", recursive=True, workers=2, **quiet())
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            on_dask = run_batch([samples], tmp_path / "dask", recursive=True, scheduler=client, **quiet())
    assert "Dask" in on_dask.where
    pd.testing.assert_frame_equal(drop_times(local.tables.files), drop_times(on_dask.tables.files))
    pd.testing.assert_frame_equal(local.tables.groups, on_dask.tables.groups)


def test_dask_scheduler_address_on_the_command_line(samples, tmp_path):
    distributed = pytest.importorskip("distributed")
    from surfscan.cli import main

    args = ["batch", str(samples), "-o", "OUT", "--recursive", "--no-defects", "--params", "Sa,Sz", "--level", "none",
            "--progress", "lines", "--export", "parquet"]
    assert main([a.replace("OUT", str(tmp_path / "local")) for a in args] + ["--workers", "2"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        assert main([a.replace("OUT", str(tmp_path / "dask")) for a in args] + ["--scheduler", lc.scheduler_address]) == 0
    local = pd.read_parquet(tmp_path / "local" / "files.parquet")
    on_dask = pd.read_parquet(tmp_path / "dask" / "files.parquet")
    pd.testing.assert_frame_equal(drop_times(local), drop_times(on_dask))


def test_spec_parameters_are_computed_even_when_not_asked_for(samples, tmp_path, capsys):
    from surfscan.cli import main

    (tmp_path / "s.toml").write_text('rules = ["sa < 100 nm", "Sz < 1 um"]')
    out = tmp_path / "out"
    assert main(["batch", str(samples), "-o", str(out), "--recursive", "--no-defects", "--params", "Sq",
                 "--level", "none", "--workers", "1", "--spec", str(tmp_path / "s.toml"), "--export", "csv"]) == 0
    f = pd.read_csv(out / "files.csv")
    assert {"Sq", "Sa", "Sz"} <= set(f.columns) and "Ssk" not in f.columns
    assert dict(zip(f["group"], f["verdict"])) == {"good": "pass", "poor": "fail"}
    printed = capsys.readouterr().out
    assert "groups 1 pass, 1 fail" in printed and "poor: 3 files" in printed and "FAIL" in printed


def test_protrusion_settings_reach_the_detector_and_the_table(samples, tmp_path, capsys):
    from surfscan.batch.tasks import protrusions_available
    from surfscan.cli import main

    if not protrusions_available():
        pytest.skip("surfscan.detect_protrusions is not available")
    args = ["batch", str(samples / "good"), "-o", str(tmp_path / "o"), "--no-roughness", "--workers", "1",
            "--export", "csv"]
    assert main([*args, "--protrusion-setting", "bogus=1"]) == 1
    assert "bogus" in capsys.readouterr().err
    assert main([*args, "--protrusion-setting", "min_area_um2=4.5", "--protrusion-setting", "polarity=bright"]) == 0
    f = pd.read_csv(tmp_path / "o" / "files.csv")
    assert (f["setting_protrusion_settings"] == '{"min_area_um2": 4.5, "polarity": "bright"}').all()
    assert all(json.loads(t)["min_area_um2"] == 4.5 for t in f["height_protrusion_settings"])
    assert "time_protrusions_s" in f.columns
    assert (f["status"] == "ok").all() and "height_protrusion_count" in f.columns and "Sa" not in f.columns


def test_batch_after_in_process_analysis_does_not_hang(samples, tmp_path):
    """Worker processes forked after OpenCV and BLAS ran threads in the parent must still work."""
    code = f"""
import io, cv2, numpy as np
cv2.GaussianBlur(np.random.rand(2048, 2048).astype(np.float32), (0, 0), 3)  # OpenCV's thread pool starts
np.random.rand(600, 600) @ np.random.rand(600, 600)  # and BLAS's
from surfscan.batch import run_batch
s = run_batch([{str(samples)!r}], {str(tmp_path / "o")!r}, recursive=True, workers=2, progress=io.StringIO(),
              live=False, exports=())
assert (s.tables.files["status"] == "ok").all()
print(cv2.getNumThreads())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == __import__("cv2").getNumThreads()  # the caller's setting is restored


def test_progress_lines_when_not_a_terminal():
    buf = io.StringIO()
    with Progress(4, buf, live=False, every=0.0) as p:
        for ok in (True, False, True, True):
            p.advance(ok)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 5 and "4/4 files" in lines[-1] and "1 errors" in lines[-1]
    assert "files/s" in lines[0] and "ETA" in lines[0]


def test_surfscan_import_does_not_import_dask():
    code = "import surfscan, surfscan.batch, surfscan.cli.batch, sys; print(any('distributed' in m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_is_one_self_contained_html_file(samples, tmp_path):
    import base64
    import re

    from surfscan.batch.report import worst_files, write_report
    from surfscan.cli import main

    (samples / "good" / "junk.x3p").write_bytes(b"not an x3p")
    out = tmp_path / "out"
    spec = parse_spec(SPEC)
    run_batch([samples], out, recursive=True, spec=spec, workers=1, **quiet())
    assert main(["report", str(out)]) == 0
    text = (out / "report.html").read_text()
    assert "src='http" not in text and "<script" not in text  # nothing fetched from elsewhere
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(pngs) >= 1 + 6  # box plots, six thumbnails
    assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "Sa &lt; 0.10 um" in text and "class='t fail'" in text and "class='t pass'" in text
    assert "junk.x3p" in text  # the error is listed
    with ResultStore(out, create=False) as store:
        t = build_tables(store)
    worst = worst_files(t, 2)
    assert list(worst["group"]) == ["poor", "poor"] and worst["Sa"].iloc[0] == t.files["Sa"].max()
    with pytest.raises(SurfscanError, match="no batch results"):
        write_report(tmp_path / "empty")

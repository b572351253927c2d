"""The batch and saved labels (<image>.labels.tif): measured from them, never analysed as images, re-run when
they change; the quality flags of automatic results in the tables and the HTML report."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

import surfscan as ss
from surfscan.batch import BatchSettings, discover, run_batch
from surfscan.batch.report import UNRELIABLE_MARK, write_report
from surfscan.labels_io import labels_path, save_labels
from surfscan.testing.particles import planted_particles

PX = 0.1  # µm per pixel of the planted images
SETTINGS = BatchSettings(roughness=False, protrusions=True, particles=True, pixel_size_um=PX,
                         particle_settings=(("min_count", 5),))
PARTICLES_ONLY = BatchSettings(roughness=False, protrusions=False, particles=True, pixel_size_um=PX,
                               particle_settings=(("min_count", 5),))


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two planted-particle SEM TIFFs (uncalibrated; the batch gives the pixel size)."""
    root = tmp_path_factory.mktemp("labels_in")
    for seed, name in ((3, "a.tif"), (5, "b.tif")):
        mic, _ = planted_particles(seed, shape=(240, 320), pixel_size_um=PX, n=40)
        tifffile.imwrite(root / name, mic.image)
    return root


def _copy(images: Path, tmp_path: Path) -> Path:
    root = tmp_path / "in"
    shutil.copytree(images, root)
    return root


def _micrograph(path: Path) -> ss.Micrograph:
    return ss.read(path).replace(pixel_size=PX)


def _edited(path: Path) -> np.ndarray:
    """The automatic particle labels with the first two particles merged and the third erased."""
    found = ss.measure_particles(_micrograph(path), min_count=5)
    lab, ids = found.labels.copy(), np.sort(found.table["id"].to_numpy())  # measured ones, not cut by the border
    lab[lab == ids[1]] = ids[0]
    lab[lab == ids[2]] = 0
    return lab


def _last_measured_id(mic: ss.Micrograph, labels: np.ndarray) -> int:
    """The last particle the labels measure (not one cut by the border)."""
    return int(ss.measure_particles_from_labels(mic, labels, min_count=5).table["id"].max())


def _run(root: Path, out: Path, settings: BatchSettings = SETTINGS):
    summary = run_batch([root], out, settings, workers=1, exports=("csv",), progress=open(os.devnull, "w"))
    files = pd.read_csv(out / "files.csv", keep_default_na=False, na_values=[""]).set_index("file")
    return summary, files


def test_labels_files_are_never_taken_as_images(images: Path, tmp_path: Path) -> None:
    root = _copy(images, tmp_path)
    save_labels(root / "a.tif", _edited(root / "a.tif"), "particles")
    assert labels_path(root / "a.tif").is_file()
    for include in (None, ["*.tif"], ["*"]):
        found = [Path(c.path).name for c in discover([root], include=include)]
        assert found == ["a.tif", "b.tif"], include


def test_batch_measures_from_saved_labels_and_reruns_when_they_change(images: Path, tmp_path: Path) -> None:
    root = _copy(images, tmp_path)
    a, out = root / "a.tif", tmp_path / "out"
    edited = _edited(a)
    save_labels(a, edited, "particles")
    prot = np.zeros_like(edited)
    prot[10:30, 10:30], prot[100:120, 200:230] = 4, 9
    save_labels(a, prot, "protrusions")

    summary, f = _run(root, out)
    assert summary.files == 2 and list(f.index) == ["a.tif", "b.tif"]
    mic = _micrograph(a)
    from_labels = ss.measure_particles_from_labels(mic, edited, min_count=5).summary
    auto = ss.measure_particles(mic, min_count=5).summary
    assert from_labels["count"] == auto["count"] - 2
    assert f.loc["a.tif", "particles_source"] == "labels" and f.loc["b.tif", "particles_source"] == "auto"
    assert f.loc["a.tif", "particles_count"] == from_labels["count"]
    assert f.loc["a.tif", "particles_d50_um"] == pytest.approx(from_labels["d50_um"], rel=1e-9)
    assert bool(f.loc["a.tif", "particles_quality_reliable"]) is True
    assert f.loc["a.tif", "sem_protrusion_source"] == "labels" and f.loc["a.tif", "sem_protrusion_count"] == 2
    area_mm2 = edited.size * PX * PX * 1e-6
    assert f.loc["a.tif", "sem_protrusion_density_per_mm2"] == pytest.approx(2 / area_mm2)
    assert f.loc["b.tif", "sem_protrusion_source"] == "auto"
    assert f.loc["a.tif", "labels_file"] == "a.tif.labels.tif"

    summary, _ = _run(root, out)  # nothing changed: nothing analysed again
    assert summary.analysed == 0 and summary.skipped == 2

    edited2 = edited.copy()
    edited2[edited2 == _last_measured_id(mic, edited)] = 0  # erase one more measured particle
    save_labels(a, edited2, "particles")
    summary, f = _run(root, out)
    assert summary.analysed == 1 and summary.skipped == 1
    assert f.loc["a.tif", "particles_count"] == from_labels["count"] - 1

    labels_path(a).unlink()  # labels gone: the automatic result again
    summary, f = _run(root, out)
    assert summary.analysed == 1
    assert f.loc["a.tif", "particles_source"] == "auto" and f.loc["a.tif", "particles_count"] == auto["count"]
    assert f.loc["a.tif", "sem_protrusion_source"] == "auto"


def test_labels_of_another_image_size_are_an_error_of_that_file(images: Path, tmp_path: Path) -> None:
    root = _copy(images, tmp_path)
    save_labels(root / "b.tif", np.ones((10, 10), np.int32), "particles")
    _, f = _run(root, tmp_path / "out")
    assert f.loc["b.tif", "status"] == "error" and "shape" in f.loc["b.tif", "error"]
    assert f.loc["a.tif", "status"] == "ok"


def _unreliable_particles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Automatic particle results that call themselves unreliable (what the quality check gives a clump)."""
    original = ss.measure_particles

    def flagged(micrograph, **kwargs):
        found = original(micrograph, **kwargs)
        found.summary["quality"] = {"agglomeration_index": 0.8, "split_fraction": 0.02,
                                    "detection_limit_curve": [], "reliable": False,
                                    "reasons": ["agglomerated: touching particles were not split"]}
        return found

    monkeypatch.setattr(ss, "measure_particles", flagged)  # worker processes are forked: they see it too


def test_report_flags_unreliable_automatic_results_and_not_edited_ones(images: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = _copy(images, tmp_path), tmp_path / "out"
    save_labels(root / "a.tif", _edited(root / "a.tif"), "particles")
    _unreliable_particles(monkeypatch)
    _, f = _run(root, out, PARTICLES_ONLY)
    assert bool(f.loc["b.tif", "particles_quality_reliable"]) is False
    assert f.loc["b.tif", "particles_quality_reasons"] == "agglomerated: touching particles were not split"
    assert f.loc["b.tif", "particles_quality_agglomeration_index"] == pytest.approx(0.8)
    assert bool(f.loc["a.tif", "particles_quality_reliable"]) is True  # a person's labels
    html = write_report(out).read_text(encoding="utf-8")
    assert html.count(f"{UNRELIABLE_MARK} particles: agglomerated") >= 2  # quality section and file table
    assert "1 file with an automatic result its quality check calls unreliable" in html
    assert "✎ labels: particles" in html


def test_report_without_quality_blocks_flags_nothing(images: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = _copy(images, tmp_path), tmp_path / "out"
    original = ss.measure_particles

    def without_quality(micrograph, **kwargs):  # an analysis that gives no quality block
        found = original(micrograph, **kwargs)
        found.summary.pop("quality", None)
        return found

    monkeypatch.setattr(ss, "measure_particles", without_quality)
    _, f = _run(root, out, PARTICLES_ONLY)
    assert f["particles_quality_reliable"].isna().all() and (f["particles_source"] == "auto").all()
    html = write_report(out).read_text(encoding="utf-8")
    assert "No automatic result was flagged unreliable" in html and UNRELIABLE_MARK not in html


def test_store_without_the_labels_column_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    from surfscan.batch import ResultStore
    from surfscan.batch.store import _SCHEMA, STORE_NAME

    old = _SCHEMA.replace(",\n    labels_stat TEXT NOT NULL DEFAULT ''", "")
    assert old != _SCHEMA
    db = sqlite3.connect(tmp_path / STORE_NAME)
    db.executescript(old)
    db.execute("INSERT INTO files VALUES ('/x/a.tif', 1, 2, 'c1')")
    db.commit()
    db.close()
    with ResultStore(tmp_path) as store:
        store.record({"path": "/x/a.tif", "content_hash": "c1", "settings_hash": "s1", "status": "ok"}, {}, (1, 2))
        assert store.done_paths({"/x/a.tif": (1, 2, "")}, "s1") == {"/x/a.tif"}
        assert store.done_paths({"/x/a.tif": (1, 2, "10:20")}, "s1") == set()  # labels appeared since

"""The napari plugin without a display: manifest, reader, layer conversion, Qt-free workflow modules.

Opening real files goes through napari's ``ViewerModel.open(path, plugin=...)``,
the same code path as ``napari.Viewer.open`` without a window.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import surfscan as ss

napari_surfscan = pytest.importorskip("napari_surfscan", reason="the napari plugin package is not installed")
npe2 = pytest.importorskip("npe2", reason="npe2 not installed (pip install surfscan[napari])")

from napari_surfscan import _layers, _protrusions, _reader, _roughness  # noqa: E402

PLUGIN = "surfscan"  # npe2 requires the manifest name to equal the distribution name


# -- manifest ----------------------------------------------------------------------------------
def test_npe2_validate_with_imports_passes():
    npe2_cli = shutil.which("npe2")
    cmd = [npe2_cli] if npe2_cli else [sys.executable, "-m", "npe2"]
    proc = subprocess.run([*cmd, "validate", PLUGIN, "--imports"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout


def test_manifest_is_discovered_and_every_command_imports():
    from npe2 import PluginManifest

    mf = PluginManifest.from_distribution("surfscan")
    assert mf.name == PLUGIN
    mf.validate_imports()  # raises when a python_name does not resolve
    kinds = mf.contributions
    assert {w.display_name for w in kinds.widgets} == {"Roughness (ISO 25178)", "Protrusions", "Batch",
                                                          "Particles", "Porosity"}
    assert {s.key for s in kinds.sample_data} >= set(napari_surfscan._sample_data.SAMPLES)


def test_reader_patterns_cover_every_registered_suffix():
    from npe2 import PluginManifest

    mf = PluginManifest.from_distribution("surfscan")
    patterns = {p.lower() for r in mf.contributions.readers for p in r.filename_patterns}
    missing = sorted({f"*{s}" for f in ss.formats() if f.reader for s in f.suffixes} - patterns)
    assert not missing, f"add these reader patterns to napari.yaml: {missing}"


# -- reader -------------------------------------------------------------------------------------
def test_reader_refuses_what_surfscan_cannot_read(tmp_path):
    junk = tmp_path / "notes.dat"
    junk.write_bytes(b"this is not a MetroPro file at all" * 10)
    assert _reader.napari_get_reader(str(junk)) is None
    assert _reader.napari_get_reader(str(tmp_path / "missing.x3p")) is None


def test_reader_leaves_a_file_to_other_readers_when_detection_or_sniffing_fails(tmp_path, monkeypatch):
    # napari does not catch get_reader's exceptions: one raised here would stop every other plugin from opening the file
    path = tmp_path / "odd.x3p"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)

    def detection_fails(p):
        raise ss.SurfscanError("a sniffer failed")

    monkeypatch.setattr(_reader, "detect", detection_fails)
    assert _reader.napari_get_reader(str(path)) is None

    def sniff_fails(head, p):
        raise OSError("the disk went away")

    monkeypatch.setattr(_reader, "detect", lambda p: SimpleNamespace(reader=print, sniff=sniff_fails))
    assert _reader.napari_get_reader(str(path)) is None
    monkeypatch.setattr(_reader, "detect", lambda p: SimpleNamespace(reader=print, sniff=lambda head, p: 90))
    assert _reader.napari_get_reader(str(path)) is not None


def test_reader_reads_a_written_x3p_with_its_calibration(tmp_path):
    z = np.random.default_rng(3).normal(size=(40, 60))
    z[5, 7] = np.nan
    path = ss.write(ss.Surface(z, dx=0.25, dy=0.5), tmp_path / "s.x3p")
    read = _reader.napari_get_reader(str(path))
    assert read is not None
    [(data, kwargs, kind)] = read(str(path))
    assert kind == "image"
    assert kwargs["scale"] == pytest.approx((0.5, 0.25))
    assert kwargs["units"] == ("µm", "µm")
    assert kwargs["colormap"] == _layers.HEIGHT_COLORMAP
    np.testing.assert_allclose(data, z, atol=1e-6, equal_nan=True)
    md = kwargs["metadata"]
    assert md["kind"] == "height" and md["dx_um"] == pytest.approx(0.25) and md["format"] == "x3p"
    assert md["invalid_fraction"] == pytest.approx(1 / z.size)


def _viewer_model():
    """A napari ViewerModel (no window) with installed plugins discovered, as napari.Viewer does."""
    pytest.importorskip("napari", reason="napari not installed")
    from napari.components import ViewerModel
    from npe2 import PluginManager

    pm = PluginManager.instance()
    if PLUGIN not in pm._manifests:
        pm.discover()
    return ViewerModel()


def _model_open(path: Path):
    return _viewer_model().open(str(path), plugin=PLUGIN)


HEIGHT_FILES = ["ST_x3p-2.x3p", "ST_plu-1.plu", "ST_sur-2.sur", "ST_al3d-1.al3d", "ST_metropro-1.dat",
                "ST_nms-1.nms", "ST_opd-1.opd", "ST_frt-2.frt", "ST_tmd-1.tmd", "ST_sdf-1.sdf", "SZ_test_1.zon",
                "OGPS_ISO5436-sample1.x3p", "OGPS_ISO5436-sample4_bin.x3p"]
SEM_FILES = ["ODEMIS_tfs_example.tif", "RS_FEI-Helios-Ebeam-16bits.tif", "ODEMIS_zeiss_example_sem.tif",
             "ODEMIS_tescan_example_sem1.tif", "PLR_JEOL_image000.tif"]


@pytest.mark.parametrize("name", HEIGHT_FILES)
def test_open_real_height_map_gives_calibrated_layer(name, real_dir, expected):
    truth = expected["height"][name]
    [layer] = _model_open(real_dir / "height" / name)
    assert layer.data.shape == tuple(truth["shape"])
    np.testing.assert_allclose(layer.scale, [truth["dy_um"], truth["dx_um"]], rtol=1e-6)
    assert [str(u) for u in layer.units] == ["micrometer", "micrometer"]
    assert layer.colormap.name == _layers.HEIGHT_COLORMAP
    assert layer.metadata["kind"] == "height"
    assert layer.metadata["invalid_fraction"] == pytest.approx(truth["invalid_fraction"], abs=1e-6)
    lo, hi = layer.contrast_limits
    assert lo < hi


@pytest.mark.parametrize("name", SEM_FILES)
def test_open_real_sem_image_without_bar_and_with_pixel_size(name, real_dir, expected):
    truth = expected["sem"][name]
    [layer] = _model_open(real_dir / "sem" / name)
    rows, cols = truth["shape"]
    assert layer.data.shape[:2] == (rows - truth["databar_rows"], cols)
    px = truth["pixel_size_nm"] / 1000
    np.testing.assert_allclose(layer.scale, [px, px], rtol=truth.get("pixel_rtol", 1e-3))
    assert [str(u) for u in layer.units] == ["micrometer", "micrometer"]
    md = layer.metadata
    assert md["kind"] == "sem" and md["databar_rows"] == truth["databar_rows"]
    assert md["pixel_size_um"] == pytest.approx(px, rel=truth.get("pixel_rtol", 1e-3))
    assert md["pixel_size_source"]
    assert "full_frame" not in md["meta"]


def test_open_sample_images_through_the_sample_contribution():
    pytest.importorskip("napari", reason="napari not installed")
    from napari.components import ViewerModel
    from napari.plugins import _initialize_plugins
    from napari_surfscan._sample_data import SAMPLES, sample_path

    _initialize_plugins()  # what napari.Viewer does; a bare ViewerModel relies on an earlier test having done it
    model = ViewerModel()
    for key in SAMPLES:
        try:
            path = sample_path(key)
        except ss.SurfscanError as exc:
            pytest.skip(str(exc))
        layers = model.open_sample(PLUGIN, key)
        obj = ss.read(path)
        assert layers[0].data.shape == obj.shape
        assert layers[0].scale[-1] == pytest.approx(obj.dx)


# -- layer conversion --------------------------------------------------------------------------
def _fake_layer(data, scale, units, metadata=None, name="fake"):
    return SimpleNamespace(data=data, scale=np.asarray(scale, float), units=units, metadata=metadata or {},
                           name=name, rgb=False)


def test_surface_from_layer_converts_nanometre_scale_to_micrometres():
    z = np.arange(12.0).reshape(3, 4)
    s = _layers.surface_from_layer(_fake_layer(z, (500.0, 250.0), ("nm", "nm")))
    assert (s.dy, s.dx) == pytest.approx((0.5, 0.25))
    np.testing.assert_array_equal(s.z, z)


def test_layer_units_in_micrometres_from_names_and_pint_units_none_for_the_rest():
    import pint

    named = {"µm": 1.0, "nm": 1e-3, "inch": 25400.0, "Å": 1e-4, "MICROMETER": 1.0}
    for unit, um in named.items():
        assert _layers._um_per_unit(unit) == pytest.approx(um), unit
    assert _layers._um_per_unit(pint.Unit("mm")) == pytest.approx(1000.0)
    for unit in ("pixel", "", None, "kg", "xyz", "nan", "m^^", "((", "1/0", "mm/2", pint.Unit("second")):
        assert _layers._um_per_unit(unit) is None, unit


def test_layer_without_length_calibration_is_refused_for_heights_but_fine_for_sem():
    z = np.zeros((3, 4))
    with pytest.raises(ss.SurfscanError, match="no lateral calibration"):
        _layers.surface_from_layer(_fake_layer(z, (1, 1), ("pixel", "pixel")))
    m = _layers.micrograph_from_layer(_fake_layer(z.astype(np.uint8), (1, 1), ("pixel", "pixel")))
    assert m.pixel_size is None


def test_uncalibrated_micrograph_becomes_a_pixel_scaled_layer():
    data, kw, _ = _layers.micrograph_layer_data(ss.Micrograph(np.zeros((5, 6), np.uint8), None))
    assert kw["scale"] == (1.0, 1.0) and kw["units"] == ("pixel", "pixel")
    assert kw["metadata"]["pixel_size_um"] is None


def test_symmetric_limits_are_centred_and_round():
    z = np.random.default_rng(0).normal(0, 0.3, size=(200, 200))
    lo, hi = _layers.symmetric_limits(z)
    assert lo == -hi
    assert hi >= np.percentile(np.abs(z), 99.5)
    mantissa = hi / 10 ** math.floor(math.log10(hi))
    assert mantissa in (1.0, 2.0, 2.5, 5.0)
    assert [_layers.nice_ceil(v) for v in (0.37, 0.5, 2.1, 7.3, 0.0021)] == pytest.approx([0.5, 0.5, 2.5, 10, 0.0025])


def test_surface_mesh_leaves_out_cells_that_touch_a_hole():
    z = np.zeros((5, 6))
    z[2, 3] = np.nan
    v, f, values, step = _layers.surface_mesh(ss.Surface(z, 1.0, 1.0))
    assert v.shape == (30, 3) and step == 1
    assert len(f) == 2 * (4 * 5 - 4)  # 20 cells, 4 touch the hole, 2 triangles each
    hole = 2 * 6 + 3
    assert not np.any(f == hole)
    np.testing.assert_array_equal(v[hole], [0.0, 2.0, 3.0])


def test_surface_mesh_subsamples_large_maps_and_keeps_pixel_indices():
    s = ss.Surface(np.random.default_rng(1).normal(size=(1000, 800)), 0.1, 0.1)
    v, f, values, step = _layers.surface_mesh(s, max_side=400)
    assert step == 3
    assert v[:, 1].max() == 999 and v[:, 2].max() == 798
    assert f.max() < len(v)


def test_auto_exaggeration_makes_heights_a_tenth_of_the_side():
    z = np.random.default_rng(2).uniform(-0.05, 0.05, size=(100, 100))
    s = ss.Surface(z, 1.0, 1.0)  # 100 µm wide, ~0.1 µm of height
    e = _layers.auto_exaggeration(s)
    lo, hi = _layers.robust_limits(z)
    assert 0.5 <= e * (hi - lo) / 100 / 0.1 <= 2.0
    assert _layers.auto_exaggeration(ss.Surface(z * 1e4, 1.0, 1.0)) == 1.0


# -- roughness workflow ------------------------------------------------------------------------
def test_roughness_table_of_a_sinusoid_matches_the_analytic_truth():
    a, n = 0.2, 16  # amplitude µm, samples per period
    x = np.arange(8 * n)
    z = np.tile(a * np.sin(2 * np.pi * x / n), (32, 1))
    settings = ss.pipeline.RoughnessSettings(level="none", params=("Sa", "Sq"))
    result = _roughness.run_roughness(ss.Surface(z, 0.1, 0.1), settings)
    values = dict(zip(result.table["parameter"], result.table["value"]))
    assert values["Sq"] == pytest.approx(a / math.sqrt(2), rel=1e-9)
    assert values["Sa"] == pytest.approx(2 * a / n / math.tan(math.pi / n), rel=1e-9)
    assert list(result.table["unit"]) == ["um", "um"]
    csv = result.to_csv().splitlines()
    assert csv[0] == "parameter,value,unit,description" and csv[1].startswith("Sa,")
    assert "µm" in result.to_clipboard_text()


def test_roughness_steps_report_progress_then_the_result():
    s = ss.Surface(np.random.default_rng(4).normal(size=(50, 50)), 0.5, 0.5)
    steps = _roughness.roughness_steps(s, ss.pipeline.RoughnessSettings(lambda_c_um=10.0, params=("height",)))
    names = []
    with pytest.raises(StopIteration) as done:
        while True:
            names.append(next(steps))
    assert len(names) == _roughness.ROUGHNESS_STEPS
    assert isinstance(done.value.value, _roughness.RoughnessResult)
    assert "λc 10 µm" in done.value.value.describe_settings()


# -- protrusion workflow -----------------------------------------------------------------------
def test_every_detector_setting_has_a_form_field():
    from dataclasses import fields

    from surfscan.protrusions import ProtrusionSettings

    names = {f.name for f in fields(ProtrusionSettings)}
    assert {f.name for f in _protrusions.SETTING_FIELDS} == names
    defaults = _protrusions.settings_from_form(_protrusions.form_defaults())
    assert ProtrusionSettings.from_kwargs(**defaults) == ProtrusionSettings()
    changed = _protrusions.settings_from_form({"k": 4.5, "min_size_um": 0.0, "polarity": "dark", "split": True})
    assert changed == {"k": 4.5, "min_size_um": None, "polarity": "dark", "split": True}


def test_label_features_have_one_row_per_label_with_background_first():
    import pandas as pd

    labels = np.zeros((6, 6), np.int32)
    labels[1, 1], labels[4, 4] = 1, 3
    table = pd.DataFrame({"id": [1, 3], "x_um": [0.5, 2.0], "y_um": [0.5, 2.0], "touches_edge": [False, True]})
    feats = _protrusions.label_features(table, labels)
    assert list(feats["index"]) == [0, 1, 2, 3]
    assert feats.loc[3, "x_um"] == 2.0 and np.isnan(feats.loc[0, "x_um"]) and np.isnan(feats.loc[2, "x_um"])
    assert feats["touches_edge"].dtype == bool and feats.loc[3, "touches_edge"]
    pts = _protrusions.centroid_pixels(table, (0.25, 0.5))
    np.testing.assert_allclose(pts, [[2.0, 1.0], [8.0, 4.0]])


def test_protrusion_steps_on_planted_bumps_find_them_at_their_pixels():
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:300, :400]
    z = rng.normal(0, 0.005, size=(300, 400))
    centres = [(60, 80), (150, 300), (240, 150)]
    for cy, cx in centres:
        z += 0.5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 5.0**2))
    steps = _protrusions.protrusion_steps(ss.Surface(z, 0.2, 0.2), {})
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result = done.value
            break
    assert result.protrusions.summary["count"] == 3
    assert len(result.features) == int(result.protrusions.labels.max()) + 1
    found = sorted(map(tuple, np.round(result.points).astype(int)))
    for (cy, cx), (py, px) in zip(sorted(centres), found):
        assert abs(py - cy) <= 1 and abs(px - cx) <= 1
        assert result.protrusions.labels[py, px] == result.features["id"][result.protrusions.labels[py, px]]
    assert _protrusions.summary_text(result.protrusions.summary).startswith("3 protrusions · ")


# -- batch workflow ----------------------------------------------------------------------------
def test_batch_job_command_is_accepted_by_the_cli_parser():
    from napari_surfscan._batch import BatchJob

    from surfscan.cli import build_parser

    job = BatchJob(("in",), "out", spec="spec.toml", workers=2, lambda_s=0.8, lambda_c=80.0, defects=False)
    cmd = job.command()
    assert cmd[:4] == [sys.executable, "-m", "surfscan", "batch"]
    args = build_parser().parse_args(cmd[3:])
    assert args.folders == ["in"] and args.out == "out" and args.spec == "spec.toml"
    assert args.workers == 2 and args.lambda_s == 0.8 and args.lambda_c == 80.0
    assert args.recursive and args.protrusions is False and args.roughness


def test_batch_progress_before_a_run_is_zero_of_unknown(tmp_path):
    from napari_surfscan._batch import read_progress

    p = read_progress(str(tmp_path / "nothing-yet"), None, 0.0)
    assert (p.done, p.total, p.fraction) == (0, 0, 0.0)
    assert p.text().startswith("0/? files")

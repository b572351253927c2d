"""The napari plugin in a real napari window (pytest-qt, ``make_napari_viewer``, under Xvfb).

Each widget is docked through the plugin's manifest, run on a sample image
and photographed into tests/_screenshots/. Skipped with a message when
napari or pytest-qt is missing or there is no display (install Xvfb and
xauth; pytest-xvfb then starts one).
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import surfscan as ss

napari = pytest.importorskip("napari", reason="napari not installed (pip install surfscan[napari])")
pytest.importorskip("pytestqt", reason="pytest-qt not installed (pip install surfscan[test])")

from napari_gui import GUI_MARKS, screenshot  # noqa: E402
from napari_gui import wait_done as _wait_done  # noqa: E402

pytestmark = GUI_MARKS

from napari_surfscan._layers import DIVERGING_COLORMAP, surface_from_layer  # noqa: E402
from napari_surfscan._sample_data import sample_path  # noqa: E402

PLUGIN = "surfscan"
ROOT = Path(__file__).resolve().parents[1]


def _sample(key: str) -> Path:
    try:
        return sample_path(key)
    except ss.SurfscanError as exc:
        pytest.skip(str(exc))


def test_viewer_open_real_files_with_scale_and_units(make_napari_viewer, real_dir, expected):
    viewer = make_napari_viewer()
    [height] = viewer.open(str(real_dir / "height" / "ST_x3p-2.x3p"), plugin=PLUGIN)
    truth = expected["height"]["ST_x3p-2.x3p"]
    np.testing.assert_allclose(height.scale, [truth["dy_um"], truth["dx_um"]], rtol=1e-6)
    assert [str(u) for u in height.units] == ["micrometer", "micrometer"]
    [sem] = viewer.open(str(real_dir / "sem" / "ODEMIS_tfs_example.tif"), plugin=PLUGIN)
    t = expected["sem"]["ODEMIS_tfs_example.tif"]
    assert sem.data.shape == (t["shape"][0] - t["databar_rows"], t["shape"][1])
    np.testing.assert_allclose(sem.scale, [t["pixel_size_nm"] / 1000] * 2, rtol=1e-3)
    viewer.scale_bar.visible = True
    assert str(viewer.layers[-1].units[0]) == "micrometer"


def test_roughness_widget_levels_measures_and_shows_3d(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer(show=True)
    [layer] = viewer.open_sample(PLUGIN, "height_poor")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Roughness (ISO 25178)")
    w.layer_box.setCurrentText(layer.name)
    w.level_box.setCurrentText("poly:2")
    w.lambda_s.setValue(0.8)
    w.lambda_c.setValue(80.0)
    w.params.setCurrentText("height")
    w.run()
    _wait_done(qtbot, w, 60_000)

    # the table holds what the library computes for the same settings
    surface = surface_from_layer(layer)
    prepared = ss.gaussian_filter(ss.gaussian_filter(ss.level(surface, "poly:2"), 0.8, kind="low"), 80.0, kind="high")
    truth = ss.roughness(prepared, "height")
    table = w.result.table.set_index("parameter")
    for name in ("Sa", "Sq", "Sz", "Ssk"):
        assert table.loc[name, "value"] == pytest.approx(truth[name], rel=1e-9)
    assert table.loc["Sa", "unit"] == "um"
    assert w.model.rowCount() == len(truth)

    levelled = viewer.layers[f"{layer.name} levelled"]
    lo, hi = levelled.contrast_limits
    assert lo == -hi and hi > 0
    assert levelled.colormap.name == DIVERGING_COLORMAP and levelled.colorbar.visible
    np.testing.assert_allclose(levelled.scale, layer.scale)
    np.testing.assert_allclose(levelled.data, prepared.z, equal_nan=True)

    csv = w.export_csv(tmp_path / "params.csv")
    import pandas as pd

    back = pd.read_csv(csv).set_index("parameter")
    assert back.loc["Sz", "value"] == pytest.approx(truth["Sz"], rel=1e-8)
    text = w.copy_table()
    from qtpy.QtWidgets import QApplication

    assert QApplication.clipboard().text() == text and "Sa\t" in text and "µm" in text

    qtbot.wait(100)
    screenshot(viewer, "roughness_widget")

    assert not [lay for lay in viewer.layers if lay._type_string == "surface"]  # 3-D only on demand
    w.view_3d_button.setChecked(True)
    [mesh] = [lay for lay in viewer.layers if lay._type_string == "surface"]
    exaggeration = mesh.metadata["vertical_exaggeration"]
    assert exaggeration >= 1 and f"(vertical ×{exaggeration:g})" in mesh.name
    assert mesh.scale[0] == pytest.approx(exaggeration)
    np.testing.assert_allclose(mesh.scale[1:], levelled.scale)
    vertices = mesh.data[0]
    valid = np.isfinite(prepared.z)
    assert vertices[:, 0].max() == pytest.approx(np.nanmax(prepared.z[::int(mesh.metadata["mesh_step_px"])]
                                                            [:, ::int(mesh.metadata["mesh_step_px"])]))
    assert valid.any()
    assert viewer.dims.ndisplay == 3 and mesh.visible and not levelled.visible
    qtbot.wait(100)
    screenshot(viewer, "roughness_widget_3d")
    w.view_3d_button.setChecked(False)
    assert viewer.dims.ndisplay == 2 and levelled.visible
    assert not [lay for lay in viewer.layers if lay._type_string == "surface"]


def test_protrusion_widget_labels_features_points_and_selection_round_trip(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    [image] = viewer.open_sample(PLUGIN, "sem_protrusions")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Protrusions")
    w.layer_box.setCurrentText(image.name)
    w.run()
    _wait_done(qtbot, w, 60_000)

    table = w.result.table
    labels = w.labels_layer
    assert len(table) >= 5, "the sample with many protrusions should show several"
    feats = labels.features
    assert len(feats) == int(labels.data.max()) + 1
    assert feats.loc[0, "id"] == 0 and np.isnan(feats.loc[0, "x_um"])  # row 0 = background
    assert (feats["index"].to_numpy() == np.arange(len(feats))).all()
    for _, row in table.iterrows():
        assert feats.loc[int(row["id"]), "area_um2"] == row["area_um2"]
    np.testing.assert_allclose(labels.scale, image.scale)

    points = w.points_layer
    assert len(points.data) == len(table)
    rows, cols = np.round(points.data).astype(int).T
    inside = labels.data[rows, cols] == table["id"].to_numpy()
    assert inside.mean() >= 0.9, "centroids of compact protrusions lie on their own label"

    # table -> label
    w.select_row(2)
    assert labels.selected_label == int(table["id"].iloc[2])
    assert points.selected_data == {2}
    # label -> table
    target = len(table) - 1
    labels.selected_label = int(table["id"].iloc[target])
    assert w.selected_row() == target
    assert points.selected_data == {target}
    # a click on an object (pan/zoom mode) selects it and its row
    from types import SimpleNamespace

    labels.mode = "pan_zoom"
    world = points.data[1] * points.scale + points.translate
    w._on_click(labels, SimpleNamespace(position=tuple(world), view_direction=None, dims_displayed=[0, 1]))
    assert labels.selected_label == int(table["id"].iloc[1]) and w.selected_row() == 1

    summary = w.result.protrusions.summary
    assert w.count_label.text().startswith(f"{summary['count']} protrusion")
    assert f"{summary['density_per_mm2']:.4g} per mm²" in w.count_label.text()
    qtbot.wait(100)
    screenshot(viewer, "protrusion_widget")


def test_batch_widget_runs_a_folder_and_shows_group_verdicts(make_napari_viewer, qtbot, tmp_path):
    spec = _sample("height_good").parent / "electrode.toml"
    if not spec.is_file():
        pytest.skip(f"no example spec at {spec}")
    data = tmp_path / "runs"
    for key, group in (("height_good", "A_good"), ("height_poor", "C_poor")):
        src = _sample(key)
        (data / group).mkdir(parents=True)
        for site in sorted(src.parent.glob(src.name.replace("site1", "site*")))[:2]:
            shutil.copy(site, data / group / site.name)
    viewer = make_napari_viewer(show=True)
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Batch")
    w.folder.setText(str(data))
    w.spec.setText(str(spec))
    w.defects.setChecked(False)
    w.workers.setValue(2)
    w.run()
    assert w.running and w.run_button.text() == "Stop"
    _wait_done(qtbot, w, 180_000)

    groups = w.result.groups
    verdict = {g: v for g, v in zip(groups["group"], groups["verdict"])}
    good = [v for g, v in verdict.items() if "A_good" in g]
    poor = [v for g, v in verdict.items() if "C_poor" in g]
    assert good == ["pass"] and poor == ["fail"], f"group verdicts {verdict}; files: {w.result.files.to_dict('records')}"
    assert w.progress.value() == w.progress.maximum() == 4
    assert "1 pass, 1 fail" in w.verdicts.text()
    assert w.model.rowCount() == 2

    w.open_reports = False  # no browser in a test
    with qtbot.waitSignal(w.report_ready, timeout=120_000) as report:
        w.open_report()
    html = Path(report.args[0])
    assert html.is_file() and html.suffix == ".html" and "A_good" in html.read_text(encoding="utf-8")
    qtbot.wait(100)
    screenshot(viewer, "batch_widget")


def _ticks_while(qtbot, widget, start, timeout_ms: int) -> tuple[float, list[float], float]:
    """Run ``start()`` with a 10 ms QTimer going; returns (analysis seconds, tick times, display seconds).

    The analysis window runs from ``start()`` until the result reaches the
    GUI thread; the display seconds are the GUI-thread time the widget then
    spent adding layers and tables (napari's own work, reported apart).
    """
    from qtpy.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    start()
    _wait_done(qtbot, widget, timeout_ms)
    t1 = time.perf_counter() - widget.display_seconds
    timer.stop()
    return t1 - t0, [t for t in ticks if t0 <= t <= t1], widget.display_seconds


def _assert_responsive(duration: float, ticks: list[float], display_s: float, what: str) -> None:
    gaps = np.diff(ticks) if len(ticks) > 1 else np.array([duration])
    print(f"{what}: analysis {duration:.2f} s with {len(ticks)} ticks of a 10 ms timer "
          f"(longest gap {gaps.max() * 1000:.0f} ms); showing the result took {display_s:.2f} s on the GUI thread")
    assert len(ticks) >= duration / 0.1, f"{what}: the event loop ran only {len(ticks)} timer ticks (< 10 per second)"
    assert gaps.max() < 0.5, f"{what}: the interface froze for {gaps.max():.2f} s during the analysis"
    assert display_s < 3.0, f"{what}: showing the result blocked the interface for {display_s:.2f} s"


def test_event_loop_keeps_running_during_a_2048x1536_analysis(make_napari_viewer, qtbot):
    from scipy import ndimage

    rng = np.random.default_rng(7)
    z = ndimage.gaussian_filter(rng.normal(size=(1536, 2048)), 3.0) * 0.5
    yy, xx = np.ogrid[:1536, :2048]
    for cy, cx in rng.uniform(50, 1480, size=(40, 2)):
        z = z + 2.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 8.0**2))
    viewer = make_napari_viewer(show=True)
    viewer.add_image(z, name="big", scale=(0.1, 0.1), units="um", metadata={"kind": "height"})

    _, rough = viewer.window.add_plugin_dock_widget(PLUGIN, "Roughness (ISO 25178)")
    rough.layer_box.setCurrentText("big")
    rough.lambda_s.setValue(0.5)
    rough.lambda_c.setValue(25.0)
    rough.params.setCurrentText("height")
    qtbot.wait(500)  # let the window draw itself once before timing
    duration, ticks, shown = _ticks_while(qtbot, rough, rough.run, 120_000)
    assert duration > 0.2, "the analysis should take long enough to test anything"
    _assert_responsive(duration, ticks, shown, "roughness 2048 x 1536")

    _, prot = viewer.window.add_plugin_dock_widget(PLUGIN, "Protrusions")
    prot.layer_box.setCurrentText("big")
    qtbot.wait(500)
    duration, ticks, shown = _ticks_while(qtbot, prot, prot.run, 120_000)
    _assert_responsive(duration, ticks, shown, "protrusions 2048 x 1536")
    assert prot.result.protrusions.summary["count"] >= 30
    assert not math.isnan(prot.result.protrusions.summary["density_per_mm2"])


def test_a_run_that_ends_before_run_returns_leaves_the_widget_ready(make_napari_viewer, qtbot, monkeypatch):
    """Every worker handler is connected before the worker starts.

    A short run on a busy machine can end before ``run()`` returns; a ``finished`` signal emitted before its
    connection was lost, and the widget then stayed "running" for good (its run button disabled). Here the
    worker runs to its end inside ``start()``, the extreme case of that race.
    """
    from napari.qt.threading import GeneratorWorker
    from napari_surfscan._qt._common import start_steps

    monkeypatch.setattr(GeneratorWorker, "start", lambda self: self.run())
    seen = []

    def steps():
        yield "one step"
        return 42

    start_steps(steps, total=1, desc="test", on_step=seen.append, on_done=seen.append, on_error=seen.append,
                on_finished=lambda: seen.append("finished"))
    assert seen == ["one step", 42, "finished"]

    viewer = make_napari_viewer()
    [layer] = viewer.open_sample(PLUGIN, "height_good")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Roughness (ISO 25178)")
    w.layer_box.setCurrentText(layer.name)
    w.params.setCurrentText("height")
    w.run()
    assert w.result is not None and not w.running and w.run_button.isEnabled()

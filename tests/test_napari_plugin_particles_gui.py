"""The Particles and Porosity widgets in a real napari window (pytest-qt, ``make_napari_viewer``, Xvfb).

Each widget is docked through the plugin's manifest, run on a generated
image with a known truth and photographed into tests/_screenshots/.
Skipped with a message when napari or pytest-qt is missing or there is no
display (install Xvfb and xauth; pytest-xvfb then starts one).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.testing.particles import planted_particles, planted_section

napari = pytest.importorskip("napari", reason="napari not installed (pip install surfscan[napari])")
pytest.importorskip("pytestqt", reason="pytest-qt not installed (pip install surfscan[test])")

from napari_gui import GUI_MARKS, screenshot  # noqa: E402
from napari_gui import rgba as _rgba  # noqa: E402
from napari_gui import wait_done as _wait_done  # noqa: E402

pytestmark = GUI_MARKS

from napari_surfscan._particles import CLASS_COLORS  # noqa: E402

PLUGIN = "surfscan"


def test_particle_widget_labels_features_summary_and_selection_round_trip(make_napari_viewer, qtbot, tmp_path):
    micrograph, truth = planted_particles(11, shape=(480, 640), n=90)
    px = micrograph.pixel_size
    viewer = make_napari_viewer(show=True)
    image = viewer.add_image(micrograph.image, name="planted", scale=(px, px), units="µm", colormap="gray")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Particles")
    w.layer_box.setCurrentText(image.name)
    w.run()
    _wait_done(qtbot, w, 60_000)

    library = ss.measure_particles(micrograph)
    summary = w.result.summary
    assert summary["count"] == library.summary["count"] >= 50
    assert summary["d50_um"] == library.summary["d50_um"]
    assert summary["d50_v_um"] == library.summary["d50_v_um"]
    assert w.count_label.text() == f"{summary['count']} particles · D50 {library.summary['d50_um']:.3g} µm"
    assert abs(summary["d50_um"] / np.median(truth["ecd_um"]) - 1) < 0.1  # sanity: sizes in µm
    d = w.d_model.frame.set_index("")
    assert d.loc["D50", "number (µm)"] == library.summary["d50_um"]
    assert d.loc["D90", "volume (µm)"] == library.summary["d90_v_um"]
    assert w.histogram.bins["count"].sum() == summary["count"]
    assert not w.warning_label.isVisibleTo(w)

    table, labels = w.result.table, w.labels_layer
    feats = labels.features
    assert len(feats) == int(labels.data.max()) + 1
    assert feats.loc[0, "id"] == 0 and np.isnan(feats.loc[0, "ecd_um"])
    for _, row in table.iterrows():
        assert feats.loc[int(row["id"]), "ecd_um"] == row["ecd_um"]
        assert feats.loc[int(row["id"]), "shape_class"] == row["shape_class"]
        np.testing.assert_allclose(labels.colormap.map(int(row["id"])), _rgba(CLASS_COLORS[row["shape_class"]]),
                                   atol=1e-6)
    np.testing.assert_allclose(labels.scale, image.scale)
    np.testing.assert_array_equal(labels.data, library.labels)

    # table -> label, and the view centres on the particle
    w.select_row(3)
    assert labels.selected_label == int(table["id"].iloc[3])
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    np.testing.assert_allclose(camera.center[-2:], [table["y_um"].iloc[3], table["x_um"].iloc[3]], atol=1e-6)
    # label -> table
    target = len(table) - 1
    labels.selected_label = int(table["id"].iloc[target])
    assert w.selected_row() == target
    # a click on a particle (pan/zoom mode) selects it and its row: click on one of its own pixels
    labels.mode = "pan_zoom"
    rows, cols = np.nonzero(labels.data == table["id"].iloc[1])
    world = np.array([rows[0], cols[0]]) * px
    w._on_click(labels, SimpleNamespace(position=tuple(world), view_direction=None, dims_displayed=[0, 1]))
    assert labels.selected_label == int(table["id"].iloc[1]) and w.selected_row() == 1

    back = pd.read_csv(w.export_csv(tmp_path / "particles.csv"))
    np.testing.assert_allclose(back["ecd_um"], table["ecd_um"], rtol=1e-12)
    assert list(back["shape_class"]) == list(table["shape_class"])

    w.select_row(0)
    viewer.window.resize(1300, 950)  # a larger canvas for the screenshot
    qtbot.wait(50)
    viewer.reset_view()
    qtbot.wait(100)
    screenshot(viewer, "particle_widget")


def test_particle_widget_warns_when_the_count_is_small(make_napari_viewer, qtbot):
    micrograph, _ = planted_particles(4, shape=(200, 260), n=12)
    viewer = make_napari_viewer()
    viewer.add_image(micrograph.image, name="few")  # no calibration yet
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Particles")
    w.layer_box.setCurrentText("few")
    failures = []
    w.failed.connect(failures.append)
    assert w.run() is None and failures and "Pixel size" in w.status.text()
    w.set_setting("pixel_size", micrograph.pixel_size)
    w.set_setting("threshold", "grey level")
    w.set_setting("grey_level", 120)
    assert w.settings()["threshold"] == 120.0
    with pytest.warns(ss.SurfscanWarning):
        library = ss.measure_particles(micrograph, threshold=120.0)
    w.run()
    _wait_done(qtbot, w, 60_000)
    assert w.result.summary["count"] == library.summary["count"] < 50
    assert w.warning_label.isVisibleTo(w) and "not stable" in w.warning_label.text()


def test_porosity_widget_section_in_a_drawn_rectangle_and_the_calculator(make_napari_viewer, qtbot):
    micrograph, true_fraction, region = planted_section(6, shape=(300, 400), collector_rows=50)
    px = micrograph.pixel_size
    viewer = make_napari_viewer(show=True)
    image = viewer.add_image(micrograph.image, name="section", scale=(px, px), units="µm", colormap="gray")
    ny = int(region.any(axis=1).sum())
    # a rectangle around the coating (pixel centres 0..ny-1), drawn in world µm
    viewer.add_shapes([np.array([[-0.5, -0.5], [ny - 0.5, 399.5]]) * px], shape_type="rectangle", name="coating",
                      units="µm", edge_color="yellow", face_color="transparent", edge_width=0.2)
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Porosity")
    w.layer_box.setCurrentText(image.name)
    w.region_box.setCurrentText("coating")
    w.run()
    _wait_done(qtbot, w, 60_000)

    library = ss.porosity_from_section(micrograph, region)
    assert w.section.porosity_percent == library.porosity_percent
    assert w.section.band_percent == library.band_percent
    assert abs(w.section.porosity_percent - 100 * true_fraction) < 1.0
    lo, hi = library.band_percent
    assert w.section_label.text() == f"porosity {library.porosity_percent:.1f} % ({lo:.1f}–{hi:.1f} %)"
    pores = w.pores_layer
    np.testing.assert_array_equal(pores.data.astype(bool), library.pores)
    np.testing.assert_allclose(pores.scale, image.scale)
    assert "pores" not in [w.region_box.itemText(i) for i in range(w.region_box.count())]

    w.areal_mass.setValue(3.2)
    w.thickness.setValue(28.0)
    w.set_composition([("Ag", "30", ""), ("carbon black", "60", "1.9"), ("PVdF", "10", "")])
    result = w.compute_gravimetric()
    viewer.window.resize(1200, 900)  # room for both sections in the screenshot
    expected = ss.porosity_gravimetric(3.2, 28.0, {"Ag": 0.3, "carbon black": 0.6, "PVdF": 0.1})
    assert result["porosity_percent"] == pytest.approx(expected["porosity_percent"], rel=1e-12)
    assert w.gravimetric_label.text() == f"porosity {expected['porosity_percent']:.1f} %"
    qtbot.wait(100)
    screenshot(viewer, "porosity_widget")

    w.set_composition([("Ag", "30", ""), ("PVdF", "10", "")])
    assert w.compute_gravimetric() is None and "add up" in w.gravimetric_details.text()

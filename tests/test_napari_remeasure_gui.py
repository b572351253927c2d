"""The correction loop in a real napari window (pytest-qt, ``make_napari_viewer``, Xvfb): edit the Labels layer
of the Particles and Protrusions widgets as a user does (fill one object with a neighbour's label = merge, fill
one with 0 = erase), press "Re-measure from labels", check the table and the summary, save the labels.

The edited, re-measured Particles widget is photographed into tests/_screenshots/ (docs/napari_particles_edit.png
with SURFSCAN_UPDATE_DOCS=1).
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import surfscan as ss
from surfscan.labels_io import labels_path, load_labels
from surfscan.testing.particles import planted_particles

napari = pytest.importorskip("napari", reason="napari not installed (pip install surfscan[napari])")
pytest.importorskip("pytestqt", reason="pytest-qt not installed (pip install surfscan[test])")

from napari_gui import GUI_MARKS, screenshot, wait_done  # noqa: E402
from napari_gui import rgba as _rgba  # noqa: E402
from qtpy.QtCore import Qt  # noqa: E402

pytestmark = GUI_MARKS

from napari_surfscan._particles import CLASS_COLORS, NEW_LABEL_COLOR  # noqa: E402

PLUGIN = "surfscan"


def _wait_done(qtbot, widget, timeout_ms: int = 90_000) -> None:
    wait_done(qtbot, widget, timeout_ms)


def _neighbours(table, skip: int = 0) -> tuple[int, int, int]:
    """Two particles closest to each other (to merge) and a third one (to erase), as label values."""
    xy = table[["x_um", "y_um"]].to_numpy()
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    d[np.diag_indices_from(d)] = np.inf
    i, j = np.unravel_index(np.argmin(d), d.shape)
    k = next(r for r in range(skip, len(table)) if r not in (i, j))
    ids = table["id"].to_numpy()
    return int(ids[i]), int(ids[j]), int(ids[k])


def _pixel_of(layer, label: int) -> tuple[int, int]:
    rows, cols = np.nonzero(layer.data == label)
    return int(rows[0]), int(cols[0])


def _edit_like_a_user(layer, keep: int, merge: int, erase: int) -> None:
    """Fill particle ``merge`` with ``keep``'s label (fill bucket) and fill ``erase`` with the background."""
    layer.mode = "fill"
    layer.selected_label = keep
    layer.fill(_pixel_of(layer, merge), keep)
    layer.selected_label = 0
    layer.fill(_pixel_of(layer, erase), 0)
    layer.mode = "pan_zoom"


def test_particles_edit_remeasure_save_and_screenshot(make_napari_viewer, qtbot, tmp_path):
    micrograph, _ = planted_particles(11, shape=(480, 640), n=90)
    px = micrograph.pixel_size
    source = tmp_path / "planted.tif"
    tifffile.imwrite(source, micrograph.image)
    viewer = make_napari_viewer(show=True)
    image = viewer.add_image(micrograph.image, name="planted", scale=(px, px), units="µm", colormap="gray",
                             metadata={"kind": "sem", "source_file": str(source)})
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Particles")
    w.layer_box.setCurrentText(image.name)
    assert not w.remeasure_button.isEnabled() and not w.save_labels_button.isEnabled()
    w.run()
    _wait_done(qtbot, w)
    layer, before = w.labels_layer, w.result.table.copy()
    assert layer.editable and np.issubdtype(layer.data.dtype, np.int32)
    assert w.remeasure_button.isEnabled() and w.save_labels_button.isEnabled()
    count_text, n0 = w.count_label.text(), len(before)

    keep, merge, erase = _neighbours(before)
    area = before.set_index("id")["area_um2"]
    _edit_like_a_user(layer, keep, merge, erase)
    assert not (layer.data == merge).any() and not (layer.data == erase).any()
    new_label = int(layer.data.max()) + 1  # split: paint a new label over part of a particle
    split = next(int(i) for i in before["id"] if int(i) not in (keep, merge, erase))
    rows, cols = np.nonzero(layer.data == split)
    layer.data[rows[rows < np.median(rows)], cols[rows < np.median(rows)]] = new_label
    layer.refresh()
    np.testing.assert_allclose(layer.colormap.map(new_label), _rgba(NEW_LABEL_COLOR), atol=1e-6)

    qtbot.mouseClick(w.remeasure_button, Qt.MouseButton.LeftButton)
    assert w.running
    _wait_done(qtbot, w)
    assert w.labels_layer is layer, "re-measuring keeps the edited layer"
    table = w.result.table
    assert len(table) == n0 - 2 + 1 == w.model.rowCount()
    edited = np.asarray(layer.data)
    library = ss.measure_particles_from_labels(micrograph, edited)
    assert w.result.summary["count"] == library.summary["count"] == n0 - 1
    assert w.result.summary["d50_um"] == library.summary["d50_um"]
    assert w.count_label.text() == f"{n0 - 1} particles · D50 {library.summary['d50_um']:.3g} µm" != count_text
    assert w.d_model.frame.set_index("").loc["D50", "number (µm)"] == library.summary["d50_um"]
    assert w.histogram.bins["count"].sum() == n0 - 1
    assert "edited labels" in w.status.text()
    row = table.set_index("id")
    assert row.loc[keep, "area_um2"] == pytest.approx(area[keep] + area[merge])
    assert merge not in row.index and erase not in row.index and new_label in row.index
    assert row.loc[split, "area_um2"] + row.loc[new_label, "area_um2"] == pytest.approx(area[split])
    assert layer.features.loc[keep, "area_um2"] == pytest.approx(row.loc[keep, "area_um2"])
    cls = row.loc[new_label, "shape_class"]
    np.testing.assert_allclose(layer.colormap.map(new_label), _rgba(CLASS_COLORS[cls]), atol=1e-6)

    # the table <-> label selection works on the new table
    target = int(np.flatnonzero(table["id"].to_numpy() == keep)[0])
    w.select_row(target)
    assert layer.selected_label == keep
    layer.selected_label = new_label
    assert w.selected_row() == int(np.flatnonzero(table["id"].to_numpy() == new_label)[0])

    assert not w.load_labels_button.isEnabled()  # nothing saved yet
    saved = w.save_labels()
    assert saved == labels_path(source) and saved.name == "planted.tif.labels.tif"
    np.testing.assert_array_equal(load_labels(source, "particles"), edited)

    # a new automatic run offers the saved labels; loading them re-measures from them
    w.run()
    _wait_done(qtbot, w)
    assert len(w.result.table) == n0 and w.load_labels_button.isEnabled()
    layer = w.labels_layer
    qtbot.mouseClick(w.load_labels_button, Qt.MouseButton.LeftButton)
    _wait_done(qtbot, w)
    np.testing.assert_array_equal(layer.data, edited)
    assert w.result.summary["count"] == n0 - 1 and w.result.summary["source"] == "labels"
    table = w.result.table

    w.select_row(target)
    viewer.window.resize(1300, 950)
    qtbot.wait(50)
    viewer.reset_view()
    viewer.camera.center = (row.loc[keep, "y_um"], row.loc[keep, "x_um"])  # the merged particle, close up
    viewer.camera.zoom *= 2.5
    qtbot.wait(150)
    screenshot(viewer, "napari_particles_edit", docs=True)


def test_protrusions_edit_remeasure_count_and_density(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    [image] = viewer.open_sample(PLUGIN, "sem_protrusions")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Protrusions")
    w.layer_box.setCurrentText(image.name)
    w.run()
    _wait_done(qtbot, w)
    layer, before = w.labels_layer, w.result.table.copy()
    n0 = len(before)
    assert n0 >= 3, "the sample with many protrusions should show several"
    density0 = w.result.protrusions.summary["density_per_mm2"]
    text0 = w.count_label.text()

    keep, merge, erase = _neighbours(before)
    _edit_like_a_user(layer, keep, merge, erase)
    qtbot.mouseClick(w.remeasure_button, Qt.MouseButton.LeftButton)
    _wait_done(qtbot, w)
    s = w.result.protrusions.summary
    assert w.labels_layer is layer and s["source"] == "labels"
    assert s["count"] == len(w.result.table) == w.model.rowCount() == n0 - 2
    assert s["density_per_mm2"] == pytest.approx(density0 * (n0 - 2) / n0)
    assert w.count_label.text() == f"{n0 - 2} protrusions · {s['density_per_mm2']:.4g} per mm²" != text0
    assert len(w.points_layer.data) == n0 - 2
    library = ss.measure_protrusions_from_labels(w._analysed, np.asarray(layer.data))
    assert s["count"] == library.summary["count"]
    np.testing.assert_allclose(w.result.table["mean_contrast"], library.table["mean_contrast"])
    row = int(np.flatnonzero(w.result.table["id"].to_numpy() == keep)[0])
    w.select_row(row)
    assert layer.selected_label == keep and w.points_layer.selected_data == {row}

    copy = tmp_path / "sem_protrusions_copy.tif"
    assert w.save_labels(copy) == labels_path(copy)
    np.testing.assert_array_equal(load_labels(copy, "protrusions"), np.asarray(layer.data))

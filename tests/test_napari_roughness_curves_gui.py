"""The Roughness widget's profile, Abbott-Firestone and PSD plots and its outlier/fill settings, in napari.

Runs under Xvfb (pytest-xvfb); photographed into tests/_screenshots/ (and
docs/napari_roughness_curves.png with SURFSCAN_UPDATE_DOCS=1).
"""

from __future__ import annotations

import numpy as np
import pytest

import surfscan as ss

napari = pytest.importorskip("napari", reason="napari not installed (pip install surfscan[napari])")
pytest.importorskip("pytestqt", reason="pytest-qt not installed (pip install surfscan[test])")

from napari_gui import GUI_MARKS, screenshot  # noqa: E402
from napari_gui import wait_done as _wait_done  # noqa: E402

pytestmark = GUI_MARKS

from napari_surfscan._layers import surface_from_layer  # noqa: E402

PLUGIN = "surfscan"


def test_profile_curves_and_outlier_counts(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    [layer] = viewer.open_sample(PLUGIN, "height_poor")
    z = np.array(layer.data, dtype=float)
    ny, nx = z.shape
    rng = np.random.default_rng(3)
    spikes = (rng.integers(5, ny - 5, 12), rng.integers(5, nx - 5, 12))
    z[spikes] = np.nanmax(z) + 50 * np.nanstd(z)  # 12 isolated spikes the median test must catch
    layer.data = z
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Roughness (ISO 25178)")
    w.layer_box.setCurrentText(layer.name)
    w.outliers_box.setCurrentText("median")
    w.fill_box.setCurrentText("thinplate")
    w.run()
    _wait_done(qtbot, w, 120_000)

    # outliers removed before levelling, counted, and the counts shown
    removed = ss.remove_outliers(surface_from_layer(layer), "median")
    filled = ss.fill_nonmeasured(removed, "thinplate")
    assert w.result.counts == {"outliers_removed": removed.meta["outliers_removed"],
                               "points_filled": filled.meta["points_filled"]}
    assert w.result.counts["outliers_removed"] >= 12
    assert f"{w.result.counts['outliers_removed']} outliers removed" in w.status.text()
    assert f"{w.result.counts['points_filled']} points filled" in w.status.text()
    assert not np.isnan(w.result.prepared.z).any()

    # the curves are the library's, of the levelled surface, and drawn
    truth = ss.material_ratio_curve(w.result.prepared)
    np.testing.assert_allclose(w.result.curves.abbott.height, truth.height)
    assert w.result.curves.abbott.sk.Sk == pytest.approx(ss.roughness(w.result.prepared, ["Sk"])["Sk"], rel=1e-9)
    assert w.abbott_plot.has_data() and w.psd_plot.has_data()
    [psd_ax] = w.psd_plot.figure.axes
    assert psd_ax.get_xscale() == "log" and psd_ax.get_yscale() == "log"
    x, y = psd_ax.get_lines()[0].get_data()
    np.testing.assert_allclose(x, ss.psd(w.result.prepared).q)

    # a line drawn in the profile Shapes layer gives the profile and its parameters
    shapes = w.profile_panel.start()
    assert shapes.mode == "add_line"
    start, end = (0.2 * ny, 0.1 * nx), (0.8 * ny, 0.9 * nx)
    shapes.add_lines(np.array([start, end]))
    line = w.profile_panel.line
    assert line is not None
    want = ss.profile(w.result.prepared, f"line:{start[1]:.6g},{start[0]:.6g},{end[1]:.6g},{end[0]:.6g}")
    np.testing.assert_allclose(line.profile.z, want.z)
    assert w.profile_panel.plot.has_data()
    [ax] = w.profile_panel.plot.figure.axes
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), want.z)
    model = w.profile_panel.model
    shown = {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}
    assert {"Ra", "Rz"} <= set(shown)
    assert float(shown["Ra"]) > 0 and float(shown["Rz"]) > float(shown["Ra"])
    assert float(shown["Ra"]) == pytest.approx(line.table.set_index("parameter").loc["Ra", "value"], rel=1e-4)

    w.tabs.setCurrentWidget(w.profile_panel)
    viewer.window.resize(1400, 950)
    qtbot.wait(200)
    screenshot(viewer, "napari_roughness_curves", docs=True)
    for tab, name in ((w.abbott_plot, "abbott"), (w.psd_plot, "psd")):
        w.tabs.setCurrentWidget(tab)
        qtbot.wait(100)
        screenshot(viewer, f"napari_roughness_{name}")

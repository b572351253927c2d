"""The plugin's particle and porosity workflows without a display (Qt-free modules, napari layer models)."""

from __future__ import annotations

import inspect
import io

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.testing.particles import planted_particles, planted_section

pytest.importorskip("napari_surfscan", reason="the napari plugin package is not installed")
napari = pytest.importorskip("napari", reason="napari not installed (pip install surfscan[napari])")

from napari_surfscan import _particles, _porosity  # noqa: E402


@pytest.fixture(scope="module")
def planted():
    micrograph, truth = planted_particles(5, shape=(320, 448), n=45)
    return micrograph, truth


@pytest.fixture(scope="module")
def measured(planted):
    steps = _particles.particle_steps(planted[0], _particles.settings_from_form(_particles.form_defaults()))
    names = []
    try:
        while True:
            names.append(next(steps))
    except StopIteration as stop:
        return names, stop.value


# -- settings ---------------------------------------------------------------------------------
def test_every_form_setting_is_a_library_parameter_and_defaults_are_the_library_defaults():
    params = inspect.signature(ss.measure_particles).parameters
    form_only = {"grey_level", "pixel_size"}
    assert {f.name for f in _particles.SETTING_FIELDS} - form_only <= set(params)
    settings = _particles.settings_from_form(_particles.form_defaults())
    assert "pixel_size" not in settings
    for name, value in settings.items():
        assert value == params[name].default, name


def test_grey_level_threshold_and_zero_lengths_reach_the_library_as_numbers_and_none():
    values = _particles.form_defaults() | {"threshold": _particles.GREY_LEVEL, "grey_level": 97.5,
                                           "min_diameter_um": 0.4, "background_um": 0.0, "pixel_size": 0.02}
    settings = _particles.settings_from_form(values)
    assert settings["threshold"] == 97.5
    assert settings["min_diameter_um"] == 0.4 and settings["background_um"] is None
    assert settings["pixel_size"] == 0.02


def test_pixel_size_override_replaces_the_calibration(planted):
    micrograph, _ = planted
    bare = micrograph.replace(pixel_size=None)
    with pytest.raises(ss.SurfscanError, match="pixel size"):
        list(_particles.particle_steps(bare, {}))
    gen = _particles.particle_steps(bare, {"pixel_size": micrograph.pixel_size * 2})
    with pytest.raises(StopIteration) as stop:
        while True:
            next(gen)
    direct = ss.measure_particles(micrograph.replace(pixel_size=micrograph.pixel_size * 2))
    assert stop.value.value.summary["d50_um"] == direct.summary["d50_um"]
    assert stop.value.value.pixel_size == micrograph.pixel_size * 2


def test_height_maps_are_refused():
    with pytest.raises(ss.SurfscanError, match="SEM"):
        list(_particles.particle_steps(ss.Surface(np.zeros((8, 8)), 1.0, 1.0), {}))


# -- result for layers ------------------------------------------------------------------------
def test_steps_report_progress_and_give_the_library_result(planted, measured):
    names, result = measured
    assert len(names) == _particles.PARTICLE_STEPS
    direct = ss.measure_particles(planted[0])
    pd.testing.assert_frame_equal(result.table, direct.table)
    np.testing.assert_array_equal(result.particles.labels, direct.labels)
    assert result.summary["d50_um"] == direct.summary["d50_um"]
    assert result.pixel_size == planted[0].pixel_size


def test_features_have_one_row_per_label_background_first(measured):
    _, result = measured
    labels, table, feats = result.particles.labels, result.table, result.features
    assert len(feats) == int(labels.max()) + 1
    assert (feats["index"].to_numpy() == np.arange(len(feats))).all()
    assert feats.loc[0, "id"] == 0 and np.isnan(feats.loc[0, "ecd_um"])
    for col in ("ecd_um", "feret_max_um", "feret_min_um", "aspect_ratio", "shape_class"):
        assert col in feats.columns
    for _, row in table.iterrows():
        f = feats.loc[int(row["id"])]
        assert f["ecd_um"] == row["ecd_um"] and f["shape_class"] == row["shape_class"]
        # the label really is that particle: its pixel area gives the ECD
        area = np.count_nonzero(labels == row["id"]) * result.pixel_size**2
        assert row["ecd_um"] == pytest.approx(2 * np.sqrt(area / np.pi), rel=1e-9)


def test_labels_are_coloured_by_shape_class_in_a_napari_layer(measured):
    _, result = measured
    table = result.table
    assert set(table["shape_class"]) == {"point-like", "linear"}, "the planted set has both classes"
    layer = napari.layers.Labels(result.particles.labels, colormap=result.colors, features=result.features)
    expected = {cls: np.array([int(c[i:i + 2], 16) / 255 for i in (1, 3, 5, 7)])
                for cls, c in _particles.CLASS_COLORS.items()}
    for label, cls in zip(table["id"], table["shape_class"]):
        np.testing.assert_allclose(layer.colormap.map(int(label)), expected[cls], atol=1e-6)
    assert layer.colormap.map(0)[3] == 0  # background transparent
    unused = int(result.particles.labels.max()) + 5
    assert layer.colormap.map(unused)[3] == 0
    # particles cut by the border are drawn grey: found, not measured
    lab = result.particles.labels
    edge = set(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]).tolist()) - {0}
    assert edge and not edge & set(table["id"])
    grey = np.array([int(_particles.BORDER_COLOR[i:i + 2], 16) / 255 for i in (1, 3, 5, 7)])
    for label in edge:
        np.testing.assert_allclose(layer.colormap.map(int(label)), grey, atol=1e-6)


def test_ecd_histogram_counts_every_particle_once_in_its_bin(measured):
    _, result = measured
    table = result.table
    bins = _particles.ecd_histogram(table)
    assert bins["count"].sum() == len(table)
    for cls in ("point-like", "linear"):
        assert bins[cls].sum() == (table["shape_class"] == cls).sum()
    edges = np.r_[bins["lower_um"].to_numpy(), bins["upper_um"].iloc[-1]]
    where = np.minimum(np.digitize(table["ecd_um"], edges) - 1, len(bins) - 1)  # the largest closes the last bin
    np.testing.assert_array_equal(np.bincount(where, minlength=len(bins)), bins["count"].to_numpy())
    assert 5 <= len(bins) <= 30
    assert edges[0] == table["ecd_um"].min() and edges[-1] == table["ecd_um"].max()
    assert len(_particles.ecd_histogram(table.iloc[:0])) == 0


def test_summary_texts_and_d_values_are_the_library_numbers(measured):
    _, result = measured
    s = result.summary
    d = _particles.d_value_table(s).set_index("")
    assert d.loc["D50", "number (µm)"] == s["d50_um"] and d.loc["D90", "volume (µm)"] == s["d90_v_um"]
    assert d.loc["D10", "number (µm)"] == s["d10_um"]
    assert _particles.summary_text(s) == f"{s['count']} particles · D50 {s['d50_um']:.3g} µm"
    text = _particles.fractions_text(s)
    assert f"point-like {100 * s['point_like_fraction']:.0f} %" in text
    assert f"linear (aspect > 2) {100 * s['linear_fraction']:.0f} %" in text
    assert s["warnings"], "45 planted particles are fewer than the 50 a stable D50 needs"
    back = pd.read_csv(io.StringIO(_particles.particles_csv(result)))
    assert len(back) == s["count"]
    np.testing.assert_allclose(back["ecd_um"], result.table["ecd_um"], rtol=1e-12)


def test_no_particles_gives_an_empty_but_valid_result():
    blank = ss.Micrograph(np.full((64, 64), 40, np.uint8), 0.1, {})
    with pytest.warns(ss.SurfscanWarning):
        gen = _particles.particle_steps(blank, {"threshold": 100.0})
        with pytest.raises(StopIteration) as stop:
            while True:
                next(gen)
    result = stop.value.value
    assert len(result.table) == 0 and len(result.features) == 1
    assert _particles.summary_text(result.summary) == "0 particles"
    assert _particles.fractions_text(result.summary) == "no particles measured"
    assert _particles.d_value_table(result.summary)["number (µm)"].isna().all()


# -- porosity: regions --------------------------------------------------------------------------
def test_rectangle_region_takes_the_pixels_whose_centres_are_inside():
    mask = _porosity.shapes_region([np.array([[9.5, 4.5], [9.5, 20.5], [30.5, 20.5], [30.5, 4.5]])],
                                   ["rectangle"], (40, 30))
    truth = np.zeros((40, 30), bool)
    truth[10:31, 5:21] = True
    np.testing.assert_array_equal(mask, truth)


def test_ellipse_region_has_the_ellipse_area():
    a, b = 30.0, 12.0  # semi-axes in pixels, along columns and rows
    corners = np.array([[50 - b, 60 - a], [50 - b, 60 + a], [50 + b, 60 + a], [50 + b, 60 - a]])
    mask = _porosity.shapes_region([corners], ["ellipse"], (100, 120))
    assert mask.sum() == pytest.approx(np.pi * a * b, rel=0.02)
    assert mask[50, 60] and not mask[50 - 13, 60] and not mask[50, 60 + 31]


def test_lines_and_empty_layers_do_not_make_a_region():
    with pytest.raises(ss.SurfscanError, match="line"):
        _porosity.shapes_region([np.array([[0, 0], [5, 5]])], ["line"], (10, 10))
    with pytest.raises(ss.SurfscanError, match="no shape"):
        _porosity.shapes_region([], [], (10, 10))


def test_region_from_a_shapes_layer_goes_through_world_coordinates():
    image = napari.layers.Image(np.zeros((60, 80), np.uint8), scale=(0.5, 0.5), translate=(10.0, 0.0))
    # a rectangle drawn in a Shapes layer with its own scale: world rows 14.75..24.75, cols 5.25..20.25
    shapes = napari.layers.Shapes([np.array([[14.75, 5.25], [24.75, 20.25]]) / 0.25], shape_type="rectangle",
                                  scale=(0.25, 0.25))
    mask = _porosity.region_from_layer(shapes, image)
    truth = np.zeros((60, 80), bool)
    truth[10:30, 11:41] = True  # image pixels (world - 10) / 0.5 and world / 0.5, centres inside
    np.testing.assert_array_equal(mask, truth)
    shapes.add_rectangles(np.array([[0.0, 0.0], [4.0, 4.0]]) / 0.25 + [40 / 0.25, 0])  # outside the image
    shapes.selected_data = {1}
    with pytest.raises(ss.SurfscanError, match="outside"):
        _porosity.region_from_layer(shapes, image)
    shapes.selected_data = set()
    np.testing.assert_array_equal(_porosity.region_from_layer(shapes, image), truth)  # union of all


def test_region_from_a_labels_layer_must_lie_on_the_image_grid():
    image = napari.layers.Image(np.zeros((20, 30), np.uint8), scale=(0.1, 0.1))
    paint = np.zeros((20, 30), np.uint8)
    paint[2:9, 3:12] = 2
    np.testing.assert_array_equal(
        _porosity.region_from_layer(napari.layers.Labels(paint, scale=(0.1, 0.1)), image), paint > 0)
    with pytest.raises(ss.SurfscanError, match="pixel for pixel"):
        _porosity.region_from_layer(napari.layers.Labels(paint, scale=(0.2, 0.2)), image)
    with pytest.raises(ss.SurfscanError, match="empty"):
        _porosity.region_from_layer(napari.layers.Labels(paint * 0, scale=(0.1, 0.1)), image)
    assert _porosity.region_from_layer(None, image) is None


# -- porosity: section and gravimetric ------------------------------------------------------------
def test_section_porosity_on_a_planted_section_is_the_library_result_within_a_point_of_the_truth():
    micrograph, true_fraction, region = planted_section(2, shape=(240, 320), collector_rows=40)
    image = napari.layers.Image(micrograph.image, scale=(micrograph.pixel_size,) * 2)
    mask = _porosity.region_from_layer(napari.layers.Labels(region.astype(np.uint8),
                                                            scale=(micrograph.pixel_size,) * 2), image)
    settings = _porosity.section_settings("otsu", 0.0, "dark", 0.0, 1.0)
    assert settings == {"method": "otsu", "pores": "dark", "delta": None, "smooth_px": 1.0}
    gen = _porosity.section_steps(micrograph, mask, settings)
    assert next(gen)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    result = stop.value.value
    direct = ss.porosity_from_section(micrograph, region)
    assert result.porosity_percent == direct.porosity_percent
    assert abs(result.porosity_percent - 100 * true_fraction) < 1.0
    lo, hi = result.band_percent
    assert lo <= result.porosity_percent <= hi
    headline, details = _porosity.section_text(result)
    assert headline == f"porosity {result.porosity_percent:.1f} % ({lo:.1f}–{hi:.1f} %)"
    assert "otsu" in details and "µm²" in details
    whole = ss.porosity_from_section(micrograph)  # the bright collector lowers the porosity
    assert whole.porosity_percent < result.porosity_percent - 3
    fixed = _porosity.section_settings(_porosity.GREY_LEVEL, 105.0, "dark", 8.0, 0.0)
    assert fixed == {"method": 105.0, "pores": "dark", "delta": 8.0, "smooth_px": 0.0}


def test_gravimetric_calculator_reproduces_a_hand_computed_example():
    rows = [("Ag", "50", ""), ("carbon black", "40 %", "2.0"), ("PVdF", "10", "1780 kg/m3"), ("", "", "")]
    composition = _porosity.composition_from_rows(rows)
    assert composition == {"Ag": 0.5, "carbon black": (0.4, 2.0), "PVdF": (0.1, "1780 kg/m3")}
    result = _porosity.gravimetric(5.0, "mg/cm2", 50.0, "µm", rows)
    rho_true = 1 / (0.5 / 10.49 + 0.4 / 2.0 + 0.1 / 1.78)  # g/cm3
    rho_apparent = 5e-3 / 50e-4  # 5 mg/cm2 over 50 µm, g/cm3
    assert result["porosity_percent"] == pytest.approx(100 * (1 - rho_apparent / rho_true), rel=1e-9)
    assert result["porosity_percent"] == pytest.approx(69.62, abs=0.01)
    same = _porosity.gravimetric(50.0, "g/m2", 0.05, "mm", rows)
    assert same["porosity_percent"] == pytest.approx(result["porosity_percent"], rel=1e-9)
    headline, details = _porosity.gravimetric_text(result)
    assert headline == f"porosity {result['porosity_percent']:.1f} %" and "Ag 10.49" in details


def test_gravimetric_rows_with_mistakes_are_refused():
    with pytest.raises(ss.SurfscanError, match="mass fraction"):
        _porosity.composition_from_rows([("Ag", "", "")])
    with pytest.raises(ss.SurfscanError, match="no material"):
        _porosity.composition_from_rows([("", "20", "")])
    with pytest.raises(ss.SurfscanError, match="twice"):
        _porosity.composition_from_rows([("Ag", "50", ""), ("Ag", "50", "")])
    with pytest.raises(ss.SurfscanError, match="not a number"):
        _porosity.composition_from_rows([("Ag", "half", "")])
    with pytest.raises(ss.SurfscanError, match="empty"):
        _porosity.composition_from_rows([("", "", "")])
    with pytest.raises(ss.SurfscanError, match="add up"):
        _porosity.gravimetric(5.0, "mg/cm2", 50.0, "µm", [("Ag", "60", ""), ("PVdF", "10", "")])
    with pytest.raises(ss.SurfscanError, match="unit"):
        _porosity.gravimetric(5.0, "mg/cm2", 50.0, "µm", [("Ag", "100", "10 mg/cm2")])

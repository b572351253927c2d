"""Measurements from edited labels (surfscan.remeasure) and the labels file beside the image (surfscan.labels_io).

Truths are worked out by hand from the drawn labels: squares of known side
(area, ECD, Feret diameters), a background of known grey level or height
(contrast, height, volume), merged and split labels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile

import surfscan as ss
from surfscan.labels_io import is_labels_file, labels_analyses, labels_path, load_labels, save_labels

PX = 0.05  # µm per pixel


def _squares(shape=(200, 300), squares=((20, 20, 20, 3), (20, 100, 20, 8), (120, 60, 30, 11))):
    """Label image with squares (row, col, side, value)."""
    lab = np.zeros(shape, np.int32)
    for r, c, side, v in squares:
        lab[r:r + side, c:c + side] = v
    return lab


def _sem(lab: np.ndarray, inside: float = 150.0, outside: float = 100.0) -> ss.Micrograph:
    img = np.where(lab > 0, inside, outside).astype(np.uint8)
    return ss.Micrograph(img, PX, {"source_file": "drawn.tif"})


def _ecd(area_px: float) -> float:
    return 2 * math.sqrt(area_px / math.pi) * PX


def test_particles_from_drawn_squares_match_hand_computed_sizes():
    lab = _squares()
    p = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1)
    t = p.table.set_index("id")
    assert list(t.index) == [3, 8, 11]  # label values kept, gaps and all
    assert t.loc[3, "area_um2"] == pytest.approx(400 * PX**2)
    assert t.loc[11, "area_um2"] == pytest.approx(900 * PX**2)
    assert t.loc[11, "ecd_um"] == pytest.approx(_ecd(900))
    assert t.loc[11, "feret_min_um"] == pytest.approx(30 * PX, rel=1e-6)
    assert t.loc[11, "feret_max_um"] == pytest.approx(30 * math.sqrt(2) * PX, rel=1e-6)
    assert t.loc[3, "x_um"] == pytest.approx((20 + 9.5) * PX) and t.loc[3, "y_um"] == pytest.approx(29.5 * PX)
    s = p.summary
    assert s["count"] == 3 and s["source"] == "labels"
    assert s["d50_um"] == pytest.approx(_ecd(400))  # number median of (400, 400, 900) px²
    # volume weights d³: 8 : 8 : 27 -> cumulative mid-points 8/86, 24/86 ... hazen convention by hand
    d_small, d_big = _ecd(400), _ecd(900)
    w = np.array([d_small**3, d_small**3, d_big**3])
    mids = (np.cumsum(w) - w / 2) / w.sum() * 100
    expected_v50 = np.interp(50, mids, [d_small, d_small, d_big])
    assert s["d50_v_um"] == pytest.approx(expected_v50)
    assert s["quality"]["reliable"] is True
    np.testing.assert_array_equal(p.labels, lab)


def test_merging_two_labels_makes_one_particle_with_their_total_area():
    lab = _squares()
    lab[lab == 8] = 3  # fill particle 8 with particle 3's label (a napari merge)
    p = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1)
    assert p.summary["count"] == 2
    t = p.table.set_index("id")
    assert t.loc[3, "area_um2"] == pytest.approx(800 * PX**2)
    assert t.loc[3, "ecd_um"] == pytest.approx(_ecd(800))
    # the hull spans both squares: Feret max from (20, 20) to (40, 120) corners
    assert t.loc[3, "feret_max_um"] == pytest.approx(math.hypot(100, 20) * PX, rel=1e-6)


def test_painting_a_new_label_over_half_splits_the_particle():
    lab = _squares()
    lab[120:135, 60:90] = 12  # upper half of the 30 x 30 square gets a new label
    p = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1)
    t = p.table.set_index("id")
    assert p.summary["count"] == 4
    assert t.loc[11, "area_um2"] == pytest.approx(450 * PX**2) == t.loc[12, "area_um2"]
    # Feret max is the diagonal of the 15 x 30 half, Feret min its short side: sqrt(5) > 2, linear
    assert t.loc[12, "aspect_ratio"] == pytest.approx(math.sqrt(5), rel=1e-6)
    assert t.loc[12, "shape_class"] == "linear" and t.loc[3, "shape_class"] == "point-like"


def test_an_erased_cut_keeps_one_object_unless_relabel():
    lab = _squares()
    lab[120:150, 74:76] = 0  # eraser line across the 30 x 30 square
    p = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1)
    assert p.summary["count"] == 3
    assert p.table.set_index("id").loc[11, "area_um2"] == pytest.approx(840 * PX**2)
    q = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1, relabel=True)
    t = q.table.set_index("id")
    assert q.summary["count"] == 4
    assert t.loc[11, "area_um2"] == pytest.approx(14 * 30 * PX**2)  # the left piece keeps the value
    assert t.loc[12, "area_um2"] == pytest.approx(14 * 30 * PX**2)  # the right one gets max + 1


def test_border_particles_are_not_measured_unless_asked():
    lab = _squares(squares=((0, 0, 10, 1), (50, 50, 10, 2)))
    assert ss.measure_particles_from_labels(_sem(lab), lab, min_count=1, exclude_border=False).summary["count"] == 2
    p = ss.measure_particles_from_labels(_sem(lab), lab, min_count=1)
    assert p.summary["count"] == 1 and p.summary["excluded_border"] == 1
    assert list(p.table["id"]) == [2] and (p.labels == 1).sum() == 100  # still drawn, not measured


def test_few_particles_warn_and_no_particles_give_an_empty_table():
    lab = _squares()
    with pytest.warns(ss.SurfscanWarning, match="only 3 particles"):
        ss.measure_particles_from_labels(_sem(lab), lab)
    with pytest.warns(ss.SurfscanWarning, match="no particles"):
        p = ss.measure_particles_from_labels(_sem(lab), np.zeros_like(lab))
    assert p.summary["count"] == 0 and p.table.empty


@pytest.mark.parametrize("bad, message", [
    (np.zeros((10, 10), np.int32), "shape"),
    (np.zeros((200, 300), np.float32), "integers"),
    (np.zeros((200, 300), bool), "integers"),
    (np.full((200, 300), -1, np.int64), "negative"),
    (np.full((200, 300), 2**40, np.int64), "2\\*\\*31"),
])
def test_bad_labels_get_one_clear_error(bad, message):
    lab = _squares()
    with pytest.raises(ss.SurfscanError, match=message):
        ss.measure_particles_from_labels(_sem(lab), bad)
    with pytest.raises(ss.SurfscanError, match=message):
        ss.measure_protrusions_from_labels(_sem(lab), bad)


def test_uncalibrated_image_and_wrong_kind_are_refused():
    lab = _squares()
    img = ss.Micrograph(np.zeros(lab.shape, np.uint8), None, {})
    with pytest.raises(ss.SurfscanError, match="pixel size"):
        ss.measure_particles_from_labels(img, lab)
    with pytest.raises(ss.SurfscanError, match="Micrograph"):
        ss.measure_particles_from_labels(ss.Surface(np.zeros(lab.shape), 1.0, 1.0), lab)
    p = ss.measure_protrusions_from_labels(img, lab, pixel_size=PX)
    assert p.summary["count"] == 3


def test_sem_protrusions_contrast_against_each_objects_own_background():
    lab = _squares()
    img = np.full(lab.shape, 100.0)
    img[:, 150:] = 50.0  # darker right half: the object there sits on its own background
    img[lab == 3] = 150.0  # +50 %
    img[lab == 8] = 75.0  # at columns 100-119: on 100 -> -25 %
    img[lab == 11] = 200.0  # +100 %
    lab2 = lab.copy()
    lab2[20:40, 200:220] = 20
    img[lab2 == 20] = 75.0  # on 50 -> +50 %
    p = ss.measure_protrusions_from_labels(ss.Micrograph(img, PX, {}), lab2)
    t = p.table.set_index("id")
    assert t.loc[3, "mean_contrast"] == pytest.approx(0.5)
    assert t.loc[8, "mean_contrast"] == pytest.approx(-0.25)
    assert t.loc[11, "mean_contrast"] == pytest.approx(1.0)
    assert t.loc[20, "mean_contrast"] == pytest.approx(0.5)
    assert t.loc[20, "background_grey_level"] == pytest.approx(50.0)
    s = p.summary
    area_mm2 = lab.size * PX * PX * 1e-6
    assert s["count"] == 4 and s["density_per_mm2"] == pytest.approx(4 / area_mm2)
    assert s["source"] == "labels" and s["quality"]["reliable"] is True
    assert t.loc[11, "equivalent_diameter_um"] == pytest.approx(_ecd(900))
    assert t.loc[11, "aspect_ratio"] == pytest.approx(1.0)
    # merging two objects lowers the count and the density by one object
    lab2[lab2 == 8] = 3
    merged = ss.measure_protrusions_from_labels(ss.Micrograph(img, PX, {}), lab2)
    assert merged.summary["count"] == 3
    assert merged.summary["density_per_mm2"] == pytest.approx(3 / area_mm2)


def test_height_map_protrusions_height_volume_and_holes():
    ny, nx = 120, 160
    z = np.full((ny, nx), 5.0)
    lab = np.zeros((ny, nx), np.int32)
    lab[30:50, 30:50] = 4
    z[30:50, 30:50] = 7.0  # 2 µm above its background, 400 px
    lab[60:70, 100:110] = 9
    z[60:70, 100:110] = 4.0  # a 1 µm pit
    z[60:70, 110:115] = np.nan  # a hole beside the pit
    s = ss.Surface(z, dx=0.5, dy=0.5)
    p = ss.measure_protrusions_from_labels(s, lab)
    t = p.table.set_index("id")
    assert t.loc[4, "max_height_um"] == pytest.approx(2.0)
    assert t.loc[4, "volume_um3"] == pytest.approx(2.0 * 400 * 0.25)
    assert t.loc[9, "max_height_um"] == pytest.approx(-1.0)
    assert bool(t.loc[9, "touches_invalid"]) and not bool(t.loc[4, "touches_invalid"])
    valid_mm2 = (ny * nx - 50) * 0.25 * 1e-6
    assert p.summary["density_per_mm2"] == pytest.approx(2 / valid_mm2)
    pits = ss.measure_protrusions_from_labels(s, lab, polarity="dark")
    assert pits.table.set_index("id").loc[9, "max_height_um"] == pytest.approx(-1.0)
    assert pits.table.set_index("id").loc[9, "volume_um3"] == pytest.approx(-100 * 0.25)
    with pytest.raises(ss.SurfscanError, match="polarity"):
        ss.measure_protrusions_from_labels(s, lab, polarity="sideways")


def test_protrusions_from_labels_write_an_overlay(tmp_path):
    import cv2

    lab = _squares(squares=((0, 20, 20, 3), (20, 100, 20, 8), (120, 60, 30, 11)))
    p = ss.measure_protrusions_from_labels(_sem(lab), lab)  # gaps in the label values
    out = cv2.imread(str(p.write_overlay(tmp_path / "o.png")))
    assert out.shape[:2] == lab.shape
    assert (out[5, 20] == (0, 160, 255)).all()  # orange outline: touches the border
    assert (out[30, 100] == (80, 220, 60)).all()  # green outline: inside


def test_labels_file_round_trip_with_two_pages(tmp_path):
    image = tmp_path / "E1_100x.tif"
    image.write_bytes(b"not read")
    assert labels_path(image).name == "E1_100x.tif.labels.tif" and is_labels_file(labels_path(image))
    assert load_labels(image, "particles") is None and labels_analyses(image) == []
    a = _squares()
    b = np.zeros_like(a)
    b[5:9, 7:30] = 70000  # beyond uint16
    save_labels(image, a, "particles")
    path = save_labels(image, b.astype(np.int64), "protrusions")
    assert labels_analyses(image) == ["particles", "protrusions"]
    np.testing.assert_array_equal(load_labels(image, "particles"), a)
    np.testing.assert_array_equal(load_labels(image, "protrusions"), b)
    assert load_labels(image, "protrusions").dtype == np.int32
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 2
        assert all(p.compression != 1 for p in tif.pages)
        assert '"analysis": "particles"' in tif.pages[0].description
    edited = a.copy()
    edited[edited == 8] = 3
    save_labels(image, edited, "particles")  # replaces that page, keeps the other
    np.testing.assert_array_equal(load_labels(image, "particles"), edited)
    np.testing.assert_array_equal(load_labels(image, "protrusions"), b)


def test_labels_file_errors_are_clear(tmp_path):
    image = tmp_path / "x.tif"
    with pytest.raises(ss.SurfscanError, match="analysis"):
        save_labels(image, _squares(), "roughness")
    with pytest.raises(ss.SurfscanError, match="integer"):
        save_labels(image, _squares().astype(float), "particles")
    labels_path(image).write_bytes(b"this is not a TIFF file at all")
    with pytest.raises(ss.SurfscanError, match="labels file"):
        load_labels(image, "particles")


def test_real_manual_masks_as_labels_reproduce_the_manual_d50_and_agglomerate_count():
    """On the real annotated SEM set: the manual particles as labels give exactly D50_manual; the manual
    agglomerates as protrusion labels give their count and an agglomerate score of recall 1 or close."""
    from surfscan.testing.sem_metrics import agglomerates, manual_particles, real_sem_pairs, score_agglomerates

    pairs = real_sem_pairs()
    if not pairs:
        pytest.skip("../shared/data/real-sem-particles/ is absent")
    for image, mask_path in pairs[:4]:
        m = ss.read(image)
        mask = tifffile.imread(mask_path)
        lab = manual_particles(mask, m.shape)
        areas = np.bincount(lab.ravel())
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        eligible = np.flatnonzero(areas >= 20)
        eligible = eligible[(eligible > 0) & ~np.isin(eligible, edge)]
        lab[~np.isin(lab, eligible)] = 0
        d_manual = 2 * np.sqrt(areas[eligible] / np.pi) * m.pixel_size
        p = ss.measure_particles_from_labels(m, lab, min_count=1)
        assert p.summary["count"] == eligible.size
        assert p.summary["d50_um"] == pytest.approx(float(np.median(d_manual)), rel=1e-9), image.name
        agg = agglomerates(mask, m.shape)
        q = ss.measure_protrusions_from_labels(m, agg)
        assert q.summary["count"] == int(agg.max())
        assert (q.table["mean_contrast"] > 0).mean() > 0.9, "agglomerates are brighter than the substrate"
        px = m.pixel_size
        score = score_agglomerates(q.table["y_um"] / px, q.table["x_um"] / px, mask, m.shape)
        assert score.precision >= 0.9 and score.recall >= 0.9, (image.name, score)

"""Particle size distribution and porosity on planted truths and hand-computed examples."""

from __future__ import annotations

import json

import numpy as np
import pytest

import surfscan as ss
from surfscan.cli import main
from surfscan.errors import SurfscanError
from surfscan.particles import weighted_percentiles
from surfscan.porosity import parse_quantity
from surfscan.shapes import feret_diameters
from surfscan.testing.particles import planted_particles, planted_section


def _match(truth, table):
    """Index of the detected particle at each planted one (or -1)."""
    px, py = table["x_um"].to_numpy(), table["y_um"].to_numpy()
    out = []
    for x, y, d in zip(truth["x_um"], truth["y_um"], truth["ecd_um"]):
        if px.size == 0:
            out.append(-1)
            continue
        dist = np.hypot(px - x, py - y)
        j = int(np.argmin(dist))
        out.append(j if dist[j] < d / 2 else -1)
    return np.array(out)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_d50_and_shape_classes_on_planted_population(seed: int) -> None:
    m, truth = planted_particles(seed, shape=(640, 800), n=120)
    p = ss.measure_particles(m)
    inner = truth[~truth["touches_edge"]]
    d50_true = weighted_percentiles(inner["ecd_um"].to_numpy(), np.ones(len(inner)), [50])[0]
    assert p.summary["d50_um"] == pytest.approx(d50_true, rel=0.05)
    idx = _match(inner, p.table)
    found = idx >= 0
    assert found.mean() >= 0.95
    classes = p.table["shape_class"].to_numpy()[idx[found]]
    assert (classes == inner["shape_class"].to_numpy()[found]).mean() >= 0.95
    lab = p.labels
    edge = set(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])) - {0}
    assert lab.max() > 0 and set(np.unique(lab)) - {0} - edge == set(p.table["id"])
    assert not edge & set(p.table["id"]) and len(edge) == p.summary["excluded_border"]


def test_volume_weighted_percentiles_exceed_number_weighted() -> None:
    m, _ = planted_particles(5, shape=(512, 640), n=80)
    s = ss.measure_particles(m).summary
    assert s["d50_v_um"] > s["d50_um"] and s["d10_um"] < s["d50_um"] < s["d90_um"]


def test_weighted_percentiles_hand_computed() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_percentiles(v, np.ones(4), [50]) == [2.5]
    # weight all on 4 -> every percentile is 4 except at the very bottom
    assert weighted_percentiles(v, np.array([0, 0, 0, 1.0]), [50])[0] == 4.0


def test_feret_of_rectangle() -> None:
    coords = np.argwhere(np.ones((10, 40), bool))
    fmax, fmin, angle = feret_diameters(coords)
    assert fmin == pytest.approx(10.0, abs=1e-6)
    assert fmax == pytest.approx(np.hypot(10, 40), abs=1e-6)


def test_few_particles_warns_and_uncalibrated_refuses() -> None:
    m, _ = planted_particles(3, shape=(300, 300), n=8)
    with pytest.warns(ss.SurfscanWarning, match="D50 is not stable"):
        p = ss.measure_particles(m)
    assert p.summary["warnings"]
    with pytest.raises(SurfscanError, match="pixel size"):
        ss.measure_particles(m.replace(pixel_size=None))


def test_border_particles_stay_in_labels_but_are_not_measured() -> None:
    m, _ = planted_particles(7, shape=(400, 400), n=60)
    p = ss.measure_particles(m)
    lab = p.labels
    edge = set(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])) - {0}
    assert edge and not edge & set(p.table["id"])
    assert p.summary["excluded_border"] == len(edge) and p.summary["count"] == len(p.table)
    # re-measuring the automatic labels gives the automatic table back
    again = ss.measure_particles_from_labels(m, lab)
    assert list(again.table["id"]) == list(p.table["id"])
    assert again.summary["d50_um"] == pytest.approx(p.summary["d50_um"]) and again.summary["excluded_border"] == len(edge)
    # without exclusion every particle is measured
    everything = ss.measure_particles(m, exclude_border=False)
    assert set(everything.table["id"]) == set(np.unique(everything.labels)) - {0}
    assert everything.summary["excluded_border"] == 0


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("fraction", [0.12, 0.3, 0.55])
def test_section_porosity_within_one_point(seed: int, fraction: float) -> None:
    m, truth, region = planted_section(seed, porosity=fraction)
    r = ss.porosity_from_section(m, region)
    assert r.porosity_percent == pytest.approx(100 * truth, abs=1.0)
    assert r.band_percent[0] <= r.porosity_percent <= r.band_percent[1]
    assert not r.pores[~region].any()


def test_section_without_region_is_biased_by_the_collector() -> None:
    m, truth, region = planted_section(4, porosity=0.3, collector_rows=150)
    whole = ss.porosity_from_section(m).porosity_percent
    inside = ss.porosity_from_section(m, (0, m.shape[0] - 150, 0, m.shape[1])).porosity_percent
    assert abs(inside - 100 * truth) < 1.0 < abs(whole - 100 * truth)


def test_gravimetric_hand_computed() -> None:
    # 5 mg/cm2 over 50 um -> 1.0 g/cm3; 50/50 Ag (10.49) + PVdF (1.78) -> 3.04355 g/cm3
    r = ss.porosity_gravimetric("5 mg/cm2", "50 um", {"Ag": 0.5, "PVdF": 0.5})
    rho_true = 1 / (0.5 / 10.49 + 0.5 / 1.78)
    assert r["true_density_g_cm3"] == pytest.approx(rho_true, rel=1e-12)
    assert r["porosity_percent"] == pytest.approx(100 * (1 - 1.0 / rho_true), rel=1e-12)
    # the same in other units: 50 g/m2 and 0.05 mm, carbon black with an explicit density
    r2 = ss.porosity_gravimetric((50, "g/m2"), "0.05 mm", {"Ag": (0.5, "10490 kg/m3"), "PVdF": 0.5})
    assert r2["porosity_percent"] == pytest.approx(r["porosity_percent"], rel=1e-12)
    # 2.0 mg/cm2, 20 um, Ag 0.2 / carbon black 0.7 (2.0 g/cm3) / PVdF 0.1
    r3 = ss.porosity_gravimetric(2.0, 20.0, {"Ag": 0.2, "carbon black": (0.7, 2.0), "PVdF": 0.1})
    rho = 1 / (0.2 / 10.49 + 0.7 / 2.0 + 0.1 / 1.78)
    assert r3["porosity_percent"] == pytest.approx(100 * (1 - 1.0 / rho), rel=1e-12)


def test_gravimetric_units_and_fractions_checked() -> None:
    with pytest.raises(SurfscanError, match="unit"):
        ss.porosity_gravimetric("5 um", "50 um", {"Ag": 1.0})
    with pytest.raises(SurfscanError, match="add up"):
        ss.porosity_gravimetric(5, 50, {"Ag": 0.5, "PVdF": 0.4})
    with pytest.raises(SurfscanError, match="no density"):
        ss.porosity_gravimetric(5, 50, {"unobtainium": 1.0})
    with pytest.raises(SurfscanError, match="exceeds"):
        ss.porosity_gravimetric(500, 1, {"PVdF": 1.0})
    assert parse_quantity("1.5 µm", "thickness") == 1.5


def test_cli_particles_and_porosity(tmp_path, capsys) -> None:
    import tifffile

    m, _ = planted_particles(21, shape=(400, 500), n=50)
    path = tmp_path / "particles.tif"
    tifffile.imwrite(path, m.image)
    assert main(["particles", str(path), "--pixel-size", "0.1", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["count"] > 30 and rec["d50_um"] > 0 and rec["units"]["d50_um"] == "um"
    assert "unreliable" not in capsys.readouterr().err
    assert main(["particles", str(path), "--json"]) != 0  # uncalibrated: refused with a clear message
    assert "pixel size" in capsys.readouterr().err
    # an image of noise gets its table, and a warning naming the file and the reason
    noise = tmp_path / "noise.tif"
    tifffile.imwrite(noise, np.clip(120 + 25 * np.random.default_rng(3).standard_normal((300, 400)), 0, 255)
                     .astype(np.uint8))
    assert main(["particles", str(noise), "--pixel-size", "0.1"]) == 0
    err = capsys.readouterr().err
    assert f"{noise}: the automatic particle measurement may be unreliable" in err and "pixel noise" in err
    assert main(["porosity", "--areal-mass", "5 mg/cm2", "--thickness", "50 um",
                 "--component", "Ag:0.5", "--component", "PVdF:0.5:1.78", "--json"]) == 0
    g = json.loads(capsys.readouterr().out)
    assert g["porosity_percent"] == pytest.approx(67.1437, abs=1e-3)
    sec, truth, _ = planted_section(3, porosity=0.3, collector_rows=60)
    spath = tmp_path / "section.tif"
    tifffile.imwrite(spath, sec.image)
    rows = sec.shape[0] - 60
    assert main(["porosity", str(spath), "--region", f"0:{rows},0:{sec.shape[1]}", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)[0]
    assert s["porosity_percent"] == pytest.approx(100 * truth, abs=1.0)

"""ISO 25178-3 nesting indices: filters="auto" (surfscan.nesting) and the operator chain of a roughness result."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError, SurfscanWarning
from surfscan.nesting import choose_filters, preferred_series
from surfscan.pipeline import RoughnessSettings, measure_roughness, measure_roughness_chain

SERIES = preferred_series(1e-3, 1e5)


def flat(shape: tuple[int, int], dx: float, dy: float | None = None) -> ss.Surface:
    return ss.Surface(np.zeros(shape), dx, dx if dy is None else dy)


def rough(shape: tuple[int, int] = (200, 240), dx: float = 0.5, seed: int = 1) -> ss.Surface:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]] * dx
    z = 0.5 * np.sin(2 * np.pi * xx / 60.0) + rng.normal(0, 0.1, shape)
    return ss.Surface(z, dx, dx, meta={"source_file": "E1_site1.x3p"})


def test_preferred_series_is_the_2_5_8_decade_series():
    assert preferred_series(0.5, 900) == [0.8, 2.5, 8.0, 25.0, 80.0, 250.0, 800.0]
    assert preferred_series(0.02, 0.1) == [0.025, 0.08]
    steps = np.diff(np.log10(SERIES))
    assert np.all((steps > 0.49) & (steps < 0.51))  # neighbours about sqrt(10) apart


@pytest.mark.parametrize("shape, dx", [((768, 1024), 0.28), ((1024, 1024), 0.125), ((1536, 2048), 0.05),
                                       ((480, 640), 1.0), ((1000, 1000), 0.01), ((256, 256), 10 / 256),
                                       ((200, 200), 0.5), ((3000, 4000), 2.7), ((512, 2048), 0.6)])
def test_auto_filters_follow_the_rules(shape, dx):
    s = flat(shape, dx)
    ls, lc, reason = choose_filters(s)
    field = min(shape[0], shape[1]) * dx
    assert ls in SERIES and lc in SERIES
    assert ls >= 2 * dx  # done-when: lambda_s >= 2 pixels
    assert lc / ls >= 30  # done-when: lambda_c / lambda_s >= 30
    assert round(lc / ls) in (31, 32, 100, 312, 320)  # 3, 4 or 5 series steps
    assert lc <= field
    below = [v for v in SERIES if v < ls]
    assert not below or below[-1] < 2 * dx  # the smallest admissible lambda_s
    assert f"{ls:g} µm" in reason and f"{lc:g} µm" in reason


@pytest.mark.parametrize("shape, dx, expected", [((768, 1024), 0.28, (0.8, 80.0)),
                                                 ((1024, 1024), 0.125, (0.25, 25.0)),
                                                 ((1536, 2048), 0.05, (0.25, 25.0)),
                                                 ((256, 256), 10 / 256, (0.08, 2.5)),
                                                 ((480, 640), 1.0, (2.5, 80.0))])
def test_auto_filters_known_cases(shape, dx, expected):
    assert choose_filters(flat(shape, dx))[:2] == expected


def test_largest_ratio_that_fits_half_the_field_is_taken():
    # 0.1 µm sampling -> lambda_s 0.25; a 1000 µm field takes lambda_c 80 (ratio 320: 80 <= 500)
    assert choose_filters(flat((10000, 10000), 0.1))[:2] == (0.25, 80.0)
    # a 400 µm field: 80 <= 200 still; a 120 µm field: 80 > 60, so ratio 100 (25 µm)
    assert choose_filters(flat((1200, 1200), 0.1))[:2] == (0.25, 25.0)


def test_field_fallback_and_too_small_field():
    ls, lc, reason = choose_filters(flat((200, 200), 0.5))  # 100 µm field: 80 fits only once
    assert (ls, lc) == (2.5, 80.0) and "only once" in reason
    with pytest.raises(SurfscanError, match="too small for filters 'auto'"):
        choose_filters(flat((40, 40), 0.5))


def test_coarser_sampling_and_shorter_side_decide():
    ls, lc, _ = choose_filters(flat((1000, 1000), 0.1, 0.3))  # rows 0.3 µm apart: 2 px = 0.6 µm
    assert ls == 0.8 and lc <= 100.0


def test_auto_chain_applies_the_chosen_cutoffs():
    s = rough()
    ls, lc, _ = choose_filters(s)
    values, _, chain = measure_roughness_chain(s, RoughnessSettings(filters="auto", params=("Sa", "Sq")))
    manual, _ = measure_roughness(s, RoughnessSettings(lambda_s_um=ls, lambda_c_um=lc, params=("Sa", "Sq")))
    assert values == manual
    assert (chain["lambda_s_um"], chain["lambda_c_um"], chain["filters"]) == (ls, lc, "auto")
    assert chain["F_operator"] == "level plane" and "ISO 16610-61" in chain["S_filter"]
    assert chain["text"].index("F:") < chain["text"].index("S:") < chain["text"].index("L:")


def test_chain_records_outliers_and_fill():
    s = rough()
    z = s.z.copy()
    z[50, 60] = 30.0
    z[10:14, 10:14] = np.nan
    s = s.replace(z=z)
    _, _, chain = measure_roughness_chain(s, RoughnessSettings(outliers="median", fill="thinplate", params=("Sz",)))
    assert chain["outliers_removed"] >= 1
    assert chain["points_filled"] == chain["outliers_removed"] + 16
    assert chain["text"].startswith(f"outliers median ({chain['outliers_removed']} removed) -> fill thinplate")
    _, _, none = measure_roughness_chain(s, RoughnessSettings(params=("Sz",)))
    assert none["outliers_removed"] is None and none["points_filled"] is None and none["S_filter"] == "none"


def test_settings_refuse_conflicts_and_unknown_names():
    with pytest.raises(SurfscanError, match="not both"):
        RoughnessSettings(filters="auto", lambda_c_um=80.0)
    with pytest.raises(SurfscanError, match="filters 'sometimes'"):
        RoughnessSettings(filters="sometimes")
    with pytest.raises(SurfscanError, match="outliers 'spikes'"):
        RoughnessSettings(outliers="spikes")
    with pytest.raises(SurfscanError, match="fill 'zero'"):
        RoughnessSettings(fill="zero")


def test_user_cutoffs_outside_the_sampling_or_field_warn_naming_the_file():
    s = rough()  # 0.5 µm sampling, 100 x 120 µm field
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        measure_roughness(s, RoughnessSettings(lambda_s_um=0.8, lambda_c_um=500.0, params=("Sa",)))
    lines = [str(w.message) for w in caught if issubclass(w.category, SurfscanWarning)]
    assert any("E1_site1.x3p" in ln and "two pixels" in ln for ln in lines)
    assert any("E1_site1.x3p" in ln and "longer than the measured field" in ln for ln in lines)
    assert all("\n" not in ln for ln in lines)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        measure_roughness(s, RoughnessSettings(filters="auto", params=("Sa",)))
    assert not [w for w in caught if issubclass(w.category, SurfscanWarning) and "cut-off" in str(w.message)]


def test_cli_filters_auto_states_the_cutoffs(tmp_path, capsys):
    from surfscan.cli import main

    path = tmp_path / "E1.x3p"
    ss.write(rough(), path)
    assert main(["roughness", str(path), "--filters", "auto", "--params", "Sa", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    settings = row["settings"]
    assert settings["filters"] == "auto"
    assert settings["lambda_s_um"] >= 2 * 0.5 and settings["lambda_c_um"] / settings["lambda_s_um"] >= 30
    assert settings["lambda_s_um"] in SERIES and settings["lambda_c_um"] in SERIES
    assert "[auto]" in settings["chain"] and "preferred series" in settings["filter_choice"]
    assert main(["roughness", str(path), "--filters", "auto", "--params", "Sa", "--csv"]) == 0
    head, line = capsys.readouterr().out.strip().splitlines()
    cols = dict(zip(head.split(","), line.split(",")))
    assert math.isclose(float(cols["lambda_c_um"]), settings["lambda_c_um"]) and cols["filters"] == "auto"
    assert main(["roughness", str(path), "--filters", "auto", "--lambda-s", "1"]) != 0
    assert "--filters auto chooses" in capsys.readouterr().err

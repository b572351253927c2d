"""The report's curves section: Abbott-Firestone curve and PSD per height map, capped, embedded as PNG."""

from __future__ import annotations

import base64
import io
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surfscan as ss
from surfscan.batch import BatchSettings, run_batch
from surfscan.batch.report import write_report
from surfscan.batch.report_curves import MAX_CURVE_FILES, curve_files, file_curves_png
from surfscan.pipeline import RoughnessSettings

SETTINGS = BatchSettings(protrusions=False, roughness_settings=RoughnessSettings(level="plane", params=("Sa", "Sz")))


def _maps(root: Path, groups: dict[str, int], shape=(96, 96)) -> Path:
    rng = np.random.default_rng(1)
    for group, n in groups.items():
        (root / group).mkdir(parents=True)
        for i in range(n):
            ss.write(ss.Surface(rng.normal(0, 0.1, shape), 0.5, 0.5), root / group / f"site{i:03d}.x3p")
    return root


def _batch(tmp_path: Path, groups: dict[str, int]) -> Path:
    out = tmp_path / "out"
    run_batch([_maps(tmp_path / "in", groups)], out, SETTINGS, recursive=True, workers=1,
              progress=io.StringIO(), live=False)
    return out


def _curves_html(text: str) -> str:
    return text.split("<h2>Curves</h2>", 1)[1].split("<h2>", 1)[0]


def test_each_height_map_gets_its_curves_as_embedded_png(tmp_path):
    out = _batch(tmp_path, {"a": 2, "b": 1})
    text = write_report(out).read_text()
    section = _curves_html(text)
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", section)
    assert len(pngs) == 3 and all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "Curves of 3 of 3 height maps" in section and "src='http" not in section


def test_the_figure_draws_the_library_curves(tmp_path):
    from matplotlib.figure import Figure

    import surfscan.batch.report_curves as rc

    path = tmp_path / "m.x3p"
    surface = ss.Surface(np.random.default_rng(2).normal(0, 0.2, (64, 80)), 0.25, 0.25)
    ss.write(surface, path)
    drawn = []
    real = rc._png
    rc._png = lambda fig: drawn.append(fig) or real(fig)
    try:
        uri = file_curves_png(str(path), RoughnessSettings(level="plane"))
    finally:
        rc._png = real
    assert uri.startswith("data:image/png;base64,")
    [fig] = drawn
    assert isinstance(fig, Figure)
    abbott, spectrum = fig.axes
    prepared = ss.level(ss.read(path), "plane")
    np.testing.assert_allclose(abbott.get_lines()[0].get_ydata(), ss.material_ratio_curve(prepared).height)
    assert spectrum.get_xscale() == "log" and spectrum.get_yscale() == "log"
    np.testing.assert_allclose(spectrum.get_lines()[0].get_xdata(), ss.psd(prepared).q)


def test_the_cap_takes_files_in_turn_from_each_group():
    files = pd.DataFrame({
        "file": [f"f{i}" for i in range(30)], "path": [f"/x/f{i:02d}" for i in range(30)],
        "group": ["a"] * 20 + ["b"] * 8 + ["c"] * 2, "status": ["ok"] * 29 + ["error"], "kind": "height",
    })
    chosen = curve_files(files, 7)
    assert len(chosen) == 7
    assert chosen["group"].value_counts().to_dict() == {"a": 3, "b": 3, "c": 1}  # c's second file had an error
    assert len(curve_files(files)) == MAX_CURVE_FILES
    assert curve_files(files, 0).empty


def test_a_batch_of_100_files_reports_quickly(tmp_path):
    out = _batch(tmp_path, {"a": 50, "b": 50})
    started = time.perf_counter()
    text = write_report(out).read_text()
    seconds = time.perf_counter() - started
    section = _curves_html(text)
    assert len(re.findall(r"data:image/png", section)) == MAX_CURVE_FILES
    assert f"Curves of {MAX_CURVE_FILES} of 100 height maps" in section
    assert seconds < 60, f"report of 100 files took {seconds:.1f} s"


def test_a_file_gone_since_the_batch_is_said_not_fatal(tmp_path):
    out = _batch(tmp_path, {"a": 2})
    (tmp_path / "in" / "a" / "site000.x3p").unlink()
    section = _curves_html(write_report(out).read_text())
    assert "cannot show the curves of this file now" in section
    assert len(re.findall(r"data:image/png", section)) == 1


@pytest.mark.parametrize("bad", ["/nonexistent/file.x3p"])
def test_file_curves_png_says_why_it_cannot(bad):
    with pytest.raises(ss.SurfscanError):
        file_curves_png(bad, RoughnessSettings())

"""Real instrument files (SUR, PLU, MetroPro, OPD, AL3D, NMS, FRT, TMD, SDF) against expected.json.

One test over every height entry whose suffix these readers handle, through
the command line exactly as a user runs it: ``surfscan info --json`` for the
grid and calibration, ``surfscan roughness --level plane --params Sa,Sq
--json`` for the statistics. Hidden files of the same kinds go through the
same test, so nothing here is specific to one file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from surfscan.cli import main

SUFFIXES = {".sur", ".plu", ".apx", ".dat", ".opd", ".al3d", ".nms", ".frt", ".tmd", ".sdf"}
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def _entries() -> list[str]:
    path = REAL / "expected.json"
    if not path.is_file():
        return []
    heights = json.loads(path.read_text())["height"]
    return sorted(name for name in heights if Path(name).suffix.lower() in SUFFIXES)


def _cli_json(capsys, argv: list[str]):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("name", _entries() or [pytest.param("none", marks=pytest.mark.skip("no real files"))])
def test_real_height_file_matches_expected(name, real_dir, expected, capsys):
    truth = expected["height"][name]
    path = str(real_dir / "height" / name)

    info = _cli_json(capsys, ["info", "--json", path])
    assert info["kind"] == "height"
    assert info["shape"] == truth["shape"]
    assert math.isclose(info["dx_um"], truth["dx_um"], rel_tol=1e-6)
    assert math.isclose(info["dy_um"], truth["dy_um"], rel_tol=1e-6)
    assert abs(info["invalid_fraction"] - truth["invalid_fraction"]) <= 1e-6
    assert info["metadata"]["z_unit"] == "µm"

    if "Sa_um" in truth:
        rows = _cli_json(capsys, ["roughness", "--level", "plane", "--params", "Sa,Sq", "--json", path])
        params = rows[0]["parameters"]
        assert math.isclose(params["Sa"], truth["Sa_um"], rel_tol=1e-6)
        assert math.isclose(params["Sq"], truth["Sq_um"], rel_tol=1e-6)

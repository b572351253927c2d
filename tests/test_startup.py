"""Start-up cost of the command line: a command imports only what it uses.

Each check runs ``surfscan.cli.main`` in a fresh interpreter and lists which
heavy modules ended up in ``sys.modules``. This guards the lazy imports of
``surfscan/cli`` (issue 15) without timing anything: a module-level import of
the library in a sub-command module, or in a library module the parser needs,
makes one of these tests fail and names the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
SAMPLE = SAMPLES / "electrode_A_good_site2.x3p"
SEM_SAMPLE = SAMPLES / "sem_anode_smooth_100x.tif"

#: Modules no command needs before it runs: GUI, tables, image processing, plotting, compilers, clusters.
NEVER_AT_START = ("pandas", "skimage", "numba", "napari", "qtpy", "matplotlib", "cv2", "dask", "pyarrow", "openpyxl")
#: scipy sub-packages that take 0.1-0.4 s each to import (scipy 1.17 rewrites their docstrings on import).
SCIPY_HEAVY = ("scipy.ndimage", "scipy.fft", "scipy.signal", "scipy.interpolate", "scipy.sparse", "scipy.spatial",
               "scipy.optimize", "scipy.stats")

# Runs the command in-process (as the ``surfscan`` script does) and prints the heavy modules it loaded.
_PROBE = """
import contextlib, io, json, sys
from surfscan.cli import main
loaded = {}
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help exits
            code = exc.code
    watched = json.loads(sys.argv[2])
    loaded[" ".join(argv)] = {"code": code, "modules": sorted(m for m in watched if m in sys.modules)}
print(json.dumps(loaded))
"""


def _loaded(*argvs: list[str]) -> dict[str, dict]:
    """For each command line (run one after the other in one fresh interpreter): exit code, heavy modules loaded."""
    watched = [*NEVER_AT_START, *SCIPY_HEAVY]
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(argvs)), json.dumps(watched)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _command_names() -> list[str]:
    from surfscan.cli import _COMMANDS, _DEPRECATED_COMMANDS

    return [*_COMMANDS, *_DEPRECATED_COMMANDS]


def test_help_imports_no_heavy_module() -> None:
    (rec,) = _loaded(["--help"]).values()
    assert rec["code"] == 0
    assert rec["modules"] == []


def test_every_command_help_imports_no_heavy_module() -> None:
    """Building every sub-command's parser (and printing its help) stays light."""
    names = _command_names()
    result = _loaded(*[[name, "--help"] for name in names])
    assert len(result) == len(names)
    for argv, rec in result.items():
        assert rec["code"] == 0, argv
        assert rec["modules"] == [], f"'surfscan {argv}' imported {rec['modules']}"


def test_info_imports_no_heavy_module() -> None:
    """``info`` reads headers (surfscan.io.list_channels): no scipy sub-package, table or image library."""
    result = _loaded(["info", str(SAMPLE)], ["info", str(SEM_SAMPLE)])
    for argv, rec in result.items():
        assert rec["code"] == 0, argv
        assert rec["modules"] == [], f"'surfscan {argv}' imported {rec['modules']}"


def test_roughness_imports_no_table_gui_image_library_or_compiler(tmp_path) -> None:
    """Parameters of a height map need numpy/scipy, not pandas, scikit-image, OpenCV, numba, napari or matplotlib."""
    small = tmp_path / "small.npy"  # every parameter family runs; a small map keeps the test quick
    np.save(small, np.random.default_rng(0).normal(0.0, 0.1, (96, 128)))
    (rec,) = _loaded(["roughness", str(small), "--params", "all", "--json"]).values()
    assert rec["code"] == 0
    assert [m for m in rec["modules"] if m in NEVER_AT_START] == []


def test_parser_choices_match_the_library() -> None:
    """The CLI spells the --filters/--outliers/--fill choices itself so that its parser stays light."""
    from surfscan.cli import roughness as cli
    from surfscan.outliers import FILL_METHODS, OUTLIER_METHODS
    from surfscan.pipeline import FILTER_MODES

    assert cli.FILTER_MODES == FILTER_MODES
    assert cli.OUTLIER_METHODS == OUTLIER_METHODS
    assert cli.FILL_METHODS == FILL_METHODS

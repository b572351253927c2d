"""Gwyddion's C library as an independent oracle (via ../shared/tools/gwyddion-oracle).

:func:`harness` builds the small ``gwy_harness`` program once (into a cache
folder) and returns its path, or None when the toolchain or the library is
missing. :func:`gwyddion_parameters` and :func:`gwyddion_bench` run it on a
height array.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["oracle_dir", "harness", "gwyddion_parameters", "gwyddion_bench"]


def oracle_dir() -> Path:
    """Folder holding build.sh and gwy_harness.c (``$SURFSCAN_GWY_ORACLE`` or ../shared/tools/gwyddion-oracle)."""
    env = os.environ.get("SURFSCAN_GWY_ORACLE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "gwyddion-oracle"


@lru_cache(maxsize=1)
def harness() -> Path | None:
    """Path of a built ``gwy_harness``, building it on first use; None if it cannot be built."""
    src = oracle_dir()
    if not (src / "build.sh").is_file() or shutil.which("gcc") is None or shutil.which("pkg-config") is None:
        return None
    cache = Path(os.environ.get("SURFSCAN_CACHE", Path(tempfile.gettempdir()) / "surfscan-oracle"))
    cache.mkdir(parents=True, exist_ok=True)
    exe = cache / "gwy_harness"
    if exe.exists() and exe.stat().st_mtime >= (src / "gwy_harness.c").stat().st_mtime:
        return exe
    if subprocess.run(["pkg-config", "--exists", "gwyddion"]).returncode != 0:
        return None  # build.sh would try apt-get; the test setup script installs the library instead
    res = subprocess.run(["bash", str(src / "build.sh"), str(cache)], capture_output=True, text=True)
    return exe if res.returncode == 0 and exe.exists() else None


def _dump(z: np.ndarray, folder: str) -> str:
    path = os.path.join(folder, "z.f64")
    np.ascontiguousarray(z, dtype="<f8").tofile(path)
    return path


def gwyddion_parameters(z: np.ndarray, dx: float, dy: float, plane: bool = True) -> dict[str, float]:
    """Sa Sq Sp Sv Sz Ssk Sku Sdq Sdr from Gwyddion (plane-levelled unless ``plane=False``)."""
    exe = harness()
    if exe is None:
        raise RuntimeError("gwy_harness is not available (libgwyddion20-dev, pkg-config and gcc needed)")
    ny, nx = z.shape
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(exe), "params", _dump(z, tmp), str(nx), str(ny), repr(float(dx)), repr(float(dy))]
        if not plane:
            args.append("noplane")
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def gwyddion_bench(z: np.ndarray, dx: float, dy: float, nrep: int = 7, threads: int = 0) -> dict[str, float]:
    """Median seconds of Gwyddion's ``basic`` (plane + stats + min/max) and ``full`` sets."""
    exe = harness()
    if exe is None:
        raise RuntimeError("gwy_harness is not available")
    ny, nx = z.shape
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(exe), "bench", _dump(z, tmp), str(nx), str(ny), repr(float(dx)), repr(float(dy)), str(nrep), str(threads)]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)

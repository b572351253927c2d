"""The optional compiled merge-tree kernels (surfscan/iso25178/_ckernels.c) against the numpy code.

Both backends of :mod:`surfscan.iso25178._merge_tree` must give the same
descent pointers, basins, edges (same order), motifs and motif measures, bit
for bit, on every kind of map: smooth and noisy textures, quantised heights
(many ties), holes, constant maps and strips one point wide. The significant
pits of both are also checked against a point-by-point flooding in
tests/test_merge_tree.py. Where a C compiler is available the extension must
have been built (tests/setup.sh's editable install builds it), so that the
compiled path is what the suite tests; and a build without a compiler must
leave a working numpy install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import surfscan as ss
from surfscan.iso25178 import _merge_tree as mt
from surfscan.iso25178 import _native as native

ROOT = Path(__file__).resolve().parents[1]
needs_c = pytest.mark.skipif(not mt.compiled_available(), reason="compiled kernels not built (no C compiler)")


def _map(kind: str, seed: int = 0, shape: tuple[int, int] = (96, 131)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ny, nx = shape
    if kind == "gaussian":
        z = gaussian_filter(rng.normal(size=shape), 3.0) + 0.01 * rng.normal(size=shape)
    elif kind == "random-walk":
        z = np.cumsum(rng.normal(size=shape), axis=1)
    elif kind == "sparse":
        z = 0.01 * rng.normal(size=shape)
        yy, xx = np.mgrid[:ny, :nx]
        for _ in range(12):
            cy, cx, r = rng.uniform(0, ny), rng.uniform(0, nx), rng.uniform(2, 8)
            z += rng.uniform(0.2, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    elif kind == "quantised":  # a few levels only: large plateaus and many equal saddles
        z = np.round(gaussian_filter(rng.normal(size=shape), 2.0) * 8)
    elif kind == "integers":  # pixel noise on 4 levels: ties everywhere
        z = rng.integers(0, 4, size=shape).astype(float)
    elif kind == "constant":
        z = np.zeros(shape)
    else:
        raise ValueError(kind)
    return np.ascontiguousarray(z)


def _with_holes(z: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 100)
    z = z.copy()
    z[rng.random(z.shape) < 0.04] = np.nan  # scattered points
    i, j = rng.integers(0, z.shape[0]), rng.integers(0, z.shape[1])
    z[max(i - 6, 0) : i + 6, max(j - 9, 0) : j + 9] = np.nan  # a hole splitting dales
    return z


def _merge_tree(z: np.ndarray, sign: float, fraction: float, backend: str) -> dict[str, np.ndarray]:
    low, high = mt.descent_pointers(z, backend)
    basin, pit = mt.resolve_basins(low if sign > 0 else high, backend)
    edges = mt.adjacency(z, basin, sign, backend)
    threshold = fraction * float(np.nanmax(z) - np.nanmin(z))
    motif = mt.prune(z, pit, *edges, sign, threshold, backend)
    count, edge, level, volume = mt.motif_measures(z, basin, motif, edges, mt.rim_points(z), sign, backend)
    return {
        "low": low, "high": high, "basin": basin, "pit": pit, "lo": edges[0], "hi": edges[1], "saddle": edges[2],
        "motif": motif, "count": count, "edge": edge, "level": level, "volume": volume,
    }


KINDS = ["gaussian", "random-walk", "sparse", "quantised", "integers", "constant"]


@needs_c
@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_compiled_kernels_equal_numpy_bit_for_bit(kind: str, holes: bool) -> None:
    for seed in range(2):
        z = _map(kind, seed)
        if holes:
            z = _with_holes(z, seed)
        for sign in (1.0, -1.0):
            for fraction in (0.0, 0.05, 0.3):
                c = _merge_tree(z, sign, fraction, "c")
                n = _merge_tree(z, sign, fraction, "numpy")
                for key in n:
                    assert c[key].dtype == n[key].dtype, key
                    np.testing.assert_array_equal(c[key], n[key], err_msg=f"{kind} {holes} {sign} {fraction} {key}")
                significant = np.flatnonzero(c["motif"] == np.arange(c["motif"].size))
                assert significant.size >= 1
                assert c["count"][significant].sum() == np.count_nonzero(~np.isnan(z))


@needs_c
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (3, 200), (200, 3)])
def test_compiled_kernels_on_thin_maps(shape: tuple[int, int]) -> None:
    for kind in ("gaussian", "integers"):
        z = _map(kind, 3, shape) if min(shape) > 1 else np.random.default_rng(3).normal(size=shape)
        for sign in (1.0, -1.0):
            c, n = _merge_tree(z, sign, 0.05, "c"), _merge_tree(z, sign, 0.05, "numpy")
            for key in n:
                np.testing.assert_array_equal(c[key], n[key], err_msg=f"{shape} {kind} {key}")


@needs_c
def test_compiled_kernels_with_one_measured_point() -> None:
    z = np.full((5, 6), np.nan)
    z[2, 3] = 1.0
    for backend in ("c", "numpy"):
        r = _merge_tree(z, 1.0, 0.05, backend)
        assert r["pit"].tolist() == [2 * 6 + 3] and r["lo"].size == 0 and r["count"].tolist() == [1]
        assert (r["basin"] >= 0).sum() == 1 and r["low"][2 * 6 + 3] == 2 * 6 + 3


@needs_c
def test_compiled_kernels_reject_inconsistent_arrays() -> None:
    z = _map("gaussian")
    basin, pit = mt.resolve_basins(mt.descent_pointers(z, "c")[0], "c")
    with pytest.raises(ValueError):
        native.C.adjacency(z, basin, z.shape[0], z.shape[1], 1.0, 1)  # ids beyond nb
    with pytest.raises(ValueError):
        native.C.descent(z, z.shape[0], z.shape[1] + 1, np.empty(z.size, np.int32), np.empty(z.size, np.int32))
    lo = np.array([0, pit.size], dtype=np.int32)
    with pytest.raises(ValueError):
        native.C.prune(np.zeros(pit.size), lo, lo, np.zeros(2), 0.0, np.empty(pit.size, np.int32))
    down = np.array([0, 5], dtype=np.int32)  # a pointer outside the map
    with pytest.raises(ValueError):
        native.C.basins(down, np.empty(2, np.int32))
    with pytest.raises(ValueError, match="shape"):
        native.C.descent(z, -1, -z.size, np.empty(z.size, np.int32), np.empty(z.size, np.int32))
    with pytest.raises(ValueError, match="empty"):
        native.C.spline_values(np.zeros(0), 0, 5, np.zeros(1), np.zeros(1), np.empty(1))


@needs_c
def test_feature_parameters_equal_with_and_without_the_compiled_kernels(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    z = gaussian_filter(rng.normal(size=(300, 400)), 2.0) + 0.02 * rng.normal(size=(300, 400))
    z[40:60, 100:130] = np.nan
    s = ss.Surface(0.1 * z, 0.25, 0.25)
    compiled = ss.roughness(s, "feature", undefined="nan")
    monkeypatch.setattr(native, "PURE_NUMPY", True)
    assert mt.default_backend() == "numpy"
    assert ss.roughness(s, "feature", undefined="nan") == compiled


def test_pure_numpy_environment_variable_selects_numpy() -> None:
    code = "from surfscan.iso25178 import _merge_tree as mt; print(mt.default_backend())"
    env = dict(os.environ, SURFSCAN_PURE_NUMPY="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"


def _can_compile() -> bool:
    """A C compiler and the Python headers (python3-dev on Debian) are there."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None and (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file()


@pytest.mark.skipif(not _can_compile(), reason="no C compiler or no Python headers: the numpy fallback is what runs")
def test_extension_is_built_where_a_compiler_exists() -> None:
    # tests/setup.sh installs surfscan editable (with gcc and python3-dev), which compiles the extension into the
    # source tree; a missing build here means the suite would test only the numpy fallback
    assert mt.compiled_available(), (
        "surfscan/iso25178/_ckernels.c is not built: run `pip install -e .` (tests/setup.sh) or "
        "`python setup.py build_ext --inplace`"
    )


def test_build_without_a_compiler_leaves_a_working_numpy_install(tmp_path: Path) -> None:
    # a clean copy of the sources (no build/ folder, no compiled module), built with a compiler that always fails
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "surfscan", src / "surfscan", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    env = dict(os.environ, CC="false", LDSHARED="false")
    env.pop("SURFSCAN_PURE_NUMPY", None)
    build = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"], cwd=src, env=env, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert not list((src / "surfscan").rglob("_ckernels*.so"))
    # the copy, imported first, computes every parameter with numpy and agrees with this process
    code = (
        "import json, sys, numpy as np, surfscan as ss\n"
        "from surfscan.iso25178 import _merge_tree as mt\n"
        "assert ss.__file__.startswith(sys.argv[1]), ss.__file__\n"
        "z = np.load(sys.argv[2])\n"
        "print(json.dumps([mt.compiled_available(), ss.roughness(ss.Surface(z, 0.25, 0.25), undefined='nan')]))\n"
    )
    rng = np.random.default_rng(2)
    z = 0.1 * gaussian_filter(rng.normal(size=(200, 260)), 2.0)
    np.save(tmp_path / "z.npy", z)
    run = subprocess.run(
        [sys.executable, "-c", code, str(src), str(tmp_path / "z.npy")], cwd=tmp_path, capture_output=True,
        text=True, env=dict(env, PYTHONPATH=str(src)),
    )
    assert run.returncode == 0, run.stderr
    compiled, values = json.loads(run.stdout.strip().splitlines()[-1])
    assert compiled is False
    here = ss.roughness(ss.Surface(z, 0.25, 0.25), undefined="nan")
    assert set(values) == set(here) and len(values) == len(ss.parameters())
    for name, v in here.items():
        assert values[name] == pytest.approx(v, rel=1e-12, abs=1e-15, nan_ok=True), name


@needs_c
def test_compiled_spline_equals_scipy_map_coordinates() -> None:
    from scipy import ndimage

    from surfscan.iso25178 import _acf_kernels as k

    rng = np.random.default_rng(9)
    coef = ndimage.spline_filter(gaussian_filter(rng.normal(size=(37, 53)), 2.0), order=3, mode="mirror")
    # inside, on knots, and within two knots of the border (clamped coefficients)
    y = np.concatenate([rng.uniform(0, 36, 500), np.arange(37.0), rng.uniform(-0.0, 1.5, 50), rng.uniform(35, 36, 50)])
    x = np.concatenate([rng.uniform(0, 52, 500), np.arange(37.0), rng.uniform(51, 52, 50), rng.uniform(0, 1.5, 50)])
    ours = k._bspline(coef, y, x, native.C)
    scipy_values = k._bspline(coef, y, x)
    np.testing.assert_allclose(ours, scipy_values, rtol=0, atol=1e-13 * float(np.abs(coef).max()))


@needs_c
@pytest.mark.parametrize("kind", ["gaussian", "random-walk", "sparse"])
def test_compiled_decay_lengths_equal_scipy(kind: str) -> None:
    from scipy import ndimage

    from surfscan.iso25178 import _acf_kernels as k
    from surfscan.iso25178.spatial import autocorrelation_half

    s = ss.Surface(_map(kind, 4, (120, 160)), 0.25, 0.3)
    half = autocorrelation_half(s)
    threshold = 0.2 * float(half[0, (half.shape[1] - 1) // 2])
    er, ec, _, _ = k.threshold_region(half, threshold)
    r0, r1 = max(int(er.min()) - 8, 0), min(int(er.max()) + 9, 2 * half.shape[0] - 1)
    c0, c1 = max(int(ec.min()) - 8, 0), min(int(ec.max()) + 9, half.shape[1])
    coef = ndimage.spline_filter(k.window(half, r0, r1, c0, c1), order=3, mode="mirror")
    args = (coef, half.shape[0] - 1 - r0, (half.shape[1] - 1) // 2 - c0, er - r0, ec - c0, threshold, 0.3, 0.25)
    compiled = k.decay_lengths(*args, backend="c")
    scipy_lengths = k.decay_lengths(*args, backend="numpy")
    assert compiled.size == er.size > 4
    np.testing.assert_allclose(compiled, scipy_lengths, rtol=1e-9)


@pytest.mark.parametrize("kind", ["gaussian", "random-walk"])
def test_threshold_region_equals_labelling_the_whole_lag_plane(kind: str) -> None:
    # the region search widens its window along each axis on its own; the region must be the one found on the
    # whole plane (random-walk rows give a region 3 lags tall and hundreds wide)
    from scipy import ndimage

    from surfscan.iso25178 import _acf_kernels as k
    from surfscan.iso25178.spatial import autocorrelation_half

    z = _map(kind, 1, (300, 420))
    half = autocorrelation_half(ss.Surface(z - z.mean(), 1.0, 1.0))
    threshold = 0.2 * float(half[0, (half.shape[1] - 1) // 2])
    er, ec, border, _ = k.threshold_region(half, threshold)
    full = k.window(half, 0, 2 * half.shape[0] - 1, 0, half.shape[1])
    labels, _ = ndimage.label(full > threshold, structure=ndimage.generate_binary_structure(2, 1))
    region = labels == labels[half.shape[0] - 1, (half.shape[1] - 1) // 2]
    edge = ndimage.binary_dilation(region, structure=ndimage.generate_binary_structure(2, 1)) & ~region
    assert set(zip(er.tolist(), ec.tolist())) == set(zip(*[a.tolist() for a in np.nonzero(edge)]))
    assert not border

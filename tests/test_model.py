"""The data model: Surface and Micrograph."""

from __future__ import annotations

import numpy as np
import pytest

import surfscan as ss
from surfscan.errors import SurfscanError


def test_surface_converts_and_validates() -> None:
    s = ss.Surface(np.arange(6, dtype=np.int16).reshape(2, 3), 0.5, 0.25)
    assert s.z.dtype == np.float64 and s.shape == (2, 3)
    assert s.size_um == (0.5, 1.5)
    with pytest.raises(SurfscanError):
        ss.Surface(np.zeros((2, 2)), 0, 1)
    with pytest.raises(SurfscanError):
        ss.Surface(np.zeros((2, 2, 2)), 1, 1)


def test_profile_becomes_one_row() -> None:
    assert ss.Surface(np.zeros(7), 1, 1).shape == (1, 7)


def test_invalid_fraction_and_mask() -> None:
    z = np.zeros((4, 5))
    z[0, :2] = np.nan
    s = ss.Surface(z, 1, 1)
    assert s.invalid_fraction == pytest.approx(0.1)
    assert s.has_invalid and s.valid.sum() == 18


def test_surface_is_immutable_and_replace_records_history() -> None:
    s = ss.Surface(np.zeros((2, 2)), 1, 1, {"instrument": "x"})
    with pytest.raises(AttributeError):
        s.dx = 2  # type: ignore[misc]
    t = s.replace(z=np.ones((2, 2)), step="shift")
    assert t.meta["history"] == ["shift"] and "history" not in s.meta
    assert t.meta["instrument"] == "x" and s.z.sum() == 0


def test_micrograph_pixel_size() -> None:
    m = ss.Micrograph(np.zeros((3, 4), np.uint8), 0.5, {})
    assert m.shape == (3, 4) and m.dx == 0.5
    u = ss.Micrograph(np.zeros((3, 4), np.uint8), None, {"source_file": "a.tif"})
    with pytest.raises(SurfscanError, match="a.tif.*pixel size"):
        u.require_pixel_size("protrusion density")


def test_infinite_heights_are_not_measured_points_with_one_warning() -> None:
    import warnings

    from surfscan.errors import SurfscanWarning

    z = np.random.default_rng(0).normal(size=(50, 60))
    holes = np.zeros(z.shape, bool)
    holes.flat[[3, 1000, 1997, 2994]] = True
    ref = ss.roughness(ss.level(ss.Surface(np.where(holes, np.nan, z), 1, 1), "plane"), ["Sa", "Sz"])
    z[holes] = [np.inf, -np.inf, np.inf, -np.inf]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = ss.Surface(z, 1, 1, {"source_file": "map.x3p"})
        r = ss.roughness(ss.level(s, "plane"), ["Sa", "Sz"])
    assert [str(w.message) for w in caught] == ["map.x3p: 4 infinite height(s) treated as not measured (NaN)"]
    assert caught[0].category is SurfscanWarning
    assert np.array_equal(np.isnan(s.z), holes)
    assert r == pytest.approx(ref, rel=1e-12)
    assert np.isinf(z).sum() == 4  # the caller's array is left as it was


def test_public_names_resolve_lazily_and_are_not_shadowed_by_submodules() -> None:
    import importlib
    import pkgutil
    import subprocess
    import sys

    modules = {m.name for m in pkgutil.iter_modules(ss.__path__)}
    for name in ss.__all__:
        importlib.import_module("surfscan.cli.curves")  # imports many submodules, as the CLI does
        assert not isinstance(getattr(ss, name), type(ss)), f"surfscan.{name} is a module, not the public {name}"
    assert callable(ss.level) and "level" in modules
    # a bare import stays light: pandas and scikit-image load only when used
    code = "import sys, surfscan; print(sorted(m for m in ('pandas', 'skimage') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"

"""roughness() computes its intermediates side by side in threads: same values as one thread, clear setting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import surfscan as ss
import surfscan.iso25178 as iso
from surfscan.errors import SurfscanError


def test_threads_give_the_same_values_as_one_thread(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    z = gaussian_filter(rng.normal(size=(400, 420)), 3.0)
    z[rng.random(z.shape) < 0.01] = np.nan  # the masked paths too
    s = ss.Surface(z, 0.5, 0.5)
    assert s.z.size >= iso.PARALLEL_MIN_POINTS
    monkeypatch.setenv("SURFSCAN_THREADS", "1")
    one = ss.roughness(s, undefined="nan")
    monkeypatch.setenv("SURFSCAN_THREADS", "4")
    assert iso.threads() == 4
    many = ss.roughness(s, undefined="nan")
    assert one.keys() == many.keys()
    for name in one:
        assert one[name] == many[name] or (math.isnan(one[name]) and math.isnan(many[name])), name


def test_threads_setting_is_checked(monkeypatch) -> None:
    monkeypatch.setenv("SURFSCAN_THREADS", "two")
    with pytest.raises(SurfscanError, match="SURFSCAN_THREADS"):
        iso.threads()
    monkeypatch.setenv("SURFSCAN_THREADS", "0")
    assert iso.threads() == 1
    monkeypatch.delenv("SURFSCAN_THREADS")
    assert 1 <= iso.threads() <= 4


def test_a_failing_intermediate_is_reported_by_its_parameter(monkeypatch) -> None:
    monkeypatch.setenv("SURFSCAN_THREADS", "2")
    z = np.zeros((400, 400))  # flat: Sal, Str, Std and the feature parameters are undefined
    with pytest.warns(ss.SurfscanWarning, match="Sal is undefined"):
        out = ss.roughness(ss.Surface(z, 1.0, 1.0), undefined="nan")
    assert math.isnan(out["Sal"]) and out["Sa"] == 0.0


def test_limit_threads_wins_over_the_environment_and_ends_with_its_block(monkeypatch) -> None:
    monkeypatch.setenv("SURFSCAN_THREADS", "3")
    with iso.limit_threads(1):
        assert iso.threads() == 1
    assert iso.threads() == 3


def test_a_batch_file_is_measured_in_one_thread(monkeypatch, tmp_path) -> None:
    """The batch collects each file's warnings in its own thread, so roughness must not hand work to others."""
    from surfscan.batch.tasks import BatchSettings, analyse_file

    seen = []
    real = iso.threads
    monkeypatch.setattr(iso, "threads", lambda: seen.append(real()) or real())
    rng = np.random.default_rng(2)
    path = tmp_path / "map.npy"
    np.save(path, gaussian_filter(rng.normal(size=(400, 400)), 2.0))
    out = analyse_file(str(path), BatchSettings(protrusions=False))
    assert out["status"] == "ok", out["error"]
    assert seen and set(seen) == {1}

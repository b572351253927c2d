"""Doctests: the Examples in surfscan's docstrings read ``sample_images/`` from the repository root.

``pytest`` (see ``[tool.pytest.ini_options]`` in pyproject.toml) collects them with ``--doctest-modules``
from ``surfscan/``; each runs in the repository root whatever folder pytest was started from, and the
temporary folders an example makes (``tempfile.mkdtemp()``) go under pytest's own temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _doctest_in_repository_root(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(ROOT)
        monkeypatch.setattr(tempfile, "tempdir", str(request.getfixturevalue("tmp_path")))

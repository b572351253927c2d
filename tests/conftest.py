"""Shared fixtures: the real instrument files in ../shared/data/real and their expected values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """Folder of real instrument files; tests skip with a message when it is absent."""
    if not (REAL / "expected.json").is_file():
        pytest.skip(f"real instrument files not found at {REAL}")
    return REAL


@pytest.fixture(scope="session")
def expected(real_dir: Path) -> dict:
    """Contents of expected.json."""
    return json.loads((real_dir / "expected.json").read_text())

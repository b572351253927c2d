"""Shared set-up of the napari GUI tests: display check, markers and screenshots."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parent / "_screenshots"


def have_display() -> bool:
    """True when napari's canvas can render (a desktop, or Xvfb started by pytest-xvfb)."""
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "") == "offscreen":
        return False  # napari's canvas cannot render offscreen
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


#: ``pytestmark`` of every GUI test module.
GUI_MARKS = [
    pytest.mark.gui,
    pytest.mark.skipif(not have_display(), reason="no display for napari: install Xvfb and xauth "
                       "(pytest-xvfb starts it), or run under a desktop session"),
]


def wait_done(qtbot, widget, timeout_ms: int) -> None:
    """Wait for a widget's run to end; fail with the error when it failed."""
    outcome = {}
    widget.finished.connect(lambda r: outcome.setdefault("result", r))
    widget.failed.connect(lambda e: outcome.setdefault("error", e))
    qtbot.waitUntil(lambda: bool(outcome) and not widget.running, timeout=timeout_ms)
    assert "error" not in outcome, f"the run failed: {outcome.get('error')}"


def rgba(hex_color: str) -> tuple[float, float, float, float]:
    """``"#rrggbbaa"`` as four floats 0..1 (napari's colormap values)."""
    r, g, b, a = (int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5, 7))
    return r, g, b, a


DOCS = Path(__file__).resolve().parents[1] / "docs"


def screenshot(viewer, name: str, docs: bool = False) -> Path:
    """Save the whole window (canvas and docked widgets) as tests/_screenshots/NAME.png.

    With ``docs=True`` and ``SURFSCAN_UPDATE_DOCS=1`` it goes to docs/NAME.png instead: the pictures in docs/
    are refreshed on request only, so a test run leaves the tree clean.
    """
    folder = DOCS if docs and os.environ.get("SURFSCAN_UPDATE_DOCS") == "1" else SHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    assert path.stat().st_size > 10_000
    return path

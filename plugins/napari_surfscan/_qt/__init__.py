"""Qt widgets of the plugin (docked by napari through the manifest)."""

from __future__ import annotations

from .roughness import RoughnessWidget

__all__ = ["RoughnessWidget"]

"""Qt widgets of the plugin (docked by napari through the manifest)."""

from __future__ import annotations

from .batch import BatchWidget
from .particles import ParticleWidget
from .porosity import PorosityWidget
from .protrusions import ProtrusionWidget
from .roughness import RoughnessWidget

__all__ = ["RoughnessWidget", "ProtrusionWidget", "BatchWidget", "ParticleWidget", "PorosityWidget"]

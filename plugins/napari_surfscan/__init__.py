"""napari-surfscan: open, level, measure and inspect SEM images and height maps in napari.

An npe2 plugin (see ``napari.yaml``) shipped with surfscan and enabled by the
``napari`` extra. It contributes a reader for every format surfscan reads,
the ``sample_images/`` set as sample data, and five widgets (roughness,
protrusions, particles, porosity, batch). All analysis is done by the
surfscan library: the Qt-free modules here (``_layers``, ``_reader``,
``_roughness``, ``_protrusions``, ``_particles``, ``_porosity``, ``_batch``)
shape its results into layers and tables, and
the Qt widgets live in ``_qt/``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

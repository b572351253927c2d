"""Roughness workflow of the plugin, free of Qt: settings in, levelled surface and parameter table out.

All analysis is the library's (:func:`surfscan.pipeline.prepare`,
:func:`surfscan.roughness`); this module only shapes the result for display
and export.
"""

from __future__ import annotations

import io
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from surfscan import Surface, parameters, roughness
from surfscan.iso25178 import resolve_names
from surfscan.pipeline import RoughnessSettings, prepare

from ._cleaning import Cleaning
from ._layers import auto_exaggeration, surface_mesh, symmetric_limits
from ._surface_curves import SurfaceCurves, surface_curves

__all__ = ["RoughnessResult", "run_roughness", "roughness_steps", "ROUGHNESS_STEPS", "pretty_unit", "LEVEL_METHODS"]

#: Levelling choices offered in the widget (``surfscan.level`` methods).
LEVEL_METHODS = ("plane", "poly:2", "poly:3", "poly:4", "rows", "none")

_PRETTY_UNITS = {
    "um": "µm",
    "um2": "µm²",
    "um3": "µm³",
    "um3/um2": "µm³/µm²",
    "1/um2": "1/µm²",
    "1/um": "1/µm",
    "um/um": "µm/µm",
    "deg": "°",
    "%": "%",
    "%*um": "%·µm",
    "1": "",
}


def pretty_unit(unit: str) -> str:
    """A registry unit (``"um2"``) written for people (``"µm²"``); dimensionless is empty."""
    return _PRETTY_UNITS.get(unit, unit)


@dataclass(frozen=True)
class RoughnessResult:
    """What one roughness run produced.

    Attributes
    ----------
    prepared : Surface
        The levelled (and filtered) height map the parameters were computed on.
    table : pandas.DataFrame
        One row per parameter: ``parameter``, ``value``, ``unit`` (registry
        unit string), ``description``.
    settings : RoughnessSettings
    limits : tuple of float
        Symmetric display limits ``(-m, m)`` in µm for the levelled surface.
    mesh : tuple or None
        ``(vertices, faces, values, step)`` of the 3-D view (see
        :func:`~napari_surfscan._layers.surface_mesh`), when asked for.
    exaggeration : float
        Vertical exaggeration of the 3-D view.
    curves : SurfaceCurves or None
        Abbott-Firestone curve and PSD of ``prepared``.
    cleaning : Cleaning
        Outlier removal and filling applied before levelling.
    counts : dict
        ``outliers_removed`` / ``points_filled`` (points) of those steps.
    """

    prepared: Surface
    table: pd.DataFrame
    settings: RoughnessSettings
    limits: tuple[float, float] = (-1.0, 1.0)
    mesh: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
    exaggeration: float = 1.0
    curves: SurfaceCurves | None = None
    cleaning: Cleaning = field(default_factory=Cleaning)
    counts: dict[str, int] = field(default_factory=dict)

    def to_csv(self) -> str:
        """The parameter table as CSV text (registry units, e.g. ``um``)."""
        buf = io.StringIO()
        self.table.to_csv(buf, index=False, float_format="%.9g")
        return buf.getvalue()

    def to_clipboard_text(self) -> str:
        """Tab-separated table with readable units, ready to paste into a spreadsheet."""
        lines = ["parameter\tvalue\tunit"]
        for row in self.table.itertuples(index=False):
            lines.append(f"{row.parameter}\t{row.value:.6g}\t{pretty_unit(row.unit)}")
        return "\n".join(lines) + "\n"

    def describe_settings(self) -> str:
        """One line: levelling and filter cut-offs."""
        s = self.settings
        parts = [f"level {s.level}"]
        parts.append(f"λs {s.lambda_s_um:g} µm" if s.lambda_s_um else "no S-filter")
        parts.append(f"λc {s.lambda_c_um:g} µm" if s.lambda_c_um else "no L-filter")
        if s.robust:
            parts.append("robust")
        cleaned = self.cleaning.describe(self.counts)
        return ", ".join(parts) + (f"; {cleaned}" if cleaned else "")


def roughness_steps(
    surface: Surface,
    settings: RoughnessSettings,
    mesh: bool = False,
    exaggeration: float | None = None,
    cleaning: Cleaning | None = None,
) -> Generator[str, None, RoughnessResult]:
    """Level and filter ``surface`` as ``settings`` say, then compute its parameters, step by step.

    A generator for a progress display: it yields the name of each step
    before doing it and returns the :class:`RoughnessResult`.

    Parameters
    ----------
    surface : Surface
        Heights in µm.
    settings : RoughnessSettings
        Levelling method, ``lambda_s`` and ``lambda_c`` in µm (None = off),
        parameter selection.
    mesh : bool
        Also build the triangle mesh of a 3-D view (off the GUI thread).
    exaggeration : float, optional
        Vertical exaggeration of that view; None = automatic.
    cleaning : Cleaning, optional
        Outlier removal and filling before levelling; None = none.
    """
    cleaning = cleaning or Cleaning()
    yield "removing outliers and filling" if cleaning.active else "checking the map"
    cleaned, counts = cleaning.apply(surface)
    yield "levelling and filtering"
    prepared = prepare(cleaned, settings)
    yield "computing parameters"
    names = resolve_names(list(settings.params) if settings.params else None)
    values = roughness(prepared, names)
    info = {p.name: p for p in parameters()}
    table = pd.DataFrame(
        {
            "parameter": list(values),
            "value": [values[n] for n in values],
            "unit": [info[n].unit for n in values],
            "description": [info[n].description for n in values],
        }
    )
    yield "computing the Abbott-Firestone curve and the PSD"
    curves = surface_curves(prepared)
    yield "preparing the display"
    exag = float(exaggeration) if exaggeration else auto_exaggeration(prepared)
    return RoughnessResult(prepared, table, settings, symmetric_limits(prepared.z),
                           surface_mesh(prepared) if mesh else None, exag, curves, cleaning, counts)


#: Number of steps :func:`roughness_steps` yields.
ROUGHNESS_STEPS = 5


def run_roughness(surface: Surface, settings: RoughnessSettings) -> RoughnessResult:
    """Run :func:`roughness_steps` to the end and return its result."""
    steps = roughness_steps(surface, settings)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value

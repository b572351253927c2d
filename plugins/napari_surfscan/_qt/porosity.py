"""Porosity widget: pore fraction of a cross-section image, and the gravimetric porosity calculator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from surfscan import SurfscanError
from surfscan.porosity import DENSITIES_G_CM3

from .._layers import micrograph_from_layer
from .._porosity import (
    AREAL_MASS_UNITS,
    GREY_LEVEL,
    SECTION_METHODS,
    SECTION_STEPS,
    THICKNESS_UNITS,
    gravimetric,
    gravimetric_text,
    region_from_layer,
    section_settings,
    section_steps,
    section_text,
)
from ._base import MeasurementWidget
from ._common import WHOLE_IMAGE, LayerChooser, RegionChooser
from ._parts import VerticalScroll, big_label, button, combo, form_rows, progress_bar, spin_box, stack, status_label

__all__ = ["PorosityWidget", "RegionChooser", "CompositionTable", "WHOLE_IMAGE"]

_PORE_COLOR = {None: "#00000000", 0: "#00000000", 1: "#ff3b8bff"}


def _is_sem_image(layer: Any) -> bool:
    return layer.metadata.get("kind") != "height"


def _spin(minimum: float, maximum: float, decimals: int, value: float, tip: str, suffix: str = "",
          special: str = "") -> Any:
    return spin_box(minimum, maximum, decimals, tip, value, suffix=suffix, special=special, min_width=70)


def _narrow(box: QComboBox) -> QComboBox:
    """A combo box whose width does not follow its longest entry (long layer names)."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    return box


def _value_and_unit(value: QWidget, units: Sequence[str]) -> tuple[QHBoxLayout, QComboBox]:
    """A number field with its unit chooser beside it."""
    unit = combo(units)
    unit.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    row = QHBoxLayout()
    row.addWidget(value, 1)
    row.addWidget(unit)
    return row, unit


class CompositionTable(QTableWidget):
    """The coating's materials: one row per material with its mass % and (optionally) its true density."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(4, 3, parent)
        self.setHorizontalHeaderLabels(["material", "mass %", "g/cm³"])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setFixedHeight(5 * 22 + 12)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        known = ", ".join(f"{k} {v:g}" for k, v in DENSITIES_G_CM3.items())
        self.setToolTip(f"One row per material: name, mass %, true density. Empty density: the known value ({known} g/cm³); "
                        "a density may carry its unit, e.g. '1900 kg/m3'.")

    def add_row(self) -> None:
        """One more empty row at the end."""
        self.insertRow(self.rowCount())

    def set_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Fill the table with ``(material, mass %, density or "")`` rows."""
        self.setRowCount(max(len(rows), 1))
        self.clearContents()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))

    def rows(self) -> list[tuple[str, str, str]]:
        """The cells as text rows."""
        out = []
        for r in range(self.rowCount()):
            cells = [self.item(r, c) for c in range(3)]
            out.append(tuple(cell.text() if cell is not None else "" for cell in cells))
        return out


class PorosityWidget(MeasurementWidget):
    """Porosity two ways: pore area fraction of an SEM cross-section, and from areal mass and thickness.

    The section measurement (:func:`surfscan.porosity_from_section`) runs in
    a thread worker on the chosen image inside the chosen region and adds
    the pore mask as a Labels layer; it shows the porosity with the band at
    threshold ± delta. The calculator calls :func:`surfscan.porosity_gravimetric`.
    """

    STEPS = SECTION_STEPS
    NO_LAYER = "No image: open an SEM cross-section first."
    BUSY = "Measuring the porosity of {} …"
    TASK = "Porosity of {}"
    MEASURE = staticmethod(section_steps)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.gravimetric_result: dict[str, Any] | None = None
        self.pores_layer = None
        inner = QWidget()
        column = stack(QVBoxLayout(inner), self._section_box(), self._gravimetric_box())
        column.setContentsMargins(0, 0, 0, 0)
        column.addStretch(1)
        scroll = VerticalScroll()
        scroll.setWidget(inner)
        layout = stack(QVBoxLayout(self), scroll)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def section(self) -> Any:
        """The last cross-section result (:func:`surfscan.porosity_from_section`), or None."""
        return self.result

    # -- cross-section -------------------------------------------------------------
    def _section_box(self) -> QGroupBox:
        box = QGroupBox("Cross-section")
        self.layer_box = _narrow(LayerChooser(self.viewer, accept=_is_sem_image))
        self.region_box = _narrow(RegionChooser(self.viewer))
        self.pores_box = combo(("dark", "bright"), "Pores (and resin) are dark in BSE images")
        self.method_box = combo(SECTION_METHODS, "Threshold computed inside the region, or a fixed grey level")
        self.grey_level = _spin(-1e6, 1e6, 1, 128.0, "the threshold when 'grey level' is chosen")
        self.delta = _spin(0.0, 1e6, 2, 0.0, "threshold shift of the sensitivity band, in grey levels "
                           "(auto: 5 % of the 1-99 % grey range)", special="auto")
        self.smooth = _spin(0.0, 100.0, 1, 1.0, "Gaussian smoothing against noise", suffix="px")
        self.method_box.currentTextChanged.connect(lambda t: self.grey_level.setEnabled(t == GREY_LEVEL))
        self.grey_level.setEnabled(False)
        form = form_rows((("SEM image", self.layer_box), ("Region", self.region_box), ("Pores are", self.pores_box),
                          ("Threshold", self.method_box), ("Grey level", self.grey_level),
                          ("Band ± delta", self.delta), ("Smoothing", self.smooth)), wrap=True)
        self.run_button = self.section_button = button("Measure porosity", self.run)
        self.progress = progress_bar(self.STEPS)
        self.section_label = big_label()
        self.status = self.section_details = status_label(
            "Draw a rectangle around the coating in a Shapes layer (or paint a Labels mask) to leave out the "
            "current collector and the resin.")
        stack(QVBoxLayout(box), form, self.run_button, self.progress, self.section_label, self.status)
        return box

    def section_settings(self) -> dict[str, Any]:
        """Keyword settings for ``porosity_from_section`` from the form."""
        return section_settings(self.method_box.currentText(), self.grey_level.value(),
                                self.pores_box.currentText(), self.delta.value(), self.smooth.value())

    def _inputs(self, layer: Any) -> tuple[Any, ...]:
        return micrograph_from_layer(layer), region_from_layer(self.region_box.layer(), layer), self.section_settings()

    def _show(self, result: Any) -> None:
        headline, details = section_text(result)
        self.section_label.setText(headline)
        self.section_details.setText(details)
        src = self._source
        if self.pores_layer is not None and self.pores_layer in self.viewer.layers:
            self.viewer.layers.remove(self.pores_layer)
        self.pores_layer = self.viewer.add_labels(
            result.pores.astype(np.uint8), name=f"{src.name} pores", colormap=_PORE_COLOR, opacity=0.5,
            metadata={"surfscan_role": "pores", "porosity_percent": result.porosity_percent,
                      "band_percent": result.band_percent},
            scale=tuple(src.scale), translate=tuple(src.translate), units=tuple(src.units),
        )

    # -- gravimetric calculator --------------------------------------------------------
    def _gravimetric_box(self) -> QGroupBox:
        box = QGroupBox("Gravimetric")
        self.areal_mass = _spin(0.0, 1e4, 3, 0.0, "coating mass per area (current collector excluded)")
        self.thickness = _spin(0.0, 1e5, 2, 0.0, "coating thickness (current collector excluded)")
        mass_row, self.mass_unit = _value_and_unit(self.areal_mass, AREAL_MASS_UNITS)
        thick_row, self.thickness_unit = _value_and_unit(self.thickness, THICKNESS_UNITS)
        form = form_rows((("Areal mass", mass_row), ("Thickness", thick_row)), wrap=True)
        self.composition = CompositionTable()
        self.gravimetric_button = button("Compute", self.compute_gravimetric)
        buttons = QHBoxLayout()
        buttons.addWidget(button("Add row", self.composition.add_row))
        buttons.addWidget(self.gravimetric_button, 1)
        self.gravimetric_label = big_label()
        self.gravimetric_details = status_label("")
        stack(QVBoxLayout(box), form, QLabel("Composition"), self.composition, buttons, self.gravimetric_label,
              self.gravimetric_details)
        return box

    def set_composition(self, rows: list[tuple[Any, ...]]) -> None:
        """Fill the composition table with ``(material, mass %, density or "")`` rows (for scripts and tests)."""
        self.composition.set_rows(rows)

    def composition_rows(self) -> list[tuple[str, str, str]]:
        """The composition table's cells as text rows."""
        return self.composition.rows()

    def compute_gravimetric(self) -> dict[str, Any] | None:
        """Compute the gravimetric porosity from the fields; returns the library's result (None on an error)."""
        try:
            result = gravimetric(self.areal_mass.value(), self.mass_unit.currentText(), self.thickness.value(),
                                 self.thickness_unit.currentText(), self.composition_rows())
        except SurfscanError as exc:  # a missing, unreadable or inconsistent field: say which
            self.gravimetric_result = None
            self.gravimetric_label.setText("–")
            self.gravimetric_details.setText(f"Cannot compute: {exc}")
            return None
        self.gravimetric_result = result
        headline, details = gravimetric_text(result)
        self.gravimetric_label.setText(headline)
        self.gravimetric_details.setText(details)
        return result

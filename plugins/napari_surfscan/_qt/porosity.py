"""Porosity widget: pore fraction of a cross-section image, and the gravimetric porosity calculator."""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.layers import Labels, Shapes
from qtpy.QtCore import QEvent, QSize, Signal
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

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
from ._common import LayerChooser, start_steps

__all__ = ["PorosityWidget", "RegionChooser"]

WHOLE_IMAGE = "whole image"
_PORE_COLOR = {None: "#00000000", 0: "#00000000", 1: "#ff3b8bff"}


def _is_sem_image(layer: Any) -> bool:
    return layer.metadata.get("kind") != "height"


def _spin(minimum: float, maximum: float, decimals: int, value: float, tip: str, suffix: str = "",
          special: str = "") -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setRange(minimum, maximum)
    w.setDecimals(decimals)
    if suffix:
        w.setSuffix(f" {suffix}")
    if special:
        w.setSpecialValueText(special)
    w.setValue(value)
    w.setToolTip(tip)
    w.setMinimumWidth(70)  # the range's widest number would set the dock's width otherwise
    return w


def _narrow(box: QComboBox) -> QComboBox:
    """A combo box whose width does not follow its longest entry (long layer names)."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    return box


def _big(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    return label


class _VerticalScroll(QScrollArea):
    """A frameless scroll area that asks for the width its content needs (it scrolls sideways only when the dock is narrower)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt name
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, obj: Any, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's minimum width changed (styles, fonts): tell the dock
        return super().eventFilter(obj, event)

    def _width(self, hint: QSize, preferred: bool) -> QSize:
        inner = self.widget()
        if inner is not None:
            inner.ensurePolished()  # napari's stylesheet (fonts, paddings) sets the real width
            content = inner.sizeHint() if preferred else inner.minimumSizeHint()
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
            hint.setWidth(content.width() + bar + 2 * self.frameWidth() + 4)
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._width(super().minimumSizeHint(), preferred=False)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._width(super().sizeHint(), preferred=True)


class RegionChooser(QComboBox):
    """"whole image", then the viewer's Shapes and Labels layers (result layers left out)."""

    def __init__(self, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self.setToolTip("The coating only: a rectangle (or polygon) in a Shapes layer, or a painted Labels mask")
        for name in ("inserted", "removed", "moved", "reordered"):
            getattr(viewer.layers.events, name).connect(self.refresh)
        self.refresh()

    def refresh(self, event: Any = None) -> None:
        """Rebuild the list, keeping the current choice when it still exists."""
        current = self.currentText()
        names = [WHOLE_IMAGE] + [lay.name for lay in self._viewer.layers
                                 if isinstance(lay, Shapes | Labels) and "surfscan_role" not in lay.metadata]
        self.blockSignals(True)
        self.clear()
        self.addItems(names)
        if current in names:
            self.setCurrentText(current)
        self.blockSignals(False)

    def layer(self) -> Any | None:
        """The chosen region layer, or None for the whole image."""
        name = self.currentText()
        return self._viewer.layers[name] if name != WHOLE_IMAGE and name in self._viewer.layers else None


class PorosityWidget(QWidget):
    """Porosity two ways: pore area fraction of an SEM cross-section, and from areal mass and thickness.

    The section measurement (:func:`surfscan.porosity_from_section`) runs in
    a thread worker on the chosen image inside the chosen region and adds
    the pore mask as a Labels layer; it shows the porosity with the band at
    threshold ± delta. The calculator calls :func:`surfscan.porosity_gravimetric`.
    """

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = None
        self.section = None
        self.gravimetric_result: dict[str, Any] | None = None
        self.pores_layer = None
        self._source = None
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._section_box())
        column.addWidget(self._gravimetric_box())
        column.addStretch(1)
        scroll = _VerticalScroll()  # napari docks do not scroll: a short window keeps every field usable
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # -- cross-section -------------------------------------------------------------
    def _section_box(self) -> QGroupBox:
        box = QGroupBox("Cross-section")
        self.layer_box = _narrow(LayerChooser(self.viewer, accept=_is_sem_image))
        self.region_box = _narrow(RegionChooser(self.viewer))
        self.pores_box = QComboBox()
        self.pores_box.addItems(("dark", "bright"))
        self.pores_box.setToolTip("Pores (and resin) are dark in BSE images")
        self.method_box = QComboBox()
        self.method_box.addItems(SECTION_METHODS)
        self.method_box.setToolTip("Threshold computed inside the region, or a fixed grey level")
        self.grey_level = _spin(-1e6, 1e6, 1, 128.0, "the threshold when 'grey level' is chosen")
        self.delta = _spin(0.0, 1e6, 2, 0.0, "threshold shift of the sensitivity band, in grey levels "
                           "(auto: 5 % of the 1-99 % grey range)", special="auto")
        self.smooth = _spin(0.0, 100.0, 1, 1.0, "Gaussian smoothing against noise", suffix="px")
        self.method_box.currentTextChanged.connect(lambda t: self.grey_level.setEnabled(t == GREY_LEVEL))
        self.grey_level.setEnabled(False)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow docks: field under its label
        form.addRow("SEM image", self.layer_box)
        form.addRow("Region", self.region_box)
        form.addRow("Pores are", self.pores_box)
        form.addRow("Threshold", self.method_box)
        form.addRow("Grey level", self.grey_level)
        form.addRow("Band ± delta", self.delta)
        form.addRow("Smoothing", self.smooth)
        self.section_button = QPushButton("Measure porosity")
        self.section_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, SECTION_STEPS)
        self.progress.setTextVisible(False)
        self.section_label = _big(QLabel("–"))
        self.section_details = QLabel("Draw a rectangle around the coating in a Shapes layer (or paint a "
                                      "Labels mask) to leave out the current collector and the resin.")
        self.section_details.setWordWrap(True)
        v = QVBoxLayout(box)
        v.addLayout(form)
        for w in (self.section_button, self.progress, self.section_label, self.section_details):
            v.addWidget(w)
        return box

    def section_settings(self) -> dict[str, Any]:
        """Keyword settings for ``porosity_from_section`` from the form."""
        return section_settings(self.method_box.currentText(), self.grey_level.value(),
                                self.pores_box.currentText(), self.delta.value(), self.smooth.value())

    @property
    def running(self) -> bool:
        """True while a section measurement is in progress."""
        return self.worker is not None

    def run(self) -> Any:
        """Measure the section porosity on the chosen image and region in a thread worker; returns it."""
        if self.running:
            return self.worker
        layer = self.layer_box.layer()
        if layer is None:
            self.section_details.setText("No image: open an SEM cross-section first.")
            return None
        try:
            micrograph = micrograph_from_layer(layer)
            region = region_from_layer(self.region_box.layer(), layer)
        except Exception as exc:
            self.section_details.setText(str(exc))
            self.failed.emit(exc)
            return None
        self._source = layer
        self.section_button.setEnabled(False)
        self.progress.setValue(0)
        self.worker = start_steps(
            section_steps, micrograph, region, self.section_settings(), total=SECTION_STEPS,
            desc=f"Porosity of {layer.name}", on_step=lambda s: self.section_details.setText(f"{s} …"),
            on_done=self._on_done, on_error=self._on_error,
        )
        self.worker.finished.connect(self._on_finished)
        return self.worker

    def _on_finished(self) -> None:
        self.worker = None
        self.section_button.setEnabled(True)

    def _on_error(self, exc: Exception) -> None:
        self.section_details.setText(f"Failed: {exc}")
        self.failed.emit(exc)

    def _on_done(self, result: Any) -> None:
        self.section = result
        self.progress.setValue(SECTION_STEPS)
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
        self.finished.emit(result)

    # -- gravimetric calculator --------------------------------------------------------
    def _gravimetric_box(self) -> QGroupBox:
        box = QGroupBox("Gravimetric")
        self.areal_mass = _spin(0.0, 1e4, 3, 0.0, "coating mass per area (current collector excluded)")
        self.mass_unit = QComboBox()
        self.mass_unit.addItems(AREAL_MASS_UNITS)
        self.thickness = _spin(0.0, 1e5, 2, 0.0, "coating thickness (current collector excluded)")
        self.thickness_unit = QComboBox()
        self.thickness_unit.addItems(THICKNESS_UNITS)
        mass_row, thick_row = QHBoxLayout(), QHBoxLayout()
        mass_row.addWidget(self.areal_mass, 1)
        mass_row.addWidget(self.mass_unit)
        thick_row.addWidget(self.thickness, 1)
        thick_row.addWidget(self.thickness_unit)
        for unit in (self.mass_unit, self.thickness_unit):
            unit.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow docks: field under its label
        form.addRow("Areal mass", mass_row)
        form.addRow("Thickness", thick_row)
        self.composition = QTableWidget(4, 3)
        self.composition.setHorizontalHeaderLabels(["material", "mass %", "g/cm³"])
        header = self.composition.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.composition.verticalHeader().setDefaultSectionSize(22)
        self.composition.setFixedHeight(5 * 22 + 12)
        self.composition.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        known = ", ".join(f"{k} {v:g}" for k, v in DENSITIES_G_CM3.items())
        self.composition.setToolTip(f"One row per material: name, mass %, true density. Empty density: the known value ({known} g/cm³); "
                                    "a density may carry its unit, e.g. '1900 kg/m3'.")
        add = QPushButton("Add row")
        add.clicked.connect(lambda: self.composition.insertRow(self.composition.rowCount()))
        self.gravimetric_button = QPushButton("Compute")
        self.gravimetric_button.clicked.connect(self.compute_gravimetric)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.gravimetric_button, 1)
        self.gravimetric_label = _big(QLabel("–"))
        self.gravimetric_details = QLabel("")
        self.gravimetric_details.setWordWrap(True)
        v = QVBoxLayout(box)
        v.addLayout(form)
        v.addWidget(QLabel("Composition"))
        v.addWidget(self.composition)
        v.addLayout(buttons)
        v.addWidget(self.gravimetric_label)
        v.addWidget(self.gravimetric_details)
        return box

    def set_composition(self, rows: list[tuple[Any, ...]]) -> None:
        """Fill the composition table with ``(material, mass %, density or "")`` rows (for scripts and tests)."""
        self.composition.setRowCount(max(len(rows), 1))
        self.composition.clearContents()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.composition.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))

    def composition_rows(self) -> list[tuple[str, str, str]]:
        """The composition table's cells as text rows."""
        out = []
        for r in range(self.composition.rowCount()):
            cells = [self.composition.item(r, c) for c in range(3)]
            out.append(tuple(cell.text() if cell is not None else "" for cell in cells))
        return out

    def compute_gravimetric(self) -> dict[str, Any] | None:
        """Compute the gravimetric porosity from the fields; returns the library's result (None on an error)."""
        try:
            result = gravimetric(self.areal_mass.value(), self.mass_unit.currentText(), self.thickness.value(),
                                 self.thickness_unit.currentText(), self.composition_rows())
        except Exception as exc:
            self.gravimetric_result = None
            self.gravimetric_label.setText("–")
            self.gravimetric_details.setText(f"Cannot compute: {exc}")
            return None
        self.gravimetric_result = result
        headline, details = gravimetric_text(result)
        self.gravimetric_label.setText(headline)
        self.gravimetric_details.setText(details)
        return result

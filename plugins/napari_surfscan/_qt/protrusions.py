"""Protrusions widget: detect, count and click through protrusions on a height map or SEM image."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import numpy as np
from napari.layers import Labels
from qtpy.QtCore import Signal
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from .._layers import object_from_layer
from .._protrusions import (
    PROTRUSION_STEPS,
    SETTING_FIELDS,
    TABLE_COLUMNS,
    ProtrusionResult,
    SettingField,
    form_defaults,
    protrusion_remeasure_steps,
    protrusion_steps,
    settings_from_form,
    summary_text,
)
from ._common import (
    FrameModel,
    LayerChooser,
    StepRunner,
    TableLabelSelection,
    fit_columns,
    make_table_view,
    start_steps,
)
from ._editing import LabelCorrection, quality_text

__all__ = ["ProtrusionWidget"]

#: Settings shown without opening "More settings".
MAIN_SETTINGS = ("polarity", "k", "h_abs", "min_size", "max_size")


def _steps_and_warm_up(obj: Any, settings: dict[str, Any]) -> Generator[str, None, ProtrusionResult]:
    """:func:`protrusion_steps`, then one throw-away Labels layer of the same dtype, in the worker thread.

    napari compiles its label colour mapping the first time a Labels layer
    of a dtype is made (seconds); doing it here keeps it off the GUI thread.
    """
    result = yield from protrusion_steps(obj, settings)
    yield "preparing the display"
    try:
        Labels(np.zeros((2, 2), dtype=result.protrusions.labels.dtype))
    except Exception:  # only a warm-up: the real layer is made on the GUI thread anyway
        pass
    return result


def _field_widget(f: SettingField, default: Any) -> QWidget:
    if f.kind == "choice":
        w = QComboBox()
        w.addItems(f.choices)
        w.setCurrentText(str(default))
    elif f.kind == "bool":
        w = QCheckBox()
        w.setChecked(bool(default))
    else:
        w = QDoubleSpinBox()
        w.setRange(f.minimum, f.maximum)
        w.setDecimals(f.decimals)
        if f.unit:
            w.setSuffix(f" {f.unit}")
        if f.zero_text:
            w.setSpecialValueText(f.zero_text)
        w.setValue(float(default))
    w.setToolTip(f.tip)
    return w


def _value(w: QWidget) -> Any:
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    return w.value()


class ProtrusionWidget(LabelCorrection, TableLabelSelection, StepRunner, QWidget):
    """Find protrusions with :func:`surfscan.detect_protrusions` and inspect them.

    Adds an editable Labels layer (``features``: one row per label, row 0 =
    background) and a Points layer at the centroids. Selecting a table row
    selects the label (and its point) and centres the view on it; selecting a
    label in the viewer (the label picker, a click, or ``selected_label``)
    selects its row. "Re-measure from labels" recounts from the edited layer;
    "Save labels" writes ``<image>.labels.tif`` beside the image file.
    """

    ANALYSIS = "protrusions"
    STEPS = PROTRUSION_STEPS
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = None
        self.display_seconds = 0.0  # GUI-thread time spent showing the last result
        self.result: ProtrusionResult | None = None
        self.labels_layer = None
        self.points_layer = None
        self._source = None
        self._syncing = False

        self.layer_box = LayerChooser(napari_viewer)
        form = QFormLayout()
        form.addRow("Image", self.layer_box)
        more_form = QFormLayout()
        self.more = QCollapsible("More settings")
        more_box = QWidget()
        more_box.setLayout(more_form)
        self.more.addWidget(more_box)
        self.fields: dict[str, QWidget] = {}
        defaults = form_defaults()
        for f in SETTING_FIELDS:
            self.fields[f.name] = _field_widget(f, defaults[f.name])
            (form if f.name in MAIN_SETTINGS else more_form).addRow(f.label, self.fields[f.name])

        self.run_button = QPushButton("Find protrusions")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROTRUSION_STEPS + 1)
        self.progress.setTextVisible(False)
        self.count_label = QLabel("–")
        font = QFont(self.count_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.count_label.setFont(font)
        self.status = QLabel("Choose an image and press Find.")
        self.status.setWordWrap(True)
        self.model = FrameModel(formats={"x_um": ".2f", "y_um": ".2f", "area_um2": ".4g", "aspect_ratio": ".2f"})
        self.table = make_table_view(self.model)
        self.table.selectionModel().selectionChanged.connect(self._on_row_selected)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.more)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.count_label)
        layout.addWidget(self.status)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self._correction_row())

    # -- settings and running -------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Keyword settings for ``detect_protrusions`` from the form."""
        return settings_from_form({name: _value(w) for name, w in self.fields.items()})

    def set_setting(self, name: str, value: Any) -> None:
        """Set one form field (for scripts and tests)."""
        w = self.fields[name]
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(float(value))

    def run(self) -> Any:
        """Start the detection on the chosen layer in a thread worker; returns the worker."""
        if self.running:
            return self.worker
        layer = self.layer_box.layer()
        if layer is None:
            self.status.setText("No image: open an SEM image or a height map first.")
            return None
        try:
            obj = object_from_layer(layer)
        except Exception as exc:
            self.status.setText(str(exc))
            self.failed.emit(exc)
            return None
        self._source, self._analysed, self._remeasuring = layer, obj, False
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText(f"Looking for protrusions on {layer.name} …")
        self.worker = start_steps(
            _steps_and_warm_up, obj, self.settings(),
            total=PROTRUSION_STEPS + 1, desc=f"Protrusions on {layer.name}",
            on_step=self._on_step, on_done=self._on_done, on_error=self._on_error,
        )
        self.worker.finished.connect(self._on_finished)
        return self.worker

    def _on_done(self, result: ProtrusionResult) -> None:
        self.result = result
        started = time.perf_counter()
        self.progress.setValue(PROTRUSION_STEPS + 1)
        self._show_labels(result.protrusions.labels, result.features, name=f"{self._source.name} protrusions",
                          opacity=0.45, metadata={"surfscan_role": "protrusions", "summary": result.protrusions.summary})
        self._add_points(result)
        shown = [c for c in TABLE_COLUMNS if c in result.table.columns]
        self.model.set_frame(result.table[shown], TABLE_COLUMNS)
        fit_columns(self.table)
        self.count_label.setText(summary_text(result.protrusions.summary))
        limit = result.protrusions.summary.get("detection_limit") or {}
        statement = limit.get("statement") if isinstance(limit, dict) else str(limit)
        status = f"{self._source.name}: {statement}" if statement else self._source.name
        quality = quality_text(result.protrusions.summary)
        self.status.setText(f"{status}\n{quality}" if quality else status)
        self._enable_correction()
        self.display_seconds = time.perf_counter() - started
        self.finished.emit(result)

    # -- layers ----------------------------------------------------------------
    def _remeasure_steps(self, labels: np.ndarray) -> Generator[str, None, ProtrusionResult]:
        """Step generator of a re-measurement (napari's worker needs a generator function)."""
        return (yield from protrusion_remeasure_steps(self._analysed, labels, self.settings()))

    def _add_points(self, result: ProtrusionResult) -> None:
        """The centroid points (replacing the previous ones), above the Labels layer."""
        src = self._source
        if self.points_layer is not None and self.points_layer in self.viewer.layers:
            self.viewer.layers.remove(self.points_layer)
        place = {"scale": tuple(src.scale), "translate": tuple(src.translate), "units": tuple(src.units)}
        table = result.table
        diam_px = (table["equivalent_diameter_um"].to_numpy(float) / result.spacing[1]
                   if "equivalent_diameter_um" in table and len(table) else np.zeros(len(table)))
        self.points_layer = self.viewer.add_points(
            result.points, name=f"{src.name} centroids", features=table.reset_index(drop=True),
            size=np.maximum(diam_px * 1.4 + 4.0, 8.0), symbol="disc", face_color="transparent",
            border_color="yellow", border_width=0.08, metadata={"surfscan_role": "centroids"}, **place,
        )
        self.viewer.layers.selection.active = self.labels_layer  # ready to edit

    # -- selection round trip ----------------------------------------------------
    def _on_row_selected(self, *args: Any) -> None:
        row = self.selected_row()
        if self._syncing or row is None or self.result is None or self.labels_layer is None:
            return
        label = int(self.result.table["id"].iloc[row])
        self._syncing = True
        try:
            self.labels_layer.selected_label = label
            self.points_layer.selected_data = {row}
            world = np.asarray(self.points_layer.data[row]) * np.asarray(self.points_layer.scale) + np.asarray(
                self.points_layer.translate)
            self.viewer.camera.center = tuple(world)
        finally:
            self._syncing = False

    def _on_label_selected(self, event: Any = None) -> None:
        if self._syncing or self.labels_layer is None:
            return
        row = self._row_of_label(int(self.labels_layer.selected_label))
        self._syncing = True
        try:
            if row is None:
                self.table.clearSelection()
            else:
                self.select_row(row)
                self.points_layer.selected_data = {row}
        finally:
            self._syncing = False

    def _on_click(self, layer: Any, event: Any) -> None:
        """A click on an object in pan/zoom mode selects it."""
        if layer.mode != "pan_zoom":
            return
        value = layer.get_value(event.position, view_direction=event.view_direction,
                                dims_displayed=event.dims_displayed, world=True)
        if value:
            layer.selected_label = int(value)

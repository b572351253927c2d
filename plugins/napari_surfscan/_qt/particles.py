"""Particles widget: size distribution and shape classes of particles in an SEM image."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
from napari.layers import Labels
from qtpy.QtCore import Signal
from qtpy.QtGui import QFont, QPalette
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from surfscan import SurfscanError

from .._layers import micrograph_from_layer
from .._particles import (
    CLASS_COLORS,
    GREY_LEVEL,
    PARTICLE_STEPS,
    SETTING_FIELDS,
    TABLE_COLUMNS,
    ParticleResult,
    d_value_table,
    ecd_histogram,
    editable_colormap,
    form_defaults,
    fractions_text,
    particle_remeasure_steps,
    particle_steps,
    particles_csv,
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
from .protrusions import _field_widget, _value

__all__ = ["ParticleWidget", "HistogramCanvas"]

#: Settings shown without opening "More settings".
MAIN_SETTINGS = ("polarity", "threshold", "grey_level", "min_diameter_um", "background_um", "split", "linear_above")


def _is_sem_image(layer: Any) -> bool:
    return layer.metadata.get("kind") != "height"


def _steps_and_warm_up(micrograph: Any, settings: dict[str, Any]) -> Generator[str, None, ParticleResult]:
    """:func:`particle_steps`, then a throw-away Labels layer of the same dtype, in the worker thread.

    napari compiles its label colour mapping the first time a Labels layer
    of a dtype is made; doing it here keeps it off the GUI thread.
    """
    result = yield from particle_steps(micrograph, settings)
    yield "preparing the display"
    try:
        Labels(np.zeros((2, 2), dtype=result.particles.labels.dtype), colormap={None: "#00000000", 1: "#ffffffff"})
    except Exception:  # only a warm-up: the real layer is made on the GUI thread anyway
        pass
    return result


class HistogramCanvas(QWidget):
    """A small matplotlib histogram of equivalent circular diameters, stacked by shape class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 1.9), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(170)
        self.bins = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    def show_result(self, result: ParticleResult) -> None:
        """Draw the ECD histogram of ``result`` with its number-weighted D10, D50, D90."""
        bg = self.palette().color(QPalette.ColorRole.Window).name()
        fg = self.palette().color(QPalette.ColorRole.WindowText).name()
        self.figure.clear()
        self.figure.set_facecolor(bg)
        ax = self.figure.add_subplot()
        ax.set_facecolor(bg)
        self.bins = ecd_histogram(result.table)
        if len(self.bins):
            width = self.bins["upper_um"] - self.bins["lower_um"]
            bottom = np.zeros(len(self.bins))
            for cls, color in CLASS_COLORS.items():
                ax.bar(self.bins["lower_um"], self.bins[cls], width=width, bottom=bottom, align="edge",
                       color=color[:7], edgecolor=bg, linewidth=0.5, label=cls)
                bottom = bottom + self.bins[cls].to_numpy()
            for key, style in (("d10_um", ":"), ("d50_um", "-"), ("d90_um", ":")):
                if key in result.summary:
                    ax.axvline(result.summary[key], color=fg, linestyle=style, linewidth=1)
            ax.legend(fontsize=7, frameon=False, labelcolor=fg)
        ax.set_xlabel("equivalent circular diameter (µm)", color=fg, fontsize=8)
        ax.set_ylabel("count", color=fg, fontsize=8)
        ax.tick_params(colors=fg, labelsize=7)
        for spine in ax.spines.values():
            spine.set_color(fg)
        self.canvas.draw_idle()


class ParticleWidget(LabelCorrection, TableLabelSelection, StepRunner, QWidget):
    """Measure particle sizes and shapes with :func:`surfscan.measure_particles` and inspect them.

    Adds an editable Labels layer whose ``features`` hold one row per label
    (row 0 = background) and whose colours tell point-like from linear
    particles (labels painted since the last measurement are light grey).
    Shows the count, number- and volume-weighted D10/D50/D90, the shape
    fractions and an ECD histogram. Selecting a table row selects its label
    and centres the view on it; selecting a label selects its row. "Re-measure
    from labels" recomputes all of it from the edited layer; "Save labels"
    writes ``<image>.labels.tif`` beside the image file.
    """

    ANALYSIS = "particles"
    STEPS = PARTICLE_STEPS
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = None
        self.display_seconds = 0.0
        self.result: ParticleResult | None = None
        self.labels_layer = None
        self._source = None
        self._syncing = False

        self.layer_box = LayerChooser(napari_viewer, accept=_is_sem_image)
        form = QFormLayout()
        form.addRow("SEM image", self.layer_box)
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
        self.fields["threshold"].currentTextChanged.connect(self._threshold_changed)
        self._threshold_changed(self.fields["threshold"].currentText())

        self.run_button = QPushButton("Measure particles")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, PARTICLE_STEPS + 1)
        self.progress.setTextVisible(False)
        self.count_label = QLabel("–")
        font = QFont(self.count_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.count_label.setFont(font)
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #ffb000;")
        self.d_model = FrameModel(formats={"number (µm)": ".4g", "volume (µm)": ".4g"})
        self.d_table = QTableView()
        self.d_table.setModel(self.d_model)
        self.d_table.verticalHeader().setVisible(False)
        self.d_table.verticalHeader().setDefaultSectionSize(20)
        self.d_table.setFixedHeight(4 * 20 + 6)
        self.d_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.fractions_label = QLabel("")
        self.fractions_label.setWordWrap(True)
        self.histogram = HistogramCanvas()
        self.status = QLabel("Choose an SEM image and press Measure.")
        self.status.setWordWrap(True)
        self.model = FrameModel(formats={"x_um": ".2f", "y_um": ".2f", "aspect_ratio": ".2f"},
                                colors={"shape_class": {k: v[:7] for k, v in CLASS_COLORS.items()}})
        self.table = make_table_view(self.model)
        self.table.setMinimumHeight(120)
        self.table.selectionModel().selectionChanged.connect(self._on_row_selected)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_dialog)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.more)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        for w in (self.count_label, self.warning_label, self.d_table, self.fractions_label, self.histogram,
                  self.status):
            layout.addWidget(w)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self._correction_row())
        layout.addWidget(self.export_button)

    # -- settings and running -------------------------------------------------
    def _threshold_changed(self, text: str) -> None:
        self.fields["grey_level"].setEnabled(text == GREY_LEVEL)

    def settings(self) -> dict[str, Any]:
        """Keyword settings for the particle run from the form."""
        return settings_from_form({name: _value(w) for name, w in self.fields.items()})

    def set_setting(self, name: str, value: Any) -> None:
        """Set one form field (for scripts and tests)."""
        w = self.fields[name]
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif hasattr(w, "setChecked"):
            w.setChecked(bool(value))
        else:
            w.setValue(float(value))

    def run(self) -> Any:
        """Start the measurement on the chosen layer in a thread worker; returns the worker."""
        if self.running:
            return self.worker
        layer = self.layer_box.layer()
        if layer is None:
            self.status.setText("No image: open an SEM image first.")
            return None
        settings = self.settings()
        try:
            micrograph = micrograph_from_layer(layer)
            if micrograph.pixel_size is None and not settings.get("pixel_size"):
                raise SurfscanError(f"{layer.name} has no pixel size in µm: give its scale and units, or set "
                                    "'Pixel size' under More settings")
        except Exception as exc:
            self.status.setText(str(exc))
            self.failed.emit(exc)
            return None
        self._source, self._analysed, self._remeasuring = layer, micrograph, False
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText(f"Measuring particles on {layer.name} …")
        self.worker = start_steps(
            _steps_and_warm_up, micrograph, settings,
            total=PARTICLE_STEPS + 1, desc=f"Particles on {layer.name}",
            on_step=self._on_step, on_done=self._on_done, on_error=self._on_error,
        )
        self.worker.finished.connect(self._on_finished)
        return self.worker

    def _on_done(self, result: ParticleResult) -> None:
        self.result = result
        started = time.perf_counter()
        self.progress.setValue(PARTICLE_STEPS + 1)
        self._show_labels(result.particles.labels, result.features, name=f"{self._source.name} particles",
                          colormap=editable_colormap(result.colors), opacity=0.55,
                          metadata={"surfscan_role": "particles", "summary": result.summary})
        summary = result.summary
        shown = [c for c in TABLE_COLUMNS if c in result.table.columns]
        self.model.set_frame(result.table[shown], TABLE_COLUMNS)
        fit_columns(self.table)
        self.count_label.setText(summary_text(summary))
        notes = [f"⚠ {w}" for w in summary.get("warnings", [])] + [t for t in [quality_text(summary)] if t]
        self.warning_label.setText("\n".join(notes))
        self.warning_label.setVisible(bool(notes))
        self.d_model.set_frame(d_value_table(summary))
        self.fractions_label.setText(fractions_text(summary))
        self.histogram.show_result(result)
        source = "from the edited labels" if summary.get("source") == "labels" else "automatic"
        self.status.setText(f"{self._source.name}: pixel size {result.pixel_size:.4g} µm, {source}")
        self.export_button.setEnabled(True)
        self._enable_correction()
        self.display_seconds = time.perf_counter() - started
        self.finished.emit(result)

    def _remeasure_steps(self, labels: np.ndarray) -> Generator[str, None, ParticleResult]:
        """Step generator of a re-measurement (napari's worker needs a generator function)."""
        return (yield from particle_remeasure_steps(self._analysed, labels, self.settings()))

    # -- selection round trip ----------------------------------------------------
    def _on_row_selected(self, *args: Any) -> None:
        row = self.selected_row()
        if self._syncing or row is None or self.result is None or self.labels_layer is None:
            return
        particle = self.result.table.iloc[row]
        self._syncing = True
        try:
            self.labels_layer.selected_label = int(particle["id"])
            px = self.result.pixel_size
            centre = (particle["y_um"] / px, particle["x_um"] / px)
            camera = self.viewer.scene.camera if hasattr(self.viewer, "scene") else self.viewer.camera
            camera.center = tuple(self.labels_layer.data_to_world(centre))
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
        finally:
            self._syncing = False

    def _on_click(self, layer: Any, event: Any) -> None:
        """A click on a particle in pan/zoom mode selects it."""
        if layer.mode != "pan_zoom":
            return
        value = layer.get_value(event.position, view_direction=event.view_direction,
                                dims_displayed=event.dims_displayed, world=True)
        if value:
            layer.selected_label = int(value)

    # -- export ------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        """Write the particle table as CSV to ``path``."""
        if self.result is None:
            raise RuntimeError("nothing to export: run a measurement first")
        path = Path(path)
        path.write_text(particles_csv(self.result), encoding="utf-8")
        self.status.setText(f"Saved {path.name}")
        return path

    def _export_dialog(self) -> None:
        if self.result is None:
            return
        default = f"{self._source.name}_particles.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export particles", default, "CSV (*.csv)")
        if path:
            self.export_csv(path)

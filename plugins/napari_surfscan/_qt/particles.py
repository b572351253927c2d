"""Particles widget: size distribution and shape classes of particles in an SEM image."""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtGui import QPalette
from qtpy.QtWidgets import QHeaderView, QTableView, QVBoxLayout, QWidget

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
from ._common import FrameModel, LayerChooser
from ._editing import quality_text
from ._labelled import LabelledWidget
from ._parts import big_label, button, progress_bar, stack, status_label

__all__ = ["ParticleWidget", "HistogramCanvas"]


def _is_sem_image(layer: Any) -> bool:
    return layer.metadata.get("kind") != "height"


def _d_value_table(model: FrameModel) -> QTableView:
    """The small fixed table of D10, D50, D90 (number- and volume-weighted)."""
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(20)
    table.setFixedHeight(4 * 20 + 6)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


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


class ParticleWidget(LabelledWidget):
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
    STEPS = PARTICLE_STEPS + 1  # and the display warm-up
    NO_LAYER = "No image: open an SEM image first."
    BUSY = "Measuring particles on {} …"
    TASK = "Particles on {}"
    CSV_NAME = "{}_particles.csv"
    CSV_TITLE = "Export particles"
    FIELDS = SETTING_FIELDS
    #: Settings shown without opening "More settings".
    MAIN_SETTINGS = ("polarity", "threshold", "grey_level", "min_diameter_um", "background_um", "split",
                     "linear_above")
    MEASURE = staticmethod(particle_steps)
    REMEASURE = staticmethod(particle_remeasure_steps)
    WARM_UP_COLORMAP = {None: "#00000000", 1: "#ffffffff"}

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.layer_box = LayerChooser(napari_viewer, accept=_is_sem_image)
        self._settings_form(("SEM image", self.layer_box), form_defaults())
        self.fields["threshold"].currentTextChanged.connect(self._threshold_changed)
        self._threshold_changed(self.fields["threshold"].currentText())
        self.run_button = button("Measure particles", self.run)
        self.progress = progress_bar(self.STEPS)
        stack(QVBoxLayout(self), self.form, self.run_button, self.progress, *self._summary_parts(),
              self._particle_table(), self._correction_row(), self._export_button(), stretch=self.table)

    def _summary_parts(self) -> tuple[QWidget, ...]:
        """Count, warnings, D-values, shape fractions, histogram and status, top to bottom."""
        self.count_label = big_label()
        self.warning_label = status_label("")
        self.warning_label.setStyleSheet("color: #ffb000;")
        self.d_model = FrameModel(formats={"number (µm)": ".4g", "volume (µm)": ".4g"})
        self.d_table = _d_value_table(self.d_model)
        self.fractions_label = status_label("")
        self.histogram = HistogramCanvas()
        self.status = status_label("Choose an SEM image and press Measure.")
        return (self.count_label, self.warning_label, self.d_table, self.fractions_label, self.histogram,
                self.status)

    def _particle_table(self) -> QTableView:
        table = self._row_table(FrameModel(formats={"x_um": ".2f", "y_um": ".2f", "aspect_ratio": ".2f"},
                                           colors={"shape_class": {k: v[:7] for k, v in CLASS_COLORS.items()}}))
        table.setMinimumHeight(120)
        return table

    # -- settings and running -------------------------------------------------
    def _threshold_changed(self, text: str) -> None:
        self.fields["grey_level"].setEnabled(text == GREY_LEVEL)

    def settings(self) -> dict[str, Any]:
        """Keyword settings for the particle run from the form."""
        return settings_from_form(self.form.values())

    def _image(self, layer: Any, settings: dict[str, Any]) -> Any:
        micrograph = micrograph_from_layer(layer)
        if micrograph.pixel_size is None and not settings.get("pixel_size"):
            raise SurfscanError(f"{layer.name} has no pixel size in µm: give its scale and units, or set "
                                "'Pixel size' under More settings")
        return micrograph

    def _labels_of(self, result: ParticleResult) -> np.ndarray:
        return result.particles.labels

    def _show(self, result: ParticleResult) -> None:
        self._show_labels(result.particles.labels, result.features, name=f"{self._source.name} particles",
                          colormap=editable_colormap(result.colors), opacity=0.55,
                          metadata={"surfscan_role": "particles", "summary": result.summary})
        summary = result.summary
        self._show_rows(result.table, TABLE_COLUMNS)
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

    def _csv_text(self) -> str:
        return particles_csv(self.result)

    # -- selection -----------------------------------------------------------------
    def _centre_on(self, row: int) -> None:
        particle = self.result.table.iloc[row]
        px = self.result.pixel_size
        centre = (particle["y_um"] / px, particle["x_um"] / px)
        camera = self.viewer.scene.camera if hasattr(self.viewer, "scene") else self.viewer.camera
        camera.center = tuple(self.labels_layer.data_to_world(centre))

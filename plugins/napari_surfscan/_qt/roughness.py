"""Roughness widget: level, filter, read the ISO 25178-2 parameters, see the surface in 3-D."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from napari.layers import Image
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from surfscan.outliers import FILL_METHODS, OUTLIER_METHODS
from surfscan.pipeline import RoughnessSettings

from .._cleaning import Cleaning
from .._layers import DIVERGING_COLORMAP, surface_from_layer
from .._roughness import LEVEL_METHODS, ROUGHNESS_STEPS, RoughnessResult, pretty_unit, roughness_steps
from ._common import FrameModel, LayerChooser, fit_columns, make_table_view, start_steps
from ._plots import PlotCanvas
from .roughness_curves import ProfilePanel, draw_curves

__all__ = ["RoughnessWidget"]


def _is_height_map(layer: Any) -> bool:
    kind = layer.metadata.get("kind")
    return kind == "height" or (kind is None and layer.data.dtype.kind == "f" and not layer.rgb)


#: Parameter selections offered (the box is editable).
PARAMETER_CHOICES = ("all", "height", "height,hybrid,functional", "Sa,Sq,Sz")


def _parameter_selection(text: str) -> tuple[str, ...] | None:
    """None for 'all', else the names or families typed, comma-separated."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    return None if not names or names == ("all",) else names


def _spin(maximum: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(decimals)
    box.setSuffix(" µm")
    box.setSpecialValueText("off")
    box.setToolTip(tip)
    return box


class RoughnessWidget(QWidget):
    """Level and filter a height map and show its ISO 25178-2 parameters.

    The levelled (and filtered) surface is added as a layer with a diverging
    colormap, symmetric contrast limits and a colorbar; a Surface layer
    shows it in 3-D with the vertical exaggeration in its name. The work runs
    in a thread worker, so the viewer stays responsive.
    """

    #: Emitted with the :class:`RoughnessResult` when a run has finished.
    finished = Signal(object)
    #: Emitted with the exception when a run failed.
    failed = Signal(object)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.result: RoughnessResult | None = None
        self.worker = None
        self.display_seconds = 0.0  # GUI-thread time spent showing the last result
        self._source_name = ""
        self._hidden_for_3d: list[Any] = []

        self.layer_box = LayerChooser(napari_viewer, accept=_is_height_map)
        self.level_box = QComboBox()
        self.level_box.addItems(LEVEL_METHODS)
        self.level_box.setToolTip("Form removal fitted on measured points")
        self.lambda_s = _spin(1000.0, 3, "S-filter cut-off λs: removes wavelengths shorter than this (noise)")
        self.lambda_c = _spin(100000.0, 1, "L-filter cut-off λc: removes wavelengths longer than this (waviness)")
        self.robust = QCheckBox("robust Gaussian (ISO 16610-71)")
        self.params = QComboBox()
        self.params.setEditable(True)
        self.params.addItems(PARAMETER_CHOICES)
        self.params.setToolTip("Parameters: 'all', families (height, hybrid, spatial, functional, feature) "
                               "or names, comma-separated (Sa,Sq,Sz)")
        self.exaggeration = QDoubleSpinBox()
        self.exaggeration.setRange(0.0, 1e6)
        self.exaggeration.setDecimals(1)
        self.exaggeration.setSpecialValueText("auto")
        self.exaggeration.setPrefix("× ")
        self.exaggeration.setToolTip("Vertical exaggeration of the 3-D view (auto: heights span ~10 % of the longer side)")

        self.outliers_box = QComboBox()
        self.outliers_box.addItems(("off", *OUTLIER_METHODS))
        self.outliers_box.setToolTip("Remove spikes before levelling (surfscan.remove_outliers, k = 6 robust sigmas)")
        self.fill_box = QComboBox()
        self.fill_box.addItems(("off", *FILL_METHODS))
        self.fill_box.setToolTip("Fill non-measured points before levelling (surfscan.fill_nonmeasured)")

        form = QFormLayout()
        form.addRow("Height map", self.layer_box)
        form.addRow("Outliers", self.outliers_box)
        form.addRow("Fill", self.fill_box)
        form.addRow("Levelling", self.level_box)
        form.addRow("λs (S-filter)", self.lambda_s)
        form.addRow("λc (L-filter)", self.lambda_c)
        form.addRow("", self.robust)
        form.addRow("Parameters", self.params)
        form.addRow("3-D exaggeration", self.exaggeration)

        self.run_button = QPushButton("Measure roughness")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, ROUGHNESS_STEPS)
        self.progress.setTextVisible(False)
        self.status = QLabel("Choose a height map and press Measure.")
        self.status.setWordWrap(True)
        self.model = FrameModel(formats={"value": ".5g"})
        self.table = make_table_view(self.model)
        self.profile_panel = ProfilePanel(napari_viewer)
        self.abbott_plot = PlotCanvas()
        self.psd_plot = PlotCanvas()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Parameters")
        self.tabs.addTab(self.profile_panel, "Profile")
        self.tabs.addTab(self.abbott_plot, "Abbott-Firestone")
        self.tabs.addTab(self.psd_plot, "PSD")
        self.copy_button = QPushButton("Copy table")
        self.copy_button.clicked.connect(self.copy_table)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._export_dialog)
        self.view_3d_button = QPushButton("View in 3-D")
        self.view_3d_button.setCheckable(True)
        self.view_3d_button.toggled.connect(self.show_3d)
        for b in (self.copy_button, self.export_button, self.view_3d_button):
            b.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.view_3d_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, stretch=1)
        layout.addLayout(buttons)

    # -- running -------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a run is in progress."""
        return self.worker is not None

    def settings(self) -> RoughnessSettings:
        """The settings shown in the form (0 µm = filter off)."""
        return RoughnessSettings(
            level=self.level_box.currentText(),
            lambda_s=self.lambda_s.value() or None,
            lambda_c=self.lambda_c.value() or None,
            robust=self.robust.isChecked(),
            params=_parameter_selection(self.params.currentText()),
        )

    def cleaning(self) -> Cleaning:
        """Outlier removal and filling chosen in the form ("off" = skip)."""
        outliers, fill = self.outliers_box.currentText(), self.fill_box.currentText()
        return Cleaning(outliers=None if outliers == "off" else outliers, fill=None if fill == "off" else fill)

    def run(self) -> Any:
        """Start a run on the chosen layer in a thread worker; returns the worker (None if nothing to do)."""
        if self.running:
            return self.worker
        layer = self.layer_box.layer()
        if layer is None:
            self.status.setText("No height map: open an X3P, VK4, PLU, ... file first.")
            return None
        try:
            surface = surface_from_layer(layer)
        except Exception as exc:
            self.status.setText(str(exc))
            self.failed.emit(exc)
            return None
        self._source_name = layer.name
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText(f"Measuring {layer.name} …")
        self.worker = start_steps(
            roughness_steps,
            surface,
            self.settings(),
            True,
            self.exaggeration.value() or None,
            self.cleaning(),
            total=ROUGHNESS_STEPS,
            desc=f"Roughness of {layer.name}",
            on_step=self._on_step,
            on_done=self._on_done,
            on_error=self._on_error,
        )
        self.worker.finished.connect(self._on_finished)
        return self.worker

    def _on_step(self, step: str) -> None:
        self.status.setText(f"{self._source_name}: {step} …")
        self.progress.setValue(self.progress.value() + 1)

    def _on_finished(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)

    def _on_error(self, exc: Exception) -> None:
        self.status.setText(f"Failed: {exc}")
        self.progress.setValue(0)
        self.failed.emit(exc)

    def _on_done(self, result: RoughnessResult) -> None:
        self.result = result
        started = time.perf_counter()
        self.progress.setValue(ROUGHNESS_STEPS)
        shown = result.table.assign(unit=result.table["unit"].map(pretty_unit))
        self.model.set_frame(shown)
        fit_columns(self.table)
        self._show_levelled(result)
        if result.curves is not None:
            draw_curves(self.abbott_plot, self.psd_plot, result.curves)
        self.profile_panel.set_result(result, self._source_name)
        if self.view_3d_button.isChecked():  # already in 3-D: show the new surface now
            self._show_mesh(result)
        for b in (self.copy_button, self.export_button, self.view_3d_button):
            b.setEnabled(True)
        self.status.setText(f"{self._source_name}: {result.describe_settings()}; {len(result.table)} parameters")
        self.display_seconds = time.perf_counter() - started
        self.finished.emit(result)

    # -- layers --------------------------------------------------------------
    def _replace_layer(self, role: str, add: Any) -> Any:
        """Remove this widget's previous ``role`` layer for the current source, then ``add(tags)`` a new one.

        ``tags`` (the role and the source layer's name) go into the new
        layer's metadata at creation, so layer choosers know it is a result.
        """
        for old in [lay for lay in self.viewer.layers if lay.metadata.get("surfscan_role") == role
                    and lay.metadata.get("surfscan_source") == self._source_name]:
            self.viewer.layers.remove(old)
        return add({"surfscan_role": role, "surfscan_source": self._source_name})

    def _show_levelled(self, result: RoughnessResult) -> None:
        src = self.viewer.layers[self._source_name] if self._source_name in self.viewer.layers else None
        surf = result.prepared
        meta = dict(src.metadata) if src is not None else {}
        meta.update(kind="height", settings=result.settings.as_dict())
        layer = self._replace_layer("levelled", lambda tags: self.viewer.add_image(
            surf.z,
            name=f"{self._source_name} levelled",
            scale=(surf.dy, surf.dx),
            units=("µm", "µm"),
            translate=tuple(src.translate) if src is not None else (0.0, 0.0),
            colormap=DIVERGING_COLORMAP,
            contrast_limits=result.limits,
            metadata={**meta, **tags},
        ))
        layer.colorbar.visible = True
        self.levelled_layer = layer

    def _show_mesh(self, result: RoughnessResult) -> Any:
        """Add the 3-D Surface layer of ``result`` (replacing the previous one of the same source)."""
        surf = result.prepared
        exag = result.exaggeration
        vertices, faces, values, step = result.mesh
        lo, hi = result.limits
        layer = self._replace_layer("3d", lambda tags: self.viewer.add_surface(
            (vertices, faces, values),
            name=f"{self._source_name} 3-D (vertical ×{exag:g})",
            scale=(exag, surf.dy, surf.dx),
            units=("µm", "µm", "µm"),
            colormap=DIVERGING_COLORMAP,
            contrast_limits=(lo, hi),
            shading="smooth",
            metadata={"vertical_exaggeration": exag, "mesh_step_px": step, **tags},
        ))
        layer.colorbar.visible = True
        self.surface_layer = layer
        return layer

    def show_3d(self, on: bool) -> None:
        """Show the levelled surface in 3-D (a Surface layer, other images hidden), or go back to 2-D.

        The mesh was built by the worker; the Surface layer exists only while
        the 3-D view is on, so the 2-D view keeps no extra axis.
        """
        if self.result is None or self.result.mesh is None:
            self.view_3d_button.setChecked(False)
            return
        if on:
            layer = self._show_mesh(self.result)
            self._hidden_for_3d = [lay for lay in self.viewer.layers
                                   if lay is not layer and lay.visible and isinstance(lay, Image)]
            for lay in self._hidden_for_3d:
                lay.visible = False
            layer.visible = True
            self.viewer.dims.ndisplay = 3
            self.viewer.reset_view()
            self.viewer.camera.angles = (-30.0, 40.0, 150.0)
            self.view_3d_button.setText("Back to 2-D")
        else:
            self.viewer.dims.ndisplay = 2
            layer = getattr(self, "surface_layer", None)
            if layer is not None and layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
            self.surface_layer = None
            for lay in self._hidden_for_3d:
                if lay in self.viewer.layers:
                    lay.visible = True
            self._hidden_for_3d = []
            self.view_3d_button.setText("View in 3-D")

    # -- export --------------------------------------------------------------
    def copy_table(self) -> str:
        """Copy the parameter table (tab-separated, with units) to the clipboard; returns the text."""
        if self.result is None:
            return ""
        text = self.result.to_clipboard_text()
        QApplication.clipboard().setText(text)
        self.status.setText(f"Copied {len(self.result.table)} parameters to the clipboard.")
        return text

    def export_csv(self, path: str | Path) -> Path:
        """Write the parameter table as CSV to ``path``."""
        if self.result is None:
            raise RuntimeError("nothing to export: run a measurement first")
        path = Path(path)
        path.write_text(self.result.to_csv(), encoding="utf-8")
        self.status.setText(f"Saved {path.name}")
        return path

    def _export_dialog(self) -> None:
        if self.result is None:
            return
        default = f"{self._source_name}_roughness.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export parameters", default, "CSV (*.csv)")
        if path:
            self.export_csv(path)

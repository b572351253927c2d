"""Roughness widget: level, filter, read the ISO 25178-2 parameters, see the surface in 3-D."""

from __future__ import annotations

from typing import Any

from napari.layers import Image
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from surfscan.outliers import FILL_METHODS, OUTLIER_METHODS
from surfscan.pipeline import RoughnessSettings

from .._cleaning import Cleaning
from .._layers import DIVERGING_COLORMAP, surface_from_layer
from .._roughness import LEVEL_METHODS, ROUGHNESS_STEPS, RoughnessResult, pretty_unit, roughness_steps
from ._base import MeasurementWidget
from ._common import FrameModel, LayerChooser, fit_columns, make_table_view
from ._parts import button, button_row, combo, progress_bar, spin_box, stack, status_label
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


def _cut_off(maximum: float, decimals: int, tip: str) -> QDoubleSpinBox:
    """A filter cut-off in µm; 0 shows "off"."""
    return spin_box(0.0, maximum, decimals, tip, suffix="µm", special="off")


class RoughnessWidget(MeasurementWidget):
    """Level and filter a height map and show its ISO 25178-2 parameters.

    The levelled (and filtered) surface is added as a layer with a diverging
    colormap, symmetric contrast limits and a colorbar; a Surface layer
    shows it in 3-D with the vertical exaggeration in its name. The work runs
    in a thread worker, so the viewer stays responsive.
    """

    STEPS = ROUGHNESS_STEPS
    NO_LAYER = "No height map: open an X3P, VK4, PLU, ... file first."
    TASK = "Roughness of {}"
    MEASURE = staticmethod(roughness_steps)
    CSV_NAME = "{}_roughness.csv"
    CSV_TITLE = "Export parameters"

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self._hidden_for_3d: list[Any] = []
        self.run_button = button("Measure roughness", self.run)
        self.progress = progress_bar(self.STEPS)
        self.status = status_label("Choose a height map and press Measure.")
        stack(QVBoxLayout(self), self._form(), self.run_button, self.progress, self.status, self._result_tabs(),
              self._result_buttons(), stretch=self.tabs)

    def _form(self) -> QFormLayout:
        """The height map, cleaning, levelling, filters, parameters and 3-D exaggeration."""
        self.layer_box = LayerChooser(self.viewer, accept=_is_height_map)
        self.outliers_box = combo(("off", *OUTLIER_METHODS),
                                  "Remove spikes before levelling (surfscan.remove_outliers, k = 6 robust sigmas)")
        self.fill_box = combo(("off", *FILL_METHODS), "Fill non-measured points before levelling (surfscan.fill_nonmeasured)")
        self.level_box = combo(LEVEL_METHODS, "Form removal fitted on measured points")
        self.lambda_s = _cut_off(1000.0, 3, "S-filter cut-off λs: removes wavelengths shorter than this (noise)")
        self.lambda_c = _cut_off(100000.0, 1, "L-filter cut-off λc: removes wavelengths longer than this (waviness)")
        self.robust = QCheckBox("robust Gaussian (ISO 16610-71)")
        self.params = combo(PARAMETER_CHOICES, "Parameters: 'all', families (height, hybrid, spatial, functional, "
                            "feature) or names, comma-separated (Sa,Sq,Sz)", editable=True)
        self.exaggeration = spin_box(0.0, 1e6, 1, "Vertical exaggeration of the 3-D view (auto: heights span ~10 % "
                                     "of the longer side)", special="auto")
        self.exaggeration.setPrefix("× ")
        form = QFormLayout()
        for label, field in (("Height map", self.layer_box), ("Outliers", self.outliers_box), ("Fill", self.fill_box),
                             ("Levelling", self.level_box), ("λs (S-filter)", self.lambda_s),
                             ("λc (L-filter)", self.lambda_c), ("", self.robust), ("Parameters", self.params),
                             ("3-D exaggeration", self.exaggeration)):
            form.addRow(label, field)
        return form

    def _result_tabs(self) -> QTabWidget:
        """Parameters table, profile along a drawn line, Abbott-Firestone curve, PSD."""
        self.model = FrameModel(formats={"value": ".5g"})
        self.table = make_table_view(self.model)
        self.profile_panel = ProfilePanel(self.viewer)
        self.abbott_plot = PlotCanvas()
        self.psd_plot = PlotCanvas()
        self.tabs = QTabWidget()
        for page, title in ((self.table, "Parameters"), (self.profile_panel, "Profile"),
                            (self.abbott_plot, "Abbott-Firestone"), (self.psd_plot, "PSD")):
            self.tabs.addTab(page, title)
        return self.tabs

    def _result_buttons(self) -> QHBoxLayout:
        """Copy, export and 3-D view, disabled until there is a result."""
        self.copy_button = button("Copy table", self.copy_table, enabled=False)
        self.view_3d_button = button("View in 3-D", enabled=False)
        self.view_3d_button.setCheckable(True)
        self.view_3d_button.toggled.connect(self.show_3d)
        return button_row(self.copy_button, self._export_button(), self.view_3d_button)

    # -- running -------------------------------------------------------------
    def settings(self) -> RoughnessSettings:
        """The settings shown in the form (0 µm = filter off)."""
        return RoughnessSettings(
            level=self.level_box.currentText(),
            lambda_s_um=self.lambda_s.value() or None,
            lambda_c_um=self.lambda_c.value() or None,
            robust=self.robust.isChecked(),
            params=_parameter_selection(self.params.currentText()),
        )

    def cleaning(self) -> Cleaning:
        """Outlier removal and filling chosen in the form ("off" = skip)."""
        outliers, fill = self.outliers_box.currentText(), self.fill_box.currentText()
        return Cleaning(outliers=None if outliers == "off" else outliers, fill=None if fill == "off" else fill)

    def _inputs(self, layer: Any) -> tuple[Any, ...]:
        return surface_from_layer(layer), self.settings(), True, self.exaggeration.value() or None, self.cleaning()

    def _show(self, result: RoughnessResult) -> None:
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

    def _csv_text(self) -> str:
        return self.result.to_csv()

"""Protrusions widget: detect, count and click through protrusions on a height map or SEM image."""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtWidgets import QVBoxLayout, QWidget

from .._layers import object_from_layer
from .._protrusions import (
    PROTRUSION_STEPS,
    SETTING_FIELDS,
    TABLE_COLUMNS,
    ProtrusionResult,
    form_defaults,
    protrusion_remeasure_steps,
    protrusion_steps,
    settings_from_form,
    summary_text,
)
from ._common import FrameModel, LayerChooser
from ._editing import quality_text
from ._labelled import LabelledWidget
from ._parts import big_label, button, progress_bar, stack, status_label

__all__ = ["ProtrusionWidget"]


class ProtrusionWidget(LabelledWidget):
    """Find protrusions with :func:`surfscan.detect_protrusions` and inspect them.

    Adds an editable Labels layer (``features``: one row per label, row 0 =
    background) and a Points layer at the centroids. Selecting a table row
    selects the label (and its point) and centres the view on it; selecting a
    label in the viewer (the label picker, a click, or ``selected_label``)
    selects its row. "Re-measure from labels" recounts from the edited layer;
    "Save labels" writes ``<image>.labels.tif`` beside the image file.
    """

    ANALYSIS = "protrusions"
    STEPS = PROTRUSION_STEPS + 1  # and the display warm-up
    NO_LAYER = "No image: open an SEM image or a height map first."
    BUSY = "Looking for protrusions on {} …"
    TASK = "Protrusions on {}"
    FIELDS = SETTING_FIELDS
    #: Settings shown without opening "More settings".
    MAIN_SETTINGS = ("polarity", "k", "h_abs_um", "min_size_um", "max_size_um")
    MEASURE = staticmethod(protrusion_steps)
    REMEASURE = staticmethod(protrusion_remeasure_steps)

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.points_layer = None
        self.layer_box = LayerChooser(napari_viewer)
        self._settings_form(("Image", self.layer_box), form_defaults())
        self.run_button = button("Find protrusions", self.run)
        self.progress = progress_bar(self.STEPS)
        self.count_label = big_label()
        self.status = status_label("Choose an image and press Find.")
        table = self._row_table(FrameModel(formats={"x_um": ".2f", "y_um": ".2f", "area_um2": ".4g",
                                                    "aspect_ratio": ".2f"}))
        stack(QVBoxLayout(self), self.form, self.run_button, self.progress, self.count_label, self.status, table,
              self._correction_row(), stretch=table)

    # -- settings and running -------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Keyword settings for ``detect_protrusions`` from the form."""
        return settings_from_form(self.form.values())

    def _image(self, layer: Any, settings: dict[str, Any]) -> Any:
        return object_from_layer(layer)

    def _labels_of(self, result: ProtrusionResult) -> np.ndarray:
        return result.protrusions.labels

    def _show(self, result: ProtrusionResult) -> None:
        self._show_labels(result.protrusions.labels, result.features, name=f"{self._source.name} protrusions",
                          opacity=0.45, metadata={"surfscan_role": "protrusions", "summary": result.protrusions.summary})
        self._add_points(result)
        self._show_rows(result.table, TABLE_COLUMNS)
        self.count_label.setText(summary_text(result.protrusions.summary))
        limit = result.protrusions.summary.get("detection_limit") or {}
        statement = limit.get("statement") if isinstance(limit, dict) else str(limit)
        status = f"{self._source.name}: {statement}" if statement else self._source.name
        quality = quality_text(result.protrusions.summary)
        self.status.setText(f"{status}\n{quality}" if quality else status)
        self._enable_correction()

    # -- layers ----------------------------------------------------------------
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

    # -- selection -----------------------------------------------------------------
    def _mark_row(self, row: int) -> None:
        self.points_layer.selected_data = {row}

    def _centre_on(self, row: int) -> None:
        world = np.asarray(self.points_layer.data[row]) * np.asarray(self.points_layer.scale) + np.asarray(
            self.points_layer.translate)
        self.viewer.camera.center = tuple(world)

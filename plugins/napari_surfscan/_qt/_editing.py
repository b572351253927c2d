"""The correction loop shared by the Particles and Protrusions widgets: an editable Labels layer,
"Re-measure from labels" and "Save labels" (``<image>.labels.tif`` beside the source file).

A person corrects the result in the Labels layer with napari's own tools:
paint, erase, fill; split = paint a new label (the "new label" button) over
part of an object; merge = fill one object with another's label. Re-measuring
computes the table and the summary from the layer as it is now
(:func:`surfscan.measure_particles_from_labels`,
:func:`surfscan.measure_protrusions_from_labels`) in a worker thread and keeps
the same layer, so the edits, the tool and the table <-> label selection stay.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtWidgets import QHBoxLayout, QPushButton, QWidget

from surfscan import SurfscanError
from surfscan.labels_io import labels_analyses, labels_path, load_labels, save_labels

__all__ = ["LabelCorrection", "quality_text"]


def quality_text(summary: dict[str, Any]) -> str:
    """``"⚠ unreliable: <reasons> …"`` when the result's quality block says so, else ``""``."""
    q = summary.get("quality")
    if not isinstance(q, dict) or q.get("reliable") is not False:
        return ""
    reasons = "; ".join(map(str, q.get("reasons") or [])) or "no reason given"
    return f"⚠ unreliable: {reasons}. Correct the labels and re-measure."


class LabelCorrection:
    """Mixin for a :class:`~._base.MeasurementWidget` that shows its result as a Labels layer (put it first).

    The widget provides ``ANALYSIS`` ("particles" or "protrusions"),
    ``self._on_label_selected``, ``self._on_click`` and
    ``_remeasure_steps(labels)`` (a step generator returning the widget's
    result type); the base provides the worker, progress and status.
    ``self._analysed`` is the image object last measured.
    """

    ANALYSIS = ""
    labels_layer: Any = None
    _analysed: Any = None
    _remeasuring = False

    def _correction_row(self) -> QWidget:
        """The two buttons, disabled until a first result is shown."""
        self.remeasure_button = QPushButton("Re-measure from labels")
        self.remeasure_button.setToolTip("Recompute the table and the summary from the Labels layer as edited "
                                         "(paint, erase, fill; split: paint a new label over part; merge: fill one "
                                         "object with another's label)")
        self.remeasure_button.clicked.connect(self.remeasure)
        self.save_labels_button = QPushButton("Save labels")
        self.save_labels_button.setToolTip("Write the labels beside the image as <image>.labels.tif; "
                                           "surfscan batch then measures the image from them")
        self.save_labels_button.clicked.connect(lambda: self.save_labels())
        self.load_labels_button = QPushButton("Load saved labels")
        self.load_labels_button.setToolTip("Replace the layer's labels by those saved in <image>.labels.tif "
                                           "and measure from them (what surfscan batch does)")
        self.load_labels_button.clicked.connect(self.load_saved_labels)
        buttons = (self.remeasure_button, self.save_labels_button, self.load_labels_button)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for b in buttons:
            b.setEnabled(False)
            layout.addWidget(b)
        return row

    # -- the layer ---------------------------------------------------------------
    def _show_labels(self, labels: np.ndarray, features: Any, **kwargs: Any) -> Any:
        """Put a result's labels on screen: a new editable layer after a run, the same layer after re-measuring.

        ``kwargs`` are ``add_labels`` arguments (name, colormap, opacity,
        metadata); the layer is placed like the source image.
        """
        layer = self.labels_layer
        if self._remeasuring and layer is not None and layer in self.viewer.layers:
            if not np.array_equal(layer.data, labels):  # the measurement changed the labels (relabel, border)
                layer.data = labels.copy()
            layer.features = features
            if "colormap" in kwargs:
                layer.colormap = kwargs["colormap"]
            layer.metadata = {**layer.metadata, **kwargs.get("metadata", {})}
            layer.refresh()
            return layer
        if layer is not None and layer in self.viewer.layers:
            self.viewer.layers.remove(layer)
        src = self._source
        # a copy, so painting never changes the library's result; int32 leaves room for new label values
        self.labels_layer = self.viewer.add_labels(
            np.array(labels, dtype=np.int32), features=features, scale=tuple(src.scale),
            translate=tuple(src.translate), units=tuple(src.units), **kwargs)
        self.labels_layer.editable = True
        self.labels_layer.events.selected_label.connect(self._on_label_selected)
        self.labels_layer.mouse_drag_callbacks.append(self._on_click)
        self.viewer.layers.selection.active = self.labels_layer
        return self.labels_layer

    def _enable_correction(self) -> None:
        has_layer = self.labels_layer is not None
        image = self.image_file()
        self.remeasure_button.setEnabled(has_layer)
        self.save_labels_button.setEnabled(has_layer and image is not None)
        try:
            saved = image is not None and self.ANALYSIS in labels_analyses(image)
        except SurfscanError:  # an unreadable labels file: loading it says why
            saved = image is not None and labels_path(image).is_file()
        self.load_labels_button.setEnabled(has_layer and saved)

    # -- re-measuring --------------------------------------------------------------
    def remeasure(self) -> Any:
        """Measure again from the Labels layer as edited, in a thread worker; returns the worker (or None)."""
        if self.worker is not None:
            return self.worker
        if self.labels_layer is None or self.labels_layer not in self.viewer.layers or self._analysed is None:
            self.status.setText("Nothing to re-measure: measure first, then edit the Labels layer.")
            return None
        labels = np.array(self.labels_layer.data, copy=True)
        self._remeasuring = True
        self.status.setText(f"Re-measuring {self._source.name} from the edited labels …")
        return self._start(self._remeasure_steps, labels, total=self.STEPS,
                           desc=f"{self.ANALYSIS.capitalize()} from labels on {self._source.name}")

    def _set_busy(self, busy: bool) -> None:
        super()._set_busy(busy)
        if busy:
            self.remeasure_button.setEnabled(False)  # _enable_correction sets it again when the run ends

    def _remeasure_steps(self, labels: np.ndarray) -> Generator[str, None, Any]:
        """The widget's step generator measuring ``labels`` (a generator function: napari's worker needs one)."""
        raise NotImplementedError
        yield ""  # pragma: no cover - makes this a generator function

    def _on_finished(self) -> None:
        super()._on_finished()
        self._remeasuring = False
        self._enable_correction()

    def load_saved_labels(self) -> Any:
        """Show the labels saved beside the image in the layer and re-measure from them; returns the worker."""
        image = self.image_file()
        if self.labels_layer is None or image is None or self.worker is not None:
            return self.worker
        try:
            labels = load_labels(image, self.ANALYSIS)
            if labels is None:
                raise SurfscanError(f"{labels_path(image).name} holds no {self.ANALYSIS} labels")
            if labels.shape != self.labels_layer.data.shape:
                raise SurfscanError(f"the saved labels have shape {labels.shape}, the image "
                                    f"{self.labels_layer.data.shape}")
        except SurfscanError as exc:  # unreadable file, no page for this analysis, other shape
            self.status.setText(f"Cannot load the saved labels: {exc}")
            self.failed.emit(exc)
            return None
        self.labels_layer.data = labels
        return self.remeasure()

    # -- saving --------------------------------------------------------------------
    def image_file(self) -> Path | None:
        """The file the measured image came from, or None (made in Python, pasted, generated)."""
        src = self._source.metadata.get("source_file") if self._source is not None else None
        return Path(src) if src and Path(src).is_file() else None

    def save_labels(self, image: str | Path | None = None) -> Path | None:
        """Write the layer's labels beside the image file (or ``image``) as ``<image>.labels.tif``."""
        image = Path(image) if image is not None else self.image_file()
        if self.labels_layer is None or image is None:
            self.status.setText("Cannot save labels: the image did not come from a file.")
            return None
        try:
            path = save_labels(image, np.asarray(self.labels_layer.data), self.ANALYSIS)
        except SurfscanError as exc:  # not an integer image, or the folder cannot be written
            self.status.setText(f"Saving labels failed: {exc}")
            self.failed.emit(exc)
            return None
        self.status.setText(f"Saved {self.ANALYSIS} labels to {labels_path(image).name}")
        return path

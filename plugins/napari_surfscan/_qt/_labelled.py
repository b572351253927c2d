"""The base of the docks that show one table row per object of a Labels layer (Particles, Protrusions).

It adds to :class:`~._base.MeasurementWidget` the settings form, the
correction loop (:class:`~._editing.LabelCorrection`) and the table <-> label
selection: selecting a row selects its label and centres the view on it;
selecting a label (the picker, a click, ``selected_label``) selects its row.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from napari.layers import Labels
from qtpy.QtCore import QItemSelectionModel
from qtpy.QtWidgets import QTableView, QWidget

from ._base import MeasurementWidget
from ._common import FrameModel, fit_columns, make_table_view
from ._editing import LabelCorrection
from ._parts import SettingsForm

__all__ = ["LabelledWidget"]


class LabelledWidget(LabelCorrection, MeasurementWidget):
    """A measurement shown as an editable Labels layer and a table with one row per label.

    Class attributes a widget sets, besides those of the base: ``FIELDS``
    (its ``SETTING_FIELDS``), ``MAIN_SETTINGS`` (fields shown without
    opening "More settings"), ``MEASURE`` and ``REMEASURE`` (static methods: the step
    generators ``(image, settings)`` and ``(image, labels, settings)``),
    ``WARM_UP_COLORMAP`` (the colormap kind of its Labels layer). It
    implements ``settings()``, ``_image(layer, settings)`` and ``_show``.
    """

    FIELDS: Sequence[Any] = ()
    MAIN_SETTINGS: Sequence[str] = ()
    MEASURE: Any = None
    REMEASURE: Any = None
    WARM_UP_COLORMAP: dict[Any, str] | None = None

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.labels_layer = None
        self._syncing = False

    # -- parts ---------------------------------------------------------------------------
    def _settings_form(self, first: tuple[str, QWidget], defaults: dict[str, Any]) -> SettingsForm:
        """The settings form, with ``first`` (the layer chooser's row) above the fields."""
        self.form = SettingsForm(self.FIELDS, defaults, self.MAIN_SETTINGS, first=first)
        self.fields, self.more = self.form.fields, self.form.more
        return self.form

    def _row_table(self, model: FrameModel) -> QTableView:
        """The table of objects, one row per label, selecting its label when a row is selected."""
        self.model = model
        self.table = make_table_view(model)
        self.table.selectionModel().selectionChanged.connect(self._on_row_selected)
        return self.table

    def settings(self) -> dict[str, Any]:
        """Keyword settings of the measurement from the form."""
        raise NotImplementedError

    def set_setting(self, name: str, value: Any) -> None:
        """Set one form field (for scripts and tests)."""
        self.form.set_value(name, value)

    # -- running -------------------------------------------------------------------------------
    def _image(self, layer: Any, settings: dict[str, Any]) -> Any:
        """The library object to measure from ``layer``; raise SurfscanError when it cannot be measured."""
        raise NotImplementedError

    def _inputs(self, layer: Any) -> tuple[Any, ...]:
        settings = self.settings()
        image = self._image(layer, settings)
        self._analysed, self._remeasuring = image, False
        return image, settings

    def _steps(self, image: Any, settings: dict[str, Any]) -> Generator[str, None, Any]:
        """``MEASURE``, then one throw-away Labels layer of the result's dtype, in the worker thread.

        napari compiles its label colour mapping the first time a Labels layer
        of a dtype is made (seconds); doing it here keeps it off the GUI thread.
        """
        result = yield from self.MEASURE(image, settings)
        yield "preparing the display"
        kwargs = {} if self.WARM_UP_COLORMAP is None else {"colormap": self.WARM_UP_COLORMAP}
        try:
            Labels(np.zeros((2, 2), dtype=self._labels_of(result).dtype), **kwargs)
        except (TypeError, ValueError):  # only a warm-up: the real layer, made on the GUI thread, says what is wrong
            pass
        return result

    def _remeasure_steps(self, labels: np.ndarray) -> Generator[str, None, Any]:
        """``REMEASURE`` of the image last measured with the edited ``labels``."""
        return (yield from self.REMEASURE(self._analysed, labels, self.settings()))

    def _labels_of(self, result: Any) -> np.ndarray:
        """The label image of a result."""
        raise NotImplementedError

    def _show_rows(self, table: pd.DataFrame, columns: dict[str, str]) -> None:
        """Show the result table's ``columns`` (those it has) with their header texts."""
        shown = [c for c in columns if c in table.columns]
        self.model.set_frame(table[shown], columns)
        fit_columns(self.table)

    # -- table <-> labels ----------------------------------------------------------------------
    @contextmanager
    def _sync(self) -> Iterator[None]:
        """Selection changes made inside do not echo back."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _row_of_label(self, label: int) -> int | None:
        if self.result is None:
            return None
        rows = np.flatnonzero(self.result.table["id"].to_numpy() == label)
        return int(rows[0]) if rows.size else None

    def select_row(self, row: int) -> None:
        """Select table row ``row`` (and, through the selection signal, its label)."""
        sel = self.table.selectionModel()
        sel.select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                   | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(self.model.index(row, 0))

    def selected_row(self) -> int | None:
        """The selected table row, or None."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _mark_row(self, row: int) -> None:
        """Mark the object of table row ``row`` in the widget's other layers (none by default)."""

    def _centre_on(self, row: int) -> None:
        """Centre the view on the object of table row ``row``."""
        raise NotImplementedError

    def _on_row_selected(self, *args: Any) -> None:
        row = self.selected_row()
        if self._syncing or row is None or self.result is None or self.labels_layer is None:
            return
        with self._sync():
            self.labels_layer.selected_label = int(self.result.table["id"].iloc[row])
            self._mark_row(row)
            self._centre_on(row)

    def _on_label_selected(self, event: Any = None) -> None:
        if self._syncing or self.labels_layer is None:
            return
        row = self._row_of_label(int(self.labels_layer.selected_label))
        with self._sync():
            if row is None:
                self.table.clearSelection()
            else:
                self.select_row(row)
                self._mark_row(row)

    def _on_click(self, layer: Any, event: Any) -> None:
        """A click on an object in pan/zoom mode selects it."""
        if layer.mode != "pan_zoom":
            return
        value = layer.get_value(event.position, view_direction=event.view_direction,
                                dims_displayed=event.dims_displayed, world=True)
        if value:
            layer.selected_label = int(value)

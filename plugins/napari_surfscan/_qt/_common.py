"""Small Qt pieces shared by the widgets: a layer chooser, a table view of a DataFrame, a worker runner."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pandas as pd
from napari.layers import Image
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableWidget, QTableWidgetItem

__all__ = ["LayerChooser", "fill_table", "start_steps"]


class LayerChooser(QComboBox):
    """A combo box of the viewer's 2-D Image layers, kept in step with the layer list.

    Parameters
    ----------
    viewer : napari.Viewer
    accept : callable, optional
        ``accept(layer) -> bool`` narrows the choice (for example height maps only).
    """

    def __init__(self, viewer: Any, accept: Callable[[Any], bool] | None = None, parent=None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._accept = accept or (lambda layer: True)
        self.setToolTip("Image layer to analyse")
        for name in ("inserted", "removed", "moved", "reordered"):
            getattr(viewer.layers.events, name).connect(self.refresh)
        viewer.layers.selection.events.active.connect(self._follow_active)
        self.refresh()

    def _candidates(self) -> list[Any]:
        out = []
        for layer in self._viewer.layers:
            if not isinstance(layer, Image) or not self._accept(layer):
                continue
            ndim = layer.data.ndim - (1 if getattr(layer, "rgb", False) else 0)
            if ndim == 2:
                out.append(layer)
        return out

    def refresh(self, event: Any = None) -> None:
        """Rebuild the list, keeping the current choice when it still exists."""
        current = self.currentText()
        layers = self._candidates()
        for layer in layers:  # follow renames
            try:
                layer.events.name.connect(self.refresh, unique=True)
            except TypeError:
                layer.events.name.connect(self.refresh)
        self.blockSignals(True)
        self.clear()
        self.addItems([layer.name for layer in layers])
        if current in [layer.name for layer in layers]:
            self.setCurrentText(current)
        self.blockSignals(False)

    def _follow_active(self, event: Any = None) -> None:
        layer = self._viewer.layers.selection.active
        if layer is None or "surfscan_role" in layer.metadata:  # a result layer a widget just added
            return
        if layer in self._candidates():
            self.setCurrentText(layer.name)

    def layer(self) -> Any | None:
        """The chosen layer, or None."""
        name = self.currentText()
        return self._viewer.layers[name] if name and name in self._viewer.layers else None


def fill_table(table: QTableWidget, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> None:
    """Show a DataFrame in a read-only QTableWidget; numbers formatted with ``formats[column]``.

    Every cell stores its row's index (``Qt.UserRole``) so a selection can be
    mapped back to the frame.
    """
    formats = formats or {}
    table.setSortingEnabled(False)
    table.clear()
    table.setRowCount(len(frame))
    table.setColumnCount(len(frame.columns))
    table.setHorizontalHeaderLabels([str(c) for c in frame.columns])
    for r, (key, row) in enumerate(frame.iterrows()):
        for c, col in enumerate(frame.columns):
            value = row[col]
            if isinstance(value, float | np.floating):
                text = "" if np.isnan(value) else format(value, formats.get(col, ".4g"))
            else:
                text = str(value)
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if isinstance(value, int | float | np.number) and not isinstance(value, bool):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)


def start_steps(
    steps: Callable[..., Generator[Any, None, Any]],
    *args: Any,
    total: int,
    desc: str,
    on_step: Callable[[Any], None],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None],
    **kwargs: Any,
) -> GeneratorWorker:
    """Run a step generator in a napari thread worker with a progress bar.

    ``on_step`` gets each yielded step, ``on_done`` the generator's return
    value, ``on_error`` any exception (also shown as a napari notification).
    The worker is started and returned.
    """
    worker = create_worker(steps, *args, _progress={"total": total, "desc": desc}, _ignore_errors=True, **kwargs)
    worker.yielded.connect(on_step)
    worker.returned.connect(on_done)

    def _errored(exc: Exception) -> None:
        show_error(f"{desc}: {exc}")
        on_error(exc)

    worker.errored.connect(_errored)
    worker.start()
    return worker

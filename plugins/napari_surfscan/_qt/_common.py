"""Small Qt pieces shared by the widgets: layer choosers, a table view of a DataFrame, a worker runner."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pandas as pd
from napari.layers import Image, Labels, Shapes
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QAbstractItemView, QComboBox, QTableView

__all__ = ["LayerChooser", "RegionChooser", "WHOLE_IMAGE", "FrameModel", "make_table_view", "fit_columns", "start_steps"]


class _LayerCombo(QComboBox):
    """A combo box of layer names kept in step with the viewer's layer list."""

    def __init__(self, viewer: Any, tip: str, parent=None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self.setToolTip(tip)
        for name in ("inserted", "removed", "moved", "reordered"):
            getattr(viewer.layers.events, name).connect(self.refresh)

    def _names(self) -> list[str]:
        """The names offered, in order."""
        raise NotImplementedError

    def refresh(self, event: Any = None) -> None:
        """Rebuild the list, keeping the current choice when it still exists."""
        current = self.currentText()
        names = self._names()
        self.blockSignals(True)
        self.clear()
        self.addItems(names)
        if current in names:
            self.setCurrentText(current)
        self.blockSignals(False)

    def layer(self) -> Any | None:
        """The chosen layer, or None."""
        name = self.currentText()
        return self._viewer.layers[name] if name and name in self._viewer.layers else None


class LayerChooser(_LayerCombo):
    """A combo box of the viewer's 2-D Image layers, kept in step with the layer list.

    Parameters
    ----------
    viewer : napari.Viewer
    accept : callable, optional
        ``accept(layer) -> bool`` narrows the choice (for example height maps only).
    """

    def __init__(self, viewer: Any, accept: Callable[[Any], bool] | None = None, parent=None) -> None:
        super().__init__(viewer, "Image layer to analyse", parent)
        self._accept = accept or (lambda layer: True)
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

    def _names(self) -> list[str]:
        layers = self._candidates()
        for layer in layers:  # follow renames
            try:
                layer.events.name.connect(self.refresh, unique=True)
            except TypeError:
                layer.events.name.connect(self.refresh)
        return [layer.name for layer in layers]

    def _follow_active(self, event: Any = None) -> None:
        layer = self._viewer.layers.selection.active
        if layer is None or "surfscan_role" in layer.metadata:  # a result layer a widget just added
            return
        if layer in self._candidates():
            self.setCurrentText(layer.name)


#: The region choice that means no region layer.
WHOLE_IMAGE = "whole image"


class RegionChooser(_LayerCombo):
    """"whole image", then the viewer's Shapes and Labels layers (result layers left out)."""

    def __init__(self, viewer: Any, parent=None) -> None:
        super().__init__(viewer, "The coating only: a rectangle (or polygon) in a Shapes layer, or a painted Labels mask",
                         parent)
        self.refresh()

    def _names(self) -> list[str]:
        return [WHOLE_IMAGE] + [lay.name for lay in self._viewer.layers
                                if isinstance(lay, Shapes | Labels) and "surfscan_role" not in lay.metadata]

    def layer(self) -> Any | None:
        """The chosen region layer, or None for the whole image."""
        return None if self.currentText() == WHOLE_IMAGE else super().layer()


class FrameModel(QAbstractTableModel):
    """A read-only Qt table model over a pandas DataFrame (fast for thousands of rows).

    Numbers are shown with ``formats[column]`` (default ``.4g``); NaN is shown
    empty; ``colors[column][text]`` colours a cell's text (verdicts). ``frame`` keeps the DataFrame; row ``r`` of the view is row ``r``
    of the frame.
    """

    def __init__(self, frame: pd.DataFrame | None = None, formats: dict[str, str] | None = None,
                 colors: dict[str, dict[str, str]] | None = None, parent=None):
        super().__init__(parent)
        self.formats = formats or {}
        self.colors = colors or {}
        self.headers: dict[str, str] = {}
        self.set_frame(frame if frame is not None else pd.DataFrame())

    def set_frame(self, frame: pd.DataFrame, headers: dict[str, str] | None = None) -> None:
        """Show a new DataFrame; ``headers`` maps column names to header text."""
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True)
        self.headers = headers or {}
        self._cols = [frame[c].to_numpy() for c in frame.columns]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.frame.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._cols[index.column()][index.row()]
        numeric = isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, float | np.floating):
                if np.isnan(value):
                    return ""
                return format(value, self.formats.get(self.frame.columns[index.column()], ".4g"))
            if value is None or (isinstance(value, float) and np.isnan(value)):
                return ""
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.colors.get(self.frame.columns[index.column()], {}).get(str(value))
            return QColor(color) if color else None
        if role == Qt.ItemDataRole.TextAlignmentRole and numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            name = str(self.frame.columns[section])
            return self.headers.get(name, name)
        return str(section + 1)


def make_table_view(model: FrameModel, single: bool = True) -> QTableView:
    """A read-only table view of ``model`` that selects whole rows."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection if single
                          else QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(22)
    return view


def fit_columns(view: QTableView) -> None:
    """Size columns to their contents (call after the model changed)."""
    view.resizeColumnsToContents()
    view.horizontalHeader().setStretchLastSection(True)


def start_steps(
    steps: Callable[..., Generator[Any, None, Any]],
    *args: Any,
    total: int,
    desc: str,
    on_step: Callable[[Any], None],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None],
    on_finished: Callable[[], None] | None = None,
    start: bool = True,
    **kwargs: Any,
) -> GeneratorWorker:
    """Run a step generator in a napari thread worker with a progress bar.

    ``on_step`` gets each yielded step, ``on_done`` the generator's return
    value, ``on_error`` any exception (also shown as a napari notification),
    ``on_finished`` the end of the run either way. Every handler is connected
    before the worker starts: a short run may end before this function
    returns, and a signal emitted before its connection is lost. The worker
    is started (unless ``start`` is False: the caller keeps it, then calls
    ``worker.start()``) and returned.
    """
    worker = create_worker(steps, *args, _progress={"total": total, "desc": desc}, _ignore_errors=True, **kwargs)
    worker.yielded.connect(on_step)
    worker.returned.connect(on_done)
    if on_finished is not None:
        worker.finished.connect(on_finished)

    def _errored(exc: Exception) -> None:
        show_error(f"{desc}: {exc}")
        on_error(exc)

    worker.errored.connect(_errored)
    if start:
        worker.start()
    return worker

"""The base of the measurement docks: one run at a time in a thread worker, progress, failures, CSV export.

A widget says what it measures and how it shows the result; the base runs
it. It provides ``run()`` (take the chosen layer, start the worker),
``running``, the ``finished``/``failed`` signals, the progress bar and
status line updates, and ``export_csv``. The widget builds its parts
(``self.layer_box``, ``self.run_button``, ``self.progress``,
``self.status``) and implements :meth:`MeasurementWidget._inputs` and :meth:`MeasurementWidget._show`,
and names its step generator in ``MEASURE``.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QFileDialog, QLabel, QProgressBar, QPushButton, QWidget

from surfscan import SurfscanError

from ._common import start_steps
from ._parts import button

__all__ = ["MeasurementWidget"]


class MeasurementWidget(QWidget):
    """A dock that measures the chosen layer in a thread worker and shows the result.

    Class attributes a widget sets: ``STEPS`` (progress steps of a run),
    ``NO_LAYER`` (the status when no layer is chosen), ``BUSY`` and ``TASK``
    (the status while running and the progress bar's title, with ``{}`` for
    the layer name), ``CSV_NAME`` and ``CSV_TITLE`` (the export's default
    file name with ``{}`` for the layer name, and the dialog's title).
    """

    #: Emitted with the result when a run has finished.
    finished = Signal(object)
    #: Emitted with the exception when a run failed.
    failed = Signal(object)

    STEPS = 1
    NO_LAYER = "No image: open one first."
    BUSY = "Measuring {} …"
    TASK = "Measuring {}"
    CSV_NAME = "{}.csv"
    CSV_TITLE = "Export table"
    #: The step generator of a run (a static method), called with what ``_inputs`` returns.
    MEASURE: Any = None

    layer_box: Any  # a LayerChooser
    run_button: QPushButton
    progress: QProgressBar
    status: QLabel

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = None
        self.result: Any = None
        self.display_seconds = 0.0  # GUI-thread time spent showing the last result
        self._source: Any = None  # the layer measured
        self._source_name = ""  # its name when the run started (result layers are named after it)

    # -- what a widget provides ------------------------------------------------------
    def _inputs(self, layer: Any) -> tuple[Any, ...]:
        """The step generator's arguments for ``layer``; raise :class:`SurfscanError` when it cannot be measured."""
        raise NotImplementedError

    def _steps(self, *inputs: Any) -> Generator[str, None, Any]:
        """The measurement as a step generator (napari's worker needs a generator function): ``MEASURE``."""
        return (yield from self.MEASURE(*inputs))

    def _show(self, result: Any) -> None:
        """Show a finished result in the widget and the viewer."""
        raise NotImplementedError

    def _csv_text(self) -> str:
        """The result as CSV text (for widgets with an export button)."""
        raise NotImplementedError

    # -- running -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a run is in progress."""
        return self.worker is not None

    def run(self) -> Any:
        """Start a run on the chosen layer in a thread worker; returns the worker (None if nothing to do)."""
        if self.running:
            return self.worker
        layer = self.layer_box.layer()
        if layer is None:
            self.status.setText(self.NO_LAYER)
            return None
        try:
            inputs = self._inputs(layer)
        except SurfscanError as exc:  # the layer cannot be measured (no calibration, not 2-D, ...): say why
            self._fail(exc, str(exc))
            return None
        self._source, self._source_name = layer, layer.name
        self.status.setText(self.BUSY.format(layer.name))
        return self._start(self._steps, *inputs, total=self.STEPS, desc=self.TASK.format(layer.name))

    def _start(self, steps: Any, *args: Any, total: int, desc: str, **kwargs: Any) -> Any:
        """Run the step generator ``steps(*args, **kwargs)`` in a worker with the widget's progress and status."""
        self._set_busy(True)
        self.progress.setValue(0)
        # kept before it starts, so that the end of even the shortest run finds it (and clears it)
        self.worker = worker = start_steps(steps, *args, total=total, desc=desc, on_step=self._on_step,
                                           on_done=self._on_done, on_error=self._on_error,
                                           on_finished=self._on_finished, start=False, **kwargs)
        worker.start()
        return worker

    def _set_busy(self, busy: bool) -> None:
        """Buttons while a run is in progress (by default the run button is disabled)."""
        self.run_button.setEnabled(not busy)

    def _on_step(self, step: str) -> None:
        self.progress.setValue(self.progress.value() + 1)
        self.status.setText(f"{self._source_name}: {step} …")

    def _on_finished(self) -> None:
        self.worker = None
        self._set_busy(False)

    def _on_error(self, exc: Exception) -> None:
        self.progress.setValue(0)
        self._fail(exc, f"Failed: {exc}")

    def _fail(self, exc: Exception, text: str) -> None:
        """Show a failure in the status line and emit ``failed``."""
        self.status.setText(text)
        self.failed.emit(exc)

    def _on_done(self, result: Any) -> None:
        self.result = result
        started = time.perf_counter()
        self.progress.setValue(self.progress.maximum())
        self._show(result)
        self.display_seconds = time.perf_counter() - started
        self.finished.emit(result)

    # -- export -------------------------------------------------------------------------
    def _export_button(self) -> QPushButton:
        """The "Export CSV…" button, disabled until the widget enables it with a result."""
        self.export_button = button("Export CSV…", self._export_dialog, enabled=False)
        return self.export_button

    def export_csv(self, path: str | Path) -> Path:
        """Write the result table as CSV to ``path``."""
        if self.result is None:
            raise RuntimeError("nothing to export: run a measurement first")
        path = Path(path)
        path.write_text(self._csv_text(), encoding="utf-8")
        self.status.setText(f"Saved {path.name}")
        return path

    def _export_dialog(self) -> None:
        if self.result is None:
            return
        default = self.CSV_NAME.format(self._source_name)
        path, _ = QFileDialog.getSaveFileName(self, self.CSV_TITLE, default, "CSV (*.csv)")
        if path:
            self.export_csv(path)

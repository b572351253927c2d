"""Batch widget: choose a folder and a spec, run, watch progress, read the group verdicts, open the report."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from napari.qt.threading import create_worker
from napari.utils.notifications import show_error
from qtpy.QtCore import QUrl, Signal
from qtpy.QtGui import QDesktopServices
from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .._batch import BatchJob, BatchProgress, BatchResult, batch_steps, make_report
from .._roughness import LEVEL_METHODS
from ._base import MeasurementWidget
from ._common import FrameModel, fit_columns, make_table_view
from ._parts import button, button_row, combo, form_rows, stack, status_label

__all__ = ["BatchWidget"]

_VERDICT_COLORS = {"verdict": {"pass": "#4caf50", "fail": "#ef5350", "error": "#ffa726"}}


def _path_field(placeholder: str, browse: Any) -> tuple[QLineEdit, QHBoxLayout]:
    """A path typed in, with a "…" button that browses for it."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    row = QHBoxLayout()
    row.addWidget(edit, stretch=1)
    row.addWidget(button("…", browse))
    return edit, row


def _check(text: str, checked: bool = True) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(checked)
    return box


class BatchWidget(MeasurementWidget):
    """Run ``surfscan batch`` over a folder and show the group table with verdicts.

    The batch runs in its own process, watched from a thread worker, so the
    viewer stays responsive; Stop ends it (running it again resumes).
    """

    report_ready = Signal(object)
    TASK = "surfscan batch"

    def __init__(self, napari_viewer: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.report_path: Path | None = None
        self.open_reports = True
        self._cancel = threading.Event()
        self.run_button = button("Run batch", self._run_or_stop)
        self.progress = QProgressBar()
        self.progress.setFormat("%v/%m files")
        self.status = status_label("Choose a folder and press Run.")
        self.verdicts = QLabel("")
        self.model = FrameModel(colors=_VERDICT_COLORS)
        self.table = make_table_view(self.model)
        stack(QVBoxLayout(self), self._form(), self.run_button, self.progress, self.status, self.verdicts, self.table,
              self._output_buttons(), stretch=self.table)

    def _form(self) -> QFormLayout:
        """Folder, spec, output folder, grouping, levelling, what to measure, workers."""
        self.folder, folder_row = _path_field("folder of height maps and SEM images", self._browse_folder)
        self.folder.textChanged.connect(self._suggest_out)
        self.spec, spec_row = _path_field("acceptance spec (.toml), optional", self._browse_spec)
        self.out, out_row = _path_field("output folder", self._browse_out)
        self.recursive = _check("include sub-folders")
        self.group_by = combo(["parent", "file"], "samples: files in one folder ('parent'), each file, or regex:PATTERN",
                              editable=True)
        self.level = combo(LEVEL_METHODS)
        self.roughness = _check("roughness")
        self.defects = _check("protrusions")
        self.workers = QSpinBox()
        self.workers.setRange(0, 256)
        self.workers.setSpecialValueText("all cores")
        return form_rows((("Folder", folder_row), ("Spec", spec_row), ("Output", out_row), ("", self.recursive),
                          ("Group by", self.group_by), ("Levelling", self.level),
                          ("Measure", button_row(self.roughness, self.defects)), ("Workers", self.workers)))

    def _output_buttons(self) -> QHBoxLayout:
        """Open the report and the output folder, enabled once a batch has finished."""
        self.report_button = button("Open report", self.open_report, enabled=False)
        self.folder_button = button("Open output folder", self._open_out, enabled=False)
        return button_row(self.report_button, self.folder_button)

    # -- form ---------------------------------------------------------------------
    def _suggest_out(self, text: str) -> None:
        if text and not self.out.isModified():
            self.out.setText(str(Path(text) / "surfscan-results"))

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder to analyse", self.folder.text())
        if path:
            self.folder.setText(path)

    def _browse_spec(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Acceptance spec", self.spec.text(), "Spec (*.toml)")
        if path:
            self.spec.setText(path)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder", self.out.text())
        if path:
            self.out.setText(path)
            self.out.setModified(True)

    def job(self) -> BatchJob:
        """The batch the form describes."""
        folder = self.folder.text().strip()
        return BatchJob(
            folders=(folder,),
            out=self.out.text().strip() or str(Path(folder) / "surfscan-results"),
            spec=self.spec.text().strip() or None,
            recursive=self.recursive.isChecked(),
            group_by=self.group_by.currentText().strip() or "parent",
            workers=self.workers.value() or None,
            roughness=self.roughness.isChecked(),
            defects=self.defects.isChecked(),
            level=self.level.currentText(),
        )

    # -- running --------------------------------------------------------------------
    def _run_or_stop(self) -> None:
        if self.running:
            self.stop()
        else:
            self.run()

    def stop(self) -> None:
        """Stop the running batch (it resumes where it stopped when run again)."""
        self._cancel.set()
        self.status.setText("Stopping …")

    def run(self) -> Any:
        """Start the batch in a thread worker; returns the worker (None when the form is incomplete)."""
        if self.running:
            return self.worker
        job = self.job()
        if not job.folders[0] or not Path(job.folders[0]).is_dir():
            self.status.setText("Choose an existing folder first.")
            return None
        if job.spec and not Path(job.spec).is_file():
            self.status.setText(f"No spec file at {job.spec}.")
            return None
        self._cancel.clear()
        self.result = None
        self.report_path = None
        self.progress.setRange(0, 0)
        self.status.setText(f"Starting the batch on {job.folders[0]} …")
        return self._start(batch_steps, job, cancel=self._cancel, total=0, desc=self.TASK)

    def _set_busy(self, busy: bool) -> None:
        self.run_button.setText("Stop" if busy else "Run batch")
        if busy:
            self.report_button.setEnabled(False)

    def _on_step(self, p: BatchProgress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.status.setText(p.text())

    def _on_error(self, exc: Exception) -> None:
        self.progress.setRange(0, 1)
        super()._on_error(exc)

    def _show(self, result: BatchResult) -> None:
        groups = result.groups
        self.model.set_frame(groups)
        fit_columns(self.table)
        files = result.files
        n_err = int((files["status"] == "error").sum()) if "status" in files else 0
        verdict = groups["verdict"].astype(str) if "verdict" in groups else None
        if verdict is not None and (verdict != "").any():
            self.verdicts.setText(f"{len(groups)} groups: {int((verdict == 'pass').sum())} pass, "
                                  f"{int((verdict == 'fail').sum())} fail")
        else:
            self.verdicts.setText(f"{len(groups)} groups (no spec: no verdicts)")
        self.status.setText(f"{len(files)} files, {n_err} errors; tables in {result.job.out}")
        self.progress.setRange(0, max(1, len(files)))
        self.progress.setValue(len(files))
        for b in (self.report_button, self.folder_button):
            b.setEnabled(True)

    # -- report -----------------------------------------------------------------------
    def open_report(self) -> Any:
        """Write the HTML report (in a thread worker) and open it in the browser; returns the worker."""
        if self.result is None:
            return None
        out = self.result.job.out
        self.report_button.setEnabled(False)
        self.status.setText("Writing the report …")
        worker = create_worker(make_report, out, _ignore_errors=True)
        worker.returned.connect(self._on_report)
        worker.errored.connect(self._on_report_error)
        worker.finished.connect(lambda: self.report_button.setEnabled(True))
        worker.start()
        self._report_worker = worker
        return worker

    def _on_report(self, path: Path) -> None:
        self.report_path = Path(path)
        self.status.setText(f"Report: {self.report_path}")
        if self.open_reports:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report_path)))
        self.report_ready.emit(self.report_path)

    def _on_report_error(self, exc: Exception) -> None:
        show_error(str(exc))
        self._fail(exc, str(exc))

    def _open_out(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.result.job.out))

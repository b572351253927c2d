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
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .._batch import BatchJob, BatchProgress, BatchResult, batch_steps, make_report
from .._roughness import LEVEL_METHODS
from ._common import FrameModel, fit_columns, make_table_view, start_steps

__all__ = ["BatchWidget"]

_VERDICT_COLORS = {"verdict": {"pass": "#4caf50", "fail": "#ef5350", "error": "#ffa726"}}


def _path_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, stretch=1)
    row.addWidget(button)
    return row


class BatchWidget(QWidget):
    """Run ``surfscan batch`` over a folder and show the group table with verdicts.

    The batch runs in its own process, watched from a thread worker, so the
    viewer stays responsive; Stop ends it (running it again resumes).
    """

    finished = Signal(object)
    failed = Signal(object)
    report_ready = Signal(object)

    def __init__(self, napari_viewer: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = None
        self.result: BatchResult | None = None
        self.report_path: Path | None = None
        self.open_reports = True
        self._cancel = threading.Event()

        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of height maps and SEM images")
        self.folder.textChanged.connect(self._suggest_out)
        self.spec = QLineEdit()
        self.spec.setPlaceholderText("acceptance spec (.toml), optional")
        self.out = QLineEdit()
        self.out.setPlaceholderText("output folder")
        browse_folder = QPushButton("…")
        browse_folder.clicked.connect(self._browse_folder)
        browse_spec = QPushButton("…")
        browse_spec.clicked.connect(self._browse_spec)
        browse_out = QPushButton("…")
        browse_out.clicked.connect(self._browse_out)
        self.recursive = QCheckBox("include sub-folders")
        self.recursive.setChecked(True)
        self.group_by = QComboBox()
        self.group_by.addItems(["parent", "file"])
        self.group_by.setEditable(True)
        self.group_by.setToolTip("samples: files in one folder ('parent'), each file, or regex:PATTERN")
        self.level = QComboBox()
        self.level.addItems(LEVEL_METHODS)
        self.roughness = QCheckBox("roughness")
        self.roughness.setChecked(True)
        self.defects = QCheckBox("protrusions")
        self.defects.setChecked(True)
        self.workers = QSpinBox()
        self.workers.setRange(0, 256)
        self.workers.setSpecialValueText("all cores")

        form = QFormLayout()
        form.addRow("Folder", _path_row(self.folder, browse_folder))
        form.addRow("Spec", _path_row(self.spec, browse_spec))
        form.addRow("Output", _path_row(self.out, browse_out))
        form.addRow("", self.recursive)
        form.addRow("Group by", self.group_by)
        form.addRow("Levelling", self.level)
        what = QHBoxLayout()
        what.addWidget(self.roughness)
        what.addWidget(self.defects)
        form.addRow("Measure", what)
        form.addRow("Workers", self.workers)

        self.run_button = QPushButton("Run batch")
        self.run_button.clicked.connect(self._run_or_stop)
        self.progress = QProgressBar()
        self.progress.setFormat("%v/%m files")
        self.status = QLabel("Choose a folder and press Run.")
        self.status.setWordWrap(True)
        self.verdicts = QLabel("")
        self.model = FrameModel(colors=_VERDICT_COLORS)
        self.table = make_table_view(self.model)
        self.report_button = QPushButton("Open report")
        self.report_button.clicked.connect(self.open_report)
        self.folder_button = QPushButton("Open output folder")
        self.folder_button.clicked.connect(self._open_out)
        for b in (self.report_button, self.folder_button):
            b.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.report_button)
        buttons.addWidget(self.folder_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.verdicts)
        layout.addWidget(self.table, stretch=1)
        layout.addLayout(buttons)

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
    @property
    def running(self) -> bool:
        """True while a batch is running."""
        return self.worker is not None

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
        self.run_button.setText("Stop")
        self.report_button.setEnabled(False)
        self.status.setText(f"Starting the batch on {job.folders[0]} …")
        self.worker = start_steps(
            batch_steps, job, cancel=self._cancel, total=0, desc="surfscan batch",
            on_step=self._on_progress, on_done=self._on_done, on_error=self._on_error,
        )
        self.worker.finished.connect(self._on_finished)
        return self.worker

    def _on_progress(self, p: BatchProgress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.status.setText(p.text())

    def _on_finished(self) -> None:
        self.worker = None
        self.run_button.setText("Run batch")

    def _on_error(self, exc: Exception) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(str(exc))
        self.failed.emit(exc)

    def _on_done(self, result: BatchResult) -> None:
        self.result = result
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
        self.finished.emit(result)

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
        self.status.setText(str(exc))
        self.failed.emit(exc)

    def _open_out(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.result.job.out))

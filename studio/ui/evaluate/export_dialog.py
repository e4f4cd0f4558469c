"""Export a run: a peft adapter folder or a merged model, in a worker; then the ready ``vllm serve`` command and
an example OpenAI-compatible request to copy."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.store import Project
from studio.inference.export import export_model
from studio.workers.generation import in_project
from studio.workers.job import Job


def _export(project: Project, run: str, out: str, *, merged: bool, checkpoint: str, progress: Any,
            cancel: Any) -> dict[str, Any]:
    progress(0, 0, "exporting")
    return export_model(project, run, out, merged=merged, checkpoint=checkpoint)


class ExportDialog(QDialog):
    def __init__(self, project: Project, run: str, checkpoint: str = "best", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {run}")
        self.project, self.run, self.checkpoint = project, run, checkpoint
        self.job: Job | None = None
        self._jobs: list[Job] = []  # referenced until their threads have ended
        self.folder = QLineEdit(str(project.folder / "exports" / run))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.merged = QCheckBox("Merge a LoRA adapter into a full model (bigger; serves without --enable-lora)")
        form = QFormLayout()
        form.addRow("Folder", row)
        form.addRow("", self.merged)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("The vLLM command and an example request appear here after the export.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setProperty("primary", True)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.buttons)
        self.resize(720, 520)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into")
        if folder:
            self.folder.setText(folder)

    def export(self) -> None:
        if self.job is not None:
            return
        self._jobs = [j for j in self._jobs if not j.wait(0)]
        self.job = Job(f"Exporting {self.run}", in_project, str(self.project.folder), _export, self.run,
                       self.folder.text().strip(), merged=self.merged.isChecked(), checkpoint=self.checkpoint)
        self.job.finished.connect(self._exported)
        self.job.failed.connect(self.status.setText)
        self.job.done.connect(self._done)
        self._jobs.append(self.job)
        self.export_button.setEnabled(False)
        self.status.setText("Exporting…")
        self.job.start()

    def _exported(self, report: dict[str, Any]) -> None:
        self.status.setText(f"Exported the {report['kind']}; SERVE.md in the folder repeats the commands below")
        self.output.setPlainText(f"{report['vllm_command']}\n\ncurl http://localhost:8000/v1/chat/completions "
                                 f"-H 'Content-Type: application/json' -d '\n"
                                 f"{json.dumps(report['example_request'], indent=2)}'")

    def _done(self) -> None:
        self.job = None
        self.export_button.setEnabled(True)

"""File > Import dataset… and File > Export…: format choice, a dry-run preview, progress and the report.

Both dialogs take an open ``Project`` and run the core functions in ``Job`` workers on their own connections;
they emit ``imported`` / ``exported`` with the report when done, so the window can reload its lists.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.adapters.catalog import load_catalog
from studio.dataset.formats.exporting import ExportOptions, ExportReport, export_dataset_at
from studio.dataset.formats.importing import ImportPlan, ImportReport, apply_import_at, plan_import_at
from studio.dataset.formats.registry import FORMATS, DatasetFormat
from studio.dataset.model import SPLITS
from studio.dataset.store import Project
from studio.training.workflows import list_workflows
from studio.workers.job import Job

RECORDED_MODEL = "As recorded in the dataset"


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def _format_combo() -> QComboBox:
    combo = QComboBox()
    for fmt in FORMATS.values():
        combo.addItem(fmt.title, fmt.name)
    return combo


def _model_combo(first: str) -> QComboBox:
    combo = QComboBox()
    combo.addItem(first, "")
    for entry in load_catalog().values():
        combo.addItem(entry.name, entry.id)
    return combo


class _JobDialog(QDialog):
    """A dialog that runs one job at a time, showing its progress, and a report area."""

    def __init__(self, project: Project, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.project = project
        self.job: Job | None = None  # the last job, kept until the next one: its thread may still be ending
        self.busy = False
        self.form = QFormLayout()
        self.progress = QProgressBar()
        self.progress.hide()
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("The report appears here.")
        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    def _path_row(self, edit: QLineEdit, *buttons: tuple[str, object]) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        for text, slot in buttons:
            button = QPushButton(text)
            button.clicked.connect(slot)
            box.addWidget(button)
        return row

    def _run(self, job: Job, on_finished) -> None:
        self.job = job
        self.busy = True
        self.progress.setRange(0, 0)
        self.progress.show()
        self._set_busy(True)
        job.progress.connect(self._progress)
        job.finished.connect(on_finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.done.connect(self._ended)
        job.start()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{done:,} / {total:,}  {message}" if total else message)

    def _cancelled(self) -> None:
        self.report.setPlainText("Cancelled; nothing was changed.")

    def _failed(self, message: str) -> None:
        self.report.setPlainText(message)

    def _ended(self) -> None:
        """Become idle once the job's thread has ended (it quits through an event this thread handles)."""
        if self.job is not None and not self.job.wait(0):
            QTimer.singleShot(10, self._ended)
            return
        self.busy = False
        self.progress.hide()
        self._set_busy(False)

    def _cancel(self) -> None:
        if self.busy and self.job is not None:
            self.job.cancel()
        else:
            self.reject()

    def _set_busy(self, busy: bool) -> None:
        """Enable or disable the inputs while a job runs."""

    def closeEvent(self, event) -> None:
        if self.job is not None:
            if self.busy:
                self.job.cancel()
            while not self.job.wait(10):
                QCoreApplication.processEvents()
        super().closeEvent(event)


class ImportDatasetDialog(_JobDialog):
    """Choose a format and a dataset, preview what would be imported (dry run), then import it in one go."""

    imported = Signal(object)  # ImportReport

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(project, "Import dataset", parent)
        self.plan: ImportPlan | None = None
        self.format_combo = _format_combo()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("The dataset file or folder")
        self.model_combo = _model_combo(RECORDED_MODEL)
        self.model_combo.setToolTip("Trainer formats: the model whose box format the answers are written in")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.form.addRow("Format", self.format_combo)
        self.form.addRow(
            "Dataset", self._path_row(self.path_edit, ("File…", self._browse_file), ("Folder…", self._browse_folder))
        )
        self.form.addRow("", self.hint)
        self.form.addRow("Boxes written for", self.model_combo)
        self.outside_check = QCheckBox("Allow images outside the dataset folder")
        self.outside_check.setToolTip(
            "Read images the dataset names by absolute or ../ paths elsewhere on this computer. "
            "Only for datasets you trust: a dataset file could otherwise make VLM Studio look anywhere."
        )
        self.form.addRow("", self.outside_check)
        self.preview_button = self.buttons.addButton("Preview", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.preview_button.clicked.connect(self.preview)
        self.import_button.clicked.connect(self.start_import)
        self.format_combo.currentIndexChanged.connect(self._inputs_changed)
        self.path_edit.textChanged.connect(self._inputs_changed)
        self.model_combo.currentIndexChanged.connect(self._inputs_changed)
        self.outside_check.toggled.connect(self._inputs_changed)
        self._inputs_changed()

    @property
    def format(self) -> DatasetFormat:
        return FORMATS[self.format_combo.currentData()]

    def _inputs_changed(self) -> None:
        self.plan = None
        self.import_button.setEnabled(False)
        self.hint.setText(f"Point at {self.format.import_hint}.")
        self.model_combo.setEnabled(self.format.needs_model)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Dataset file", "", "Datasets (*.json *.jsonl *.yaml *.yml *.xml);;All files (*)"
        )
        if path:
            self.path_edit.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if path:
            self.path_edit.setText(path)

    def preview(self) -> None:
        """Read the dataset and measure its images without changing the project (the dry run)."""
        path = self.path_edit.text().strip()
        if not path:
            self.report.setPlainText("Choose the dataset file or folder first.")
            return
        self.report.setPlainText("Reading the dataset and measuring its images…")
        job = Job(
            "Previewing the import",
            plan_import_at,
            self.project.folder,
            self.format.name,
            path,
            model=self.model_combo.currentData() or None,
            allow_outside=self.outside_check.isChecked(),
        )
        self._run(job, self._previewed)

    def _previewed(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.report.setPlainText(plan.report.summary())
        self.import_button.setEnabled(plan.report.images_new + plan.report.images_existing > 0)

    def start_import(self) -> None:
        if self.plan is None:
            return
        self.import_button.setEnabled(False)
        self._run(Job("Importing the dataset", apply_import_at, self.project.folder, self.plan), self._imported)

    def _imported(self, report: ImportReport) -> None:
        self.plan = None
        self.report.setPlainText(report.summary())
        self.cancel_button.setText("Close")
        self.imported.emit(report)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.format_combo, self.path_edit, self.preview_button, self.model_combo, self.outside_check):
            widget.setEnabled(not busy)
        if not busy:
            self.model_combo.setEnabled(self.format.needs_model)


class ExportDatasetDialog(_JobDialog):
    """Choose a format, a new folder, a split and (for trainers) a model; export in a worker."""

    exported = Signal(object)  # ExportReport

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(project, "Export dataset", parent)
        self.format_combo = _format_combo()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("A new (or empty) folder")
        self.split_combo = QComboBox()
        self.split_combo.addItem("All images", "")
        for split in SPLITS:
            self.split_combo.addItem(split, split)
        self.model_combo = _model_combo("Choose a model…")
        self.model_combo.setToolTip("Trainer formats use this model's box format and system prompt")
        self.form.addRow("Format", self.format_combo)
        self.form.addRow("Folder", self._path_row(self.folder_edit, ("Browse…", self._browse)))
        self.form.addRow("Images", self.split_combo)
        self.form.addRow("Model", self.model_combo)
        self._add_option_rows()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.clicked.connect(self.start_export)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    @property
    def format(self) -> DatasetFormat:
        return FORMATS[self.format_combo.currentData()]

    def _add_option_rows(self) -> None:
        """A workflow (its model, pixel settings and system prompts), the trainer's pixel limit, VOC's corners."""
        self.workflow_combo = QComboBox()
        self.workflow_combo.addItem("None (the model's defaults)", "")
        self.workflows = {w.name: w for w in list_workflows(self.project)}
        for name, workflow in self.workflows.items():
            self.workflow_combo.addItem(f"{name} ({workflow.config.model_id})", name)
        self.workflow_combo.setToolTip("Trainer formats: use this workflow's model, pixel settings and prompts")
        self.workflow_combo.currentIndexChanged.connect(self._workflow_changed)
        self.pixels_spin = QSpinBox()
        self.pixels_spin.setRange(0, 2**31 - 1)
        self.pixels_spin.setSingleStep(28 * 28 * 64)
        self.pixels_spin.setGroupSeparatorShown(True)
        self.pixels_spin.setSpecialValueText("The trainer's default")
        self.pixels_spin.setToolTip(
            "The largest image (in pixels) the consuming trainer feeds the model; boxes in absolute coordinates "
            "are written for it (LLaMA-Factory: image_max_pixels, default 589,824; ms-swift: MAX_PIXELS)"
        )
        self.whole_check = QCheckBox("Whole-pixel corners (VOC tools expect integers)")
        self.whole_check.setChecked(True)
        self.form.insertRow(self.form.rowCount() - 1, "Workflow", self.workflow_combo)  # above Model: it sets it
        self.form.addRow("Max pixels", self.pixels_spin)
        self.form.addRow("VOC", self.whole_check)

    def _workflow_changed(self) -> None:
        workflow = self.workflows.get(self.workflow_combo.currentData())
        if workflow is not None:
            _select(self.model_combo, workflow.config.model_id)
            self.pixels_spin.setValue(workflow.config.max_pixels)

    def options(self) -> ExportOptions:
        pixels = {"max_pixels": self.pixels_spin.value() or None, "whole_pixels": self.whole_check.isChecked()}
        workflow = self.workflows.get(self.workflow_combo.currentData())
        if workflow is None:
            return ExportOptions(**pixels)
        return ExportOptions.from_workflow(workflow.name, workflow.config, **pixels)

    def _format_changed(self) -> None:
        self.model_combo.setEnabled(self.format.needs_model)
        for widget in (self.workflow_combo, self.pixels_spin):
            widget.setEnabled(self.format.needs_model)
        self.whole_check.setEnabled(self.format.name == "voc")

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export into folder")
        if path:
            self.folder_edit.setText(path)

    def start_export(self) -> None:
        folder = self.folder_edit.text().strip()
        model = self.model_combo.currentData() if self.format.needs_model else None
        if not folder:
            self.report.setPlainText("Choose the folder to export into first.")
            return
        if self.format.needs_model and not model:
            self.report.setPlainText(
                f"{self.format.title} needs a model: its box format and system prompt go into the exported text."
            )
            return
        self.report.setPlainText("Exporting…")
        job = Job(
            "Exporting the dataset",
            export_dataset_at,
            self.project.folder,
            self.format.name,
            folder,
            split=self.split_combo.currentData() or None,
            model=model,
            options=self.options(),
        )
        self._run(job, self._exported)

    def _exported(self, report: ExportReport) -> None:
        self.report.setPlainText(report.summary())
        self.cancel_button.setText("Close")
        self.exported.emit(report)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.format_combo, self.folder_edit, self.split_combo, self.export_button):
            widget.setEnabled(not busy)
        for widget in (self.model_combo, self.workflow_combo, self.pixels_spin):
            widget.setEnabled(not busy and self.format.needs_model)
        self.whole_check.setEnabled(not busy and self.format.name == "voc")

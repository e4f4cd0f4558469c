"""The evaluate page: evaluate a run on val/test in a worker, a table and a chart comparing the runs' scores, and
a worst-first gallery of ground truth (solid) against prediction (dashed); clicking an image asks the main window
to open it in Annotate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.store import Project
from studio.evaluation.definitions import METRIC_HELP
from studio.evaluation.run_eval import START, SampleResult, evaluate_run, evaluation_key, load_details
from studio.training.runs import Run, list_runs
from studio.ui import theme
from studio.ui.evaluate.chart import ScoreChart
from studio.ui.evaluate.export_dialog import ExportDialog
from studio.ui.overlay import OverlayBox, overlay_pixmap, read_image
from studio.workers.generation import in_project
from studio.workers.job import Job

# (column title, section, metric key, percent?)
COLUMNS = (
    ("Phrase IoU", "grounding", "mean_phrase_iou"),
    ("F1@0.5", "grounding", "f1@0.5"),
    ("AP50", "grounding", "AP50"),
    ("mAP", "grounding", "mAP"),
    ("Unparseable", "grounding", "unparseable_rate"),
    ("VQA exact", "vqa", "exact_match"),
    ("VQAv2 match", "vqa", "vqav2_match"),
    ("ANLS", "vqa", "anls"),
    ("Token F1", "vqa", "token_f1"),
)
GALLERY_LIMIT = 60
THUMB = QSize(200, 150)
TRUTH_COLOUR = "#2ca02c"


class EvaluatePage(QWidget):
    """``EvaluatePage(project)``; ``open_image(image_id)`` asks for the image in Annotate."""

    open_image = Signal(int)

    def __init__(self, project: Project | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.runs: list[Run] = []
        self.job: Job | None = None
        self._alive: list[Job] = []
        self.start_job = lambda job: job.start()
        self._build()
        self.setMinimumSize(320, 240)  # small windows clip the page rather than refuse to shrink
        self.set_project(project)

    def _build(self) -> None:
        self.run_box = QComboBox()
        self.run_box.currentIndexChanged.connect(self._fill_checkpoints)
        self.split_box = QComboBox()
        self.split_box.addItems(["val", "test"])
        self.split_box.currentIndexChanged.connect(self.refresh)
        self.checkpoint_box = QComboBox()
        self.checkpoint_box.currentTextChanged.connect(self._enable_export)
        self.evaluate_button = QPushButton(theme.icon("mdi6.play", color="white"), "Evaluate")
        self.evaluate_button.setProperty("primary", True)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.export_button = QPushButton(theme.icon("mdi6.export"), "Export model…")
        self.export_button.setToolTip("A peft adapter or merged model, with a ready vLLM command")
        self.export_button.clicked.connect(self.open_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel()
        top = QHBoxLayout()
        for widget in (QLabel("Run"), self.run_box, QLabel("Split"), self.split_box, QLabel("Checkpoint"),
                       self.checkpoint_box, self.evaluate_button, self.cancel_button, self.progress,
                       self.export_button):
            top.addWidget(widget)
        top.addWidget(self.message, 1)

        self.table = QTableWidget(0, len(COLUMNS) + 2)
        self.table.setHorizontalHeaderLabels(["Run", "Samples", *(c[0] for c in COLUMNS)])
        for col, (_, _, metric) in enumerate(COLUMNS, start=2):
            self.table.horizontalHeaderItem(col).setToolTip(METRIC_HELP[metric])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._show_gallery)
        self.chart = ScoreChart()
        self.empty = QLabel("No evaluation yet — choose a run and press Evaluate.")
        self.empty.setProperty("role", "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.task_box = QComboBox()
        self.task_box.addItem("All tasks", "")
        self.task_box.addItem("Grounding", "grounding")
        self.task_box.addItem("VQA", "vqa")
        self.task_box.currentIndexChanged.connect(self._show_gallery)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(THUMB)
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setSpacing(6)
        self.gallery.itemClicked.connect(self._open)
        legend = QLabel(f"Worst first · <span style='color:{TRUTH_COLOUR}'>■ ground truth</span> · "
                        "<span style='color:#ff7f0e'>┅ prediction</span> · click an image to fix it in Annotate")
        gallery_bar = QHBoxLayout()
        gallery_bar.addWidget(legend, 1)
        gallery_bar.addWidget(self.task_box)

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.table)
        upper.addWidget(self.chart)
        upper.setSizes([780, 420])
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(gallery_bar)
        lower_layout.addWidget(self.gallery)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)

    # ---------------------------------------------------------------- data
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refresh()

    def _fill_checkpoints(self) -> None:
        run = next((r for r in self.runs if r.name == self.run_box.currentText()), None)
        current = self.checkpoint_box.currentText()
        self.checkpoint_box.clear()
        self.checkpoint_box.addItems(["best", "last", START, *(p.name for p in (run.checkpoints() if run else []))])
        self.checkpoint_box.setItemData(2, "The model the run started from, before any training: its gain shows "
                                           "beside the run's row", Qt.ItemDataRole.ToolTipRole)
        self.checkpoint_box.setCurrentIndex(max(self.checkpoint_box.findText(current), 0))  # kept where it exists

    def _enable_export(self) -> None:
        """A run's checkpoints export; its start is the base model, not the run's."""
        self.export_button.setEnabled(bool(self.runs) and self.checkpoint_box.currentText() != START)

    def split(self) -> str:
        return self.split_box.currentText()

    def refresh(self) -> None:
        """Reload the runs and their stored evaluations for the chosen split."""
        self.runs = list_runs(self.project) if self.project is not None else []
        current = self.run_box.currentText()
        self.run_box.blockSignals(True)
        self.run_box.clear()
        self.run_box.addItems([run.name for run in self.runs])
        if current:
            self.run_box.setCurrentText(current)
        self.run_box.blockSignals(False)
        self._fill_checkpoints()
        self.evaluate_button.setEnabled(bool(self.runs) and self.project is not None
                                        and not self.project.read_only and self.job is None)
        self._enable_export()
        evaluated = [
            (run, key, run.summary["evaluation"][key])
            for run in self.runs
            for key in (self.split(), evaluation_key(self.split(), START))
            if key in run.summary.get("evaluation", {})
        ]
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(evaluated))
        for row, (run, key, summary) in enumerate(evaluated):
            self.table.setItem(row, 0, _item(f"{run.name} ({summary['checkpoint'].rsplit('/', 1)[-1]})", (run.id, key)))
            self.table.setItem(row, 1, _number(summary["samples"], f"{summary['samples']:,}"))
            for col, (_, section, metric) in enumerate(COLUMNS, start=2):
                value = summary.get(section, {}).get(metric)
                self.table.setItem(row, col, _number(value, "—" if value is None else f"{value:.3f}"))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not evaluated)
        self.chart.show_scores([(_row_title(run, summary), summary) for run, _, summary in evaluated])
        if evaluated and not self.table.selectedItems():
            self.table.selectRow(0)
        self._show_gallery()

    # ---------------------------------------------------------------- evaluation job
    def evaluate(self) -> None:
        if self.project is None or self.job is not None or not self.run_box.currentText():
            return
        job = Job(f"Evaluating {self.run_box.currentText()}", in_project, str(self.project.folder), evaluate_run,
                  self.run_box.currentText(), split=self.split(), checkpoint=self.checkpoint_box.currentText())
        job.progress.connect(self._progress)
        job.finished.connect(self._evaluated)
        job.failed.connect(self.message.setText)
        job.cancelled.connect(self._cancelled)
        job.done.connect(self._job_done)
        self.job = job
        self._alive.append(job)
        self.evaluate_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.message.setText("")
        self.start_job(job)

    def open_export(self) -> ExportDialog | None:
        if self.project is None or not self.run_box.currentText():
            return None
        dialog = ExportDialog(self.project, self.run_box.currentText(), self.checkpoint_box.currentText(), self)
        dialog.show()
        return dialog

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.setText("Cancelling…")

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.message.setText(message)

    def _evaluated(self, summary: dict[str, Any]) -> None:
        self.message.setText(f"Evaluated {summary['samples']:,} samples in {summary['seconds']:.0f} s")

    def _job_done(self) -> None:
        job = self.sender()
        if job is self.job:
            self.job = None
        self._alive = [j for j in self._alive if j is job or not j.wait(0)]
        self.cancel_button.setVisible(False)
        self.progress.setVisible(False)
        self.refresh()

    def _cancelled(self) -> None:
        self.message.setText("Evaluation cancelled")

    # ---------------------------------------------------------------- gallery
    def selected_row(self) -> tuple[Run, str] | None:
        """The run of the selected table row and the key of its evaluation."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        run_id, key = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        run = next((run for run in self.runs if run.id == run_id), None)
        return None if run is None else (run, key)

    def _show_gallery(self) -> None:
        self.gallery.clear()
        selected = self.selected_row()
        if selected is None or self.project is None:
            return
        run, key = selected
        try:
            results = load_details(run.folder, run.summary["evaluation"][key])
        except (OSError, KeyError) as exc:
            self.message.setText(str(exc))
            return
        task = self.task_box.currentData()
        shown = [r for r in results if not task or r.task == task][:GALLERY_LIMIT]
        images: dict[int, Any] = {}
        for result in shown:
            if result.image_id not in images:
                images[result.image_id] = read_image(self.project.image(result.image_id).path)
            item = QListWidgetItem(QIcon(overlay_pixmap(images[result.image_id], overlay_boxes(result),
                                                        THUMB.width(), THUMB.height())), _caption(result))
            item.setData(Qt.ItemDataRole.UserRole, result.image_id)
            item.setToolTip(f"{result.prompt}\n\nmodel: {result.answer}\ntruth: {_truth_text(result)}")
            self.gallery.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        self.open_image.emit(int(item.data(Qt.ItemDataRole.UserRole)))


def overlay_boxes(result: SampleResult) -> list[OverlayBox]:
    if result.task != "grounding":
        return []
    truth = [OverlayBox(text, tuple(box), "truth", TRUTH_COLOUR) for text, boxes in result.truth for box in boxes]
    return truth + [OverlayBox(label, tuple(box), "prediction") for label, box in result.boxes]


def _caption(result: SampleResult) -> str:
    if result.task == "vqa":
        return f"ANLS {result.score:.2f} · {_short(result.prompt)}\n→ {_short(result.answer)}"
    return f"F1 {result.score:.2f} · IoU {result.mean_iou or 0:.2f}\n{_short(result.prompt)}"


def _truth_text(result: SampleResult) -> str:
    if result.task == "vqa":
        return str(result.truth)
    return "; ".join(text for text, _ in result.truth)


def _short(text: str, limit: int = 34) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row_title(run: Run, summary: dict[str, Any]) -> str:
    return f"{run.name} ({START})" if summary["checkpoint"] == START else run.name


def _item(text: str, data: Any = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, data)
    return item


class _NumberItem(QTableWidgetItem):
    """Sorts by the number, not the text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            return mine < theirs
        return super().__lt__(other)


def _number(value: Any, text: str) -> QTableWidgetItem:
    item = _NumberItem(text)
    item.setData(Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item

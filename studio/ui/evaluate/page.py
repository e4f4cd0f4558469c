"""The evaluate page: evaluate a run on val/test in a worker, a table and a chart comparing the runs' scores, and
a worst-first gallery of ground truth (solid) against prediction (dashed); clicking an image asks the main window
to open it in Annotate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
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
from studio.ui.overlay import PREDICTION_COLOUR, LabelColours, OverlayBox, overlay_pixmap, read_image
from studio.ui.run_checkpoints import DASH, evaluated_choice, run_checkpoints
from studio.workers.generation import in_project
from studio.workers.job import Job

# (column header, tooltip, section, metric key)
COLUMNS = (
    ("IoU", METRIC_HELP["mean_phrase_iou"], "grounding", "mean_phrase_iou"),
    ("F1@.5", METRIC_HELP["f1@0.5"], "grounding", "f1@0.5"),
    ("AP50", METRIC_HELP["AP50"], "grounding", "AP50"),
    ("mAP", METRIC_HELP["mAP"], "grounding", "mAP"),
    ("Unread", METRIC_HELP["unparseable_rate"], "grounding", "unparseable_rate"),
    ("Exact", METRIC_HELP["exact_match"], "vqa", "exact_match"),
    ("VQAv2", METRIC_HELP["vqav2_match"], "vqa", "vqav2_match"),
    ("ANLS", METRIC_HELP["anls"], "vqa", "anls"),
    ("Tok F1", METRIC_HELP["token_f1"], "vqa", "token_f1"),
)
FIXED_HEADERS = (("Run", "The run and the checkpoint evaluated"), ("Samples", "Samples evaluated"))
GALLERY_LIMIT = 60
THUMB = QSize(200, 150)
CHART_WIDTH = 340
TRUTH_COLOUR = "#2ca02c"
RIGHT_COLOUR, WRONG_COLOUR = "#2e7d32", "#c62828"
RIGHT_ANLS = 0.999  # an answer counts as right when it matches after normalisation


class EvaluatePage(QWidget):
    """``EvaluatePage(project)``; ``open_image(image_id, prediction boxes, note)`` asks for the image in Annotate
    with the model's boxes (`OverlayBox` each) drawn over it and a note on what the model answered."""

    open_image = Signal(int, list, str)

    def __init__(self, project: Project | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.runs: list[Run] = []
        self.job: Job | None = None
        self._alive: list[Job] = []
        self._shown: list[SampleResult] = []  # the gallery's results, in its order
        self._shown_run = ""
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
        # "best (step 1,650, val loss…": longer names are cut here and whole in the list, so the page never widens
        self.checkpoint_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.checkpoint_box.setMinimumContentsLength(20)
        self.checkpoint_box.currentIndexChanged.connect(self._enable_export)
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
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the page
        top = QHBoxLayout()
        for widget in (QLabel("Run"), self.run_box, QLabel("Split"), self.split_box, QLabel("Checkpoint"),
                       self.checkpoint_box, self.evaluate_button, self.cancel_button, self.progress,
                       self.export_button):
            top.addWidget(widget)
        top.addWidget(self.message, 1)

        self.table = QTableWidget(0, len(COLUMNS) + len(FIXED_HEADERS))
        for col, (title, tip) in enumerate([*FIXED_HEADERS, *((c[0], c[1]) for c in COLUMNS)]):
            header = QTableWidgetItem(title)
            header.setToolTip(tip)
            self.table.setHorizontalHeaderItem(col, header)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        # the numbers take what they need; the run's name takes the rest (elided, whole in its tooltip)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(36)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_gallery)
        self.chart = ScoreChart()
        self.empty = QLabel("No evaluation yet — choose a run and press Evaluate.")
        self.empty.setWordWrap(True)
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
        self.gallery.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # tiles wrap
        self.gallery.itemClicked.connect(self._open)
        legend = QLabel(f"Worst first · <span style='color:{TRUTH_COLOUR}'>■ ground truth</span> · "
                        f"<span style='color:{PREDICTION_COLOUR}'>┅ prediction</span> (in its label's colour) · "
                        "click an image to fix it in Annotate, with the prediction drawn over it")
        legend.setWordWrap(True)
        gallery_bar = QHBoxLayout()
        gallery_bar.addWidget(legend, 1)
        gallery_bar.addWidget(self.task_box)

        # the table takes the whole width (eleven columns of numbers); the chart sits beside the gallery
        gallery_side = QWidget()
        gallery_layout = QVBoxLayout(gallery_side)
        gallery_layout.setContentsMargins(0, 0, 0, 0)
        gallery_layout.addLayout(gallery_bar)
        gallery_layout.addWidget(self.gallery)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(gallery_side)
        lower.addWidget(self.chart)
        lower.setStretchFactor(0, 1)
        lower.setStretchFactor(1, 0)
        lower.setSizes([700, CHART_WIDTH])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([170, 500])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)

    # ---------------------------------------------------------------- data
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refresh()

    def _fill_checkpoints(self) -> None:
        """The selected run's best, last and other saved checkpoints and its start, named as the Playground names
        them; the choice is kept where it still exists."""
        run = next((r for r in self.runs if r.name == self.run_box.currentText()), None)
        current = self.checkpoint_box.currentData()
        self.checkpoint_box.blockSignals(True)
        self.checkpoint_box.clear()
        for choice in run_checkpoints(self.project, run) if run is not None and self.project is not None else []:
            self.checkpoint_box.addItem(choice.describe(), choice.argument)
            if choice.is_start:
                self.checkpoint_box.setItemData(self.checkpoint_box.count() - 1, "The model the run started from, "
                                                "before any training: its scores show beside the run's",
                                                Qt.ItemDataRole.ToolTipRole)
        self.checkpoint_box.setCurrentIndex(max(self.checkpoint_box.findData(current), 0))
        self.checkpoint_box.blockSignals(False)
        self._enable_export()

    def checkpoint(self) -> str:
        """The chosen checkpoint as `evaluate_run` takes it: best, last, start or a step-… folder."""
        return self.checkpoint_box.currentData() or "best"

    def _enable_export(self) -> None:
        """A run's checkpoints export; its start is the base model, not the run's."""
        self.export_button.setEnabled(bool(self.runs) and self.checkpoint_box.count() > 0
                                      and self.checkpoint() != START)

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
        choices = [evaluated_choice(self.project, run, summary) for run, _, summary in evaluated]
        for row, ((run, key, summary), choice) in enumerate(zip(evaluated, choices, strict=True)):
            title = _item(f"{run.name}{DASH}{choice.describe(val_loss=False)}", (run.id, key))
            title.setToolTip(f"{choice.title}\n{summary['samples']:,} samples of {summary['images']:,} images "
                             f"({summary['split']})")
            self.table.setItem(row, 0, title)
            self.table.setItem(row, 1, _number(summary["samples"], f"{summary['samples']:,}"))
            for col, (_, _, section, metric) in enumerate(COLUMNS, start=len(FIXED_HEADERS)):
                value = summary.get(section, {}).get(metric)
                self.table.setItem(row, col, _number(value, "—" if value is None else f"{value:.3f}"))
        self.table.setSortingEnabled(True)
        self.empty.setVisible(not evaluated)
        self.chart.show_scores([(choice.short_title, summary)
                                for choice, (_, _, summary) in zip(choices, evaluated, strict=True)])
        if evaluated and not self.table.selectedItems():
            self.table.selectRow(0)
        self._show_gallery()

    # ---------------------------------------------------------------- evaluation job
    def evaluate(self) -> None:
        if self.project is None or self.job is not None or not self.run_box.currentText():
            return
        job = Job(f"Evaluating {self.run_box.currentText()}", in_project, str(self.project.folder), evaluate_run,
                  self.run_box.currentText(), split=self.split(), checkpoint=self.checkpoint())
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
        dialog = ExportDialog(self.project, self.run_box.currentText(), self.checkpoint(), self)
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
        colours = LabelColours(self.project.labels())
        self._shown, self._shown_run = shown, run.name
        for result in shown:
            if result.image_id not in images:
                images[result.image_id] = read_image(self.project.image(result.image_id).path)
            item = QListWidgetItem(QIcon(overlay_pixmap(images[result.image_id], overlay_boxes(result, colours),
                                                        THUMB.width(), THUMB.height())), _caption(result))
            item.setData(Qt.ItemDataRole.UserRole, result.image_id)
            item.setToolTip(f"{result.prompt}\n\nmodel: {result.answer}\nexpected: {_truth_text(result)}")
            if result.task == "vqa":
                item.setForeground(QColor(RIGHT_COLOUR if _right(result) else WRONG_COLOUR))
            self.gallery.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        """Open the tile's image in Annotate with the model's boxes drawn over it."""
        result, run_name = self._shown[self.gallery.row(item)], self._shown_run
        colours = LabelColours(self.project.labels()) if self.project is not None else LabelColours([])
        boxes = [b for b in overlay_boxes(result, colours) if b.style == "prediction"]
        if result.task == "vqa":
            note = (f"{run_name} answered “{_short(result.answer, 60)}” to “{_short(result.prompt, 60)}”; "
                    f"expected “{_short(str(result.truth), 60)}”")
        else:
            note = (f"Dashed: {run_name}'s {len(boxes):,} predicted {'box' if len(boxes) == 1 else 'boxes'} for "
                    f"“{_short(result.prompt, 60)}” (F1 {result.score:.2f}); shown until you change image")
        self.open_image.emit(int(item.data(Qt.ItemDataRole.UserRole)), boxes, note)


def overlay_boxes(result: SampleResult, colours: LabelColours) -> list[OverlayBox]:
    """The truth solid in green, the model's boxes dashed in the colour of the label they name."""
    if result.task != "grounding":
        return []
    truth = [OverlayBox(text, tuple(box), "truth", TRUTH_COLOUR) for text, boxes in result.truth for box in boxes]
    return truth + [OverlayBox(label, tuple(box), "prediction", colours.colour(label)) for label, box in result.boxes]


def _right(result: SampleResult) -> bool:
    return result.score >= RIGHT_ANLS


def _caption(result: SampleResult) -> str:
    if result.task == "vqa":
        mark = "✓" if _right(result) else "✗"
        return (f"{mark} ANLS {result.score:.2f} · {_short(result.prompt)}\n"
                f"expected: {_short(str(result.truth), 16)} · model: {_short(result.answer, 16)}")
    return f"F1 {result.score:.2f} · IoU {result.mean_iou or 0:.2f}\n{_short(result.prompt)}"


def _truth_text(result: SampleResult) -> str:
    if result.task == "vqa":
        return str(result.truth)
    return "; ".join(text for text, _ in result.truth)


def _short(text: str, limit: int = 34) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

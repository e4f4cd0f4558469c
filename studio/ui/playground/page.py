"""The playground page: a run checkpoint or base model, an image (project, file or drop), a prompt and the
system prompt; the answer streams from a worker, its boxes are drawn over the image, and it can be added to the
image's annotations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import get_adapter, load_catalog, prompts
from studio.adapters.loading import ModelNotAvailable
from studio.dataset.box_names import box_names
from studio.dataset.label_match import LabelIndex
from studio.dataset.predictions import suggestions
from studio.dataset.store import Project
from studio.inference.answer_format import reading_problem
from studio.inference.labelling import suggest
from studio.inference.loading import read_meta
from studio.training.runs import find_run, list_runs
from studio.ui import theme
from studio.ui.annotate.box_item import UNLABELLED_COLOR
from studio.ui.annotate.commands import AddBoxes, AddVqa, BoxSpec
from studio.ui.overlay import LabelColours, OverlayBox, OverlayView, read_image
from studio.ui.playground.settings_panel import GenerationPanel
from studio.ui.playground.suggestions import SuggestionsPanel
from studio.ui.run_checkpoints import run_checkpoints
from studio.workers.generation import GenerationJob, in_project, load_predictor
from studio.workers.job import Job


@dataclass(frozen=True)
class ModelSource:
    """One entry of the model picker."""

    title: str
    source: str  # a checkpoint folder, START_PREFIX + a run's folder, or "model:<catalog id>"
    model_id: str
    system_prompts: dict[str, str]
    run_id: int | None = None
    best: bool = False  # the run's best checkpoint: what a run chosen elsewhere (Train's Try) opens


START_PREFIX = "start:"


def model_sources(project: Project | None) -> list[ModelSource]:
    """Each run (newest first) with its best, last and other saved checkpoints and its start, then each catalog
    model whose weights are on this machine."""
    found = []
    if project is not None:
        for run in list_runs(project):
            for choice in run_checkpoints(project, run):
                if choice.folder is None:
                    found.append(ModelSource(choice.title, START_PREFIX + str(run.folder), run.config["model_id"],
                                             run.config.get("system_prompts") or {}, run.id))
                    continue
                try:
                    meta = read_meta(choice.folder)
                except (OSError, ValueError):
                    continue  # a checkpoint being deleted or damaged is not offered
                found.append(ModelSource(choice.title, str(choice.folder), meta["model_id"],
                                         meta.get("system_prompts") or {}, run.id, "best" in choice.roles))
    for entry in load_catalog().values():
        if entry.available and _on_this_machine(entry.id):
            found.append(ModelSource(f"Base model: {entry.name}", f"model:{entry.id}", entry.id, {}))
    return found


def _on_this_machine(model_id: str) -> bool:
    try:
        get_adapter(model_id).checkpoint_folder()
    except (ModelNotAvailable, ValueError):
        return False
    return True


ANSWER_HINT = "The answer streams here."
SYSTEM_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_ROLE = Qt.ItemDataRole.UserRole + 2
MODEL_ROLE = Qt.ItemDataRole.UserRole + 3
BEST_ROLE = Qt.ItemDataRole.UserRole + 4


class PlaygroundPage(QWidget):
    """``PlaygroundPage(project)``; `set_project` and `show_image` follow the main window."""

    annotations_added = Signal(int)  # image id

    def __init__(self, project: Project | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.image_id: int | None = None
        self.image_path: str | None = None
        self._hidden_path: str | None = None  # the image to decode once the page is shown
        self.predictors: dict[str, Any] = {}
        self.prediction: Any = None
        self.job: Job | None = None
        self.start_job = lambda job: job.start()  # the main window shows jobs in its status bar
        self.selected_images: Any = lambda: []  # the main window answers with the image list's selection
        self.undo_stack = QUndoStack(self)  # the main window shares the annotation undo stack
        self._added: QUndoCommand | None = None
        self._loading = ""
        self._then: Any = None
        self._alive: list[Job] = []  # jobs are kept referenced until their thread has ended
        self.generating_text = ""
        self._build()
        self.setMinimumSize(320, 240)  # small windows clip the page rather than refuse to shrink
        self.set_project(project)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.view = OverlayView()
        self.view.file_dropped.connect(self.open_file)
        self.source = QComboBox()
        # "default-1 — best (step 1,200, val loss 0.69)" stays readable when the page is narrow
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(24)
        self.source.currentIndexChanged.connect(self._source_changed)
        open_file = QPushButton(theme.icon("mdi6.image-outline"), "Open image…")
        open_file.clicked.connect(self._open_file_dialog)
        self.show_truth = QCheckBox("Show annotations")
        self.show_truth.setChecked(True)
        self.show_truth.toggled.connect(self._draw)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.source, 1)
        top.addWidget(open_file)
        top.addWidget(self.show_truth)

        self.task = QComboBox()
        self.task.addItem("Grounding (boxes)", "grounding")
        self.task.addItem("Question answering", "vqa")
        self.task.currentIndexChanged.connect(self._reset_system_prompt)
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setMaximumHeight(70)
        self.system_prompt.textChanged.connect(self._check_system_prompt)
        self.system_warning = QLabel()
        self.system_warning.setWordWrap(True)
        self.system_warning.setStyleSheet("color: #c77700;")
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Ask about the image, e.g. Locate the red ball.")
        self.prompt.returnPressed.connect(self.send)
        self.send_button = QPushButton(theme.icon("mdi6.send", color="white"), "Send")
        self.send_button.setProperty("primary", True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton(theme.icon("mdi6.stop"), "Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setShortcut("Esc")
        self.stop_button.setToolTip("Stop generating (Esc)")
        ask = QHBoxLayout()
        ask.addWidget(self.send_button)
        ask.addWidget(self.stop_button)
        ask.addStretch(1)
        self.answer = QPlainTextEdit()
        self.answer.setReadOnly(True)
        self.answer.setPlaceholderText(ANSWER_HINT)
        self.raw = QCheckBox("Show raw answer")
        self.raw.setToolTip("Show exactly what the model wrote instead of the boxes read from it")
        self.raw.toggled.connect(self._show_answer)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setStyleSheet("color: #c77700;")
        self.problem.setVisible(False)
        self.stats = QLabel()
        self.stats.setWordWrap(True)
        self.stats.setStyleSheet(f"color: {theme.colours()['muted']};")
        self.add_button = QPushButton(theme.icon("mdi6.plus-box-outline"), "Add to annotations")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_to_annotations)
        self.undo_button = QPushButton(theme.icon("mdi6.undo"), "Undo add")
        self.undo_button.setVisible(False)
        self.undo_button.clicked.connect(self.undo_add)
        self.generation = GenerationPanel()
        actions = QHBoxLayout()
        actions.addWidget(self.raw)
        actions.addStretch(1)
        actions.addWidget(self.undo_button)
        actions.addWidget(self.add_button)

        side = QWidget()
        right = QVBoxLayout(side)
        right.addWidget(QLabel("Task"))
        right.addWidget(self.task)
        right.addWidget(QLabel("System prompt"))
        right.addWidget(self.system_prompt)
        right.addWidget(self.system_warning)
        right.addWidget(self.generation)
        right.addWidget(QLabel("Prompt"))
        right.addWidget(self.prompt)
        right.addLayout(ask)
        right.addWidget(self.answer, 1)
        right.addWidget(self.problem)
        right.addWidget(self.stats)
        right.addLayout(actions)
        side.setMinimumWidth(360)
        self.suggestions = SuggestionsPanel()
        self.suggestions.suggest_requested.connect(self.suggest)
        self.suggestions.cancel_requested.connect(self.stop)
        self.suggestions.changed.connect(self._suggestions_changed)
        self.suggestions.selection_changed.connect(self._draw)
        self.tabs = QTabWidget()
        self.tabs.addTab(side, theme.icon("mdi6.chat-outline"), "Prompt")
        self.tabs.addTab(self.suggestions, theme.icon("mdi6.auto-fix"), "Suggestions")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    # ---------------------------------------------------------------- project, model and image
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.image_id, self._hidden_path = None, None
        self.predictors = {}
        self.suggestions.set_image(project, None)
        self.source.clear()  # a new project starts from its newest run
        self.refresh_sources()

    def refresh_sources(self) -> None:
        """List the runs' checkpoints and the base models anew, one group per run; the best checkpoint of a run
        that was not listed before (one just trained) is chosen, else the choice stays. Nothing changes when the
        list is the same."""
        sources = model_sources(self.project)
        listed = [self.source.itemData(i) for i in range(self.source.count()) if self.source.itemData(i)]
        titles = [self.source.itemText(i) for i in range(self.source.count()) if self.source.itemData(i)]
        if [s.source for s in sources] == listed and [s.title for s in sources] == titles:
            return
        current = self.source.currentData()
        had_best = {self.source.itemData(i, RUN_ROLE) for i in range(self.source.count())
                    if self.source.itemData(i, BEST_ROLE)}
        new_runs = [s.source for s in sources if s.best and s.run_id not in had_best]
        if listed and new_runs:
            current = new_runs[0]  # newest first
        self.source.blockSignals(True)
        self.source.clear()
        group: object = None
        for entry in sources:
            if self.source.count() and entry.run_id != group:
                self.source.insertSeparator(self.source.count())
            group = entry.run_id
            self.source.addItem(entry.title, entry.source)
            index = self.source.count() - 1
            for role, value in ((SYSTEM_ROLE, entry.system_prompts), (RUN_ROLE, entry.run_id),
                                (MODEL_ROLE, entry.model_id), (BEST_ROLE, entry.best)):
                self.source.setItemData(index, value, role)
        index = self.source.findData(current) if current else -1  # (separators hold no data)
        self.source.setCurrentIndex(index if index >= 0 else next(
            (i for i in range(self.source.count()) if self.source.itemData(i)), -1))
        self.source.blockSignals(False)
        self._source_changed()

    def choose_run(self, run_id: int) -> bool:
        """Choose the run's best checkpoint as the model; False when it is not listed (no checkpoint)."""
        index = next((i for i in range(self.source.count()) if self.source.itemData(i, RUN_ROLE) == run_id
                      and self.source.itemData(i, BEST_ROLE)), -1)
        if index >= 0:
            self.source.setCurrentIndex(index)
        return index >= 0

    def run_system_prompt(self) -> str:
        """The selected run's system prompt for the task (the default one for base models)."""
        task = self.task.currentData()
        system = self.source.currentData(SYSTEM_ROLE) or {}
        predictor = self.predictors.get(self.source.currentData())
        if predictor is not None:
            return predictor.system_prompt(task)
        return system.get(task) or prompts.system_prompt(task)

    def _source_changed(self) -> None:
        self.source.setToolTip(self.source.currentText())
        self._reset_system_prompt()

    def _reset_system_prompt(self) -> None:
        self.system_prompt.setPlainText(self.run_system_prompt())

    def _check_system_prompt(self) -> None:
        differs = self.system_prompt.toPlainText().strip() != self.run_system_prompt().strip()
        self.system_warning.setText("This differs from the system prompt the model was trained with; answers "
                                    "may be worse." if differs else "")
        self.system_warning.setVisible(differs)

    def show_image(self, image_id: int) -> None:
        """Use a project image (follows the image list)."""
        if self.project is None:
            return
        self.image_id = image_id
        path = self.project.image(image_id).path
        if self.isVisible():
            self._set_path(path)
        else:  # following the image list from another mode: decode only if the page is shown
            self._hidden_path = path
        self.suggestions.set_image(self.project, image_id)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._hidden_path is not None:
            path, self._hidden_path = self._hidden_path, None
            self._set_path(path)

    def open_file(self, path: str) -> None:
        """Use an image file from anywhere (not part of the project)."""
        self.image_id, self._hidden_path = None, None
        self._set_path(path)
        self.suggestions.set_image(self.project, None)

    def _open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.open_file(path)

    def _set_path(self, path: str) -> None:
        image = read_image(path)
        if image.isNull():
            self.stats.setText(f"{Path(path).name} cannot be read")
            return
        self.image_path = path
        self.prediction = None
        self.view.set_image(image)
        self.answer.clear()
        self.answer.setPlaceholderText(ANSWER_HINT)
        self.problem.setVisible(False)
        self.add_button.setEnabled(False)
        self._draw()

    # ---------------------------------------------------------------- generation
    def send(self) -> None:
        if self.job is not None:
            return
        if self.image_path is None:
            self.stats.setText("Choose an image first")
            return
        if not self.prompt.text().strip():
            self.stats.setText("Type a prompt first")
            return
        self._with_predictor(self._generate)

    def _with_predictor(self, then: Any) -> None:
        """Call ``then(predictor)`` for the chosen model, loading it in a worker first when needed."""
        source = self.source.currentData()
        if source is None:
            self.stats.setText("No model to use: train a run or pick a base model")
            return
        if source in self.predictors:
            then(self.predictors[source])
            return
        self._loading, self._then = source, then
        run_config = None
        if source.startswith(START_PREFIX) and self.project is not None:  # the model the run started from
            run_config = find_run(self.project, self.source.currentData(RUN_ROLE)).config
        job = Job("Loading model", load_predictor, source, run_config=run_config)
        job.finished.connect(self._loaded)  # a bound slot: delivered in the GUI thread (a lambda would not be)
        self._start(job, "Loading the model…")

    def _loaded(self, predictor: Any) -> None:
        self.predictors = {self._loading: predictor}  # one model in memory at a time
        self.job = None
        self._then(predictor)

    def _generate(self, predictor: Any) -> None:
        self.answer.clear()
        self.answer.setPlaceholderText(ANSWER_HINT)
        self.problem.setVisible(False)
        self.prediction = None
        self._draw()
        self.generating_text = ""
        job = GenerationJob(predictor, self.image_path, self.prompt.text(),
                            system_prompt=self.system_prompt.toPlainText().strip(), task=self.task.currentData(),
                            generation=self.generation.settings())
        job.text.connect(self._piece)
        job.finished.connect(self._answered)
        self._start(job, "Generating…")

    def _start(self, job: Job, message: str) -> None:
        self.job = job
        self._alive.append(job)
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.stats.setText(message)
        job.failed.connect(self._failed)
        job.done.connect(self._job_done)
        self.start_job(job)

    def _job_done(self) -> None:
        job = self.sender()
        if job is self.job:  # a finished load has already handed over to its generation job
            self.job = None
            self.suggestions.set_running(False)
        # drop the jobs whose threads have ended (this one's is still winding down)
        self._alive = [j for j in self._alive if j is job or not j.wait(0)]
        self.send_button.setEnabled(self.job is None)
        self.stop_button.setEnabled(self.job is not None)

    def _failed(self, message: str) -> None:
        self.stats.setText(message)

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _piece(self, piece: str) -> None:
        self.generating_text += piece
        if self.raw.isChecked() or self.task.currentData() == "vqa":
            self.answer.insertPlainText(piece)
        else:
            self.answer.setPlainText(self.generating_text)

    def _answered(self, prediction: Any) -> None:
        self.prediction = prediction
        stopped = " (stopped)" if prediction.stopped else ""
        cached = ", image reused" if prediction.image_cached else ""
        self.stats.setText(
            f"first token {prediction.time_to_first_token * 1000:,.0f} ms{cached} · "
            f"{prediction.tokens_per_second:,.1f} tokens/s · {prediction.tokens_used:,} tokens used{stopped}")
        self.add_button.setEnabled(self.image_id is not None and self.project is not None
                                   and not self.project.read_only
                                   and bool(prediction.boxes or (self.task.currentData() == "vqa" and prediction.text)))
        self._show_answer()
        self._draw()

    def _show_answer(self) -> None:
        """The boxes read from the answer (or its text for VQA and with Show raw answer), and, when some or all of
        it could not be read, a sentence saying which format was expected."""
        p = self.prediction
        if p is None:
            return
        grounding = self.task.currentData() != "vqa"
        if self.raw.isChecked() or not grounding:
            text = p.text
        else:
            text = "\n".join(f"{b.label or '(no label)'}: " + ", ".join(f"{v:.0f}" for v in b.box) for b in p.boxes)
        self.answer.setPlainText(text)
        self.answer.setPlaceholderText("No boxes could be read from this answer." if grounding else ANSWER_HINT)
        problem = reading_problem(self._adapter(), len(p.boxes), p.problems, p.text) if grounding else ""
        if problem and not self.raw.isChecked():
            problem += " Tick Show raw answer to see what the model wrote."
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))

    def _adapter(self) -> Any:
        """The chosen model's adapter (None when its model is not in the catalog)."""
        model_id = self.source.currentData(MODEL_ROLE)
        try:
            return get_adapter(model_id) if model_id else None
        except (KeyError, ValueError):
            return None

    def _draw(self) -> None:
        """Ground truth solid in its label's colour; predictions dashed and suggestions translucent, in the colour of
        the label they name (else orange); the selected suggestions thicker with handles, the others dimmed."""
        boxes: list[OverlayBox] = []
        project = self.project
        labels = project.labels() if project is not None else []
        colours = LabelColours(labels)
        if self.show_truth.isChecked() and project is not None and self.image_id is not None:
            by_id = {label.id: label for label in labels}
            truth = project.boxes(self.image_id)
            named = box_names(truth, by_id)
            for b in truth:
                label = by_id.get(b.label_id)
                boxes.append(OverlayBox(named[b.id], b.xyxy, "truth", label.color if label else UNLABELLED_COLOR))
        if self.prediction is not None:
            boxes += [OverlayBox(b.label, b.box, "prediction", colours.colour(b.label)) for b in self.prediction.boxes]
        if project is not None and self.image_id is not None:
            selected = set(self.suggestions.selected_ids())
            for s in suggestions(project, self.image_id):
                if s.kind == "box":
                    emphasis = "" if not selected else "selected" if s.id in selected else "dimmed"
                    boxes.append(OverlayBox(s.label, s.xyxy, "suggestion", colours.colour(s.label), emphasis))
        self.view.set_boxes(boxes)

    # ---------------------------------------------------------------- model-assisted labelling
    def suggest(self, scope: str) -> None:
        """Run the chosen model over this image, the selected images, the images without boxes, or all images."""
        if self.project is None or self.job is not None:
            return
        if scope == "image" and self.image_id is None:
            self.suggestions.status.setText("Choose a project image first")
            return
        ids = {"image": [self.image_id], "unannotated": None, "selected": list(self.selected_images()),
               "all": [image.id for image in self.project.images()]}.get(scope)
        if scope == "selected" and not ids:
            self.suggestions.status.setText("Select images in the image list first")
            return
        run_id = self.source.currentData(RUN_ROLE)

        def start(predictor: Any) -> None:
            job = Job("Suggesting labels", in_project, str(self.project.folder), suggest, predictor, ids,
                      run_id=run_id)
            job.progress.connect(self.suggestions.show_progress)
            job.finished.connect(self._suggested)
            self._start(job, "Suggesting…")
            self.suggestions.set_running(True)

        self.suggestions.set_running(True)
        self._with_predictor(start)

    def _suggested(self, counts: dict[str, Any]) -> None:
        self.suggestions.status.setText(f"{counts['boxes']:,} boxes and {counts['answers']:,} answers suggested on "
                                        f"{counts['images']:,} images")
        self.stats.setText("")
        self._suggestions_changed()

    def _suggestions_changed(self) -> None:
        self.suggestions.refresh()
        self._draw()
        if self.image_id is not None:
            self.annotations_added.emit(self.image_id)

    # ---------------------------------------------------------------- annotations
    def add_to_annotations(self) -> None:
        """Predicted boxes become boxes of their labels, a VQA answer a question/answer pair: one undoable command
        on the annotation undo stack (Ctrl+Z in Annotate, or Undo add here)."""
        p, project, image_id = self.prediction, self.project, self.image_id
        if p is None or project is None or image_id is None:
            return
        if self.task.currentData() == "vqa":
            command = AddVqa(project, image_id, self.prompt.text().strip(), p.text.strip())
        else:
            known = LabelIndex(project.labels())  # "a red ball" is added as a box of the label "red ball"
            specs = [BoxSpec(known.name_for(b.label) or None, b.box) for b in p.boxes]
            command = AddBoxes(project, image_id, specs, "Add predicted boxes")
        self.undo_stack.push(command)
        if command.error is not None:
            self.stats.setText(f"Could not add: {command.error}")
            return
        self._added = command
        self.add_button.setEnabled(False)
        self.undo_button.setVisible(True)
        self.stats.setText(f"{command.text()} — added to the annotations")
        self.annotations_added.emit(image_id)
        self._draw()

    def undo_add(self) -> None:
        """Undo the last add, when it is still the newest edit on the undo stack."""
        stack = self.undo_stack
        if self._added is None or stack.index() == 0 or stack.command(stack.index() - 1) is not self._added:
            self.stats.setText("Other edits came after it; use Edit > Undo")
            return
        stack.undo()
        self._added = None
        self.undo_button.setVisible(False)
        self.add_button.setEnabled(self.prediction is not None)
        self.stats.setText("Removed again")
        self._draw()

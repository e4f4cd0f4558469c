"""`TrainPage(project)`: pick and edit a workflow, check it, Start / Stop / Resume runs and watch them."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import get_adapter
from studio.dataset.queries import unsplit_annotated
from studio.dataset.splits import unsplit_warning
from studio.dataset.store import Project
from studio.humanize import duration
from studio.training import runs
from studio.training.data import vision_settings
from studio.training.device import pick_device
from studio.training.preflight import check_project_data, check_settings, run_memory
from studio.training.trainer import RunConfig, TrainingEvent
from studio.training.workflows import (
    DEFAULT_NAME,
    ensure_default_workflow,
    get_workflow,
    list_workflows,
    save_workflow,
)
from studio.ui import theme
from studio.ui.train.curves import CurvesView
from studio.ui.train.runs_panel import RunsPanel
from studio.ui.train.settings_form import WorkflowForm
from studio.workers.job import Job
from studio.workers.training import TrainingWorker


class TrainPage(QWidget):
    """Workflows, the run in progress and the stored runs; ``try_run(run id)`` asks to open a run in the
    Playground; ``job_started(TrainingWorker)`` offers a starting run to the window's status bar,
    ``run_ended(sentence)`` says how it ended, ``workflow_changed(WorkflowConfig)`` follows the form, and
    ``split_requested()`` asks to split the annotated images that have no split."""

    try_run = Signal(int)
    workflow_changed = Signal(object)  # the form's WorkflowConfig, after each (debounced) change
    job_started = Signal(object)
    run_ended = Signal(str)
    split_requested = Signal()

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.extent = project.image_extent()  # (images, largest width, height): read again when the page shows
        self.worker: TrainingWorker | None = None
        self.active_run: str | None = None
        runs.mark_interrupted(project)
        if not project.read_only:
            ensure_default_workflow(project)

        self.workflow_box = QComboBox()
        self.workflow_box.setObjectName("workflowBox")
        self.workflow_box.setMinimumWidth(160)
        self.save_button = QPushButton(theme.icon("mdi6.content-save"), "Save")
        self.save_as_button = QPushButton("Save as…")
        self.start_button = QPushButton(theme.icon("mdi6.play", color=theme.ACCENT), "Start")
        self.start_button.setObjectName("startButton")
        self.stop_button = QPushButton(theme.icon("mdi6.stop"), "Stop")
        self.resume_button = QPushButton(theme.icon("mdi6.play-pause"), "Resume")
        self.try_button = QPushButton(theme.icon("mdi6.message-image-outline"), "Try in Playground")
        self.try_button.setToolTip("Prompt the selected run's best checkpoint on any image")
        self.state_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Workflow"))
        bar.addWidget(self.workflow_box)
        bar.addWidget(self.save_button)
        bar.addWidget(self.save_as_button)
        bar.addStretch(1)
        bar.addWidget(self.state_label)
        for button in (self.start_button, self.stop_button, self.resume_button, self.try_button):
            bar.addWidget(button)

        self.form = WorkflowForm()
        self.check_label = QLabel()
        self.check_label.setObjectName("checkLabel")
        self.check_label.setWordWrap(True)
        self.check_label.setTextFormat(Qt.TextFormat.RichText)
        self.data_button = QPushButton(theme.icon("mdi6.text-box-check-outline"), "Check data")
        self.data_button.setToolTip("Count every sample's tokens against the max sequence length and estimate memory")
        self.data_label = QLabel()
        self.data_label.setObjectName("dataLabel")
        self.data_label.setWordWrap(True)
        self.data_label.setTextFormat(Qt.TextFormat.RichText)
        self.data_progress = QProgressBar()
        self.data_progress.setTextVisible(False)
        self.data_progress.setMaximumHeight(6)
        self.data_progress.hide()
        self.data_job: Job | None = None
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.check_label)
        left_layout.addWidget(self.data_button)
        left_layout.addWidget(self.data_progress)
        left_layout.addWidget(self.data_label)
        left_layout.addWidget(self.form)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(380)
        self.curves = CurvesView()
        self.runs_panel = RunsPanel()
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.curves)
        splitter.addWidget(self.runs_panel)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([400, 700, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self._check_timer = QTimer(self, singleShot=True, interval=250)
        self._check_timer.timeout.connect(self.check)
        self.form.changed.connect(self._check_timer.start)
        self.workflow_box.currentIndexChanged.connect(self._load_workflow)
        self.save_button.clicked.connect(self.save)
        self.data_button.clicked.connect(self.check_data)
        self.save_as_button.clicked.connect(self.save_as)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.try_button.clicked.connect(self._try_selected)
        self.runs_panel.run_selected.connect(self._show_run)
        self.runs_panel.selection_changed.connect(self._compare_runs)
        self.refresh_workflows(DEFAULT_NAME)
        self.refresh_runs()
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        """Images may have come or gone in Annotate mode: the worst-case estimate follows."""
        extent = self.project.image_extent()
        if extent != self.extent:
            self.extent = extent
            self._check_timer.start()
        super().showEvent(event)

    # --- workflows ----------------------------------------------------------------------------------------
    def refresh_workflows(self, select: str | None = None) -> None:
        current = select or self.workflow_box.currentText()
        self.workflow_box.blockSignals(True)
        self.workflow_box.clear()
        for workflow in list_workflows(self.project):
            self.workflow_box.addItem(workflow.name)
        self.workflow_box.setCurrentIndex(max(0, self.workflow_box.findText(current)))
        self.workflow_box.blockSignals(False)
        self._load_workflow()

    def _load_workflow(self) -> None:
        name = self.workflow_box.currentText()
        if name:
            self.form.set_config(get_workflow(self.project, name).config)

    def save(self) -> bool:
        name = self.workflow_box.currentText() or DEFAULT_NAME
        try:
            save_workflow(self.project, name, self.form.config())
        except ValueError as exc:
            self.runs_panel.append_log(f"not saved: {exc}")
            return False
        return True

    def save_as(self) -> None:
        name, ok = QInputDialog.getText(self, "Save workflow as", "Name")
        if ok and name.strip():
            try:
                save_workflow(self.project, name.strip(), self.form.config())
            except ValueError as exc:
                self.runs_panel.append_log(f"not saved: {exc}")
                return
            self.refresh_workflows(name.strip())

    # --- validation ---------------------------------------------------------------------------------------
    def check(self) -> list[str]:
        """Validate the form (settings, weights, LoRA support, quantisation, memory) and show the result."""
        config = self.form.config()
        self.workflow_changed.emit(config)
        try:
            adapter = get_adapter(config.model_id)
            device = pick_device(config.device)
            report = check_settings(adapter, config, device)
        except (ValueError, KeyError) as exc:
            problems, facts, warnings = [str(exc)], {}, []
        else:
            problems, facts, warnings = report.errors, report.facts, report.warnings
            if not problems:
                # the worst case the settings allow: the project's largest image, samples at the length limit
                images, width, height = self.extent
                visual = adapter.visual_tokens(width or 256, height or 256, vision_settings(adapter, config))
                estimate = run_memory(adapter.entry, config, seq_len=config.max_seq_len, visual_tokens=visual,
                                      images=images)
                facts = {**facts, "estimate": f"{estimate.total_gib:.2f} GiB", "device": device}
        text = ""
        if not problems:
            memory = "memory" if facts["device"] == "cpu" else "GPU memory"
            text = (f"<p>✓ Ready on <b>{facts['device']}</b> · {memory} estimate at most {facts['estimate']} peak "
                    f"(batches of {config.batch_size} at the {config.max_seq_len:,}-token limit). Longer samples "
                    f"are refused by name when the run starts.</p>")
        self.check_label.setText(text + findings_html(problems, warnings))
        self._problems = problems
        self._update_buttons()
        return problems

    def check_data(self) -> None:
        """Run the data checks (token budget per sample, memory) in a worker thread; while they run, the button
        cancels them."""
        if self.data_job is not None:
            self.data_job.cancel()
            self.data_label.setText("cancelling the check…")
            return
        self.data_label.setText("checking every sample…")
        self.data_job = Job("Checking the data", check_project_data, self.project.folder, self.form.config())
        self.data_job.progress.connect(self._data_progress)
        self.data_job.finished.connect(self._data_checked)
        self.data_job.failed.connect(lambda message: self.data_label.setText(f"<p style='color:#d64545'>{message}</p>"))
        self.data_job.cancelled.connect(lambda: self.data_label.setText("Check cancelled."))
        self.data_job.done.connect(self._data_done)
        self.data_progress.setRange(0, 0)
        self.data_progress.show()
        self.data_button.setText("Cancel check")
        self.data_button.setIcon(theme.icon("mdi6.close-circle-outline"))
        self.data_job.start()

    def _data_progress(self, done: int, total: int, message: str) -> None:
        self.data_progress.setRange(0, total)  # 0, 0: busy
        self.data_progress.setValue(done)
        if message and self.data_job is not None and not self.data_job.token.cancelled:
            self.data_label.setText(message + "…")

    def _data_checked(self, report) -> None:
        facts = report.facts
        text = ""
        if not report.errors:
            capacity = facts.get("device_memory_bytes")
            text = (f"<p>✓ {facts.get('train_samples', 0):,} training and {facts.get('val_samples', 0):,} validation "
                    f"samples; the longest has {facts.get('train_longest_tokens', 0):,} tokens (limit "
                    f"{self.form.config().max_seq_len:,}), its answer {facts.get('longest_answer_tokens', 0):,}. "
                    f"Memory estimate for this data: {facts.get('memory_estimate_bytes', 0) / 2**30:.2f} GiB peak"
                    + (f" of {capacity / 2**30:.0f} GiB" if capacity else "") + ".</p>")
        self.data_label.setText(text + findings_html(report.errors, report.warnings))

    def _data_done(self) -> None:
        self.data_job = None
        self.data_progress.hide()
        self.data_button.setText("Check data")
        self.data_button.setIcon(theme.icon("mdi6.text-box-check-outline"))

    # --- runs ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.worker is not None or self.check() or not self.save() or not self.confirm_unsplit():
            return
        self._launch(RunConfig(self.project.folder, self.workflow_box.currentText()))

    def confirm_unsplit(self) -> bool:
        """Before a run: when annotated images have no split, say how many and offer to split them first.
        True: start now."""
        unsplit = len(unsplit_annotated(self.project))
        if not unsplit:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Images without a split", f"{unsplit_warning(unsplit)}.",
                          parent=self)
        box.setInformativeText("Split them now (the images already split keep their split), then press Start "
                               "again; or start with the images already split.")
        split = box.addButton("Split now…", QMessageBox.ButtonRole.AcceptRole)
        start = box.addButton("Start anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(split)
        box.exec()
        if box.clickedButton() is split:
            self.split_requested.emit()
        return box.clickedButton() is start

    def resume(self) -> None:
        name = self.runs_panel.selected_run()
        if self.worker is not None or name is None:
            return
        run = runs.find_run(self.project, name)
        self._launch(RunConfig(self.project.folder, run.workflow_name or self.workflow_box.currentText(),
                               resume=name))

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def _stopping(self) -> None:
        """Stop was asked for, here or in the status bar."""
        self._update_buttons()

    def _launch(self, run_config: RunConfig) -> None:
        self.curves.clear()
        self.curves.compare({})
        self.active_run = run_config.resume
        resumed = runs.find_run(self.project, run_config.resume) if run_config.resume else None
        if resumed is not None:
            self.curves.set_series(runs.metrics(self.project, resumed))
        self.runs_panel.show_log(runs.read_log(resumed) if resumed else "")  # a resumed run's log goes on
        self.started_at = time.monotonic()
        self.worker = TrainingWorker(run_config)
        self.worker.event.connect(self._on_event)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.done.connect(self._on_done)
        self.worker.stopping.connect(self._stopping)
        self.job_started.emit(self.worker)
        what = f"resuming run {run_config.resume}" if run_config.resume else "starting a run"
        self.runs_panel.append_log(f"— {what} of workflow {run_config.workflow}")
        self.worker.start()
        self._update_buttons()

    def _on_event(self, event: TrainingEvent) -> None:
        if event.kind == "step":
            m = event.metrics
            self.curves.add(event.step, {"loss": m["loss"], "lr": m["lr"]})
            memory = f" · memory {m['memory_mb']:,.0f} MB" if m.get("memory_mb") else ""
            self.curves.stats.setText(
                f"step {event.step:,}/{event.total_steps:,} · epoch {event.epoch:.2f} · loss {m['loss']:.4f} · "
                f"lr {m['lr']:.2e} · {m['samples_per_s']:.1f} samples/s · ETA {duration(m['eta_s'])}{memory}")
        elif event.kind == "prepare":
            self.curves.stats.setText(event.message)
        else:
            if event.kind == "eval":
                self.curves.add(event.step, event.metrics)
            if line := event.log_line():
                self.runs_panel.append_log(line)
            if event.kind in ("checkpoint", "status"):
                self.refresh_runs()

    def _on_finished(self, result) -> None:
        self.active_run = result.run_name
        ended = (f"{result.run_name} {result.status} at step {result.steps} "
                 f"({duration(time.monotonic() - self.started_at)})")
        self.runs_panel.append_log(ended)
        self.run_ended.emit(f"Training {ended}")

    def _on_failed(self, message: str) -> None:
        self.runs_panel.append_log(message)
        self.run_ended.emit(f"{message} (the Train page's log has the details)")
        self.state_label.setText("failed: see the log")

    def _on_done(self) -> None:
        self.worker = None
        self.refresh_runs(select=self.active_run)  # shows the finished run
        self._update_buttons()

    def refresh_runs(self, select: str | None = None) -> None:
        found = runs.list_runs(self.project)
        current = select or self.runs_panel.selected_run() or (found[0].name if found else None)
        self.runs_panel.set_runs(found, current)
        if self.worker is not None and found and found[0].status == "running" and self.active_run != found[0].name:
            self.active_run = found[0].name
            self.runs_panel.set_runs(found, self.active_run)
        elif self.worker is None and current:
            self._show_run(current)

    def _show_run(self, name: str) -> None:
        """A stored run's curves and a line of its outcome (while training, the live run keeps the view)."""
        self._update_buttons()
        if self.worker is None:
            run = runs.find_run(self.project, name)
            self.curves.set_series(runs.metrics(self.project, run))
            self.curves.stats.setText(run_outcome(run))
            self.runs_panel.show_log(runs.read_log(run))

    def _compare_runs(self, names: list[str]) -> None:
        current = self.active_run if self.worker is not None else self.runs_panel.selected_run()
        others = {n: runs.metrics(self.project, runs.find_run(self.project, n)) for n in names if n != current}
        self.curves.compare(others)

    def _update_buttons(self) -> None:
        running = self.worker is not None
        stopping = running and self.worker.token.cancelled
        problems = getattr(self, "_problems", [])
        self.start_button.setEnabled(not running and not problems and not self.project.read_only)
        self.stop_button.setEnabled(running and not stopping)
        selected = self.runs_panel.selected_run()
        run = runs.find_run(self.project, selected) if selected and not running else None
        self.resume_button.setEnabled(run is not None and run.status in ("stopped", "failed"))
        self.try_button.setEnabled(run is not None and run.best_checkpoint() is not None)
        if stopping:
            self.state_label.setText("stopping after this step (saving a checkpoint)…")
        elif running:
            self.state_label.setText("training…")
        elif not self.state_label.text().startswith("failed"):
            self.state_label.setText("")

    def _try_selected(self) -> None:
        selected = self.runs_panel.selected_run()
        if selected:
            self.try_run.emit(runs.find_run(self.project, selected).id)

    def shutdown(self) -> None:
        """Stop a run (it saves a checkpoint) and wait for it: called when the window closes."""
        if self.data_job is not None:
            self.data_job.wait()
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait()


def findings_html(errors: list[str], warnings: list[str]) -> str:
    """A check's problems (red, ✗) and warnings (muted, !) as paragraphs."""
    muted = theme.colours()["muted"]
    return ("".join(f"<p style='color:#d64545'>✗ {e}</p>" for e in errors)
            + "".join(f"<p style='color:{muted}'>! {w}</p>" for w in warnings))


def run_outcome(run: runs.Run) -> str:
    """One line on a stored run: status, steps, best validation loss, speed, training time, peak GPU memory."""
    summary = run.summary
    parts = [f"{run.name}: {run.status}"]
    if summary.get("steps") is not None:
        parts.append(f"{summary['steps']:,} steps")
    if isinstance(summary.get("best_val_loss"), float):
        parts.append(f"best val loss {summary['best_val_loss']:.4f}")
    if summary.get("samples_per_s"):
        parts.append(f"{summary['samples_per_s']:.1f} samples/s")
    if summary.get("train_seconds"):
        parts.append(f"trained {duration(summary['train_seconds'])}")
    if summary.get("peak_memory_bytes"):
        parts.append(f"peak GPU memory {summary['peak_memory_bytes'] / 2**30:.1f} GiB")
    if summary.get("error"):
        parts.append(summary["error"])
    return " · ".join(parts)

"""What a training session reports and keeps: the events it hands to its caller (`TrainingEvent`), timestamped in
the run's log, and its metrics, written to the project in batches (and to TensorBoard). A mixin of the trainer's
session, which supplies ``project``, ``run_record``, ``dist`` and ``forward``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from studio.training import runs


@dataclass(frozen=True)
class TrainingEvent:
    """What ``on_progress`` receives: ``kind`` is status, prepare, step, eval, checkpoint or done; ``run`` names
    the run once it has a record (a new run's name is chosen after its data is checked)."""

    kind: str
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    run: str = ""

    def log_line(self) -> str:
        """The event as a line of the run's log ('' for per-step progress)."""
        if self.kind == "eval":
            return f"step {self.step}: val loss {self.metrics['val_loss']:.4f}"
        return "" if self.kind in ("step", "prepare") else self.message


class SessionReporting:
    """Events, the run's log and its metrics, for one training session (the main process writes them)."""

    log_lines: list[str]  # waiting for the run folder
    pending_metrics: list[tuple[int, str, float]]
    last_flush: float
    writer: Any  # TensorBoard's, when it is installed

    def record(self, step: int, metrics: dict[str, float]) -> None:
        self.pending_metrics.extend((step, name, value) for name, value in metrics.items())
        if self.writer is not None:
            for name, value in metrics.items():
                self.writer.add_scalar(f"train/{name}" if name != "val_loss" else "val/loss", value, step)
        self.flush()

    def flush(self, force: bool = False) -> None:
        if not self.dist.main:
            self.pending_metrics = []
        elif self.pending_metrics and (force or time.monotonic() - self.last_flush > 2.0):
            runs.add_metrics(self.project, self.run_record, self.pending_metrics)
            self.pending_metrics = []
            self.last_flush = time.monotonic()
            if self.writer is not None:
                self.writer.flush()

    def _open_tensorboard(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            self.log(f"TensorBoard logs are off: {exc} (pip install tensorboard)")
            return
        self.writer = SummaryWriter(str(folder / "tensorboard"))

    def emit(self, event: TrainingEvent) -> None:
        """Hand ``event`` on, with the run's name, and keep its log line."""
        if self.run_record is not None and not event.run:
            event = replace(event, run=self.run_record.name)
        self.forward(event)
        if line := event.log_line():
            self.keep_log(line)

    def keep_log(self, line: str) -> None:
        """Add ``line``, timestamped, to the run's log file (the main process's; held until the folder exists)."""
        if not self.dist.main:
            return
        self.log_lines.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {line}")
        if self.run_record is not None:
            lines, self.log_lines = self.log_lines, []
            runs.append_log(self.run_record, lines)

    def status(self, message: str) -> None:
        self.emit(TrainingEvent("status", message=message))

    def log(self, message: str) -> None:
        self.emit(TrainingEvent("status", message=message))

"""Run `studio.training.trainer.train` in a QThread and turn its events into Qt signals."""

from __future__ import annotations

import logging
import time
import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal

from studio.humanize import duration
from studio.jobs import CancelToken
from studio.training.trainer import RunConfig, TrainingError, TrainingEvent, train

log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    """``event(TrainingEvent)`` while training, then ``finished(TrainResult)`` or ``failed(str)``, then ``done``.
    `stop()` asks the run to save a checkpoint and stop at the next step (``stopping`` says so).

    It is also a job for the status bar (studio.ui.jobs_bar): ``title`` names the run, ``progress(done, total,
    message)`` follows its preparation and steps ("step 120 / 1,650, loss 0.71, ETA 4 min"), ``cancel()`` stops."""

    event = Signal(object)
    progress = Signal(int, int, str)
    stopping = Signal()
    finished = Signal(object)
    failed = Signal(str)
    done = Signal()
    home = "train"
    own_eta = True
    cancel_hint = "Stop training (saves a checkpoint)"

    def __init__(self, run_config: RunConfig) -> None:
        super().__init__()
        self.run_config = run_config
        self.title = f"Training {run_config.resume or run_config.workflow}"
        self.token = CancelToken()
        self.started_at = 0.0
        self._thread: QThread | None = None

    def run(self) -> None:
        self.started_at = time.monotonic()
        self.progress.emit(0, 0, "preparing")
        try:
            result = train(self.run_config, self._relay, self.token)
        except TrainingError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the app stays up; the person reads what happened
            log.error("training failed:\n%s", traceback.format_exc())
            self.failed.emit(f"training failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)
        self.done.emit()

    def _relay(self, event: TrainingEvent) -> None:
        if event.run:
            self.title = f"Training {event.run}"
        self.event.emit(event)
        if event.kind == "step":
            m = event.metrics
            self.progress.emit(event.step, event.total_steps, f"step {event.step:,} / {event.total_steps:,}, "
                               f"loss {m['loss']:.2f}, ETA {duration(m['eta_s'])}")
        elif event.kind == "prepare":
            self.progress.emit(event.step, event.total_steps, event.message)

    def start(self) -> None:
        thread = QThread()
        thread.setObjectName("training")
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Quit from the worker thread itself: wait() on the GUI thread (shutdown) then returns as the run ends.
        self.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        thread.start()

    def stop(self) -> None:
        if not self.token.cancelled:
            self.token.cancel()
            self.stopping.emit()

    def cancel(self) -> None:
        """The status bar's cancel: the same as `stop`."""
        self.stop()

    def wait(self, msecs: int = 60000) -> bool:
        try:
            return self._thread.wait(msecs) if self._thread is not None else True
        except RuntimeError:  # already deleted: finished
            return True

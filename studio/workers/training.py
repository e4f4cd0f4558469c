"""Run `studio.training.trainer.train` in a QThread and turn its events into Qt signals."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal

from studio.jobs import CancelToken
from studio.training.trainer import RunConfig, TrainingError, train

log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    """``event(TrainingEvent)`` while training, then ``finished(TrainResult)`` or ``failed(str)``, then ``done``.
    `stop()` asks the run to save a checkpoint and stop at the next step."""

    event = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, run_config: RunConfig) -> None:
        super().__init__()
        self.run_config = run_config
        self.token = CancelToken()
        self._thread: QThread | None = None

    def run(self) -> None:
        try:
            result = train(self.run_config, self.event.emit, self.token)
        except TrainingError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the app stays up; the person reads what happened
            log.error("training failed:\n%s", traceback.format_exc())
            self.failed.emit(f"training failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)
        self.done.emit()

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
        self.token.cancel()

    def wait(self, msecs: int = 60000) -> bool:
        try:
            return self._thread.wait(msecs) if self._thread is not None else True
        except RuntimeError:  # already deleted: finished
            return True

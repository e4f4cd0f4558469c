"""Run one core function in a QThread, turning its progress, result and errors into Qt signals.

A worker holds no logic of its own: it calls ``fn(*args, progress=..., cancel=..., **kwargs)`` and reports.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal

from studio.jobs import Cancelled, CancelToken

log = logging.getLogger(__name__)
_running: set[Job] = set()  # jobs whose thread has not finished: kept alive until it has


class Job(QObject):
    """A long job: ``progress(done, total, message)``, then exactly one of ``finished``/``failed``/``cancelled``."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # after any of the three above

    def __init__(self, title: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.title = title
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.token = CancelToken()
        self.started_at = 0.0
        self._thread: QThread | None = None

    def _report(self, done: int, total: int, message: str = "") -> None:
        self.progress.emit(int(done), int(total), message)

    def run(self) -> None:
        """The body, run in the worker thread."""
        self.started_at = time.monotonic()
        try:
            result = self._fn(*self._args, progress=self._report, cancel=self.token, **self._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # every failure becomes a sentence for the person, never a crash
            log.error("%s failed:\n%s", self.title, traceback.format_exc())
            self.failed.emit(f"{self.title} failed: {exc}")
        else:
            self.finished.emit(result)
        self.done.emit()

    def start(self) -> None:
        """Move to a fresh QThread and run there; the thread quits and is cleaned up when the job ends."""
        thread = QThread()
        thread.setObjectName(self.title)
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Quit from the worker thread itself, so that wait() on the GUI thread returns as soon as the job ended.
        self.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(lambda: _running.discard(self))
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        _running.add(self)
        thread.start()

    def cancel(self) -> None:
        self.token.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the thread ended (tests and shutdown only)."""
        try:
            return self._thread.wait(msecs) if self._thread is not None else True
        except RuntimeError:  # the QThread was already deleted: it has finished
            return True

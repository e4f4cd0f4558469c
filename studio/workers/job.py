"""Run one core function in a QThread, turning its progress, result and errors into Qt signals.

A worker holds no logic of its own: it calls ``fn(*args, progress=..., cancel=..., **kwargs)`` and reports.
The `Job` object stays in the thread that created it (the GUI thread); a private runner lives in the worker
thread and relays to it, so every slot connected to a job's signals, lambdas included, runs in the GUI thread.
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


class _Signals(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # after any of the three above


class _Runner(_Signals):
    """Lives in the worker thread and calls the job's function there."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:
        job = self.job
        job.started_at = time.monotonic()
        try:
            result = job._fn(*job._args, progress=self._report, cancel=job.token, **job._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # every failure becomes a sentence for the person, never a crash
            log.error("%s failed:\n%s", job.title, traceback.format_exc())
            self.failed.emit(f"{job.title} failed: {exc}")
        else:
            self.finished.emit(result)
        self.done.emit()

    def _report(self, done: int, total: int, message: str = "") -> None:
        self.progress.emit(int(done), int(total), message)


class Job(_Signals):
    """A long job: ``progress(done, total, message)``, then exactly one of ``finished``/``failed``/``cancelled``,
    then ``done``; all delivered in the thread that created the job."""

    home: str | None = None  # the page (mode key) that shows this job in full; the status bar links to it
    own_eta = False  # whether each progress message says the ETA itself (the status bar then shows it as is)
    cancel_hint = "Cancel this job"

    def __init__(self, title: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.title = title
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.token = CancelToken()
        self.started_at = 0.0
        self._thread: QThread | None = None
        self._runner: _Runner | None = None

    def start(self) -> None:
        """Run in a fresh QThread; the thread quits and is cleaned up when the job ends."""
        thread = QThread()
        thread.setObjectName(self.title)
        runner = _Runner(self)
        runner.moveToThread(thread)
        for name in ("progress", "finished", "failed", "cancelled", "done"):
            getattr(runner, name).connect(getattr(self, name))  # queued: re-emitted in this thread
        thread.started.connect(runner.run)
        # Quit from the worker thread itself, so that wait() here returns as soon as the job ended.
        runner.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        # The runner is not deleteLater()'d: deleting a Python-owned object in the worker thread needs the GIL
        # while Qt holds its connection lock, which deadlocks against the GUI thread. Python frees it with the job.
        thread.finished.connect(lambda: _running.discard(self))
        thread.finished.connect(thread.deleteLater)
        self._thread, self._runner = thread, runner
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

"""One background job at a time for a widget that recomputes something (a budget, a preview).

Results and failures of a job that was stopped or replaced are dropped. The slot is idle again once the job's
thread has ended, a moment after the job's ``done``: it looks again shortly rather than block the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from studio.workers.job import Job


class JobSlot(QObject):
    """``result(object)`` / ``failed(str)`` of the current job; ``idle()`` once its thread has ended."""

    result = Signal(object)
    failed = Signal(str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: Job | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, job: Job) -> None:
        """Run ``job``; the slot must be idle (check `busy`, or `stop()` first)."""
        if self._job is not None:
            raise RuntimeError("a job is still running in this slot")
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.done.connect(self._done)
        self._job = job
        job.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Cancel the current job and wait for its thread; its result is dropped."""
        job, self._job = self._job, None
        if job is None:
            return
        job.cancel()
        job.wait(int(timeout_s * 1000))

    def _finished(self, value: Any) -> None:
        if self.sender() is self._job:
            self.result.emit(value)

    def _failed(self, message: str) -> None:
        if self.sender() is self._job:
            self.failed.emit(message)

    def _done(self) -> None:
        job = self.sender()
        if job is not self._job:
            return
        self._retire(job)

    def _retire(self, job: Job) -> None:
        if not job.wait(0):  # the thread is still finishing: look again shortly
            QTimer.singleShot(10, lambda: self._retire(job))
            return
        if job is self._job:
            self._job = None
            self.idle.emit()

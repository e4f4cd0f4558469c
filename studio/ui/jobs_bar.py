"""The status-bar part that shows the running background job: title, progress, ETA, cancel."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from studio.humanize import duration
from studio.ui import theme
from studio.workers.job import Job


class JobsBar(QWidget):
    """Shows one job at a time (the newest); hidden when idle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(theme.icon("mdi6.close-circle-outline"))
        self.cancel_button.setToolTip("Cancel this job")
        self.cancel_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._job: Job | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def track(self, job: Job) -> None:
        self._job = job
        self.label.setText(job.title)
        self.bar.setRange(0, 0)
        job.progress.connect(self._progress)
        job.done.connect(self._done)
        self.show()

    def _progress(self, done: int, total: int, message: str) -> None:
        if self._job is None:
            return
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        text = self._job.title
        elapsed = time.monotonic() - self._job.started_at
        if 0 < done < total and elapsed > 1:
            text += f" · ETA {duration(elapsed / done * (total - done))}"
        self.label.setText(text)
        self.label.setToolTip(message)

    def _cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.label.setText(f"{self._job.title}: cancelling…")

    def _done(self) -> None:
        self._job = None
        self.hide()

"""The status-bar part that shows the running background jobs: title, progress, ETA, cancel.

A job is a `studio.workers.job.Job` or anything shaped like one (the training worker): ``title``,
``started_at``, ``token`` (its cancel token), the signals ``progress(done, total, message)`` and ``done``,
``cancel()``, and the class facts ``home`` (the page that shows it in full), ``own_eta`` and ``cancel_hint``."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from studio.humanize import duration
from studio.ui import theme


class JobsBar(QWidget):
    """Shows the newest running job (an older one comes back when the newer ends); hidden when idle. Clicking a
    job that has a ``home`` page asks for it with ``open_page(mode key)``."""

    open_page = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.installEventFilter(self)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(theme.icon("mdi6.close-circle-outline"))
        self.cancel_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._jobs: list[list[Any]] = []  # [job, (done, total, message)] of the running jobs, oldest first
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    @property
    def _job(self) -> Any:
        """The job shown: the newest."""
        return self._jobs[-1][0] if self._jobs else None

    def track(self, job: Any) -> None:
        """Show ``job`` until it is done (its signals must be delivered in this thread or queued to it)."""
        self._jobs.append([job, (0, 0, "")])
        job.progress.connect(self._progress)
        job.done.connect(self._done)
        self._show()

    def _entry(self, job: Any) -> list[Any] | None:
        return next((entry for entry in self._jobs if entry[0] is job), None)

    def _progress(self, done: int, total: int, message: str) -> None:
        entry = self._entry(self.sender())
        if entry is not None:
            entry[1] = (done, total, message)
            if entry[0] is self._job:
                self._show()

    def _show(self) -> None:
        job = self._job
        if job is None:
            self.hide()
            return
        done, total, message = self._entry(job)[1]
        self.bar.setRange(0, total)  # 0, 0: busy
        self.bar.setValue(min(done, total))
        if job.own_eta and message:
            text = f"{job.title}: {message}"
        else:
            text = job.title
            elapsed = time.monotonic() - job.started_at
            if 0 < done < total and elapsed > 1:
                text += f" · ETA {duration(elapsed / done * (total - done))}"
        if job.token.cancelled:
            text = f"{job.title}: {'stopping' if job.own_eta else 'cancelling'}…"
        self.label.setText(text)
        home = f"; click to open the {job.home.capitalize()} page" if job.home else ""
        self.label.setToolTip((message or job.title) + home)
        self.label.setCursor(Qt.CursorShape.PointingHandCursor if job.home else Qt.CursorShape.ArrowCursor)
        self.cancel_button.setToolTip(job.cancel_hint)
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        clicked = watched is self.label and event.type() == QEvent.Type.MouseButtonRelease
        if clicked and self._job is not None and self._job.home:
            self.open_page.emit(self._job.home)
            return True
        return super().eventFilter(watched, event)

    def _cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._show()

    def _done(self) -> None:
        entry = self._entry(self.sender())
        if entry is not None:
            self._jobs.remove(entry)
        self._show()

"""Turn the store's change notifications into a Qt signal, delivered in the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from studio.dataset.store import Project

EXTERNAL_POLL_MS = 500  # how often to look for commits by other connections (workers, the CLI, another window)


class StoreSignals(QObject):
    """``changed(Change)`` after every committed transaction of ``project``. With ``watch_external``, also within
    ``EXTERNAL_POLL_MS`` after commits of other connections (see ``Project.publish_external_changes``)."""

    changed = Signal(object)

    def __init__(self, project: Project, parent: QObject | None = None, *, watch_external: bool = False) -> None:
        super().__init__(parent)
        self._project = project
        self._unsubscribe = project.subscribe(self.changed.emit)
        self._poll = QTimer(self)
        self._poll.setInterval(EXTERNAL_POLL_MS)
        self._poll.timeout.connect(self._poll_external)
        if watch_external:
            self._poll_external()  # starts the watch: later commits of this process's workers come precisely
            self._poll.start()

    def _poll_external(self) -> None:
        if self._project.conn is not None:
            self._project.publish_external_changes()

    def detach(self) -> None:
        self._poll.stop()
        self._unsubscribe()

"""Turn project-store change notifications into a Qt signal."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.dataset.store import Project


class StoreSignals(QObject):
    """Emits ``changed(Change)`` after every committed store transaction.

    The store may notify from any thread; Qt queues the signal to receivers living in other threads.
    """

    changed = Signal(object)

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = project.subscribe(self.changed.emit)
        self.destroyed.connect(self._unsubscribe)

    def stop(self) -> None:
        """Stop listening (also done when the object is destroyed)."""
        self._unsubscribe()

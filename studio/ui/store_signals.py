"""Turn the store's change notifications into a Qt signal, delivered in the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.dataset.store import Project


class StoreSignals(QObject):
    """``changed(Change)`` after every committed transaction of ``project``."""

    changed = Signal(object)

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = project.subscribe(self.changed.emit)

    def detach(self) -> None:
        self._unsubscribe()

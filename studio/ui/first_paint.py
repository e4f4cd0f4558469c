"""Deferring heavy construction until the window has shown its first frame."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class AfterFirstPaint(QObject):
    """Calls ``slot`` once, ``delay_ms`` after ``widget`` first painted: a timer started at construction would
    come due while a project opens and be run before the window's first frame."""

    def __init__(self, widget: QWidget, slot: Callable[[], None], delay_ms: int = 100) -> None:
        super().__init__(widget)
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(slot)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            self._timer.start()
        return False

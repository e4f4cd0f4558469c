"""Deferring heavy construction until the window has shown its first frame."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

IMPORT_POLL_MS = 20  # how often the GUI thread looks whether the background imports are done


class AfterFirstPaint(QObject):
    """Calls ``slot`` once, ``delay_ms`` after ``widget`` first painted (a timer started at construction would come
    due while a project opens and be run before the window's first frame), and after ``modules`` were imported in
    a thread started at that paint. An import in a thread gives the GIL back every few milliseconds; the same
    import on the GUI thread (pyqtgraph: about half a second) would freeze the window for all of it."""

    def __init__(self, widget: QWidget, slot: Callable[[], None], delay_ms: int = 100,
                 modules: Sequence[str] = ()) -> None:
        super().__init__(widget)
        self._modules = tuple(modules)
        self._importer: threading.Thread | None = None
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(slot)
        self._poll = QTimer(self, interval=IMPORT_POLL_MS)
        self._poll.timeout.connect(self._check_imported)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            if self._modules:
                self._importer = threading.Thread(target=_import, args=(self._modules,), name="import", daemon=True)
                self._importer.start()
                self._poll.start()
            else:
                self._timer.start()
        return False

    def _check_imported(self) -> None:
        if self._importer is not None and not self._importer.is_alive():
            self._poll.stop()
            self._timer.start()


def _import(modules: Sequence[str]) -> None:
    """Import ``modules`` (a thread's target); one that fails is left to the slot's own import, which reports it."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            log.exception("importing %s in the background failed", name)

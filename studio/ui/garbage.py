"""Python's cyclic garbage collector, run by the GUI thread alone.

With automatic collection, whichever thread allocates when a threshold trips runs the collection, and a worker that
collects a cycle holding a widget (a closed dialog, a plot's menu) destroys that widget outside the GUI thread: Qt
then locks a signal mutex from the worker while waiting for the GIL, and the GUI thread, holding the GIL, waits for
that mutex (a deadlock seen in the tests). PyQt's documentation gives the same remedy: turn automatic collection off
and collect from a GUI timer, generation by generation as the thresholds would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from studio.jobs import gc_is_paused

INTERVAL_MS = 500


class GuiGarbageCollector(QObject):
    """Collects the youngest generation due (by Python's own thresholds) every `INTERVAL_MS` on the GUI thread."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self, interval=INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    @staticmethod
    def collect() -> int:
        """Collect the oldest generation whose count passed its threshold, unless a worker paused collection
        (`studio.jobs.gc_paused`); how many objects were freed."""
        if gc_is_paused():
            return 0
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0


def freeze_built() -> None:
    """Move every object tracked now out of reach of later collections: called once the window is built and once
    its late panels are (what they imported and built lives until the application quits, and each collection would
    walk it again: the first one after a project opened held the GUI thread for about 50 ms). Cycles among them
    are never freed."""
    gc.freeze()


def install(app: QApplication) -> None:
    """Collect garbage on ``app``'s GUI thread from now on (once; later calls do nothing)."""
    if app.findChild(GuiGarbageCollector) is None:
        GuiGarbageCollector(app)

"""Work deferred until a widget's first frame, with modules imported in a thread meanwhile."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget

from studio.ui.first_paint import AfterFirstPaint


def test_the_slot_runs_once_after_the_first_paint_and_the_background_imports(qtbot, caplog):
    widget = QWidget()
    qtbot.addWidget(widget)
    sys.modules.pop("colorsys", None)
    calls = []
    AfterFirstPaint(widget, lambda: calls.append("colorsys" in sys.modules), delay_ms=10,
                    modules=("studio.no_such_module", "colorsys"))
    qtbot.wait(50)
    assert calls == []  # not shown, never painted
    widget.show()
    qtbot.waitUntil(lambda: calls == [True], timeout=5000)  # imported before the slot ran, despite a failing one
    widget.update()
    qtbot.wait(100)
    assert calls == [True]
    assert "studio.no_such_module" in caplog.text

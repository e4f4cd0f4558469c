"""The mouse wheel scrolls the page: a spin box or combo box changes its value on the wheel only when it has the
keyboard focus (a click or Tab gives it). Installed once on the application, so every such widget follows."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Application event filter: guarded widgets give up wheel focus, and pass the wheel on unless focused."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.Wheel, QEvent.Type.Polish) or not isinstance(watched, GUARDED):
            return False
        if kind == QEvent.Type.Polish:
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel no longer gives focus
            return False
        if watched.hasFocus():
            return False
        self._pass_on(watched, event)
        return True

    @staticmethod
    def _pass_on(widget: QWidget, event: QWheelEvent) -> None:
        """Scroll the scroll area around ``widget``; without one, Qt hands the ignored wheel to the parents."""
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            event.ignore()
            return
        viewport = area.viewport()
        forwarded = QWheelEvent(viewport.mapFromGlobal(event.globalPosition()), event.globalPosition(),
                                event.pixelDelta(), event.angleDelta(), event.buttons(), event.modifiers(),
                                event.phase(), event.inverted(), event.source())
        QApplication.sendEvent(viewport, forwarded)
        event.setAccepted(forwarded.isAccepted())


def install(app: QApplication) -> None:
    """Guard every spin box and combo box of ``app`` (once; later calls do nothing)."""
    if app.findChild(WheelGuard) is None:
        app.installEventFilter(WheelGuard(app))

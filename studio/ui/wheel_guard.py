"""The mouse wheel scrolls the page: a spin box or combo box changes its value on the wheel only when it has the
keyboard focus (a click or Tab gives it). Part of the application's style (`theme.apply`), so every such widget
follows: the style's polish guards each one as it is created. (An application-wide event filter did the same, but
it ran Python for every event of every widget, a few milliseconds a frame, more while a worker runs Python.)"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QProxyStyle, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Event filter of the guarded widgets: the wheel passes on to the page unless the widget has the focus."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or watched.hasFocus():
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


class WheelGuardStyle(QProxyStyle):
    """A style (``WheelGuardStyle("Fusion")``) that guards every spin box and combo box it polishes: the wheel no
    longer gives them focus, and reaches them only when they have it."""

    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.guard = WheelGuard(self)

    def polish(self, target):  # QStyle.polish has overloads: a widget, the application, a palette
        result = super().polish(target)
        if isinstance(target, GUARDED):
            if target.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                target.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            target.installEventFilter(self.guard)
        return result

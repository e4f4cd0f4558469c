"""Mode pages: the annotate page (canvas or an empty-state hint), the empty state of modes still to come, the
stack that shows one of them, and a scrolling frame for panels taller than a small screen leaves them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from studio.ui import theme


def scrollable(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless vertical scroll area: a dock holding it can shrink below its natural height, so
    the window fits a laptop screen (the docks of one side stack their minimum heights)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def empty_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "empty")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


class EmptyPage(QWidget):
    """A mode whose content is not available yet: its title and what the user can do."""

    def __init__(self, title: str, hint: str) -> None:
        super().__init__()
        icon = QLabel()
        icon.setPixmap(theme.icon("mdi6.information-outline", color=theme.colours()["muted"]).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading = QLabel(title)
        heading.setProperty("role", "heading")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(icon)
        layout.addWidget(heading)
        layout.addWidget(empty_label(hint))
        layout.addStretch(2)


class AnnotatePage(QStackedWidget):
    """The annotation canvas, or an explanation of what to do when there is no image to show."""

    def __init__(self) -> None:
        super().__init__()
        self.empty = empty_label("")
        self.addWidget(self.empty)
        self.canvas: QWidget | None = None

    def set_canvas(self, canvas: QWidget | None) -> None:
        if self.canvas is not None:
            self.removeWidget(self.canvas)
        self.canvas = canvas
        if canvas is not None:
            self.addWidget(canvas)

    def show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)

    def show_canvas(self) -> None:
        if self.canvas is not None:
            self.setCurrentWidget(self.canvas)


class CurrentPageStack(QStackedWidget):
    """The mode pages: sized by the page shown, not by the widest of all (a QStackedWidget's default), so a
    page that is not shown never forces the window wider than the page and docks on screen need."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint().expandedTo(page.minimumSize()) if page is not None else super().minimumSizeHint()

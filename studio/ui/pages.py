"""Mode pages: the annotate page (canvas or an empty-state hint) and the empty state of modes still to come."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImageReader, QPixmap
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from studio.dataset.model import Image
from studio.ui import theme


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
    """Shows the current image, or explains what to do when there is none."""

    def __init__(self) -> None:
        super().__init__()
        self.empty = empty_label("")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(200, 200)
        self.addWidget(self.empty)
        self.addWidget(self.picture)
        self._pixmap = QPixmap()

    def show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)

    def clear(self) -> None:
        self._pixmap = QPixmap()
        self.picture.clear()

    def show_image(self, image: Image) -> None:
        reader = QImageReader(image.path)
        reader.setAutoTransform(True)
        picture = reader.read()
        if picture.isNull():
            self.show_empty(f"{image.name} cannot be shown: {reader.errorString()}")
            return
        self._pixmap = QPixmap.fromImage(picture)
        self._fit()
        self.setCurrentWidget(self.picture)

    def _fit(self) -> None:
        if not self._pixmap.isNull():
            self.picture.setPixmap(self._pixmap.scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                       Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

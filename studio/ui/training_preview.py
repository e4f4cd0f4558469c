"""The "training text" preview: for the current image and model, the exact chat text and target the trainer uses,
and the boxes parsed back from that target drawn over the image (dashed, in the label colour of the phrase)."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QSizePolicy, QSplitter, QTextEdit, QVBoxLayout, QWidget

from studio.adapters.base import VisionSettings
from studio.budget.preview import PreviewSample, load_preview
from studio.dataset.model import Annotation
from studio.dataset.store import Change, Project
from studio.jobs import CancelToken, Progress, no_progress
from studio.ui.picture_loader import Decoded, PictureKey, decode_picture
from studio.ui.store_signals import StoreSignals
from studio.workers.job import Job
from studio.workers.job_slot import JobSlot

PICTURE_SIDE = 1024  # the longest side of the picture decoded for the panel (a dock's width or two)
BOX_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4")


def text_font() -> QFont:
    """The system's monospace font, no smaller than the application's text (token boundaries read exactly)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(font.pointSizeF(), QApplication.font().pointSizeF()))
    return font


class TrainingPreview(QWidget):
    """Shows the training text of one image; ``preview_ready`` after each (re)build."""

    preview_ready = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._signals: StoreSignals | None = None
        self._model_id = "tiny"
        self._settings: VisionSettings | None = None
        self._image_id: int | None = None
        self._jobs = JobSlot(self)
        self._jobs.result.connect(self._on_ready)
        self._jobs.failed.connect(self._on_failed)
        self._jobs.idle.connect(self._on_idle)
        self._again = False
        self.annotation: Annotation | None = None
        self.samples: list[PreviewSample] = []
        self._picture = Decoded(PictureKey(""), QImage())

        self.choice = QComboBox()
        self.choice.currentIndexChanged.connect(self._show_sample)
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(120, 60)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # the splitter sizes it
        self.text = QTextEdit(readOnly=True)
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.text.document().setDefaultFont(text_font())
        self.status = QLabel(wordWrap=True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.picture)
        split.addWidget(self.text)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)  # the text is what this panel is for; the canvas shows the image
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.choice)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._pending = QTimer(self, singleShot=True, interval=300)
        self._pending.timeout.connect(self._rebuild)
        self._say("Select an image to see the text the model is trained on.")

    def _say(self, text: str) -> None:
        """A line under the text (what is happening, what went wrong); hidden when there is nothing to say."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # --- inputs -------------------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._stop_job()
        if self._signals is not None:
            self._signals.detach()
            self._signals = None
        self._project, self._image_id = project, None
        if project is not None:
            self._signals = StoreSignals(project, self)
            self._signals.changed.connect(self._on_change)

    def set_model(self, model_id: str, settings: VisionSettings | None = None) -> None:
        self._model_id, self._settings = model_id, settings
        self._rebuild()

    def show_image(self, image_id: int) -> None:
        self._image_id = image_id
        self._rebuild()

    def closeEvent(self, event) -> None:
        self._stop_job()
        super().closeEvent(event)

    # --- work ---------------------------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        if self._image_id is not None and (not change.image_ids or self._image_id in change.image_ids):
            self._pending.start()

    def _rebuild(self) -> None:
        if self._project is None or self._image_id is None:
            return
        if self._jobs.busy:
            self._again = True
            return
        self._say("Building the training text…")
        self._jobs.start(Job("Training text", preview_with_picture, self._project.folder, self._image_id,
                             self._model_id, self._settings))

    def _on_idle(self) -> None:
        if self._again:
            self._again = False
            self._rebuild()

    def _on_failed(self, message: str) -> None:
        self._say(message)

    def _stop_job(self) -> None:
        self._pending.stop()
        self._again = False
        self._jobs.stop()

    def _on_ready(self, result: tuple[Annotation, list[PreviewSample], Decoded]) -> None:
        self.annotation, self.samples, self._picture = result
        self._say("" if self.samples else "This image yields no training sample yet: link phrases to "
                                                     "boxes or add question/answer pairs.")
        self.choice.blockSignals(True)
        self.choice.clear()
        for i, sample in enumerate(self.samples, 1):
            request = sample.request if len(sample.request) <= 70 else sample.request[:69] + "…"
            self.choice.addItem(f"{i}. {sample.task}: {request}")
        self.choice.blockSignals(False)
        self._show_sample(0)
        self.preview_ready.emit()

    # --- display ------------------------------------------------------------------------------------------
    def _show_sample(self, index: int) -> None:
        if not (0 <= index < len(self.samples)) or self.annotation is None:
            self.text.clear()
            self.picture.clear()
            return
        sample = self.samples[index]
        problems = "".join(f"<br><i>could not read: {html.escape(p)}</i>" for p in sample.problems)
        self.text.setHtml(
            "<div style='white-space: pre-wrap'>"  # in the document's monospace font (<pre> would pick its own)
            f"<span style='color:#6b7280'>{html.escape(sample.prompt)}</span>"
            f"<b style='color:#1f5bcc'>{html.escape(sample.target)}</b></div>{problems}"
        )
        self.picture.setPixmap(self._draw(sample))

    def _draw(self, sample: PreviewSample) -> QPixmap:
        """The picture decoded by the job, fitted to the panel, with the sample's boxes (original-image pixels)."""
        if self._picture.image.isNull():
            self._say(f"{self.annotation.image.path}: {self._picture.error}")
            return QPixmap()
        pixmap = QPixmap.fromImage(self._picture.image).scaled(
            self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        scale = pixmap.width() / max(1, self.annotation.image.width)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        labels = list(dict.fromkeys(b.label for b in sample.boxes))
        for box in sample.boxes:
            painter.setPen(QPen(QColor(BOX_COLOURS[labels.index(box.label) % len(BOX_COLOURS)]), 2.0,
                                Qt.PenStyle.DashLine))
            x1, y1, x2, y2 = (v * scale for v in box.box)
            painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        painter.end()
        return pixmap


def preview_with_picture(
    folder, image_id: int, model_id: str, settings: VisionSettings | None = None, *,
    progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> tuple[Annotation, list[PreviewSample], Decoded]:
    """`load_preview` and the image's picture at `PICTURE_SIDE`, decoded in the same worker (a photo's decode on
    the GUI thread costs each image switch milliseconds)."""
    annotation, samples = load_preview(folder, image_id, model_id, settings, progress=progress, cancel=cancel)
    return annotation, samples, decode_picture(annotation.image.path, PICTURE_SIDE)

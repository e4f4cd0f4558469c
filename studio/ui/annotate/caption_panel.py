"""The caption and phrase-grounding panel.

A caption editor where linked phrases are highlighted in their boxes' colour and unlinked phrases are
underlined in red, a phrase list (drag a row onto a box to link it), and a one-keystroke link suggestion when
a box's label occurs in the caption. The panel only reports what the user asked for; the workspace edits.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.grounding import LinkSuggestion
from studio.dataset.model import Phrase
from studio.ui import theme
from studio.ui.annotate.canvas import PHRASE_MIME, encode_phrase_span

UNLINKED_COLOR = "#d32f2f"
CAPTION_LINES = 3  # the caption editor's smallest height, in lines: the phrase table gets the rest
PHRASE_ROWS = 3  # the phrase table's smallest height, in rows
_ID = Qt.ItemDataRole.UserRole


def to_qt(text: str, index: int) -> int:
    """A Python string index as a Qt (UTF-16) text position."""
    return len(text[:index].encode("utf-16-le")) // 2


def from_qt(text: str, position: int) -> int:
    """A Qt (UTF-16) text position as a Python string index."""
    units = 0
    for index, char in enumerate(text):
        if units >= position:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


class CaptionEdit(QPlainTextEdit):
    """Plain-text caption editor: its own undo is off (the app's undo stack has it), the selected span can
    be dragged onto a box, and hovering reports the character under the mouse."""

    hovered_index = Signal(int)  # Python string index under the mouse, -1 when none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUndoRedoEnabled(False)
        self.viewport().setMouseTracking(True)
        self.setPlaceholderText("Caption — describe the image; select words and press Ctrl+L to link them to boxes")
        self.setTabChangesFocus(True)

    def event(self, event) -> bool:
        # Let Ctrl+Z / Ctrl+Shift+Z reach the application's undo action instead of the editor.
        if event.type() == event.Type.ShortcutOverride and (
            event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
        ):
            event.ignore()
            return False
        return super().event(event)

    def createMimeDataFromSelection(self) -> QMimeData:
        mime = super().createMimeDataFromSelection()
        cursor = self.textCursor()
        text = self.toPlainText()
        start, end = from_qt(text, cursor.selectionStart()), from_qt(text, cursor.selectionEnd())
        if start < end:
            mime.setData(PHRASE_MIME, encode_phrase_span(start, end))
        return mime

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasText() and not source.hasFormat(PHRASE_MIME)

    def selected_span(self) -> tuple[int, int] | None:
        cursor = self.textCursor()
        text = self.toPlainText()
        start, end = from_qt(text, cursor.selectionStart()), from_qt(text, cursor.selectionEnd())
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return (start, end) if start < end else None

    def select_span(self, start: int, end: int) -> None:
        text = self.toPlainText()
        cursor = self.textCursor()
        cursor.setPosition(to_qt(text, start))
        cursor.setPosition(to_qt(text, end), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if not event.buttons():
            cursor = self.cursorForPosition(event.position().toPoint())
            rect = self.cursorRect(cursor)
            inside = abs(rect.center().y() - event.position().y()) <= rect.height()
            self.hovered_index.emit(from_qt(self.toPlainText(), cursor.position()) if inside else -1)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.hovered_index.emit(-1)
        return super().viewportEvent(event)


class PhraseList(QTreeWidget):
    """Phrases of the caption with their boxes; rows drag onto canvas boxes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Phrase", "Boxes"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # both columns share the width
        self.header().setStretchLastSection(False)
        rows = PHRASE_ROWS * (self.fontMetrics().height() + 4)
        self.setMinimumHeight(self.header().sizeHint().height() + rows + 2 * self.frameWidth())
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        if item is None:
            return
        start, end = item.data(1, _ID)
        mime = QMimeData()
        mime.setText(item.text(0))
        mime.setData(PHRASE_MIME, encode_phrase_span(start, end))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.LinkAction | Qt.DropAction.CopyAction)


class ElidedLabel(QLabel):
    """One line of text, cut with "…" where the panel is too narrow; the whole text is its tooltip."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())
        painter.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)


class CaptionPanel(QWidget):
    """Caption, phrases and link suggestions for the current image."""

    caption_edited = Signal(str)
    link_requested = Signal(int, int)  # span to link to the selected boxes (or to add as a phrase)
    unlink_requested = Signal(int)  # phrase id: unlink the selected boxes (all when none is selected)
    remove_requested = Signal(int)  # phrase id
    suggestion_accepted = Signal(object)  # LinkSuggestion
    phrase_hovered = Signal(object)  # phrase id or None
    phrase_selected = Signal(object)  # phrase id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captionPanel")
        self.edit = CaptionEdit(self)
        self.edit.setMinimumHeight(CAPTION_LINES * self.edit.fontMetrics().lineSpacing() + 14)
        self.edit.textChanged.connect(self._text_changed)
        self.edit.hovered_index.connect(self._hover_index)
        self.link_button = self._button(
            "mdi6.link-variant", "Add phrase", "Link the selected words to the selected boxes (Ctrl+L)"
        )
        self.link_button.clicked.connect(self.request_link)
        self.unlink_button = self._button("mdi6.link-variant-off", "", "Unlink the selected boxes from the phrase")
        self.unlink_button.clicked.connect(self._unlink_current)
        self.remove_button = self._button("mdi6.delete-outline", "", "Remove the phrase (its text stays)")
        self.remove_button.clicked.connect(self._remove_current)
        self.suggestion = ElidedLabel(self)  # one line: it must not take the phrase table's rows
        self.suggest_button = QPushButton(theme.icon("mdi6.lightning-bolt-outline"), "Link (Ctrl+K)", self)
        self.suggest_button.clicked.connect(self.accept_suggestion)
        self.phrases = PhraseList(self)
        self.phrases.currentItemChanged.connect(self._phrase_row_changed)
        self.flags = QLabel(self)
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(f"color: {UNLINKED_COLOR};")
        row = QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(self.link_button)
        row.addWidget(self.unlink_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        suggest_row = QHBoxLayout()
        suggest_row.addWidget(self.suggestion, 1)
        suggest_row.addWidget(self.suggest_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addLayout(row)
        layout.addLayout(suggest_row)
        layout.addWidget(self.phrases, 2)
        layout.addWidget(self.flags)
        self._caption = ""
        self._phrases: list[Phrase] = []
        self._box_colors: dict[int, str] = {}
        self._box_names: dict[int, str] = {}
        self._suggestions: list[LinkSuggestion] = []
        self._hot_boxes: set[int] = set()
        self._hovered_phrase: int | None = None
        self._shown: tuple = ()  # what the phrase list and the highlights show: caption, phrases, their boxes
        self._loading = False
        self.set_suggestions([])

    def _button(self, icon: str, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(theme.icon(icon))
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        if text:
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        return button

    # ------------------------------------------------------------------ content
    def set_content(
        self,
        caption: str,
        phrases: Sequence[Phrase],
        box_colors: dict[int, str],
        box_names: dict[int, str],
        unlinked_boxes: Sequence[int],
        warnings: Sequence[str] = (),
    ) -> None:
        """Show the stored caption and phrases (``box_names`` as ``box_names.box_names`` gives them); keeps the cursor
        when the text is what the user just typed. ``warnings``: sentences shown under the phrases."""
        self._caption, self._phrases = caption, list(phrases)
        self._box_colors, self._box_names = box_colors, box_names
        if self.edit.toPlainText() != caption:
            self._loading = True
            position = self.edit.textCursor().position()
            self.edit.setPlainText(caption)
            cursor = self.edit.textCursor()
            cursor.setPosition(min(position, len(self.edit.toPlainText())))
            self.edit.setTextCursor(cursor)
            self._loading = False
        shown = (caption, [(p.id, p.start, p.end, tuple(p.box_ids)) for p in self._phrases],
                 {b: (box_colors.get(b), box_names.get(b)) for p in self._phrases for b in p.box_ids})
        if shown != self._shown:  # a box added or moved elsewhere on the image leaves the phrases as they are
            self._shown = shown
            self._fill_phrase_list()
            self._highlight()
        unlinked_phrases = [p for p in phrases if not p.box_ids]
        notes = []
        if unlinked_phrases:
            notes.append("Not linked: " + ", ".join(f"“{p.text}”" for p in unlinked_phrases))
        if caption.strip() and unlinked_boxes:
            names = ", ".join(box_names[b] for b in unlinked_boxes[:6])
            more = f" and {len(unlinked_boxes) - 6} more" if len(unlinked_boxes) > 6 else ""
            notes.append(f"Boxes no phrase points to: {names}{more}")
        notes.extend(warnings)
        self.flags.setText("\n".join(notes))
        self.flags.setVisible(bool(notes))

    def set_suggestions(self, suggestions: Sequence[LinkSuggestion]) -> None:
        self._suggestions = list(suggestions)
        if suggestions:
            first = suggestions[0]
            count = len(first.box_ids)
            self.suggestion.setText(
                f"“{first.text}”: {count} unlinked box{'es' if count != 1 else ''}"
                + (f" (+{len(suggestions) - 1} more)" if len(suggestions) > 1 else "")
            )
        self.suggestion.setVisible(bool(suggestions))
        self.suggest_button.setVisible(bool(suggestions))

    def set_selected_count(self, count: int) -> None:
        """Say on the link button what it will do with the boxes selected on the canvas."""
        self.link_button.setText(f"Link to {count} box{'es' if count != 1 else ''}" if count else "Add phrase")

    def suggestions(self) -> list[LinkSuggestion]:
        return list(self._suggestions)

    def accept_suggestion(self) -> None:
        if self._suggestions:
            self.suggestion_accepted.emit(self._suggestions[0])

    def request_link(self) -> None:
        span = self.edit.selected_span()
        if span is None:
            phrase = self.current_phrase()
            if phrase is not None:
                span = (phrase.start, phrase.end)
        if span is not None:
            self.link_requested.emit(*span)

    def select_phrase(self, phrase_id: int) -> bool:
        """Make ``phrase_id`` the current phrase (its span selected in the caption); False when it is not here."""
        for row in range(self.phrases.topLevelItemCount()):
            item = self.phrases.topLevelItem(row)
            if item.data(0, _ID) == phrase_id:
                self.phrases.setCurrentItem(item)
                return True
        return False

    def current_phrase(self) -> Phrase | None:
        item = self.phrases.currentItem()
        if item is None:
            return None
        return next((p for p in self._phrases if p.id == item.data(0, _ID)), None)

    def _unlink_current(self) -> None:
        phrase = self.current_phrase()
        if phrase is not None:
            self.unlink_requested.emit(phrase.id)

    def _remove_current(self) -> None:
        phrase = self.current_phrase()
        if phrase is not None:
            self.remove_requested.emit(phrase.id)

    def _fill_phrase_list(self) -> None:
        current = self.phrases.currentItem()
        current_id = current.data(0, _ID) if current else None
        self.phrases.blockSignals(True)
        self.phrases.clear()
        for phrase in self._phrases:
            boxes = ", ".join(self._box_names[b] for b in phrase.box_ids)
            item = QTreeWidgetItem([phrase.text, boxes or "not linked"])
            item.setData(0, _ID, phrase.id)
            item.setData(1, _ID, (phrase.start, phrase.end))
            if phrase.box_ids:
                ink, _text = theme.phrase_highlight(self._box_colors.get(phrase.box_ids[0], "#888888"), hot=True)
                item.setIcon(0, theme.icon("mdi6.link-variant", color=ink.name()))
            else:
                item.setIcon(0, theme.icon("mdi6.alert-circle-outline", color=UNLINKED_COLOR))
                item.setForeground(1, QColor(UNLINKED_COLOR))
            item.setToolTip(0, f"{phrase.text}\nDrag onto a box to link it")
            item.setToolTip(1, boxes or "not linked")
            self.phrases.addTopLevelItem(item)
            if phrase.id == current_id:
                self.phrases.setCurrentItem(item)
        self.phrases.blockSignals(False)
        self.phrases.doItemsLayout()  # now, not on a timer after the frame that shows the new image (a second frame)

    # ------------------------------------------------------------------ highlights
    def highlight_boxes(self, box_ids: Sequence[int]) -> None:
        """Emphasise the phrases linked to these boxes (a box is hovered on the canvas)."""
        self._hot_boxes = set(box_ids)
        self._highlight()

    def _highlight(self) -> None:
        text = self.edit.toPlainText()
        if text != self._caption:
            self.edit.setExtraSelections([])
            return
        selections = []
        for phrase in self._phrases:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.edit.document())
            cursor.setPosition(to_qt(text, phrase.start))
            cursor.setPosition(to_qt(text, phrase.end), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            fmt = QTextCharFormat()
            hot = phrase.id == self._hovered_phrase or bool(self._hot_boxes & set(phrase.box_ids))
            if phrase.box_ids:
                background, foreground = theme.phrase_highlight(
                    self._box_colors.get(phrase.box_ids[0], "#888888"), hot=hot
                )
                fmt.setBackground(background)
                fmt.setForeground(foreground)
                if hot:
                    fmt.setFontWeight(700)
            else:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(QColor(UNLINKED_COLOR))
                if hot:
                    fmt.setBackground(QColor(211, 47, 47, 50))
            fmt.setProperty(QTextFormat.Property.UserProperty, phrase.id)
            selection.format = fmt
            selections.append(selection)
        self.edit.setExtraSelections(selections)

    def phrase_at(self, index: int) -> Phrase | None:
        """The innermost phrase covering string index ``index``."""
        covering = [p for p in self._phrases if p.start <= index < p.end]
        return min(covering, key=lambda p: p.end - p.start) if covering else None

    def _hover_index(self, index: int) -> None:
        phrase = self.phrase_at(index) if index >= 0 else None
        phrase_id = phrase.id if phrase else None
        if phrase_id != self._hovered_phrase:
            self._hovered_phrase = phrase_id
            self._highlight()
            self.phrase_hovered.emit(phrase_id)

    def _phrase_row_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        phrase_id = current.data(0, _ID) if current else None
        phrase = self.current_phrase()
        if phrase is not None:
            self.edit.blockSignals(True)
            self.edit.select_span(phrase.start, phrase.end)
            self.edit.blockSignals(False)
        self.phrase_selected.emit(phrase_id)

    def _text_changed(self) -> None:
        self._shown = ()  # the highlights belong to the text before
        if not self._loading:
            self.edit.setExtraSelections([])
            self.caption_edited.emit(self.edit.toPlainText())

"""The Annotate workspace: wires the canvas and the side panels to the store through undo commands.

The main window creates ``AnnotationWorkspace(project, undo_stack)``, puts ``canvas`` in the centre and
``label_panel``, ``caption_panel`` and ``vqa_panel`` in docks, calls ``show_image(image_id)``, and connects
``request_next`` / ``request_previous`` and ``status_message``. Every edit is an undo command whose redo and
undo are each one committed store transaction; the panels repaint from the store's typed changes, each only what
the change touched (see ``_on_change``), so that an edit costs the same on a project of any size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QCursor, QIcon, QKeySequence, QUndoStack

from studio.dataset import changes as kind
from studio.dataset import queries
from studio.dataset.box_names import box_names
from studio.dataset.grounding import (
    LinkSuggestion,
    RelabelConflict,
    relabel_conflicts,
    suggest_links,
    unlinked_boxes,
)
from studio.dataset.model import Box, Image, Label, Phrase
from studio.dataset.store import Change, Project
from studio.ui import theme
from studio.ui.annotate import commands as cmd
from studio.ui.annotate.box_item import UNLABELLED_COLOR
from studio.ui.annotate.canvas import AnnotationCanvas
from studio.ui.annotate.caption_panel import CaptionPanel
from studio.ui.annotate.label_panel import LabelPanel
from studio.ui.annotate.label_picker import LabelPicker, remember
from studio.ui.annotate.shortcuts import SHORTCUTS
from studio.ui.annotate.vqa_panel import VqaPanel
from studio.ui.picture_loader import FULL_RESOLUTION, PREVIEW_MIN_SIDE, Decoded, PictureKey, PictureLoader
from studio.ui.store_signals import StoreSignals

DUPLICATE_OFFSET_PX = 10.0
_ANNOTATION_TABLES = {"boxes", "labels", "captions", "phrases", "phrase_boxes", "vqa", "images"}
# What each widget of the shown image shows, by the kinds of edit that change it (see _show_parts): the canvas's box
# items, the caption panel (its phrases are named and coloured after their boxes), the VQA table.
_BOX_SET_KINDS = frozenset({kind.BOXES_ADDED, kind.BOXES_RELABELLED, kind.BOXES_DELETED})
_CAPTION_KINDS = _BOX_SET_KINDS | {kind.CAPTION_CHANGED, kind.PHRASES_CHANGED}
_VQA_KINDS = frozenset({kind.VQA_ADDED, kind.VQA_EDITED, kind.VQA_MOVED, kind.VQA_DELETED})
_QUESTION_KINDS = frozenset({kind.VQA_ADDED, kind.VQA_EDITED, kind.VQA_DELETED})  # what the frequent questions count


class AnnotationWorkspace(QObject):
    request_next = Signal()
    request_previous = Signal()
    request_image = Signal(int)  # an undo or redo changed this image, which is not the one shown
    status_message = Signal(str)
    image_shown = Signal(int)

    def __init__(self, project: Project, undo_stack: QUndoStack, parent: QObject | None = None) -> None:
        """``undo_stack`` should have a Qt parent (the main window), so that it is not destroyed by Python's
        garbage collector while connected (Qt's destructor of a stack still emits ``indexChanged``)."""
        super().__init__(parent)
        self.project, self.undo_stack = project, undo_stack
        self.image_id: int | None = None
        self.ask_label_on_draw = True  # pop the label picker after each drawn box
        self.recent_labels: list[str] = []
        self._labels: dict[int, Label] = {}
        self._clipboard: list[cmd.BoxSpec] = []
        self._pending_rect: QRectF | None = None
        self._relabel_ids: list[int] = []
        self._label_before: dict[int, str] = {}  # box id -> its label name before a relabel on this image
        self.canvas = AnnotationCanvas()
        self.label_panel = LabelPanel()
        self.caption_panel = CaptionPanel()
        self.vqa_panel = VqaPanel()
        self.picker = LabelPicker(self.canvas)
        self.pictures = PictureLoader(parent=self)
        self.pictures.loaded.connect(self._picture_loaded)
        self.canvas.full_resolution_wanted.connect(self._load_full_resolution)
        self._picture_path = ""  # the file of the image shown
        self.store_signals = StoreSignals(project, self)
        self.store_signals.changed.connect(self._on_change)
        self._undo_index = undo_stack.index()
        undo_stack.indexChanged.connect(self._undo_index_changed)
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._connect()
        for editor in (self.caption_panel.edit, self.vqa_panel.question):
            editor.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc in the caption editor or the question field goes back to the canvas."""
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.canvas.setFocus()
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ wiring
    def _build_actions(self) -> None:
        slots = {
            "next_image": self.request_next.emit,
            "previous_image": self.request_previous.emit,
            "done_next": self.mark_done_and_next,
            "status_review": lambda: self.set_status("review"),
            "status_todo": lambda: self.set_status("todo"),
            "create_mode": lambda: self.canvas.set_create_mode(not self.canvas.create_mode),
            "relabel": self.relabel_selected,
            "delete_boxes": self.delete_selected,
            "duplicate_boxes": self.duplicate_selected,
            "copy_boxes": self.copy_selected,
            "paste_boxes": self.paste,
            "select_all": lambda: self.canvas.select_boxes(self.canvas.box_ids()),
            "zoom_fit": self.canvas.fit,
            "zoom_actual": self.canvas.actual_size,
            "zoom_in": lambda: self.canvas.zoom_by(1.25),
            "zoom_out": lambda: self.canvas.zoom_by(0.8),
            "link_phrase": self.caption_panel.request_link,
            "accept_suggestion": self.caption_panel.accept_suggestion,
            "focus_caption": self.caption_panel.edit.setFocus,
            "focus_question": self.vqa_panel.question.setFocus,
        }
        for entry in SHORTCUTS:
            if entry.scope not in ("window", "canvas"):
                continue
            action = QAction(theme.icon(entry.icon) if entry.icon else QIcon(), entry.text, self.canvas)
            action.setShortcuts([QKeySequence(k) for k in entry.keys])
            action.setShortcutContext(
                Qt.ShortcutContext.WidgetWithChildrenShortcut
                if entry.scope == "canvas"
                else Qt.ShortcutContext.WindowShortcut
            )
            action.setToolTip(f"{entry.text} ({entry.keys[0]})")
            action.triggered.connect(slots[entry.name])
            self.canvas.addAction(action)
            self.actions[entry.name] = action
        self.actions["create_mode"].setCheckable(True)

    def _connect(self) -> None:
        c, cap, vqa, labels = self.canvas, self.caption_panel, self.vqa_panel, self.label_panel
        c.box_drawn.connect(self._box_drawn)
        c.selection_changed.connect(lambda ids: cap.set_selected_count(len(ids)))
        c.boxes_edited.connect(self._boxes_edited)
        c.box_hovered.connect(lambda box_id: cap.highlight_boxes([box_id] if box_id is not None else []))
        c.phrase_dropped.connect(lambda start, end, box_id: self.link_span(start, end, [box_id]))
        c.create_mode_changed.connect(self._create_mode_changed)
        self.picker.picked.connect(self._label_picked)
        self.picker.cancelled.connect(self._picker_cancelled)
        cap.caption_edited.connect(self.set_caption)
        cap.link_requested.connect(lambda start, end: self.link_span(start, end, self.canvas.selected_box_ids()))
        cap.unlink_requested.connect(self._unlink)
        cap.remove_requested.connect(self._remove_phrase)
        cap.suggestion_accepted.connect(self.accept_suggestion)
        cap.phrase_hovered.connect(self._phrase_hovered)
        cap.phrase_selected.connect(self._phrase_selected)
        vqa.add_requested.connect(self.add_vqa)
        vqa.edit_requested.connect(self._edit_vqa)
        vqa.move_requested.connect(self._move_vqa)
        vqa.delete_requested.connect(self._delete_vqa)
        labels.visibility_changed.connect(self.canvas.set_label_visible)
        labels.rename_requested.connect(self.rename_label)
        labels.merge_requested.connect(self.merge_labels)
        labels.color_requested.connect(self._set_label_color)

    def push(self, command: cmd.StoreCommand) -> None:
        """Apply an edit through the undo stack; a refused edit becomes a status message, not a crash."""
        if self.project.read_only:
            self.status_message.emit(f"{self.project.folder.name} is open read-only: edits are not saved")
            self.refresh()  # put back what the widgets changed on their own (typed text, moved boxes)
            return
        text = command.text()  # the stack may delete a merged or failed command
        self.undo_stack.push(command)
        if command.error is not None:
            self.status_message.emit(f"Could not {text[:1].lower()}{text[1:]}: {command.error}")
            self.refresh()

    def _undo_index_changed(self, index: int) -> None:
        """After an undo or redo of an edit on another image, ask the window to show that image."""
        previous, self._undo_index = self._undo_index, index
        if index == previous or self.undo_stack.count() == 0:  # no change, or the stack was cleared
            return
        command = self.undo_stack.command(index if index < previous else index - 1)
        image_id = getattr(command, "image_id", None)
        if image_id is not None and image_id != self.image_id:
            verb = "Undid" if index < previous else "Redid"
            self.status_message.emit(f"{verb} “{command.text()}” on {self.project.image(image_id).name}")
            self.request_image.emit(image_id)

    # ------------------------------------------------------------------ images
    def show_image(self, image_id: int) -> None:
        """Show an image and everything annotated on it at once; the picture comes from the cache or, decoded in a
        worker, a moment later (until then a neutral placeholder of the image's size)."""
        image = self.project.image(image_id)
        self.picker.hide()
        self.image_id = image_id
        self._label_before = {}
        self._picture_path = image.path
        key = self._preview_key(image.path)
        picture = self.pictures.cached(key)
        self.canvas.load_image(picture, image.width, image.height)
        if picture is None:
            self.pictures.request(key)
        self.refresh()
        self.image_shown.emit(image_id)

    def prefetch(self, image_ids: list[int]) -> None:
        """Decode the previews of images likely to be shown next (the neighbours in the image list)."""
        keys = []
        for image_id in image_ids:
            try:
                keys.append(self._preview_key(self.project.image(image_id).path))
            except KeyError:
                continue
        self.pictures.prefetch(keys)

    def _preview_key(self, path: str) -> PictureKey:
        """A preview as large as the canvas's screen in device pixels (at least `PREVIEW_MIN_SIDE`)."""
        screen = self.canvas.screen()
        side = 0 if screen is None else max(screen.size().width(), screen.size().height()) * screen.devicePixelRatio()
        return PictureKey(path, max(PREVIEW_MIN_SIDE, round(side)))

    def _load_full_resolution(self) -> None:
        if self.image_id is None:
            return
        key = PictureKey(self._picture_path, FULL_RESOLUTION)
        picture = self.pictures.cached(key)
        if picture is not None:
            self.canvas.set_picture(picture)
        else:
            self.pictures.request(key)

    def _picture_loaded(self, result: Decoded) -> None:
        """A decode finished: show it if its image is still the one shown (a fast flip leaves stale results)."""
        if self.image_id is None or result.key.path != self._picture_path:
            return
        if not result.image.isNull():
            self.canvas.set_picture(result.image)
        elif result.key.max_side != FULL_RESOLUTION:
            name = self.project.image(self.image_id).name
            self.status_message.emit(f"{name} could not be read ({result.error}); boxes shown on a blank")

    def refresh(self) -> None:
        """Re-read the labels and the current image's annotation from the store and show them everywhere, with the
        project's label totals and frequent questions."""
        if self.image_id is None:
            return
        self._read_labels()
        self._show_annotation()
        self.vqa_panel.set_frequent(queries.frequent_questions(self.project))

    def _read_labels(self) -> None:
        self._labels = {label.id: label for label in self.project.labels()}

    def _show_annotation(self) -> None:
        """Show the current image's annotation (every query reads this image's rows through an index)."""
        ann = self.project.annotation(self.image_id)
        self.canvas.set_boxes(ann.boxes, self._labels)
        here = queries.label_box_counts(self.project, self.image_id)
        total = queries.label_box_counts(self.project)
        self.label_panel.set_labels(list(self._labels.values()), here, total, self.canvas.hidden_labels())
        self._show_caption(ann.boxes, ann.caption, ann.phrases)
        self.vqa_panel.set_pairs(ann.vqa)
        self._show_info(ann.image)

    def _show_caption(self, boxes: list[Box], caption: str, phrases: list[Phrase]) -> None:
        """The caption panel (phrases named and coloured after their boxes) and the canvas's unlinked marks."""
        colors = {}
        for box in boxes:
            label = self._labels.get(box.label_id) if box.label_id is not None else None
            colors[box.id] = label.color if label else UNLABELLED_COLOR
        free = unlinked_boxes(boxes, phrases) if caption.strip() else []
        warnings = [c.message() for c in self.relabel_conflicts()]
        self.caption_panel.set_content(
            caption, phrases, colors, box_names(boxes, self._labels), free, list(dict.fromkeys(warnings))
        )
        self.caption_panel.set_suggestions(suggest_links(caption, phrases, boxes, self._labels))
        self.canvas.set_unlinked(free)

    def _show_info(self, image: Image | None = None) -> None:
        image = image or self.project.image(self.image_id)
        self.canvas.set_info(f"{image.name}  ·  {image.width:,} × {image.height:,} px  ·  {image.status}")

    def _on_change(self, change: Change) -> None:
        """Update what the change can touch: the shown image's widgets that show what changed, only when it is on
        that image; label totals by the labels whose counts moved; the frequent questions only when a question
        changed. An untyped change (a bulk write) or a reload re-reads it all; so does a label edit."""
        if self.image_id is None or not (change.tables & _ANNOTATION_TABLES):
            return
        if not change.kinds or change.is_reload:
            self.refresh()
            return
        if change.kinds & kind.LABEL_SET_KINDS:
            self._read_labels()
            self._show_annotation()
        elif self.image_id in change.image_ids:
            self._show_parts(change)
        elif kind.IMAGES_RELINKED in change.kinds:
            self._show_info()
        if change.label_deltas and not change.kinds & kind.LABEL_SET_KINDS:
            ids = [label_id for label_id, _ in change.label_deltas]
            self.label_panel.set_counts(
                ids,
                queries.label_box_counts(self.project, self.image_id, ids),
                queries.label_box_counts(self.project, label_ids=ids),
            )
        if change.kinds & _QUESTION_KINDS:
            self.vqa_panel.set_frequent(queries.frequent_questions(self.project))

    def _show_parts(self, change: Change) -> None:
        """Update the widgets of the shown image that ``change`` (an edit of it) can touch, each from its own rows."""
        boxes = self._current_boxes() if change.kinds & _CAPTION_KINDS or kind.BOXES_MOVED in change.kinds else []
        if change.kinds & _BOX_SET_KINDS:
            self.canvas.set_boxes(boxes, self._labels)
        elif kind.BOXES_MOVED in change.kinds:  # a box the canvas moved itself is already in place
            self.canvas.move_boxes([box for box in boxes if box.id in change.box_ids])
        if change.kinds & _CAPTION_KINDS:
            self._show_caption(boxes, self.project.caption(self.image_id), self.project.phrases(self.image_id))
        if change.kinds & _VQA_KINDS:
            self.vqa_panel.set_pairs(self.project.vqa(self.image_id))
        if kind.STATUS_CHANGED in change.kinds:
            self._show_info()

    # ------------------------------------------------------------------ boxes
    def _create_mode_changed(self, on: bool) -> None:
        self.actions["create_mode"].setChecked(on)
        self.status_message.emit("Drag on the image to draw a box (Esc to stop)" if on else "")

    def _box_drawn(self, rect: QRectF) -> None:
        if not self.ask_label_on_draw:
            self._add_box(rect, self.label_panel.active_label() or (self.recent_labels or [None])[0])
            return
        self._pending_rect = rect
        self.canvas.show_pending(rect)
        corner = self.canvas.mapFromScene(rect.bottomRight())
        self.picker.open_at(
            self.canvas.viewport().mapToGlobal(corner + QPoint(6, 6)),
            list(self._labels.values()),
            self.recent_labels,
            self.label_panel.active_label() or (self.recent_labels[0] if self.recent_labels else ""),
        )

    def _label_picked(self, name: str) -> None:
        self.recent_labels = remember(self.recent_labels, name)
        if self._relabel_ids:
            boxes = [b for b in self._current_boxes() if b.id in self._relabel_ids]
            self._relabel_ids = []
            for box in boxes:
                self._label_before.setdefault(box.id, self._label_name(box.label_id))
            command = cmd.RelabelBoxes(self.project, boxes, name)
            self.push(command)
            if command.error is None:
                self._warn_relabel_conflicts({box.id for box in boxes})
        elif self._pending_rect is not None:
            rect, self._pending_rect = self._pending_rect, None
            self.canvas.show_pending(None)
            self._add_box(rect, name)
        self.label_panel.set_active_label(name)
        self.canvas.setFocus()

    def _picker_cancelled(self) -> None:
        self._pending_rect, self._relabel_ids = None, []
        self.canvas.show_pending(None)
        self.canvas.setFocus()

    def _add_box(self, rect: QRectF, label: str | None) -> None:
        if self.image_id is None:
            return
        command = cmd.AddBoxes(self.project, self.image_id, [cmd.BoxSpec(label or None, _xyxy(rect))])
        self.push(command)
        self.canvas.select_boxes([i for i in command.box_ids if i is not None])

    def _boxes_edited(self, before: dict, after: dict, nudge: bool) -> None:
        verb = "Nudge" if nudge else "Move" if _same_sizes(before, after) else "Resize"
        count = len(after)
        text = f"{verb} {count} box" + ("es" if count != 1 else "")
        self.push(cmd.MoveBoxes(self.project, before, after, text, nudge=nudge, image_id=self.image_id))

    def _current_boxes(self) -> list:
        return self.project.boxes(self.image_id) if self.image_id is not None else []

    def _selected_boxes(self) -> list:
        selected = set(self.canvas.selected_box_ids())
        return [box for box in self._current_boxes() if box.id in selected]

    def _specs(self, boxes: list, offset: float = 0.0) -> list[cmd.BoxSpec]:
        specs = []
        for box in boxes:
            label = self._labels.get(box.label_id) if box.label_id is not None else None
            rect = (box.x1 + offset, box.y1 + offset, box.x2 + offset, box.y2 + offset)
            specs.append(cmd.BoxSpec(label.name if label else None, rect))
        return specs

    def delete_selected(self) -> None:
        boxes = self._selected_boxes()
        if boxes:
            self.push(cmd.DeleteBoxes(self.project, boxes))

    def copy_selected(self) -> None:
        boxes = self._selected_boxes()
        if boxes:
            self._clipboard = self._specs(boxes)
            self.status_message.emit(f"Copied {len(boxes)} box{'es' if len(boxes) != 1 else ''}")

    def paste(self) -> None:
        self._add_specs(self._clipboard, "Paste")

    def duplicate_selected(self) -> None:
        self._add_specs(self._specs(self._selected_boxes(), DUPLICATE_OFFSET_PX), "Duplicate")

    def _add_specs(self, specs: list[cmd.BoxSpec], verb: str) -> None:
        """Add boxes clipped to the image (boxes that fall outside it are skipped) and select them."""
        if self.image_id is None or not specs:
            return
        bounds = self.canvas.image_rect
        kept = []
        for spec in specs:
            clipped = QRectF(
                QRectF(spec.rect[0], spec.rect[1], spec.rect[2] - spec.rect[0], spec.rect[3] - spec.rect[1])
            ).intersected(bounds)
            if clipped.width() > 0 and clipped.height() > 0:
                kept.append(cmd.BoxSpec(spec.label, _xyxy(clipped)))
        if not kept:
            self.status_message.emit("Nothing to paste: the boxes lie outside this image")
            return
        command = cmd.AddBoxes(self.project, self.image_id, kept, f"{verb} {len(kept)} box" + "es" * (len(kept) != 1))
        self.push(command)
        self.canvas.select_boxes([i for i in command.box_ids if i is not None])

    def relabel_selected(self) -> None:
        boxes = self._selected_boxes()
        if not boxes:
            return
        self._relabel_ids = [box.id for box in boxes]
        first = self._labels.get(boxes[0].label_id) if boxes[0].label_id is not None else None
        self.picker.open_at(QCursor.pos(), list(self._labels.values()), self.recent_labels, first.name if first else "")

    # ------------------------------------------------------------------ phrases and caption
    def set_caption(self, text: str) -> None:
        if self.image_id is not None and text != self.project.caption(self.image_id):
            command = cmd.EditCaption(self.project, self.image_id, text)
            self.push(command)
            if command.removed:
                names = ", ".join(f"“{p.text}”" for p in command.removed)
                self.status_message.emit(f"Unlinked {names} (its text was deleted); Ctrl+Z brings it back")

    def link_span(self, start: int, end: int, box_ids: list[int]) -> None:
        """Link ``caption[start:end]`` to boxes: an existing phrase at that span gains links."""
        if self.image_id is None:
            return
        existing = next((p for p in self.project.phrases(self.image_id) if (p.start, p.end) == (start, end)), None)
        if existing is None:
            self.push(cmd.AddPhrase(self.project, self.image_id, start, end, box_ids))
        elif box_ids:
            self.push(cmd.LinkBoxes(self.project, existing, box_ids))
        else:
            self.status_message.emit(f"Select boxes on the image to link “{existing.text}” to")

    def accept_suggestion(self, suggestion: LinkSuggestion) -> None:
        self.link_span(suggestion.start, suggestion.end, list(suggestion.box_ids))

    def _phrase(self, phrase_id: int):
        return next((p for p in self.project.phrases(self.image_id) if p.id == phrase_id), None)

    def _unlink(self, phrase_id: int) -> None:
        phrase = self._phrase(phrase_id)
        if phrase is None:
            return
        chosen = [b for b in self.canvas.selected_box_ids() if b in phrase.box_ids] or list(phrase.box_ids)
        if chosen:
            self.push(cmd.LinkBoxes(self.project, phrase, chosen, link=False))

    def _remove_phrase(self, phrase_id: int) -> None:
        phrase = self._phrase(phrase_id)
        if phrase is not None:
            self.push(cmd.DeletePhrase(self.project, phrase))

    def _phrase_hovered(self, phrase_id: int | None) -> None:
        phrase = self._phrase(phrase_id) if phrase_id is not None else None
        self.canvas.set_highlighted(phrase.box_ids if phrase else [])

    def _phrase_selected(self, phrase_id: int | None) -> None:
        phrase = self._phrase(phrase_id) if phrase_id is not None else None
        if phrase is not None:
            self.canvas.select_boxes(phrase.box_ids)

    # ------------------------------------------------------------------ VQA
    def add_vqa(self, question: str, answer: str = "") -> None:
        if self.image_id is not None and question.strip():
            self.push(cmd.AddVqa(self.project, self.image_id, question.strip(), answer))

    def _pair(self, vqa_id: int):
        return next((p for p in self.project.vqa(self.image_id) if p.id == vqa_id), None)

    def _edit_vqa(self, vqa_id: int, question: str, answer: str) -> None:
        pair = self._pair(vqa_id)
        if pair is not None:
            self.push(cmd.EditVqa(self.project, pair, question, answer))

    def _move_vqa(self, vqa_id: int, position: int) -> None:
        pair = self._pair(vqa_id)
        if pair is not None:
            self.push(cmd.MoveVqa(self.project, pair, position))

    def _delete_vqa(self, vqa_id: int) -> None:
        pair = self._pair(vqa_id)
        if pair is not None:
            self.push(cmd.DeleteVqa(self.project, pair))

    # ------------------------------------------------------------------ status and labels
    def set_status(self, status: str) -> None:
        if self.image_id is not None and self.project.image(self.image_id).status != status:
            self.push(cmd.SetStatus(self.project, self.image_id, status))
            self.status_message.emit(f"{self.project.image(self.image_id).name} marked {status}")

    def mark_done_and_next(self) -> None:
        self.set_status("done")
        self.request_next.emit()

    def rename_label(self, label_id: int, new_name: str) -> None:
        """Rename a label project-wide; onto an existing name, the two labels merge."""
        label = self.project.label(label_id)
        target = next((other for other in self.project.labels() if other.name == new_name.strip()), None)
        if target is not None and target.id != label_id:
            self.push(cmd.MergeLabels(self.project, [label], target))
        else:
            self.push(cmd.RenameLabel(self.project, label, new_name))

    def merge_labels(self, source_ids: list[int], target_id: int) -> None:
        sources = [self.project.label(i) for i in source_ids]
        self.push(cmd.MergeLabels(self.project, sources, self.project.label(target_id)))

    def _set_label_color(self, label_id: int, color: str) -> None:
        self.push(cmd.SetLabelColor(self.project, self.project.label(label_id), color))

    # ------------------------------------------------------------------ relabel checks
    def _label_name(self, label_id: int | None) -> str:
        label = self._labels.get(label_id) if label_id is not None else None
        return label.name if label else ""

    def relabel_conflicts(self) -> list[RelabelConflict]:
        """Phrases of this image that still name a box by the label it had before a relabel ("a red block" on a
        box now labelled "green block"); they go away when the text, the link or the label is fixed, or on
        another image."""
        if self.image_id is None or not self._label_before:
            return []
        now = {box.id: self._label_name(box.label_id) for box in self._current_boxes()}
        relabelled = {box_id: (old, now[box_id]) for box_id, old in self._label_before.items() if box_id in now}
        return relabel_conflicts(self.project.phrases(self.image_id), relabelled)

    def _warn_relabel_conflicts(self, box_ids: set[int]) -> None:
        messages = list(dict.fromkeys(c.message() for c in self.relabel_conflicts() if c.box_id in box_ids))
        if messages:
            more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
            self.status_message.emit(f"{messages[0]}{more}: edit the phrase or undo the relabel (Ctrl+Z)")


def _xyxy(rect: QRectF) -> cmd.Rect:
    rect = rect.normalized()
    return (rect.left(), rect.top(), rect.right(), rect.bottom())


def _same_sizes(before: dict, after: dict) -> bool:
    return all(
        abs((b[2] - b[0]) - (a[2] - a[0])) < 1e-6 and abs((b[3] - b[1]) - (a[3] - a[1])) < 1e-6
        for b, a in ((before[i], after[i]) for i in after)
    )

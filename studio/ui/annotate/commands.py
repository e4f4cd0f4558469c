"""Undoable edits. Every ``redo`` and every ``undo`` is one committed store transaction.

Commands about one image carry its id as ``image_id`` (None for project-wide edits such as label renames),
so that the window can show the image an undo changed.

Commands are pushed after the edit was decided (a drawn box, a typed caption); the first ``redo`` applies it
to the store and records what is needed to take it back (ids, removed phrases, links).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand

from studio.dataset.model import Box, Label, Phrase, VqaPair
from studio.dataset.queries import box_ids_with_label
from studio.dataset.store import Project

Rect = tuple[float, float, float, float]

# Command ids for QUndoCommand.mergeWith (distinct per kind).
_NUDGE_ID = 1001
_CAPTION_ID = 1002
_TYPING_PAUSE_S = 2.0  # caption edits closer together than this undo as one


class StoreCommand(QUndoCommand):
    """An edit applied to the store. A first apply that fails (read-only project, invalid edit) leaves the
    store unchanged, keeps the error in ``error`` and marks the command obsolete, so the stack drops it."""

    image_id: int | None = None
    error: Exception | None = None

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        try:
            self.apply()
        except (ValueError, KeyError, RuntimeError, sqlite3.Error) as exc:
            self.error = exc
            self.setObsolete(True)

    def undo(self) -> None:
        self.revert()


@dataclass(frozen=True)
class BoxSpec:
    """A box to create: its label name (None: unlabelled) and its corners in original-image pixels."""

    label: str | None
    rect: Rect


def _one_image(boxes: Iterable[Box]) -> int | None:
    """The image all these boxes are on (None when several)."""
    images = {box.image_id for box in boxes}
    return images.pop() if len(images) == 1 else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class AddBoxes(StoreCommand):
    """Create boxes on one image (draw, paste, duplicate); labels are created when new."""

    def __init__(self, project: Project, image_id: int, specs: Sequence[BoxSpec], text: str = "") -> None:
        super().__init__(text or f"Add {_plural(len(specs), 'box')}")
        self.project, self.image_id, self.specs = project, image_id, list(specs)
        self.box_ids: list[int | None] = [None] * len(self.specs)

    def apply(self) -> None:
        with self.project.transaction():
            for index, spec in enumerate(self.specs):
                label_id = self.project.ensure_label(spec.label).id if spec.label else None
                self.box_ids[index] = self.project.add_box(
                    self.image_id, label_id, *spec.rect, box_id=self.box_ids[index]
                )

    def revert(self) -> None:
        self.project.delete_boxes([i for i in self.box_ids if i is not None])


class MoveBoxes(StoreCommand):
    """Change the corners of boxes (move, resize, nudge); nudges of the same boxes merge into one step."""

    def __init__(
        self,
        project: Project,
        before: dict[int, Rect],
        after: dict[int, Rect],
        text: str = "",
        *,
        nudge: bool = False,
        image_id: int | None = None,
    ) -> None:
        super().__init__(text or f"Move {_plural(len(after), 'box')}")
        self.project, self.before, self.after, self.nudge = project, dict(before), dict(after), nudge
        self.image_id = image_id

    def id(self) -> int:
        return _NUDGE_ID if self.nudge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, MoveBoxes)
            or other.error is not None
            or not other.nudge
            or set(other.after) != set(self.after)
        ):
            return False
        self.after = dict(other.after)
        return True

    def _apply(self, rects: dict[int, Rect]) -> None:
        with self.project.transaction():
            for box_id, (x1, y1, x2, y2) in rects.items():
                self.project.update_box(box_id, x1=x1, y1=y1, x2=x2, y2=y2)

    def apply(self) -> None:
        self._apply(self.after)

    def revert(self) -> None:
        self._apply(self.before)


class RelabelBoxes(StoreCommand):
    """Give boxes another label (created when new)."""

    def __init__(self, project: Project, boxes: Sequence[Box], label: str | None) -> None:
        self.before = {box.id: box.label_id for box in boxes}
        super().__init__(f"Label {_plural(len(self.before), 'box')} {label or 'unlabelled'}")
        self.project, self.label = project, label
        self.image_id = _one_image(boxes)

    def apply(self) -> None:
        with self.project.transaction():
            label_id = self.project.ensure_label(self.label).id if self.label else None
            for box_id in self.before:
                self.project.update_box(box_id, label_id=label_id)

    def revert(self) -> None:
        with self.project.transaction():
            for box_id, label_id in self.before.items():
                self.project.update_box(box_id, label_id=label_id)


class DeleteBoxes(StoreCommand):
    """Delete boxes; undo restores them under their ids with their phrase links."""

    def __init__(self, project: Project, boxes: Sequence[Box]) -> None:
        super().__init__(f"Delete {_plural(len(boxes), 'box')}")
        self.project, self.boxes = project, list(boxes)
        self.image_id = _one_image(self.boxes)
        ids = {box.id for box in boxes}
        self.links = [
            (phrase.id, box_id)
            for image_id in {box.image_id for box in boxes}
            for phrase in project.phrases(image_id)
            for box_id in phrase.box_ids
            if box_id in ids
        ]

    def apply(self) -> None:
        self.project.delete_boxes([box.id for box in self.boxes])

    def revert(self) -> None:
        with self.project.transaction():
            for box in self.boxes:
                self.project.add_box(box.image_id, box.label_id, *box.xyxy, box_id=box.id)
            for phrase_id, box_id in self.links:
                self.project.link(phrase_id, box_id)


class AddPhrase(StoreCommand):
    """Mark a caption span as a phrase, linked to boxes."""

    def __init__(self, project: Project, image_id: int, start: int, end: int, box_ids: Iterable[int] = ()) -> None:
        self.box_ids = tuple(box_ids)
        text = project.caption(image_id)[start:end]
        super().__init__(
            f"Link “{text}” to {_plural(len(self.box_ids), 'box')}" if self.box_ids else f"Add phrase “{text}”"
        )
        self.project, self.image_id, self.start, self.end = project, image_id, start, end
        self.phrase_id: int | None = None

    def apply(self) -> None:
        self.phrase_id = self.project.add_phrase(
            self.image_id, self.start, self.end, self.box_ids, phrase_id=self.phrase_id
        )

    def revert(self) -> None:
        if self.phrase_id is not None:
            self.project.delete_phrase(self.phrase_id)


class DeletePhrase(StoreCommand):
    """Remove a phrase (and its links); undo restores it."""

    def __init__(self, project: Project, phrase: Phrase) -> None:
        super().__init__(f"Remove phrase “{phrase.text}”")
        self.project, self.phrase, self.image_id = project, phrase, phrase.image_id

    def apply(self) -> None:
        self.project.delete_phrase(self.phrase.id)

    def revert(self) -> None:
        p = self.phrase
        self.project.add_phrase(p.image_id, p.start, p.end, p.box_ids, phrase_id=p.id)


class LinkBoxes(StoreCommand):
    """Link (or unlink) an existing phrase and boxes; only links that actually change are undone."""

    def __init__(self, project: Project, phrase: Phrase, box_ids: Iterable[int], *, link: bool = True) -> None:
        ids = [b for b in box_ids if (b in phrase.box_ids) != link]
        verb = "Link" if link else "Unlink"
        super().__init__(f"{verb} “{phrase.text}” and {_plural(len(ids), 'box')}")
        self.project, self.phrase_id, self.box_ids, self.link = project, phrase.id, ids, link
        self.image_id = phrase.image_id

    def _set(self, linked: bool) -> None:
        with self.project.transaction():
            for box_id in self.box_ids:
                if linked:
                    self.project.link(self.phrase_id, box_id)
                else:
                    self.project.unlink(self.phrase_id, box_id)

    def apply(self) -> None:
        self._set(self.link)

    def revert(self) -> None:
        self._set(not self.link)


class EditCaption(StoreCommand):
    """Replace a caption; phrase spans shift with the text and a phrase whose text is deleted is removed.

    Undo and redo restore exact snapshots (text, phrase spans, links), so no information is lost either way.
    Edits less than a typing pause apart merge into one step.
    """

    def __init__(self, project: Project, image_id: int, new_text: str) -> None:
        super().__init__("Edit caption")
        self.project, self.image_id, self.new_text = project, image_id, new_text
        self.before = (project.caption(image_id), project.phrases(image_id))
        self.after: tuple[str, list[Phrase]] | None = None
        self.removed: list[Phrase] = []
        self.stamp = time.monotonic()

    def id(self) -> int:
        return _CAPTION_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, EditCaption)
            or other.error is not None
            or other.image_id != self.image_id
            or other.stamp - self.stamp > _TYPING_PAUSE_S
            or other.removed
        ):
            return False
        self.after, self.new_text, self.stamp = other.after, other.new_text, other.stamp
        return True

    def apply(self) -> None:
        if self.after is None:
            self.removed = self.project.set_caption(self.image_id, self.new_text)
            self.after = (self.new_text, self.project.phrases(self.image_id))
            if self.removed:
                names = ", ".join(f"“{p.text}”" for p in self.removed)
                self.setText(f"Edit caption (removes {names})")
        else:
            self._restore(*self.after)

    def revert(self) -> None:
        self._restore(*self.before)

    def _restore(self, text: str, phrases: list[Phrase]) -> None:
        with self.project.transaction():
            self.project.set_caption(self.image_id, text)
            for phrase in self.project.phrases(self.image_id):
                self.project.delete_phrase(phrase.id)
            for p in phrases:
                self.project.add_phrase(self.image_id, p.start, p.end, p.box_ids, phrase_id=p.id)


class AddVqa(StoreCommand):
    def __init__(self, project: Project, image_id: int, question: str, answer: str = "", position: int | None = None):
        super().__init__(f"Add question “{question}”")
        self.project, self.image_id, self.question, self.answer = project, image_id, question, answer
        self.position = position
        self.vqa_id: int | None = None

    def apply(self) -> None:
        self.vqa_id = self.project.add_vqa(
            self.image_id, self.question, self.answer, position=self.position, vqa_id=self.vqa_id
        )

    def revert(self) -> None:
        if self.vqa_id is not None:
            self.project.delete_vqa(self.vqa_id)


class EditVqa(StoreCommand):
    def __init__(self, project: Project, pair: VqaPair, question: str, answer: str) -> None:
        super().__init__("Edit question" if question != pair.question else "Edit answer")
        self.project, self.pair, self.question, self.answer = project, pair, question, answer
        self.image_id = pair.image_id

    def apply(self) -> None:
        self.project.update_vqa(self.pair.id, question=self.question, answer=self.answer)

    def revert(self) -> None:
        self.project.update_vqa(self.pair.id, question=self.pair.question, answer=self.pair.answer)


class MoveVqa(StoreCommand):
    def __init__(self, project: Project, pair: VqaPair, position: int) -> None:
        super().__init__("Reorder questions")
        self.project, self.pair, self.position = project, pair, position
        self.image_id = pair.image_id

    def apply(self) -> None:
        self.project.move_vqa(self.pair.id, self.position)

    def revert(self) -> None:
        self.project.move_vqa(self.pair.id, self.pair.position)


class DeleteVqa(StoreCommand):
    def __init__(self, project: Project, pair: VqaPair) -> None:
        super().__init__(f"Delete question “{pair.question}”")
        self.project, self.pair, self.image_id = project, pair, pair.image_id

    def apply(self) -> None:
        self.project.delete_vqa(self.pair.id)

    def revert(self) -> None:
        p = self.pair
        self.project.add_vqa(p.image_id, p.question, p.answer, position=p.position, vqa_id=p.id)


class SetStatuses(StoreCommand):
    """Give images a status (the image list's context menu); undo gives each its own back."""

    def __init__(self, project: Project, image_ids: Iterable[int], status: str) -> None:
        self.before = {image_id: project.image(image_id).status for image_id in image_ids}
        super().__init__(f"Mark {_plural(len(self.before), 'image')} {status}")
        self.project, self.status = project, status
        self.image_id = next(iter(self.before)) if len(self.before) == 1 else None

    def apply(self) -> None:
        with self.project.transaction():
            for image_id in self.before:
                self.project.set_status(image_id, self.status)

    def revert(self) -> None:
        with self.project.transaction():
            for image_id, status in self.before.items():
                self.project.set_status(image_id, status)


class SetStatus(SetStatuses):
    def __init__(self, project: Project, image_id: int, status: str) -> None:
        super().__init__(project, [image_id], status)
        self.setText(f"Mark image {status}")


SplitChoice = tuple[str, bool]  # (split, pinned)


class SetSplits(StoreCommand):
    """Put images in splits, pinned or not (the image list's context menu, Project > Split project…)."""

    def __init__(self, project: Project, before: dict[int, SplitChoice], after: dict[int, SplitChoice],
                 text: str) -> None:
        super().__init__(text)
        self.project, self.before, self.after = project, before, after
        self.image_id = next(iter(after)) if len(after) == 1 else None

    @classmethod
    def choose(cls, project: Project, image_ids: Iterable[int], split: str | None = None,
               pinned: bool | None = None) -> SetSplits:
        """Set the split (None: keep each image's) and the pin (None: keep each image's) of some images."""
        images = [project.image(image_id) for image_id in image_ids]
        before = {image.id: (image.split, image.split_pinned) for image in images}
        after = {image.id: (image.split if split is None else split,
                            image.split_pinned if pinned is None else pinned) for image in images}
        what = _plural(len(images), "image")
        if split is not None:
            text = f"Move {what} to {split}" if split else f"Take {what} out of their split"
        else:
            text = f"{'Pin' if pinned else 'Unpin'} the split of {what}"
        return cls(project, before, after, text)

    def _set(self, choices: dict[int, SplitChoice]) -> None:
        groups: dict[SplitChoice, list[int]] = {}
        for image_id, choice in choices.items():
            groups.setdefault(choice, []).append(image_id)
        with self.project.transaction():
            for (split, pinned), ids in groups.items():
                self.project.set_split(ids, split, pinned=pinned)

    def apply(self) -> None:
        self._set(self.after)

    def revert(self) -> None:
        self._set(self.before)


class RenameLabel(StoreCommand):
    """Rename a label project-wide (to a name not in use; use MergeLabels for an existing name)."""

    def __init__(self, project: Project, label: Label, new_name: str) -> None:
        super().__init__(f"Rename label {label.name} to {new_name}")
        self.project, self.label_id, self.old_name, self.new_name = (
            project,
            label.id,
            label.name,
            new_name.strip(),
        )

    def apply(self) -> None:
        self.project.rename_label(self.label_id, self.new_name)

    def revert(self) -> None:
        self.project.rename_label(self.label_id, self.old_name)


class MergeLabels(StoreCommand):
    """Move every box of the source labels to the target and delete the sources; undo recreates them."""

    def __init__(self, project: Project, sources: Sequence[Label], target: Label) -> None:
        self.sources = [label for label in sources if label.id != target.id]
        names = ", ".join(label.name for label in self.sources)
        super().__init__(f"Merge {names} into {target.name}")
        self.project, self.target_id = project, target.id
        self.box_ids = {label.id: box_ids_with_label(project, label.id) for label in self.sources}

    def apply(self) -> None:
        self.project.merge_labels([label.id for label in self.sources], self.target_id)

    def revert(self) -> None:
        restored, box_ids = [], {}
        with self.project.transaction():
            for label in self.sources:
                new = self.project.ensure_label(label.name, label.color)
                for box_id in self.box_ids[label.id]:
                    self.project.update_box(box_id, label_id=new.id)
                restored.append(new)
                box_ids[new.id] = self.box_ids[label.id]
        self.sources, self.box_ids = restored, box_ids


class SetLabelColor(StoreCommand):
    def __init__(self, project: Project, label: Label, color: str) -> None:
        super().__init__(f"Colour label {label.name}")
        self.project, self.label, self.color = project, label, color

    def apply(self) -> None:
        self.project.set_label_color(self.label.id, self.color)

    def revert(self) -> None:
        self.project.set_label_color(self.label.id, self.label.color)

"""Undoable review decisions: accepting a suspected mistake applies the model's suggestion with the annotation
commands and marks the item accepted, all in one store transaction (one undo step brings both back); dismissing
marks it dismissed."""

from __future__ import annotations

from studio.dataset.label_match import LabelIndex
from studio.dataset.store import Project
from studio.review.items import ReviewItem, set_state
from studio.ui.annotate import commands as cmd


class SetReviewState(cmd.StoreCommand):
    """Give one review item a state (dismissed, open…); undo gives it its own back."""

    def __init__(self, project: Project, item: ReviewItem, state: str, text: str) -> None:
        super().__init__(text)
        self.project, self.item_id, self.state, self.before = project, item.id, state, item.state
        self.image_id = item.image_id

    def apply(self) -> None:
        set_state(self.project, [self.item_id], self.state)

    def revert(self) -> None:
        set_state(self.project, [self.item_id], self.before)


class AcceptReviewItem(cmd.StoreCommand):
    """Apply ``edits`` (annotation commands, applied in order and reverted in reverse) and mark the item accepted,
    in one transaction each way."""

    def __init__(self, project: Project, item: ReviewItem, edits: list[cmd.StoreCommand], text: str) -> None:
        super().__init__(text)
        self.project, self.item_id, self.before, self.edits = project, item.id, item.state, edits
        self.image_id = item.image_id

    def apply(self) -> None:
        with self.project.transaction():
            for edit in self.edits:
                edit.apply()
            set_state(self.project, [self.item_id], "accepted")

    def revert(self) -> None:
        with self.project.transaction():
            for edit in reversed(self.edits):
                edit.revert()
            set_state(self.project, [self.item_id], self.before)


def accept_command(project: Project, item: ReviewItem, describe: str) -> AcceptReviewItem:
    """The command that applies ``item``'s suggestion (``describe`` names it in the undo history: "misplaced box
    on cat_01.jpg"); raises ValueError with a sentence when the annotation it is about is gone or the model gave
    nothing to apply."""
    evidence = item.evidence or {}
    box = _box(project, item) if item.box_id is not None else None
    suggested = tuple(evidence["box"]) if evidence.get("box") else None
    label = LabelIndex(project.labels()).name_for(evidence.get("label") or "") or None
    if item.kind == "misplaced":
        edits = [cmd.MoveBoxes(project, {box.id: box.xyxy}, {box.id: _need(suggested, "box")}, image_id=item.image_id)]
    elif item.kind == "missing":
        edits = [cmd.AddBoxes(project, item.image_id, [cmd.BoxSpec(label, _need(suggested, "box"))])]
    elif item.kind == "spurious":
        edits = [cmd.DeleteBoxes(project, [_need(box, "annotated box")])]
    elif item.kind == "wrong_label":
        edits = [cmd.RelabelBoxes(project, [_need(box, "annotated box")], _need(label, "label"))]
    elif item.kind == "wrong_answer":
        pair = next((p for p in project.vqa(item.image_id) if p.id == item.vqa_id), None)
        answer = evidence.get("answer")
        if pair is None:
            raise ValueError("the question was deleted since the review")
        edits = [cmd.EditVqa(project, _need(pair, "question"), pair.question, _need(answer, "answer"))]
    elif item.kind == "wrong_link":
        edits = _relink(project, item, label)
    else:
        raise ValueError(f"a “{item.kind}” suspect has no suggestion to accept")
    return AcceptReviewItem(project, item, edits, f"Accept the model's fix: {describe}")


def _relink(project: Project, item: ReviewItem, label: str | None) -> list[cmd.StoreCommand]:
    """Link the phrase to the boxes where the model grounds it (``evidence["link_box_ids"]``; none: a new box
    ``evidence["box"]``) instead of the suspect box (``box_id``), or of all its boxes when no one box is named."""
    evidence = item.evidence or {}
    phrase = next((p for p in project.phrases(item.image_id) if p.id == item.phrase_id), None)
    if phrase is None:
        raise ValueError("the phrase was removed since the review")
    present = {box.id for box in project.boxes(item.image_id)}
    targets = [i for i in evidence.get("link_box_ids") or [] if i in present]
    suspects = [item.box_id] if item.box_id is not None else list(phrase.box_ids)
    edits: list[cmd.StoreCommand] = []
    drop = [i for i in suspects if i in phrase.box_ids and i not in targets]
    if drop:
        edits.append(cmd.LinkBoxes(project, phrase, drop, link=False))
    if targets:
        if any(i not in phrase.box_ids for i in targets):
            edits.append(cmd.LinkBoxes(project, phrase, targets))
    elif evidence.get("box") and not evidence.get("link_box_ids"):
        added = cmd.AddBoxes(project, item.image_id, [cmd.BoxSpec(label, tuple(evidence["box"]))])
        edits += [added, LinkAddedBox(project, phrase.id, added)]
    if not edits:
        raise ValueError("the link was already changed since the review")
    return edits


class LinkAddedBox(cmd.StoreCommand):
    """Link a phrase to the box an `AddBoxes` just created (its id is known only once it is applied)."""

    def __init__(self, project: Project, phrase_id: int, added: cmd.AddBoxes) -> None:
        super().__init__("Link the new box")
        self.project, self.phrase_id, self.added = project, phrase_id, added

    def apply(self) -> None:
        self.project.link(self.phrase_id, self.added.box_ids[0])

    def revert(self) -> None:
        self.project.unlink(self.phrase_id, self.added.box_ids[0])


def _box(project: Project, item: ReviewItem):
    return next((b for b in project.boxes(item.image_id) if b.id == item.box_id), None)


def _need(value, what: str):
    if value is None or value == "":
        raise ValueError(f"the {what} is gone or the model gave none")
    return value

"""The review queue in the store: suspected label mistakes a trained run found, worst first, and what a person
decided about each (open, accepted, dismissed).

Kinds, the suspect annotation each names and what accepting its suggestion means (``evidence`` holds the model's
suggestion in original-image pixels):

- ``misplaced`` (box_id): move the box to ``evidence["box"]``.
- ``missing`` (no annotation id): add a box ``evidence["box"]`` labelled ``evidence["label"]``.
- ``spurious`` (box_id): delete the box.
- ``wrong_label`` (box_id): give the box the label ``evidence["label"]``.
- ``wrong_answer`` (vqa_id): set the answer to ``evidence["answer"]``.
- ``wrong_link`` (phrase_id, and box_id when one linked box is the suspect): link the phrase to
  ``evidence["link_box_ids"]`` (existing boxes where the model grounds it; none: to a new box ``evidence["box"]``)
  instead of its current boxes.

An item outlives its annotation: one whose box, question or phrase was deleted since is *stale* and left out of
``review_items`` unless asked for. Re-running a review replaces a run's items image by image but keeps the state
of an item for the same run, annotation and kind (a missing box: the same label where the suggested boxes overlap),
so a dismissed suspicion stays dismissed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from studio.dataset.store import Project
from studio.review import ranking

KINDS = ("misplaced", "missing", "spurious", "wrong_label", "wrong_answer", "wrong_link")
KIND_TITLES = {
    "misplaced": "Box misplaced",
    "missing": "Box missing",
    "spurious": "Box not in the image",
    "wrong_label": "Wrong label",
    "wrong_answer": "Wrong answer",
    "wrong_link": "Phrase linked to the wrong box",
}
STATES = ("open", "accepted", "dismissed")
TABLES = frozenset({"review_items"})

_COLUMNS = (
    "r.id, r.run_id, r.image_id, r.kind, r.score, r.box_id, r.vqa_id, r.phrase_id, r.evidence, r.message, r.state"
)
# An item is stale when the annotation it names is gone (a link item also when its box is gone).
_STALE = (
    "((r.box_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM boxes b WHERE b.id = r.box_id))"
    " OR (r.vqa_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM vqa v WHERE v.id = r.vqa_id))"
    " OR (r.phrase_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM phrases p WHERE p.id = r.phrase_id)))"
)
_SAME_MISSING_IOU = 0.5


@dataclass(frozen=True)
class ReviewItem:
    """One suspected mistake. ``score`` in 0..1, higher: more likely a mistake."""

    id: int
    run_id: int
    image_id: int
    kind: str
    score: float
    box_id: int | None
    vqa_id: int | None
    phrase_id: int | None
    evidence: dict[str, Any]
    message: str
    state: str
    stale: bool = False  # the suspect annotation was deleted since the review
    rarity: float = 0.0  # how unusual its score is for its kind (``ranking``): the queue's order, lowest first

    @property
    def title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)


@dataclass(frozen=True)
class NewReviewItem:
    """A finding of the scorer, before it is stored."""

    image_id: int
    kind: str
    score: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    box_id: int | None = None
    vqa_id: int | None = None
    phrase_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown review kind {self.kind!r} (known: {', '.join(KINDS)})")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"review score {self.score} is outside 0..1")


@dataclass(frozen=True)
class ReviewRun:
    """A run that has reviewed the project: its items by state and kind (stale ones left out)."""

    run_id: int
    name: str
    images_done: int
    by_state: dict[str, int]
    open_by_kind: dict[str, int]

    @property
    def open(self) -> int:
        return self.by_state.get("open", 0)


def review_items(
    project: Project,
    run_id: int | None = None,
    *,
    kinds: Iterable[str] | None = None,
    states: Iterable[str] | None = ("open",),
    image_ids: Iterable[int] | None = None,
    include_stale: bool = False,
) -> list[ReviewItem]:
    """The items of a run (None: every run) worst first (``ranking``: rarest for their kind, then highest score);
    ``kinds``/``states``/``image_ids`` None: any."""
    where, params = ["1"], []
    for column, values in (("r.kind", kinds), ("r.state", states), ("r.image_id", image_ids)):
        if values is not None:
            values = list(values)
            where.append(f"{column} IN ({', '.join('?' * len(values))})" if values else "0")
            params.extend(values)
    if run_id is not None:
        where.append("r.run_id = ?")
        params.append(run_id)
    if not include_stale:
        where.append(f"NOT {_STALE}")
    found = [_item(row) for row in project.conn.execute(
        f"SELECT {_COLUMNS}, {_STALE} FROM review_items r WHERE {' AND '.join(where)}", params
    )]  # fmt: skip
    return in_queue_order(project, found)


def in_queue_order(project: Project, items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """``items`` worst first, each with its rarity as of now (``ranking``: rarest for its kind, then highest score).
    A reader that merges freshly read items with ones it holds orders them all again: an edit changes the number of
    annotations a kind judges, and so every item's rarity."""
    items = list(items)
    rarity = _rarities(project, {item.run_id for item in items})
    ranked = (replace(item, rarity=rarity.get(item.id, 1.0)) for item in items)
    return sorted(ranked, key=lambda item: (item.rarity, -item.score, item.id))


def _rarities(project: Project, run_ids: Iterable[int]) -> dict[int, float]:
    """Each item's rarity within its run and kind, against all the run's items (any state) and the boxes and
    answered questions of the images it reviewed."""
    found: dict[int, float] = {}
    for run_id in run_ids:
        rows = project.conn.execute("SELECT id, kind, score FROM review_items WHERE run_id = ?", (run_id,)).fetchall()
        boxes, answers = project.conn.execute(
            "SELECT (SELECT COUNT(*) FROM boxes b JOIN review_done d ON d.image_id = b.image_id WHERE d.run_id = ?),"
            " (SELECT COUNT(*) FROM vqa v JOIN review_done d ON d.image_id = v.image_id"
            " WHERE d.run_id = ? AND v.answer != '')",
            (run_id, run_id),
        ).fetchone()
        scored = [ranking.Kinded(kind, score) for _, kind, score in rows]
        values = ranking.rarities(scored, {"boxes": boxes, "answers": answers})
        found.update((item_id, value) for (item_id, _, _), value in zip(rows, values, strict=True))
    return found


def review_item(project: Project, item_id: int) -> ReviewItem:
    """One item, stale or not; KeyError if there is none with this id."""
    row = project.conn.execute(f"SELECT {_COLUMNS}, {_STALE} FROM review_items r WHERE r.id = ?", (item_id,)).fetchone()
    if row is None:
        raise KeyError(f"no review item {item_id}")
    item = _item(row)
    return in_queue_order(project, [item])[0]


def set_state(project: Project, item_ids: Iterable[int], state: str) -> None:
    """Mark items open, accepted or dismissed, in one transaction."""
    if state not in STATES:
        raise ValueError(f"unknown review state {state!r} (known: {', '.join(STATES)})")
    ids = list(item_ids)
    if not ids:
        return
    marks = ", ".join("?" * len(ids))
    image_ids = [
        i for (i,) in project.conn.execute(f"SELECT DISTINCT image_id FROM review_items WHERE id IN ({marks})", ids)
    ]
    with project.transaction(TABLES, image_ids) as conn:
        conn.execute(f"UPDATE review_items SET state = ? WHERE id IN ({marks})", [state, *ids])


def review_runs(project: Project) -> list[ReviewRun]:
    """The runs with items or reviewed images, newest first."""
    runs = project.conn.execute(
        "SELECT id, name, (SELECT COUNT(*) FROM review_done d WHERE d.run_id = runs.id) FROM runs"
        " WHERE EXISTS (SELECT 1 FROM review_done d WHERE d.run_id = runs.id)"
        " OR EXISTS (SELECT 1 FROM review_items r WHERE r.run_id = runs.id) ORDER BY id DESC"
    ).fetchall()
    found = []
    for run_id, name, done in runs:
        counts = project.conn.execute(
            f"SELECT r.state, r.kind, COUNT(*) FROM review_items r WHERE r.run_id = ? AND NOT {_STALE}"
            " GROUP BY r.state, r.kind",
            (run_id,),
        ).fetchall()
        by_state = {state: sum(n for s, _k, n in counts if s == state) for state in STATES}
        open_by_kind = {kind: n for s, kind, n in counts if s == "open"}
        found.append(ReviewRun(run_id, name, done, by_state, open_by_kind))
    return found


def reviewed_image_ids(project: Project, run_id: int) -> set[int]:
    """The images this run has reviewed (a resumed review skips them)."""
    return {i for (i,) in project.conn.execute("SELECT image_id FROM review_done WHERE run_id = ?", (run_id,))}


def store_review(project: Project, run_id: int, image_ids: Sequence[int], items: Sequence[NewReviewItem]) -> None:
    """Replace the run's items of these images by ``items`` and mark the images reviewed, in one transaction.

    An old item's state (accepted, dismissed) carries over to the new item for the same annotation and kind.
    """
    images = list(dict.fromkeys(image_ids))
    unknown = {item.image_id for item in items} - set(images)
    if unknown:
        raise ValueError(f"review items for images {sorted(unknown)} that are not among the images stored")
    with project.transaction(TABLES, images) as conn:
        for image_id in images:
            decided = _decided(conn, run_id, image_id)
            conn.execute("DELETE FROM review_items WHERE run_id = ? AND image_id = ?", (run_id, image_id))
            for item in (i for i in items if i.image_id == image_id):
                conn.execute(
                    "INSERT INTO review_items (run_id, image_id, kind, score, box_id, vqa_id, phrase_id, evidence,"
                    " message, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id, image_id, item.kind, float(item.score), item.box_id, item.vqa_id, item.phrase_id,
                        json.dumps(item.evidence), item.message, _carried_state(item, decided),
                    ),
                )  # fmt: skip
            conn.execute("INSERT OR REPLACE INTO review_done (run_id, image_id) VALUES (?, ?)", (run_id, image_id))


def forget_reviewed(project: Project, run_id: int, image_ids: Iterable[int] | None = None) -> None:
    """Forget that the run has reviewed these images (None: all): a restart reviews them again; their items and
    states stay until then."""
    with project.transaction(TABLES) as conn:
        if image_ids is None:
            conn.execute("DELETE FROM review_done WHERE run_id = ?", (run_id,))
        else:
            conn.executemany("DELETE FROM review_done WHERE run_id = ? AND image_id = ?",
                             [(run_id, i) for i in image_ids])  # fmt: skip


def _decided(conn: Any, run_id: int, image_id: int) -> list[tuple[str, tuple, dict[str, Any], str]]:
    """The decided (not open) items of an image: kind, annotation ids, evidence, state."""
    rows = conn.execute(
        "SELECT kind, box_id, vqa_id, phrase_id, evidence, state FROM review_items"
        " WHERE run_id = ? AND image_id = ? AND state != 'open'",
        (run_id, image_id),
    )
    return [(kind, (box, vqa, phrase), json.loads(evidence), state) for kind, box, vqa, phrase, evidence, state in rows]


def _carried_state(item: NewReviewItem, decided: list[tuple[str, tuple, dict[str, Any], str]]) -> str:
    target = (item.box_id, item.vqa_id, item.phrase_id)
    for kind, annotation, evidence, state in decided:
        if kind != item.kind or annotation != target:
            continue
        if kind != "missing" or _same_suggestion(evidence, item.evidence):
            return state
    return "open"


def _same_suggestion(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Two missing-box suggestions are the same when their labels match and their boxes overlap well."""
    if old.get("label") != new.get("label") or not old.get("box") or not new.get("box"):
        return False
    return box_iou(old["box"], new["box"]) >= _SAME_MISSING_IOU


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two [x1, y1, x2, y2] boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _item(row: Sequence[Any]) -> ReviewItem:
    *columns, evidence, message, state, stale = row
    return ReviewItem(*columns, evidence=json.loads(evidence), message=message, state=state, stale=bool(stale))

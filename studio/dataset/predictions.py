"""Model suggestions in the store's ``predictions`` table (status suggested / accepted / rejected), and accepting
them: an accepted box becomes a real box of its label, an accepted answer fills its question's answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from studio.dataset.label_match import LabelIndex
from studio.dataset.store import Project

STATUSES = ("suggested", "accepted", "rejected")
_COLUMNS = "id, image_id, run_id, kind, label, x1, y1, x2, y2, text, score, status"


@dataclass(frozen=True)
class Suggestion:
    id: int
    image_id: int
    run_id: int | None
    kind: str  # "box" (label + corners) or "answer" (label = the question, text = the answer)
    label: str
    x1: float | None
    y1: float | None
    x2: float | None
    y2: float | None
    text: str
    score: float | None
    status: str

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1 or 0.0, self.y1 or 0.0, self.x2 or 0.0, self.y2 or 0.0)


@dataclass(frozen=True)
class NewSuggestion:
    image_id: int
    kind: str
    label: str = ""
    box: tuple[float, float, float, float] | None = None
    text: str = ""
    score: float | None = None


def add_suggestions(project: Project, items: Sequence[NewSuggestion], run_id: int | None = None) -> list[int]:
    """Store suggestions in one transaction; returns their ids."""
    ids = []
    with project.transaction({"predictions"}, {s.image_id for s in items}) as conn:
        for s in items:
            x1, y1, x2, y2 = s.box if s.box is not None else (None,) * 4
            if s.box is not None:
                x1, x2 = sorted((x1, x2))
                y1, y2 = sorted((y1, y2))
            cursor = conn.execute(
                "INSERT INTO predictions (image_id, run_id, kind, label, x1, y1, x2, y2, text, score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (s.image_id, run_id, s.kind, s.label, x1, y1, x2, y2, s.text, s.score),
            )
            ids.append(cursor.lastrowid)
    return ids


def suggestions(project: Project, image_id: int | None = None, status: str | None = "suggested") -> list[Suggestion]:
    """Suggestions of one image (or all), with ``status`` (None: any)."""
    sql, params = f"SELECT {_COLUMNS} FROM predictions WHERE 1", []
    if image_id is not None:
        sql, params = sql + " AND image_id = ?", [*params, image_id]
    if status is not None:
        sql, params = sql + " AND status = ?", [*params, status]
    return [Suggestion(*row) for row in project.conn.execute(sql + " ORDER BY image_id, id", params)]


def clear_suggestions(project: Project, image_ids: Iterable[int]) -> None:
    """Forget the open (suggested) suggestions of these images, before suggesting again."""
    ids = list(image_ids)
    with project.transaction({"predictions"}, ids) as conn:
        conn.executemany("DELETE FROM predictions WHERE image_id = ? AND status = 'suggested'", [(i,) for i in ids])


def reject(project: Project, suggestion_ids: Iterable[int]) -> None:
    _set_status(project, list(suggestion_ids), "rejected")


def accept(project: Project, suggestion_ids: Iterable[int]) -> list[int]:
    """Turn suggestions into annotations in one transaction; returns the new box ids."""
    wanted = set(suggestion_ids)
    chosen = [s for s in suggestions(project, status="suggested") if s.id in wanted]
    box_ids = []
    known = LabelIndex(project.labels())  # "a red ball" becomes a box of the label "red ball", as in the Playground
    with project.transaction({"predictions", "boxes", "labels", "vqa"}, {s.image_id for s in chosen}):
        for s in chosen:
            if s.kind == "box":
                label = project.ensure_label(known.name_for(s.label)).id if s.label.strip() else None
                box_ids.append(project.add_box(s.image_id, label, *s.xyxy))
            elif s.kind == "answer":
                pair = next((p for p in project.vqa(s.image_id) if p.question.strip() == s.label.strip()), None)
                if pair is None:
                    project.add_vqa(s.image_id, s.label, s.text)
                else:
                    project.update_vqa(pair.id, answer=s.text)
            elif s.kind == "caption":
                project.set_caption(s.image_id, s.text)
        _set_status(project, [s.id for s in chosen], "accepted")
    return box_ids


def _set_status(project: Project, ids: list[int], status: str) -> None:
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    image_ids = {r[0] for r in project.conn.execute(f"SELECT image_id FROM predictions WHERE id IN ({marks})", ids)}
    with project.transaction({"predictions"}, image_ids) as conn:
        conn.execute(f"UPDATE predictions SET status = ? WHERE id IN ({marks})", [status, *ids])

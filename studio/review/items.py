"""TEMPORARY STUB of the review items API (branch review-ui); the real module comes from branch `review`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.dataset.store import Project

KINDS = ("misplaced", "missing", "spurious", "wrong_label", "wrong_answer", "wrong_link")
KIND_TITLES = {"misplaced": "Misplaced box", "missing": "Missing box", "spurious": "Spurious box",
               "wrong_label": "Wrong label", "wrong_answer": "Wrong answer", "wrong_link": "Wrong phrase link"}


@dataclass(frozen=True)
class ReviewItem:
    id: int
    run_id: int
    image_id: int
    kind: str
    score: float
    box_id: int | None = None
    vqa_id: int | None = None
    phrase_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    state: str = "open"


def _ensure(project: Project) -> None:
    project.conn.execute(
        "CREATE TABLE IF NOT EXISTS review_items (id INTEGER PRIMARY KEY, run_id INTEGER, image_id INTEGER, kind TEXT,"
        " score REAL, box_id INTEGER, vqa_id INTEGER, phrase_id INTEGER, evidence TEXT, message TEXT, state TEXT)")


def add_items(project: Project, items: Iterable[ReviewItem]) -> list[int]:
    _ensure(project)
    items = list(items)
    ids = []
    with project.transaction({"review_items"}, {i.image_id for i in items}) as conn:
        for i in items:
            cur = conn.execute(
                "INSERT INTO review_items (run_id, image_id, kind, score, box_id, vqa_id, phrase_id, evidence, message,"
                " state) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (i.run_id, i.image_id, i.kind, i.score, i.box_id, i.vqa_id, i.phrase_id, json.dumps(i.evidence),
                 i.message, i.state))
            ids.append(cur.lastrowid)
    return ids


def review_items(project: Project, run_id: int | None = None, *, kinds: Sequence[str] | None = None,
                 states: Sequence[str] = ("open",)) -> list[ReviewItem]:
    _ensure(project)
    rows = project.conn.execute("SELECT id, run_id, image_id, kind, score, box_id, vqa_id, phrase_id, evidence,"
                                " message, state FROM review_items ORDER BY score DESC, id").fetchall()
    out = []
    for r in rows:
        item = ReviewItem(*r[:8], json.loads(r[8]), r[9], r[10])
        if (run_id is None or item.run_id == run_id) and (kinds is None or item.kind in kinds) and (
                states is None or item.state in states):
            out.append(item)
    return out


def set_state(project: Project, item_ids: Iterable[int], state: str) -> None:
    _ensure(project)
    ids = list(item_ids)
    images = {r[0] for r in project.conn.execute(
        f"SELECT image_id FROM review_items WHERE id IN ({','.join('?' * len(ids))})", ids)}
    with project.transaction({"review_items"}, images) as conn:
        conn.executemany("UPDATE review_items SET state = ? WHERE id = ?", [(state, i) for i in ids])


def review_runs(project: Project) -> list[int]:
    _ensure(project)
    return [r[0] for r in project.conn.execute("SELECT DISTINCT run_id FROM review_items ORDER BY run_id")]

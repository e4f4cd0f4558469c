"""The text side of an image's annotation in the store: its caption, the phrases marked in it and their links to
boxes, and its question/answer pairs. A mixin of `Project` (`store.py`), which supplies ``conn``, ``transaction``
and ``_one``; like the rest of the store, each public method that changes data is one committed transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from studio.dataset import changes as kind
from studio.dataset.model import Phrase, VqaPair
from studio.dataset.spans import shift_spans


class TextAnnotations:
    """Captions, phrases and question/answer pairs of images."""

    conn: sqlite3.Connection

    # ---------------------------------------------------------------- captions and phrases
    def caption(self, image_id: int) -> str:
        return self._one("SELECT text FROM captions WHERE image_id = ?", (image_id,)) or ""

    def set_caption(self, image_id: int, text: str) -> list[Phrase]:
        """Replace the caption, shifting phrase spans with the edit.

        Phrases whose whole text was removed are deleted; they are returned (with their links) so that an undo
        can restore them.
        """
        old = self.caption(image_id)
        phrases = self.phrases(image_id)
        mapped = shift_spans(old, text, [(p.start, p.end) for p in phrases])
        removed = []
        with self.transaction(
            {"captions", "phrases", "phrase_boxes"}, {image_id}, kinds={kind.CAPTION_CHANGED}
        ) as conn:
            conn.execute(
                "INSERT INTO captions (image_id, text) VALUES (?, ?)"
                " ON CONFLICT(image_id) DO UPDATE SET text = excluded.text",
                (image_id, text),
            )
            for phrase, span in zip(phrases, mapped, strict=True):
                if span is None:
                    conn.execute("DELETE FROM phrases WHERE id = ?", (phrase.id,))
                    removed.append(phrase)
                elif span != (phrase.start, phrase.end):
                    conn.execute("UPDATE phrases SET start = ?, end = ? WHERE id = ?", (*span, phrase.id))
        return removed

    def phrases(self, image_id: int) -> list[Phrase]:
        caption = self.caption(image_id)
        links: dict[int, list[int]] = {}
        for phrase_id, box_id in self.conn.execute(
            "SELECT pb.phrase_id, pb.box_id FROM phrase_boxes pb JOIN phrases p ON p.id = pb.phrase_id"
            " WHERE p.image_id = ? ORDER BY pb.box_id",
            (image_id,),
        ):
            links.setdefault(phrase_id, []).append(box_id)
        return [
            Phrase(pid, image_id, start, end, caption[start:end], tuple(links.get(pid, ())))
            for pid, start, end in self.conn.execute(
                "SELECT id, start, end FROM phrases WHERE image_id = ? ORDER BY start, end, id", (image_id,)
            )
        ]

    def add_phrase(
        self, image_id: int, start: int, end: int, box_ids: Iterable[int] = (), *, phrase_id: int | None = None
    ) -> int:
        """Mark ``caption[start:end]`` as a phrase and link it to boxes; ``phrase_id`` restores one (undo)."""
        caption = self.caption(image_id)
        if not 0 <= start < end <= len(caption):
            raise ValueError(f"phrase span {start}..{end} is outside the caption ({len(caption)} characters)")
        with self.transaction({"phrases", "phrase_boxes"}, {image_id}, kinds={kind.PHRASES_CHANGED}) as conn:
            cursor = conn.execute(
                "INSERT INTO phrases (id, image_id, start, end) VALUES (?, ?, ?, ?)", (phrase_id, image_id, start, end)
            )
            new_id = cursor.lastrowid
            conn.executemany(
                "INSERT OR IGNORE INTO phrase_boxes (phrase_id, box_id) VALUES (?, ?)", [(new_id, b) for b in box_ids]
            )
            return new_id

    def delete_phrase(self, phrase_id: int) -> None:
        with self.transaction(
            {"phrases", "phrase_boxes"}, self._phrase_image(phrase_id), kinds={kind.PHRASES_CHANGED}
        ) as conn:
            conn.execute("DELETE FROM phrases WHERE id = ?", (phrase_id,))

    def link(self, phrase_id: int, box_id: int) -> None:
        self._edit_link("INSERT OR IGNORE INTO phrase_boxes (phrase_id, box_id) VALUES (?, ?)", phrase_id, box_id)

    def unlink(self, phrase_id: int, box_id: int) -> None:
        self._edit_link("DELETE FROM phrase_boxes WHERE phrase_id = ? AND box_id = ?", phrase_id, box_id)

    def _edit_link(self, sql: str, phrase_id: int, box_id: int) -> None:
        """Run ``sql`` on the link of a phrase and a box, told as a change of the phrase's image."""
        with self.transaction(
            {"phrase_boxes"}, self._phrase_image(phrase_id), kinds={kind.PHRASES_CHANGED}, box_ids={box_id}
        ) as conn:
            conn.execute(sql, (phrase_id, box_id))

    def _phrase_image(self, phrase_id: int) -> set[int]:
        """The image of a phrase, as a change names it (none for a phrase already deleted)."""
        image_id = self._one("SELECT image_id FROM phrases WHERE id = ?", (phrase_id,))
        return {image_id} if image_id else set()

    # ---------------------------------------------------------------- VQA
    def vqa(self, image_id: int) -> list[VqaPair]:
        return [
            VqaPair(*row)
            for row in self.conn.execute(
                "SELECT id, image_id, position, question, answer FROM vqa WHERE image_id = ? ORDER BY position, id",
                (image_id,),
            )
        ]

    def add_vqa(
        self, image_id: int, question: str, answer: str = "", *, position: int | None = None, vqa_id: int | None = None
    ) -> int:
        """Add a question/answer pair at ``position`` (default: last); later pairs move down."""
        with self.transaction({"vqa"}, {image_id}, kinds={kind.VQA_ADDED}) as conn:
            count = self._one("SELECT count(*) FROM vqa WHERE image_id = ?", (image_id,))
            position = count if position is None else max(0, min(position, count))
            conn.execute("UPDATE vqa SET position = position + 1 WHERE image_id = ? AND position >= ?",
                         (image_id, position))
            cursor = conn.execute(
                "INSERT INTO vqa (id, image_id, position, question, answer) VALUES (?, ?, ?, ?, ?)",
                (vqa_id, image_id, position, question, answer),
            )
            return cursor.lastrowid

    def update_vqa(self, vqa_id: int, *, question: str | None = None, answer: str | None = None) -> None:
        image_id = self._one("SELECT image_id FROM vqa WHERE id = ?", (vqa_id,))
        with self.transaction({"vqa"}, {image_id} if image_id else (), kinds={kind.VQA_EDITED}) as conn:
            if question is not None:
                conn.execute("UPDATE vqa SET question = ? WHERE id = ?", (question, vqa_id))
            if answer is not None:
                conn.execute("UPDATE vqa SET answer = ? WHERE id = ?", (answer, vqa_id))

    def move_vqa(self, vqa_id: int, position: int) -> None:
        """Move a pair to ``position`` in its image's list."""
        image_id = self._one("SELECT image_id FROM vqa WHERE id = ?", (vqa_id,))
        order = [pair.id for pair in self.vqa(image_id) if pair.id != vqa_id]
        order.insert(max(0, min(position, len(order))), vqa_id)
        with self.transaction({"vqa"}, {image_id}, kinds={kind.VQA_MOVED}) as conn:
            _renumber(conn, order)

    def delete_vqa(self, vqa_id: int) -> None:
        image_id = self._one("SELECT image_id FROM vqa WHERE id = ?", (vqa_id,))
        with self.transaction({"vqa"}, {image_id} if image_id else (), kinds={kind.VQA_DELETED}) as conn:
            conn.execute("DELETE FROM vqa WHERE id = ?", (vqa_id,))
            _renumber(conn, [row[0] for row in conn.execute(
                "SELECT id FROM vqa WHERE image_id = ? ORDER BY position, id", (image_id,))])


def _renumber(conn: sqlite3.Connection, vqa_ids: list[int]) -> None:
    conn.executemany("UPDATE vqa SET position = ? WHERE id = ?", [(i, pid) for i, pid in enumerate(vqa_ids)])

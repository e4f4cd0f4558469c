"""The count tables of schema 2 (box counts per label, question counts): filled by the migration from an existing
project, kept right by triggers on every write, read by the project-wide queries without a scan."""

from __future__ import annotations

import sqlite3

from studio.dataset import schema
from studio.dataset.queries import frequent_questions, label_box_counts
from studio.dataset.store import DB_NAME, NewImage, Project
from tests.conftest import full_scans


def _scanned_counts(conn: sqlite3.Connection) -> tuple[dict[int, int], dict[str, int]]:
    """The counts the tables must hold, computed the slow way."""
    labels = dict(conn.execute("SELECT label_id, count(*) FROM boxes WHERE label_id IS NOT NULL GROUP BY label_id"))
    questions = dict(conn.execute("SELECT question, count(*) FROM vqa WHERE trim(question) != '' GROUP BY question"))
    return labels, questions


def _kept_counts(conn: sqlite3.Connection) -> tuple[dict[int, int], dict[str, int]]:
    return dict(conn.execute("SELECT label_id, n FROM label_counts")), dict(
        conn.execute("SELECT question, n FROM question_counts")
    )


def _v1_project(folder, monkeypatch) -> list[int]:
    """A closed project of schema 1 with boxes of two labels, unlabelled boxes and questions (one blank)."""
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with Project.create(folder) as project:
        ids = project.add_images([NewImage(f"/data/{n}.png", 64, 48) for n in range(5)])
        cat, dog = project.ensure_label("cat"), project.ensure_label("dog")
        project.ensure_label("unused")
        for n, image_id in enumerate(ids):
            for _ in range(n + 1):
                project.add_box(image_id, cat.id, 0, 0, 9, 9)
            project.add_box(image_id, dog.id if n % 2 else None, 1, 1, 8, 8)
            project.add_vqa(image_id, "How many cats?", str(n + 1))
            if n < 2:
                project.add_vqa(image_id, "Is it day?", "yes")
        project.add_vqa(ids[0], "   ", "blank")
        project.set_caption(ids[0], "a cat")
        project.add_phrase(ids[0], 2, 5, [project.boxes(ids[0])[0].id])
    monkeypatch.undo()
    return ids


def test_the_migration_fills_the_counts_of_a_populated_v1_project_and_keeps_every_row(tmp_path, monkeypatch):
    _v1_project(tmp_path / "p", monkeypatch)
    database = tmp_path / "p" / DB_NAME
    with sqlite3.connect(database) as conn:
        assert schema.version(conn) == 1
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
        expected = _scanned_counts(conn)
    with Project.open(tmp_path / "p") as project:
        conn = project.conn
        assert schema.version(conn) >= 2
        assert {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables} == before
        assert _kept_counts(conn) == expected
        cat, dog = (project.ensure_label(name).id for name in ("cat", "dog"))
        assert expected == ({cat: 15, dog: 2}, {"How many cats?": 5, "Is it day?": 2})
        assert label_box_counts(project) == {cat: 15, dog: 2}
        assert frequent_questions(project) == ["How many cats?", "Is it day?"]
    assert not list((tmp_path / "p").glob("*.backup"))


def test_triggers_keep_the_counts_through_every_kind_of_write(project):
    a, b = project.add_images([NewImage("/a.png", 64, 48), NewImage("/b.png", 64, 48)])
    cat, dog = project.ensure_label("cat"), project.ensure_label("dog")
    first = project.add_box(a, cat.id, 0, 0, 5, 5)
    project.add_box(a, cat.id, 0, 0, 6, 6)
    loose = project.add_box(b, None, 0, 0, 5, 5)
    project.update_box(first, label_id=dog.id)
    project.update_box(first, x2=9)  # a move: no count changes
    project.update_box(loose, label_id=cat.id)
    project.delete_boxes([loose])
    q = project.add_vqa(a, "What colour?", "red")
    project.add_vqa(b, "What colour?", "blue")
    project.add_vqa(b, "", "blank")
    project.update_vqa(q, question="Which colour?")
    project.move_vqa(q, 1)
    assert _kept_counts(project.conn) == _scanned_counts(project.conn)
    project.merge_labels([cat.id], dog.id)  # boxes move over, the label goes
    project.ensure_label("cat")
    project.add_box(b, project.ensure_label("cat").id, 0, 0, 3, 3)
    assert _kept_counts(project.conn) == _scanned_counts(project.conn)
    with project.transaction({"images"}) as conn:  # deleting an image cascades to its boxes and questions
        conn.execute("DELETE FROM images WHERE id = ?", (a,))
    assert _kept_counts(project.conn) == _scanned_counts(project.conn)
    assert 0 not in _kept_counts(project.conn)[0].values()  # a label without boxes has no row


def test_frequent_questions_and_label_totals_scan_no_table_growing_with_the_project(project):
    (image_id,) = project.add_images([NewImage("/a.png", 64, 48)])
    cat = project.ensure_label("cat")
    project.add_box(image_id, cat.id, 0, 0, 5, 5)
    project.add_vqa(image_id, "What colour?", "red")
    with full_scans(project) as scans:
        assert frequent_questions(project) == ["What colour?"]
        assert label_box_counts(project) == {cat.id: 1}
        assert label_box_counts(project, label_ids=[cat.id]) == {cat.id: 1}
        assert label_box_counts(project, image_id, [cat.id]) == {cat.id: 1}
    assert scans == []
    with full_scans(project) as scans:  # what the tables replace
        _scanned_counts(project.conn)
    assert [scan.split(":")[0] for scan in scans] == ["boxes", "vqa"]

"""Schema migrations: a real table rebuild on a populated project loses nothing; a failed one changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from studio.dataset import migrations, schema
from studio.dataset.migrations import MigrationError
from studio.dataset.store import DB_NAME, NewImage, Project, ProjectError

# A plausible v2: images get a 'skipped' status and a note. SQLite cannot change a CHECK constraint in place, so
# the table is rebuilt the documented way (create, copy, drop, rename), which with foreign keys on would
# cascade-delete every box, caption, phrase, question and prediction.
_REBUILD_IMAGES = """
CREATE TABLE images_new (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    orientation INTEGER NOT NULL DEFAULT 1,
    file_size   INTEGER NOT NULL,
    mtime       REAL NOT NULL DEFAULT 0,
    format      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'todo'
                CHECK (status IN ('todo', 'in-progress', 'done', 'review', 'skipped')),
    split       TEXT NOT NULL DEFAULT '' CHECK (split IN ('', 'train', 'val', 'test')),
    split_pinned INTEGER NOT NULL DEFAULT 0,
    added_at    REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    note        TEXT NOT NULL DEFAULT ''
);
INSERT INTO images_new (id, path, width, height, orientation, file_size, mtime, format, status, split,
                        split_pinned, added_at)
    SELECT id, path, width, height, orientation, file_size, mtime, format, status, split, split_pinned, added_at
    FROM images;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX images_split ON images(split);
CREATE INDEX images_status ON images(status);
"""


def _note_sizes(conn: sqlite3.Connection) -> None:
    """A Python step: fill the new column from the data."""
    conn.execute("UPDATE images SET note = width || 'x' || height")


V2 = [schema.MIGRATIONS[0], (_REBUILD_IMAGES, _note_sizes)]
V2_SQL = [schema.MIGRATIONS[0], _REBUILD_IMAGES]  # the same rebuild as one SQL script, as the old runner took them


def _populated(folder: Path) -> Path:
    """A closed schema-1 project with every kind of row: images, labels, boxes, phrases and links, captions, VQA,
    runs."""
    with _schema_1(), Project.create(folder) as project:
        ids = project.add_images([NewImage(f"/data/{n}.png", 100 + n, 80, file_size=n) for n in range(6)])
        cat, dog = project.ensure_label("cat"), project.ensure_label("dog")
        for n, image_id in enumerate(ids):
            first = project.add_box(image_id, cat.id, 1, 2, 30 + n, 40)
            second = project.add_box(image_id, dog.id, 50, 10, 90, 70)
            project.set_caption(image_id, f"a cat and a dog number {n}")
            project.add_phrase(image_id, 2, 5, [first])
            project.add_phrase(image_id, 10, 13, [second, first])
            project.add_vqa(image_id, "How many animals?", "two")
            project.add_vqa(image_id, "Is the cat left?", "yes")
        project.set_status(ids[0], "done")
        project.set_split(ids[:3], "train", pinned=True)
        project.set_meta("prompt", "Describe the image.")
        with project.transaction({"runs"}) as conn:
            conn.execute("INSERT INTO workflows (id, name, model_id) VALUES (1, 'wf', 'tiny')")
            conn.execute("INSERT INTO runs (id, workflow_id, name, folder) VALUES (1, 1, 'run-1', '/runs/1')")
            conn.execute("INSERT INTO run_metrics (run_id, step, name, value) VALUES (1, 10, 'loss', 0.5)")
            conn.execute(
                "INSERT INTO predictions (image_id, run_id, kind, label, x1, y1, x2, y2) "
                "VALUES (?, 1, 'box', 'cat', 1, 2, 3, 4)",
                (ids[1],),
            )
    return folder / DB_NAME


@contextmanager
def _schema_1() -> Iterator[None]:
    """Projects created inside the block stop at schema 1 (the later migrations are what the tests apply)."""
    saved = schema.MIGRATIONS
    schema.MIGRATIONS = saved[:1]
    try:
        yield
    finally:
        schema.MIGRATIONS = saved


def _dump(conn: sqlite3.Connection, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (only ``columns`` of each table when given)."""
    tables = columns or {
        name: [row[1] for row in conn.execute(f"PRAGMA table_info({name})")]
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }
    return {
        name: conn.execute(f"SELECT {', '.join(cols)} FROM {name} ORDER BY {', '.join(cols)}").fetchall()
        for name, cols in tables.items()
    }


def _columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: [row[1] for row in conn.execute(f"PRAGMA table_info({name})")] for name in names}


def _connect(database: Path) -> sqlite3.Connection:
    """A connection configured as the store opens one: autocommit, foreign keys on, WAL."""
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def _backups(database: Path) -> list[Path]:
    return sorted(database.parent.glob(f"{database.name}.v*.backup"))


def test_a_table_rebuild_through_project_open_keeps_every_row(tmp_path, monkeypatch):
    database = _populated(tmp_path / "p")
    with sqlite3.connect(database) as conn:
        columns = _columns(conn)
        before = _dump(conn, columns)
    assert all(before[t] for t in ("images", "boxes", "captions", "phrases", "phrase_boxes", "vqa", "predictions"))
    monkeypatch.setattr(schema, "MIGRATIONS", V2_SQL)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(V2_SQL))

    with Project.open(tmp_path / "p") as project:
        assert schema.version(project.conn) == 2
        assert _dump(project.conn, columns) == before  # with foreign keys on, DROP TABLE images emptied the rest
        assert project.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert project.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with project.transaction({"images"}) as conn:  # the new constraint is in force
            conn.execute("UPDATE images SET status = 'skipped' WHERE id = 2")
        project.delete_boxes([project.boxes(project.images()[0].id)[0].id])  # and cascades still work
        assert len(project.phrases(project.images()[0].id)[0].box_ids) == 0
    assert _backups(database) == []


def test_apply_runs_pending_steps_with_an_injected_list(tmp_path):
    database = _populated(tmp_path / "p")
    conn = _connect(database)
    columns = _columns(conn)
    before = _dump(conn, columns)
    assert migrations.apply(conn, V2) == 2
    assert migrations.version(conn) == 2 and len(schema.MIGRATIONS) == schema.SCHEMA_VERSION  # schema untouched
    assert _dump(conn, columns) == before
    assert conn.execute("SELECT note FROM images ORDER BY id LIMIT 1").fetchone()[0] == "100x80"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert _backups(database) == []
    assert migrations.apply(conn, V2) == 2  # nothing pending: nothing done, no backup made
    assert _backups(database) == []


def _raises(conn: sqlite3.Connection) -> None:
    raise ValueError("the notes could not be computed")


def _orphans_boxes(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM images WHERE id = 1")  # foreign keys are off: its boxes stay, pointing at nothing


def _commits(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM captions")
    conn.execute("COMMIT")


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (_raises, "the notes could not be computed"),
        (_orphans_boxes, r"row\(s\) of boxes point at missing images rows"),
        (_commits, "step _commits of the migration to schema 2 ended the transaction"),
    ],
)
def test_a_failed_migration_leaves_the_project_as_it_was_and_keeps_the_backup(tmp_path, step, reason):
    database = _populated(tmp_path / "p")
    conn = _connect(database)
    before = _dump(conn)
    with pytest.raises(MigrationError, match=reason) as failure:
        migrations.apply(conn, [schema.MIGRATIONS[0], (_REBUILD_IMAGES, step)])
    message = str(failure.value)
    (backup,) = _backups(database)
    assert backup.name == f"{DB_NAME}.v1.backup"
    assert str(database) in message and "from version 1 to 2" in message and str(backup) in message
    assert "left unchanged at version 1" in message
    assert migrations.version(conn) == 1 and _dump(conn) == before
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not conn.in_transaction
    conn.close()
    with sqlite3.connect(backup) as copy:
        assert migrations.version(copy) == 1 and _dump(copy) == before


def test_a_failed_migration_through_project_open_says_where_the_backup_is(tmp_path, monkeypatch):
    database = _populated(tmp_path / "p")
    monkeypatch.setattr(schema, "MIGRATIONS", [schema.MIGRATIONS[0], (_REBUILD_IMAGES, _orphans_boxes)])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    for attempt in ("v1.backup", "v1-2.backup"):  # a second attempt never overwrites the first copy
        with pytest.raises(ProjectError, match=f"{DB_NAME}.{attempt}") as failure:
            Project.open(tmp_path / "p")
        assert str(failure.value).startswith(f"{database}: migrating the schema from version 1 to 2 failed")
    assert len(_backups(database)) == 2
    monkeypatch.undo()
    with Project.open(tmp_path / "p") as project:  # the lock was released and the project is intact
        assert schema.version(project.conn) == schema.SCHEMA_VERSION and project.image_count() == 6


def test_a_newer_schema_than_the_list_knows_is_refused(tmp_path):
    database = _populated(tmp_path / "p")
    conn = _connect(database)
    conn.execute("PRAGMA user_version = 3")
    with pytest.raises(MigrationError, match="newer VLM Studio"):
        migrations.apply(conn, V2)
    assert migrations.version(conn) == 3 and _backups(database) == []


def test_the_real_migrations_bring_a_populated_schema_1_project_forward_keeping_every_row(tmp_path):
    database = _populated(tmp_path / "p")
    with sqlite3.connect(database) as conn:
        columns = _columns(conn)
        before = _dump(conn, columns)
    with Project.open(tmp_path / "p") as project:
        assert schema.version(project.conn) == schema.SCHEMA_VERSION
        assert _dump(project.conn, columns) == before
        assert {"review_items", "review_done"} <= set(project.db.table_names())
        assert project.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _backups(database) == []

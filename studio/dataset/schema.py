"""The project database schema and its forward migrations.

Each entry of ``MIGRATIONS`` moves the schema one version forward (see ``studio.dataset.migrations`` for what a
step may be and how they are applied safely); the version is recorded in ``PRAGMA user_version``.
"""

from __future__ import annotations

import sqlite3

from studio.dataset.migrations import Migration, apply, version

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE images (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,          -- absolute, resolved path of the file
    width       INTEGER NOT NULL,              -- after EXIF orientation
    height      INTEGER NOT NULL,              -- after EXIF orientation
    orientation INTEGER NOT NULL DEFAULT 1,    -- EXIF orientation tag (1..8)
    file_size   INTEGER NOT NULL,
    mtime       REAL NOT NULL DEFAULT 0,
    format      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in-progress', 'done', 'review')),
    split       TEXT NOT NULL DEFAULT '' CHECK (split IN ('', 'train', 'val', 'test')),
    split_pinned INTEGER NOT NULL DEFAULT 0,
    added_at    REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX images_split ON images(split);
CREATE INDEX images_status ON images(status);
CREATE TABLE labels (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    color TEXT NOT NULL
);
CREATE TABLE boxes (
    id       INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    label_id INTEGER REFERENCES labels(id) ON DELETE SET NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,   -- original-image pixels
    CHECK (x2 >= x1 AND y2 >= y1)
);
CREATE INDEX boxes_image ON boxes(image_id);
CREATE INDEX boxes_label ON boxes(label_id);
CREATE TABLE captions (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    text     TEXT NOT NULL
);
CREATE TABLE phrases (
    id       INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    start    INTEGER NOT NULL,
    end      INTEGER NOT NULL,
    CHECK (0 <= start AND start < end)
);
CREATE INDEX phrases_image ON phrases(image_id);
CREATE TABLE phrase_boxes (
    phrase_id INTEGER NOT NULL REFERENCES phrases(id) ON DELETE CASCADE,
    box_id    INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
    PRIMARY KEY (phrase_id, box_id)
);
CREATE INDEX phrase_boxes_box ON phrase_boxes(box_id);
CREATE TABLE vqa (
    id       INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vqa_image ON vqa(image_id, position);
CREATE TABLE workflows (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    model_id   TEXT NOT NULL,
    config     TEXT NOT NULL DEFAULT '{}',     -- JSON
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    updated_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    workflow_id INTEGER REFERENCES workflows(id) ON DELETE SET NULL,
    name        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'created'
                CHECK (status IN ('created', 'running', 'stopped', 'finished', 'failed')),
    folder      TEXT NOT NULL,
    config      TEXT NOT NULL DEFAULT '{}',    -- JSON: the full run config (workflow, prompt, snapshot, versions)
    summary     TEXT NOT NULL DEFAULT '{}',    -- JSON: final metrics, best checkpoint, evaluation results
    created_at  REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    finished_at REAL
);
CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    name   TEXT NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, name, step)
);
CREATE TABLE predictions (
    id         INTEGER PRIMARY KEY,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    run_id     INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('box', 'answer', 'caption')),
    label      TEXT NOT NULL DEFAULT '',
    x1 REAL, y1 REAL, x2 REAL, y2 REAL,
    text       TEXT NOT NULL DEFAULT '',
    score      REAL,
    status     TEXT NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'accepted', 'rejected')),
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX predictions_image ON predictions(image_id, status);
"""

# The review queue (studio.review): suspected label mistakes found by a trained run, one row per suspect annotation
# (box, question or phrase; none for a missing box), and the images a run has reviewed (for resuming). The
# annotation ids are plain integers, not references: an item outlives its annotation (the reader marks it stale).
_REVIEW = """
CREATE TABLE review_items (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    score      REAL NOT NULL,                  -- 0..1, higher: more likely a mistake
    box_id     INTEGER,
    vqa_id     INTEGER,
    phrase_id  INTEGER,
    evidence   TEXT NOT NULL DEFAULT '{}',     -- JSON: the model's suggestion and what explains the score
    message    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'dismissed')),
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX review_items_run ON review_items(run_id, state, score);
CREATE INDEX review_items_image ON review_items(image_id);
CREATE TABLE review_done (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    done_at  REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    PRIMARY KEY (run_id, image_id)
);
CREATE INDEX review_done_image ON review_done(image_id);
"""

MIGRATIONS: list[Migration] = [_V1, _REVIEW]
SCHEMA_VERSION = len(MIGRATIONS)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "version"]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations; return the version reached.

    Raises ``MigrationError`` (a ``RuntimeError``) for a database written by a newer VLM Studio or a migration
    that failed, in which case the database is as it was.
    """
    return apply(conn, MIGRATIONS)

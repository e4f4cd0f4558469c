"""The project store: one SQLite database (WAL, foreign keys, versioned schema) plus a cache folder.

Every public method that changes data runs in its own committed transaction, then tells the subscribers which
tables and images changed. Nothing here knows Qt: the UI turns those notifications into signals.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.dataset import changes as kind
from studio.dataset import lock, schema
from studio.dataset.changes import Change, label_deltas
from studio.dataset.migrations import MigrationError
from studio.dataset.model import SPLITS, STATUSES, Annotation, Box, Image, Label
from studio.dataset.text_annotations import TextAnnotations

if TYPE_CHECKING:
    import sqlite_utils

DB_NAME = "project.vlmstudio.sqlite"
LOCK_NAME = ".project.lock"
CACHE_DIR = "cache"
ASSETS_DIR = "assets"

# Label colours in order of creation: distinct, saturated and never pale (HSL lightness at most 0.62), so boxes
# stand out on images and phrase highlights on a white page.
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#e0338a", "#469990", "#7e57c2", "#9a6324", "#800000", "#e6b800", "#808000", "#000075",
)

_log = logging.getLogger(__name__)

# Every open project of this process, so that a commit on one connection (a worker's) can be told precisely to
# the others that watch for external changes (the window's); the guard makes a commit and its announcement atomic.
_open_projects: weakref.WeakSet[Project] = weakref.WeakSet()
_announce_guard = threading.Lock()

_IMAGE_COLUMNS = "id, path, width, height, orientation, file_size, status, split, split_pinned"


class ProjectError(RuntimeError):
    """A project cannot be created or opened; the message says why and what to do."""


@dataclass(frozen=True)
class NewImage:
    """An image file to add, as measured by the importer."""

    path: str
    width: int
    height: int
    orientation: int = 1
    file_size: int = 0
    mtime: float = 0.0
    format: str = ""


class Project(TextAnnotations):
    """An open project. Create with ``Project.create`` or ``Project.open``; use one instance per thread."""

    def __init__(self, folder: Path, *, read_only: bool) -> None:
        self.folder = folder
        self.read_only = read_only
        self._locked = False
        db_path = folder / DB_NAME
        if read_only:
            conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            lock.acquire(folder / LOCK_NAME)
            self._locked = True
            conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # each commit synced: a power cut loses no edit
        self.conn = conn
        self._listeners: list[Callable[[Change], None]] = []
        self._listeners_guard = threading.Lock()
        self._depth = 0
        self._pending: list[tuple] = []  # the arguments of the open transaction's blocks
        self._data_version = self._one("PRAGMA data_version")
        self._announced: list[Change] | None = None  # commits of this process's other connections, once watched
        with _announce_guard:
            _open_projects.add(self)

    # ---------------------------------------------------------------- life cycle
    @classmethod
    def create(cls, folder: str | Path) -> Project:
        """Create a new, empty project in ``folder`` (which may exist but must not hold a project)."""
        folder = Path(folder).expanduser().resolve()
        if (folder / DB_NAME).exists():
            raise ProjectError(f"{folder} already holds a VLM Studio project; open it instead")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CACHE_DIR).mkdir(exist_ok=True)
        project = cls(folder, read_only=False)
        schema.migrate(project.conn)
        return project

    @classmethod
    def open(cls, folder: str | Path, *, read_only: bool = False) -> Project:
        """Open an existing project, migrating its schema forward when it is writable."""
        folder = Path(folder).expanduser().resolve()
        if folder.is_file() and folder.name == DB_NAME:
            folder = folder.parent
        if not (folder / DB_NAME).is_file():
            raise ProjectError(f"{folder} is not a VLM Studio project (no {DB_NAME} in it)")
        project = cls(folder, read_only=read_only)
        try:
            found = schema.version(project.conn)
            if read_only and found != schema.SCHEMA_VERSION:
                raise ProjectError(f"{folder} has schema {found}; open it writable once to migrate it")
            if not read_only:
                schema.migrate(project.conn)
        except ProjectError:
            project.close()
            raise
        except MigrationError as exc:  # its message names the database file, the versions and any backup
            project.close()
            raise ProjectError(str(exc)) from exc
        (folder / CACHE_DIR).mkdir(exist_ok=True)
        return project

    def reopen(self) -> Project:
        """A new connection to the same project, for use in another thread."""
        return Project.open(self.folder, read_only=self.read_only)

    def close(self) -> None:
        if self.conn is None:
            return
        with _announce_guard:
            _open_projects.discard(self)
        self.conn.close()
        self.conn = None  # type: ignore[assignment]
        if self._locked:
            lock.release(self.folder / LOCK_NAME)
            self._locked = False

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """The same connection as a sqlite-utils database, for ad-hoc queries and table introspection."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @property
    def cache_dir(self) -> Path:
        return self.folder / CACHE_DIR

    @property
    def assets_dir(self) -> Path:
        return self.folder / ASSETS_DIR

    # ---------------------------------------------------------------- transactions and notifications
    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` after every committed change; returns a function that unsubscribes."""
        with self._listeners_guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_guard:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @contextmanager
    def transaction(
        self,
        tables: Iterable[str] = (),
        image_ids: Iterable[int] = (),
        *,
        kinds: Iterable[str] = (),
        box_ids: Iterable[int] = (),
        label_counts: Counter[int] | None = None,
    ) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction; nested blocks join the outer one. Notifies after the commit with a
        ``Change`` (see ``studio.dataset.changes``): ``kinds`` says what kind of edit it was, ``label_counts`` how
        the box count of each label changed. ``image_ids`` and ``label_counts`` are read after the block, which
        may still fill them in (new rows' ids)."""
        if self.read_only:
            raise ProjectError(f"{self.folder} is open read-only")
        self._pending.append((tables, image_ids, kinds, box_ids, Counter() if label_counts is None else label_counts))
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            change = Change.merge(
                Change(frozenset(t), frozenset(i), frozenset(k), frozenset(b), label_deltas(c))
                for t, i, k, b, c in self._pending
            )
            with _announce_guard:
                self.conn.execute("COMMIT")
                for other in _open_projects:
                    if other is not self and other._announced is not None and other.folder == self.folder:
                        other._announced.append(change)
        finally:
            self._depth = 0
            self._pending.clear()
        self._notify(change)  # after the transaction: a listener that edits starts a transaction of its own

    def publish_external_changes(self) -> bool:
        """Tell the subscribers about commits of other connections since the last call (the connection's own are
        announced as they happen); returns whether there were any. Commits of this process's other connections
        (workers) after the first call come as their own changes; any other (another process, a raw connection)
        as one "reload everything" change. A writable project is locked to one process, so the kinds never mix."""
        with _announce_guard:
            version = self._one("PRAGMA data_version")
            announced, self._announced = self._announced or [], []
        if version == self._data_version and not announced:
            return False
        self._data_version = version
        if not announced:
            tables = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            announced = [Change(frozenset(name for (name,) in tables), kinds=frozenset({kind.RELOAD}))]
        for change in dict.fromkeys(announced):  # a worker's repeated change (an import's batches) once
            self._notify(change)
        return True

    def _notify(self, change: Change) -> None:
        """Call every listener; one that raises is logged and cannot undo the commit nor silence the others."""
        with self._listeners_guard:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(change)
            except Exception:
                name = getattr(listener, "__qualname__", None) or repr(listener)
                _log.exception("Change listener %s failed on %s; the edit was saved", name, change)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # ---------------------------------------------------------------- images
    def add_images(self, images: Sequence[NewImage]) -> list[int]:
        """Add images in one transaction; files already in the project are skipped. Returns the new ids."""
        ids: list[int] = []
        with self.transaction({"images"}, ids, kinds={kind.IMAGES_ADDED}) as conn:
            for image in images:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO images (path, width, height, orientation, file_size, mtime, format)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (image.path, image.width, image.height, image.orientation, image.file_size, image.mtime,
                     image.format),
                )
                if cursor.rowcount:
                    ids.append(cursor.lastrowid)
        return ids

    def has_path(self, path: str) -> bool:
        return self._one("SELECT 1 FROM images WHERE path = ?", (path,)) is not None

    def known_paths(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT path FROM images")}

    def image(self, image_id: int) -> Image:
        row = self.conn.execute(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(f"no image {image_id} in {self.folder}")
        return _image(row)

    def images(self, *, split: str | None = None, status: str | None = None) -> list[Image]:
        """All images in import order, optionally only one split or status."""
        where, params = [], []
        if split is not None:
            where.append("split = ?")
            params.append(split)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_IMAGE_COLUMNS} FROM images"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_image(row) for row in self.conn.execute(sql + " ORDER BY id", params)]

    def images_by_id(self, image_ids: Sequence[int]) -> dict[int, Image]:
        """The images with these ids (at most a few hundred: one query); ids not in the project are left out."""
        marks = ", ".join("?" * len(image_ids))
        rows = self.conn.execute(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id IN ({marks})", list(image_ids))
        return {image.id: image for image in map(_image, rows)}

    def image_count(self) -> int:
        return self._one("SELECT count(*) FROM images")

    def set_status(self, image_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        with self.transaction({"images"}, {image_id}, kinds={kind.STATUS_CHANGED}) as conn:
            conn.execute("UPDATE images SET status = ? WHERE id = ?", (status, image_id))

    def set_split(self, image_ids: Iterable[int], split: str, *, pinned: bool | None = None) -> None:
        """Put images in a split ('' for none); ``pinned`` marks a hand-made choice that re-splitting keeps."""
        if split and split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        ids = list(image_ids)
        with self.transaction({"images"}, ids, kinds={kind.SPLIT_CHANGED}) as conn:
            if pinned is None:
                conn.executemany("UPDATE images SET split = ? WHERE id = ?", [(split, i) for i in ids])
            else:
                conn.executemany(
                    "UPDATE images SET split = ?, split_pinned = ? WHERE id = ?", [(split, int(pinned), i) for i in ids]
                )

    def relink(self, old_folder: str, new_folder: str) -> int:
        """Point every image under ``old_folder`` to the same relative path under ``new_folder`` (paths as this
        system writes them: with backslashes on Windows)."""
        old = old_folder.rstrip("/" + os.sep) + os.sep
        new = new_folder.rstrip("/" + os.sep) + os.sep
        with self.transaction({"images"}, kinds={kind.IMAGES_RELINKED}) as conn:
            cursor = conn.execute(
                "UPDATE OR IGNORE images SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                (new, len(old) + 1, len(old), old),
            )
            return cursor.rowcount

    def missing_images(self) -> list[Image]:
        return [image for image in self.images() if not Path(image.path).is_file()]

    # ---------------------------------------------------------------- labels
    def labels(self) -> list[Label]:
        return [Label(*row) for row in self.conn.execute("SELECT id, name, color FROM labels ORDER BY name")]

    def label(self, label_id: int) -> Label:
        row = self.conn.execute("SELECT id, name, color FROM labels WHERE id = ?", (label_id,)).fetchone()
        if row is None:
            raise KeyError(f"no label {label_id}")
        return Label(*row)

    def ensure_label(self, name: str, color: str | None = None) -> Label:
        """The label called ``name``, created (with the next palette colour unless given) when new."""
        name = name.strip()
        if not name:
            raise ValueError("a label needs a name")
        row = self.conn.execute("SELECT id, name, color FROM labels WHERE name = ?", (name,)).fetchone()
        if row:
            return Label(*row)
        with self.transaction({"labels"}, kinds={kind.LABEL_ADDED}) as conn:
            count = self._one("SELECT count(*) FROM labels")
            color = color or PALETTE[count % len(PALETTE)]
            cursor = conn.execute("INSERT INTO labels (name, color) VALUES (?, ?)", (name, color))
            return Label(cursor.lastrowid, name, color)

    def set_label_color(self, label_id: int, color: str) -> None:
        with self.transaction({"labels"}, kinds={kind.LABEL_CHANGED}) as conn:
            conn.execute("UPDATE labels SET color = ? WHERE id = ?", (color, label_id))

    def rename_label(self, label_id: int, new_name: str) -> Label:
        """Rename a label; renaming onto an existing name merges the two (one transaction)."""
        new_name = new_name.strip()
        if not new_name:
            raise ValueError("a label needs a name")
        existing = self._one("SELECT id FROM labels WHERE name = ?", (new_name,))
        if existing is not None and existing != label_id:
            return self.merge_labels([label_id], existing)
        with self.transaction({"labels"}, kinds={kind.LABEL_CHANGED}) as conn:
            conn.execute("UPDATE labels SET name = ? WHERE id = ?", (new_name, label_id))
        return self.label(label_id)

    def merge_labels(self, source_ids: Iterable[int], target_id: int) -> Label:
        """Move every box of the source labels to the target label and delete the sources."""
        sources = [i for i in source_ids if i != target_id]
        counts: Counter[int] = Counter()
        # No image ids: any image's boxes may have changed.
        with self.transaction({"labels", "boxes"}, kinds={kind.LABELS_MERGED}, label_counts=counts) as conn:
            for source in sources:
                moved = self._one("SELECT n FROM label_counts WHERE label_id = ?", (source,)) or 0
                counts.update({source: -moved, target_id: moved})
                conn.execute("UPDATE boxes SET label_id = ? WHERE label_id = ?", (target_id, source))
                conn.execute("DELETE FROM labels WHERE id = ?", (source,))
        return self.label(target_id)

    # ---------------------------------------------------------------- boxes
    def boxes(self, image_id: int) -> list[Box]:
        return [
            Box(*row)
            for row in self.conn.execute(
                "SELECT id, image_id, label_id, x1, y1, x2, y2 FROM boxes WHERE image_id = ? ORDER BY id", (image_id,)
            )
        ]

    def box(self, box_id: int) -> Box:
        row = self.conn.execute("SELECT id, image_id, label_id, x1, y1, x2, y2 FROM boxes WHERE id = ?", (box_id,))
        found = row.fetchone()
        if found is None:
            raise KeyError(f"no box {box_id}")
        return Box(*found)

    def add_box(
        self, image_id: int, label_id: int | None, x1: float, y1: float, x2: float, y2: float,
        *, box_id: int | None = None,
    ) -> int:
        """Add a box (corners in any order); ``box_id`` restores a deleted box under its old id (undo)."""
        _finite_corners(x1, y1, x2, y2)
        x1, x2 = sorted((float(x1), float(x2)))
        y1, y2 = sorted((float(y1), float(y2)))
        added: list[int] = []
        with self.transaction(
            {"boxes"}, {image_id}, kinds={kind.BOXES_ADDED}, box_ids=added, label_counts=Counter({label_id: 1})
        ) as conn:
            cursor = conn.execute(
                "INSERT INTO boxes (id, image_id, label_id, x1, y1, x2, y2) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (box_id, image_id, label_id, x1, y1, x2, y2),
            )
            added.append(cursor.lastrowid)
        return added[0]

    def update_box(self, box_id: int, **changes: Any) -> Box:
        """Change a box's corners (x1, y1, x2, y2) and/or ``label_id``."""
        allowed = {"x1", "y1", "x2", "y2", "label_id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"boxes have no field {', '.join(sorted(unknown))}")
        box = self.box(box_id)
        values = {"x1": box.x1, "y1": box.y1, "x2": box.x2, "y2": box.y2, "label_id": box.label_id, **changes}
        _finite_corners(values["x1"], values["y1"], values["x2"], values["y2"])
        x1, x2 = sorted((float(values["x1"]), float(values["x2"])))
        y1, y2 = sorted((float(values["y1"]), float(values["y2"])))
        kinds, counts = set(), Counter()
        if (x1, y1, x2, y2) != (box.x1, box.y1, box.x2, box.y2):
            kinds.add(kind.BOXES_MOVED)
        if values["label_id"] != box.label_id:
            kinds.add(kind.BOXES_RELABELLED)
            counts.update({box.label_id: -1, values["label_id"]: 1})
        with self.transaction(
            {"boxes"}, {box.image_id}, kinds=kinds or {kind.BOXES_MOVED}, box_ids={box_id}, label_counts=counts
        ) as conn:
            conn.execute(
                "UPDATE boxes SET x1 = ?, y1 = ?, x2 = ?, y2 = ?, label_id = ? WHERE id = ?",
                (x1, y1, x2, y2, values["label_id"], box_id),
            )
        return self.box(box_id)

    def delete_boxes(self, box_ids: Iterable[int]) -> None:
        """Delete boxes (their phrase links go with them)."""
        ids = list(box_ids)
        found = self.conn.execute(
            f"SELECT image_id, label_id FROM boxes WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
        counts = Counter(label_id for _, label_id in found)
        with self.transaction(
            {"boxes", "phrase_boxes"}, {image_id for image_id, _ in found}, kinds={kind.BOXES_DELETED},
            box_ids=ids, label_counts=Counter({label_id: -n for label_id, n in counts.items()}),
        ) as conn:
            conn.executemany("DELETE FROM boxes WHERE id = ?", [(i,) for i in ids])

    # ---------------------------------------------------------------- whole images and summaries
    def annotation(self, image_id: int) -> Annotation:
        return Annotation(
            image=self.image(image_id),
            boxes=self.boxes(image_id),
            caption=self.caption(image_id),
            phrases=self.phrases(image_id),
            vqa=self.vqa(image_id),
        )

    def counts(self) -> dict[str, Any]:
        """Counts of everything, for ``vlm-studio info`` and the status bar."""
        one = self._one
        splits = {name or "unassigned": n for name, n in self.conn.execute(
            "SELECT split, count(*) FROM images GROUP BY split ORDER BY split")}
        statuses = dict(self.conn.execute("SELECT status, count(*) FROM images GROUP BY status ORDER BY status"))
        return {
            "images": one("SELECT count(*) FROM images"),
            "boxes": one("SELECT count(*) FROM boxes"),
            "labels": one("SELECT count(*) FROM labels"),
            "captions": one("SELECT count(*) FROM captions WHERE text != ''"),
            "phrases": one("SELECT count(*) FROM phrases"),
            "linked_phrases": one("SELECT count(DISTINCT phrase_id) FROM phrase_boxes"),
            "vqa_pairs": one("SELECT count(*) FROM vqa"),
            "splits": splits,
            "statuses": statuses,
            "workflows": one("SELECT count(*) FROM workflows"),
            "runs": one("SELECT count(*) FROM runs"),
        }

    def image_extent(self) -> tuple[int, int, int]:
        """(number of images, width, height of the largest by area); (0, 0, 0) without images."""
        count, _, width, height = self.conn.execute(
            "SELECT count(*), max(width * height), width, height FROM images").fetchone()
        return (count, width, height) if count else (0, 0, 0)

    def get_meta(self, key: str, default: Any = None) -> Any:
        value = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else json.loads(value)

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction({"meta"}) as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )


def _image(row: Sequence[Any]) -> Image:
    return Image(*row[:8], split_pinned=bool(row[8]))


def _finite_corners(*corners: float) -> None:
    """Refuse box corners that are not finite numbers (an infinite box breaks export, preview and training)."""
    if not all(math.isfinite(float(v)) for v in corners):
        raise ValueError(f"box corners must be finite numbers, found {', '.join(map(str, corners))}")

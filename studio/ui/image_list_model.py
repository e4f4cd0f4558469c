"""The image list's model over SQL: it holds only the ordered ids of the images that pass the filter and reads the
rows that get painted, a page at a time, into a small cache; thumbnails load in a thread pool, only for painted rows.

Edits update what they touch: a status or split change re-reads those rows (and, when the filter reads that column,
re-checks only those images), added images are inserted where they belong, and any other change of the images runs
the id query again. A filter on a large project runs in a worker (see `IdQuery`); the old rows stay until the new
ids arrive.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from studio.dataset.model import Image
from studio.dataset.queries import ImageFilter, filter_images, filter_images_at
from studio.dataset.store import Project
from studio.dataset.thumbnails import ensure_thumbnail
from studio.workers.job import Job
from studio.workers.job_slot import JobSlot

log = logging.getLogger(__name__)

ImageIdRole = Qt.ItemDataRole.UserRole + 1
ImageRole = Qt.ItemDataRole.UserRole + 2
PAGE = 64  # rows read in one query when a painted row is not cached
ROW_CACHE = 2048  # images kept in memory (least recently used dropped first)
THUMB_CACHE = 512  # thumbnails kept in memory
WORKER_FROM = 5000  # projects with more images than this run the id query in a worker (but when opened)
BULK_REFRESH = 64  # more changed rows than this repaint as one range
BULK_RECHECK = 2000  # more changed images than this, under a filter that reads the change, run the whole query


class IdQuery(QObject):
    """The id query in a worker with its own read-only connection, newest first: a query asked while one runs
    cancels it and waits for its thread to end, replacing any query already waiting; the result of a query a newer
    one superseded is dropped. ``arrived(list[int])`` / ``failed(str)`` for the newest query only."""

    arrived = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._slot = JobSlot(self)
        self._slot.result.connect(self._result)
        self._slot.failed.connect(self._failed)
        self._slot.idle.connect(self._start_waiting)
        self._asked = 0  # ticket of the newest query asked
        self._running = 0  # ticket of the query in the worker
        self._waiting: tuple[int, Path, ImageFilter] | None = None
        self._job: Job | None = None  # the last one started

    @property
    def busy(self) -> bool:
        """Whether the newest query has not answered yet."""
        return self._waiting is not None or (self._slot.busy and self._running == self._asked)

    def ask(self, folder: Path, image_filter: ImageFilter) -> None:
        self.drop()
        self._waiting = (self._asked, folder, image_filter)
        self._start_waiting()

    def drop(self) -> None:
        """Forget the queries asked so far: their results will not arrive (a running one is cancelled)."""
        self._asked += 1
        self._waiting = None
        if self._job is not None:
            self._job.cancel()

    def stop(self) -> None:
        """Drop the queries and wait for the worker's thread (shutdown, another project)."""
        self.drop()
        self._slot.stop()
        self._job = None

    def _start_waiting(self) -> None:
        if self._waiting is None or self._slot.busy:
            return
        (self._running, folder, image_filter), self._waiting = self._waiting, None
        self._job = Job("Filtering images", filter_images_at, folder, image_filter)
        self._slot.start(self._job)

    def _result(self, ids: list[int]) -> None:
        if self._running == self._asked:
            self.arrived.emit(ids)

    def _failed(self, message: str) -> None:
        if self._running == self._asked:
            self.failed.emit(message)


class _ThumbSignals(QObject):
    ready = Signal(int, QImage)


class _ThumbJob(QRunnable):
    """Load (or make and cache) one thumbnail off the GUI thread."""

    def __init__(self, cache_dir: Path, image: Image, signals: _ThumbSignals) -> None:
        super().__init__()
        self.cache_dir, self.image, self.signals = cache_dir, image, signals

    def run(self) -> None:
        try:
            path = ensure_thumbnail(self.cache_dir, self.image.id, self.image.path)
            picture = QImage(str(path))
        except Exception:  # a missing or broken file shows the placeholder, never an error dialog
            picture = QImage()
        self.signals.ready.emit(self.image.id, picture)


class ImageListModel(QAbstractListModel):
    """Rows are the images that pass the filter, in import order. ``filtering(bool)``: a query in a worker
    started, or its rows arrived (or it failed: ``filter_failed(str)``)."""

    filtering = Signal(bool)
    filter_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self._ids = array("q")  # the rows: image ids, ascending (import order)
        self._total = 0
        self._filter = ImageFilter()
        self._only: frozenset[int] | None = None
        self._rows: OrderedDict[int, Image] = OrderedDict()  # least recently used first
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _ThumbSignals()
        self._signals.ready.connect(self._thumbnail_ready)
        self._query = IdQuery(self)
        self._query.arrived.connect(self._ids_arrived)
        self._query.failed.connect(self._query_failed)

    # ------------------------------------------------------------ content
    def load(self, project: Project | None, image_filter: ImageFilter = ImageFilter()) -> None:  # noqa: B008
        """Show the images of ``project`` (or nothing) that pass ``image_filter``."""
        self._pool.clear()
        self._query.stop()
        self.project = project
        self._filter, self._only = image_filter, None
        self._thumbs.clear()
        self._pending.clear()
        self._rows.clear()
        self._total = project.image_count() if project else 0
        if project is None:
            self._reset([])
        else:
            self._run_query(at_once=True)  # the first paint needs the rows

    def set_filter(self, image_filter: ImageFilter, only: Collection[int] | None = None) -> None:
        """Show the images that pass ``image_filter`` and, when given, are in ``only``."""
        self._filter, self._only = image_filter, frozenset(only) if only is not None else None
        if self.project is not None:
            self._run_query()

    def reload(self) -> None:
        """Read everything again (another connection may have changed any image)."""
        if self.project is None:
            return
        self._rows.clear()
        self._total = self.project.image_count()
        self._run_query()

    @property
    def querying(self) -> bool:
        """Whether a filter query runs in a worker (the rows shown are the previous filter's)."""
        return self._query.busy

    def _run_query(self, *, at_once: bool = False) -> None:
        """The id query: at once for a small project (or ``at_once``), else in a worker whose rows replace the
        current ones when they arrive (at 100,000 images even the unfiltered query takes tens of milliseconds)."""
        if at_once or self._total <= WORKER_FROM:
            self._query.drop()
            self._reset(filter_images(self.project, self._filter))
            self.filtering.emit(False)
            return
        self._query.ask(self.project.folder, self._filter)
        self.filtering.emit(True)

    def _ids_arrived(self, ids: list[int]) -> None:
        self._reset(ids)
        self.filtering.emit(False)

    def _query_failed(self, message: str) -> None:
        self.filtering.emit(False)
        self.filter_failed.emit(message)

    def _reset(self, ids: Iterable[int]) -> None:
        only = self._only
        self.beginResetModel()
        self._ids = array("q", ids if only is None else (i for i in ids if i in only))
        self.endResetModel()

    def refresh_images(self, image_ids: Collection[int], columns: Collection[str], keep: int | None = None) -> None:
        """Some images' ``columns`` ("status", "split", ...) changed: re-read their rows; when the filter reads one
        of those columns, re-check only these images (rows that no longer pass leave, except ``keep``, the image
        being shown; images that now pass join)."""
        if self.project is None or not image_ids:
            return
        self._forget(image_ids)
        if not self._filter.columns & set(columns):
            self._repaint(image_ids)
        elif len(image_ids) > BULK_RECHECK:
            self._run_query()
            return
        else:
            passing = set(self._passing(image_ids))
            self._remove([i for i in image_ids if i not in passing and i != keep])
            self._insert(sorted(passing))
            self._repaint(image_ids)
        if self._query.busy:
            self._run_query()  # the running query may have read the rows before the edit

    def add_images(self, image_ids: Collection[int]) -> None:
        """Images were added (or re-imported): insert those that pass the filter where they belong."""
        if self.project is None or not image_ids:
            return
        self._forget(image_ids)
        self._total = self.project.image_count()
        self._insert(self._passing(image_ids))
        self._repaint(image_ids)
        if self._query.busy:
            self._run_query()

    def _passing(self, image_ids: Collection[int]) -> list[int]:
        """Which of these images pass the filter, ascending."""
        ids = (
            filter_images(self.project, self._filter, among=image_ids)
            if not self._filter.is_empty
            else sorted(image_ids)
        )
        return ids if self._only is None else [i for i in ids if i in self._only]

    def _insert(self, image_ids: list[int]) -> None:
        """Insert the ids (ascending) not shown yet where they belong, in runs of consecutive rows."""
        new = [i for i in image_ids if self.row_of(i) is None]
        start = 0
        while start < len(new):
            row = bisect_left(self._ids, new[start])
            after = self._ids[row] if row < len(self._ids) else None
            end = start + 1
            while end < len(new) and (after is None or new[end] < after):
                end += 1
            self.beginInsertRows(QModelIndex(), row, row + end - start - 1)
            self._ids[row:row] = array("q", new[start:end])
            self.endInsertRows()
            start = end

    def _remove(self, image_ids: Iterable[int]) -> None:
        """Remove the rows of these images, in runs of consecutive rows (last first)."""
        rows = sorted((row for row in map(self.row_of, image_ids) if row is not None), reverse=True)
        while rows:
            last = first = rows.pop(0)
            while rows and rows[0] == first - 1:
                first = rows.pop(0)
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._ids[first : last + 1]
            self.endRemoveRows()

    def _repaint(self, image_ids: Collection[int]) -> None:
        if len(image_ids) > BULK_REFRESH:
            rows = [0, len(self._ids) - 1] if self._ids else []
        else:
            rows = [row for row in map(self.row_of, image_ids) if row is not None]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def _forget(self, image_ids: Collection[int]) -> None:
        """Drop these images from the row cache: they are read again when next painted."""
        if len(image_ids) < len(self._rows):
            for image_id in image_ids:
                self._rows.pop(image_id, None)
        else:
            ids = set(image_ids)
            for image_id in [i for i in self._rows if i in ids]:
                del self._rows[image_id]

    # ------------------------------------------------------------ rows
    def total(self) -> int:
        """How many images the project has (filtered or not)."""
        return self._total

    def image_at(self, row: int) -> Image | None:
        """The image of ``row``, read from the project when it is not cached (None if another process deleted it)."""
        if not 0 <= row < len(self._ids):
            return None
        image_id = self._ids[row]
        image = self._rows.get(image_id)
        if image is not None:
            self._rows.move_to_end(image_id)
            return image
        first = row - row % PAGE
        missing = [i for i in self._ids[first : first + PAGE] if i not in self._rows]
        self._rows.update(self.project.images_by_id(missing))
        while len(self._rows) > ROW_CACHE:
            self._rows.popitem(last=False)
        return self._rows.get(image_id)

    def row_of(self, image_id: int) -> int | None:
        row = bisect_left(self._ids, image_id)
        return row if row < len(self._ids) and self._ids[row] == image_id else None

    def cached_images(self) -> int:
        """How many images are held in memory (at most ``ROW_CACHE``)."""
        return len(self._rows)

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == ImageIdRole:
            return self._ids[index.row()]
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            ImageRole,
            Qt.ItemDataRole.DecorationRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        image = self.image_at(index.row())
        if image is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return image.name
        if role == ImageRole:
            return image
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(image)
        return f"{image.path}\n{image.width} × {image.height} px · {image.status} · {image.split or 'no split'}"

    def _thumbnail(self, image: Image) -> QPixmap | None:
        pixmap = self._thumbs.get(image.id)
        if pixmap is not None:
            self._thumbs.move_to_end(image.id)
        elif image.id not in self._pending and self.project is not None:
            self._pending.add(image.id)
            self._pool.start(_ThumbJob(self.project.cache_dir, image, self._signals))
        return pixmap

    def _thumbnail_ready(self, image_id: int, picture: QImage) -> None:
        if image_id not in self._pending:
            return  # asked for by the project shown before
        self._pending.discard(image_id)
        self._thumbs[image_id] = QPixmap.fromImage(picture) if not picture.isNull() else QPixmap()
        while len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        row = self.row_of(image_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 10000) -> bool:
        return self._pool.waitForDone(msecs)

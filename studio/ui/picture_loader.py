"""Pictures decoded off the GUI thread: screen-sized previews (or the full picture) in a memory-bounded LRU cache.

`decode_picture` is the decode itself (QImageReader, no widgets: EXIF orientation applied, JPEGs decoded downscaled
by the codec, so a 12 MP photo costs a fraction of a full decode). `PictureLoader` runs it in a small thread pool,
keeps the recent results and announces each finished decode with ``loaded``; the caller decides whether the result
is still wanted (the user may have moved on to another image meanwhile).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader

FULL_RESOLUTION = 0  # ``max_side`` of the full picture
PREVIEW_MIN_SIDE = 2048  # a preview's longer side is at least this, or the screen's, whichever is larger
CACHE_BYTES = 256 * 1024 * 1024
DECODE_THREADS = 2


@dataclass(frozen=True)
class PictureKey:
    """One decode: the file and the longest side wanted (`FULL_RESOLUTION`: as stored)."""

    path: str
    max_side: int = FULL_RESOLUTION


@dataclass(frozen=True)
class Decoded:
    """A finished decode: ``image`` is null when the file could not be read, and ``error`` says why."""

    key: PictureKey
    image: QImage
    error: str = ""


def decode_picture(path: str, max_side: int = FULL_RESOLUTION) -> Decoded:
    """The picture at ``path`` upright (EXIF orientation applied: the frame the store's boxes are in), shrunk so that
    its longer side is at most ``max_side`` (never enlarged), in a format a pixmap takes without converting."""
    key = PictureKey(path, max_side)
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    raw = reader.size()  # as stored in the file, before the orientation: the codec scales in that frame
    factor = _shrink_factor(raw, max_side)
    by_codec = factor < 1 and reader.supportsOption(QImageIOHandler.ImageOption.ScaledSize)
    if by_codec:
        reader.setScaledSize(QSize(max(1, round(raw.width() * factor)), max(1, round(raw.height() * factor))))
    image = reader.read()
    if image.isNull():
        return Decoded(key, image, reader.errorString())
    factor = 1.0 if by_codec else _shrink_factor(image.size(), max_side)
    if factor < 1:
        size = QSize(max(1, round(image.width() * factor)), max(1, round(image.height() * factor)))
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    native = QImage.Format.Format_ARGB32_Premultiplied if image.hasAlphaChannel() else QImage.Format.Format_RGB32
    return Decoded(key, image.convertToFormat(native))


def _shrink_factor(size: QSize, max_side: int) -> float:
    longest = max(size.width(), size.height())
    return max_side / longest if max_side and size.isValid() and longest > max_side else 1.0


class _Signals(QObject):
    done = Signal(object)  # Decoded


class _DecodeJob(QRunnable):
    def __init__(self, key: PictureKey, signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the loader keeps it until its result arrives (or takes it back from the queue)
        self.key, self.signals = key, signals

    def run(self) -> None:
        try:
            result = decode_picture(self.key.path, self.key.max_side)
        except Exception as exc:  # a decoder crash is an unreadable file, never a dead worker
            result = Decoded(self.key, QImage(), str(exc) or type(exc).__name__)
        self.signals.done.emit(result)


class PictureLoader(QObject):
    """Decodes pictures in worker threads and caches the results (least recently used first out).

    ``request(key)`` decodes what is shown now, ahead of anything queued; ``prefetch(keys)`` decodes what will
    probably be shown next, after it. Each result, a failure included, is announced with ``loaded`` on the GUI
    thread; successful ones are also kept for ``cached(key)`` while they fit in ``cache_bytes``.
    """

    loaded = Signal(object)  # Decoded

    def __init__(
        self, cache_bytes: int = CACHE_BYTES, threads: int = DECODE_THREADS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[PictureKey, QImage] = OrderedDict()
        self._cached_bytes = 0
        self._jobs: dict[PictureKey, _DecodeJob] = {}  # queued or running
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pool.setThreadPriority(QThread.Priority.LowPriority)  # the GUI thread goes first where the OS allows
        self._signals = _Signals()  # no parent: the jobs keep it alive until their last result is sent
        self._signals.done.connect(self._done)

    def cached(self, key: PictureKey) -> QImage | None:
        """The decoded picture if it is in the cache (it becomes the most recently used)."""
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
        return image

    def request(self, key: PictureKey) -> None:
        """Decode ``key`` next; decodes still waiting in the queue are dropped (the user has moved on)."""
        for queued in [k for k in self._jobs if k != key]:
            if self._pool.tryTake(self._jobs[queued]):
                del self._jobs[queued]
        self._start(key, priority=1)

    def prefetch(self, keys: list[PictureKey]) -> None:
        """Decode ``keys`` when the pool is free (they are not announced any differently)."""
        for key in keys:
            self._start(key, priority=0)

    def wait(self, msecs: int = 10000) -> bool:
        """Block until every decode has finished (tests, shutdown); results still arrive through the event loop."""
        return self._pool.waitForDone(msecs)

    def _start(self, key: PictureKey, priority: int) -> None:
        if key in self._cache or key in self._jobs:
            return
        job = _DecodeJob(key, self._signals)
        self._jobs[key] = job
        self._pool.start(job, priority)

    def _done(self, result: Decoded) -> None:
        self._jobs.pop(result.key, None)
        if not result.image.isNull():
            self._remember(result.key, result.image)
        self.loaded.emit(result)

    def _remember(self, key: PictureKey, image: QImage) -> None:
        size = image.sizeInBytes()
        if size > self.cache_bytes:
            return
        if key in self._cache:
            self._cached_bytes -= self._cache.pop(key).sizeInBytes()
        self._cache[key] = image
        self._cached_bytes += size
        while self._cached_bytes > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= dropped.sizeInBytes()

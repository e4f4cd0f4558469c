"""Scale (issue 18): the window's cost per edit on 10,000- and 100,000-image projects, against fixed targets.

Builds each project with bulk SQL into the real schema (5 boxes, a caption with 4 phrases linked to boxes and 3
question / answer pairs per image; a few hundred distinct JPEGs, most 1024 x 768, hard-linked under unique names),
caches it under ``--cache``, then drives the real ``MainWindow`` offscreen through the entry points the GUI uses
(the next-image action, the canvas's signals, the label picker's Enter, typing in the caption and question fields,
``import_paths`` as File > Import image folder…, the budget's ``reload``) and prints, per size: open-to-first-paint,
p50 / p99 of each operation, the longest GUI-thread stall while its deferred work finishes, the longest stall
during a budget recount and during an import of 10,000 images, then the targets and the 100k / 10k ratios.

    nice -n 5 python bench/bench_scale.py [--sizes 10000,100000] [--reps 50] [--cache DIR] [--only switch,move]
                                          [--op-seconds 60] [--wait-s 180] [--import-count 10000] [--model ID]

How the numbers are taken (all on the GUI thread, wall clock):
- time: from the user's action until the event queue is drained: the event dispatcher is run until a pass
  processes nothing, and again while any active QTimer of the window is due within ``DUE_MS``; timers due later
  (debounces, polls) count as deferred work, not as the action's time. Switch and done-next also wait for the
  canvas's first paint after the workspace's ``image_shown`` for the new image (an image decoded in a worker counts).
- open: from constructing the window until the canvas first painted the shown image; what the window builds after
  its first frame (docks, mode pages, the first budget count) is waited for by the settle that follows, whose
  longest stall is printed beside it.
- settle: after each action, until no deferred work is pending: no active single-shot QTimer of the window of at
  most ``SETTLE_TIMER_MS``, no running `Job` but those already running before the action (a project-wide count
  started on opening is background, not the edit's work), no busy thread pool. "Stall" is the longest gap between
  ticks of a ``HEARTBEAT_MS`` heartbeat timer meanwhile (a GUI thread blocked that long shows a frozen window).
- background work: after opening, the operations wait up to ``--wait-s`` for the window to settle; a budget recount
  (the dock's ``reload``) and an import are watched up to ``--wait-s`` too. What did not end is said so, and the
  operations' table names the jobs that were still running while they were timed.
- cpu: the GUI thread's CPU time within "time" (less sensitive to a loaded machine than the wall clock).
- p99 is the nearest rank (with 50 repetitions, the second-worst); one unmeasured warm-up precedes each operation;
  an operation stops early once it has spent ``--op-seconds`` (the count shown says how many were measured).
- Each size runs on a fresh copy of the cached project, in a warm process (a window was built and closed first).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from PySide6.QtCore import (
    QAbstractEventDispatcher,
    QEvent,
    QEventLoop,
    QObject,
    QRectF,
    QSettings,
    Qt,
    QThreadPool,
    QTimer,
    qInstallMessageHandler,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the tree this file is in (a worktree), not the installed ``studio``

DUE_MS = 5  # a timer due within this is part of the action that started it
SETTLE_TIMER_MS = 2000  # single-shot timers up to this long are deferred work to wait for
HEARTBEAT_MS = 5
SETTLE_LIMIT_S = 120.0
DEFAULT_CACHE = Path.home() / ".cache" / "vlm-studio-bench-scale"
IMPORT_COUNT = 10_000
DISTINCT_IMAGES = 300
FOLDER_SIZE = 1000  # image files per sub-folder
SOURCE_SIZES = ((1024, 768),) * 6 + ((800, 600),) * 3 + ((1920, 1080),)  # cycled over the distinct images
LABELS = (
    "person",
    "car",
    "dog",
    "cat",
    "bicycle",
    "tree",
    "bus",
    "chair",
    "table",
    "cup",
    "bottle",
    "bird",
    "truck",
    "bench",
    "sign",
    "umbrella",
    "bag",
    "laptop",
    "phone",
    "horse",
)
QUESTIONS = tuple(
    f"{q} {noun}?"
    for q in ("How many", "What colour is the", "Where is the", "Is there a")
    for noun in ("person", "car", "dog", "tree", "bus", "chair", "cup", "bird")
)
STATUS_WEIGHTS = (("todo", 6), ("in-progress", 1), ("done", 3))
SPLIT_WEIGHTS = (("", 3), ("train", 5), ("val", 1), ("test", 1))
OPS = {  # what each operation does, as the person would
    "switch": "the next image (D: the next-image action)",
    "move": "drag one box 4 px (the canvas's boxes_edited, emitted on release)",
    "add": "draw a box, then Enter in the label picker (timed from the Enter)",
    "relabel": "select a box, L, type another label, Enter (timed from the Enter)",
    "caption": "type one character at the caption's cursor",
    "vqa": "type a question, Enter (timed from the Enter)",
    "done": "mark the image done, or back to todo (the status actions' set_status)",
    "done-next": "mark done and go to the next image (Ctrl+Enter: the done-next action)",
}
EDITS = ("move", "add", "relabel", "caption", "vqa", "done")
TARGET_OPEN_S, TARGET_EDIT_MS, TARGET_SWITCH_MS, TARGET_STALL_MS, TARGET_RATIO = 1.5, 16.0, 50.0, 50.0, 1.5


# ---------------------------------------------------------------------------------------------------- projects
@dataclass(frozen=True)
class Source:
    """A distinct image file that many project images share (through hard links)."""

    path: Path
    width: int
    height: int
    size: int
    mtime: float


def ensure_sources(folder: Path, count: int) -> list[Source]:
    """``count`` distinct JPEGs (blurred colour fields with rectangles: a photo's decode cost), made once."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for index in range(count):
        path = folder / f"source_{index:04d}.jpg"
        if not path.exists():
            width, height = SOURCE_SIZES[index % len(SOURCE_SIZES)]
            rng = np.random.default_rng(index)
            field_ = Image.fromarray(rng.integers(0, 256, (height // 48, width // 48, 3), dtype=np.uint8))
            picture = field_.resize((width, height), Image.Resampling.BICUBIC)
            draw = ImageDraw.Draw(picture)
            for _ in range(12):
                x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
                w, h = int(rng.integers(20, width // 4)), int(rng.integers(20, height // 4))
                draw.rectangle((x, y, x + w, y + h), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
            partial = path.with_suffix(f".{os.getpid()}.partial")
            picture.save(partial, "JPEG", quality=88)
            partial.replace(path)
        with Image.open(path) as image:
            width, height = image.size
        stat = path.stat()
        sources.append(Source(path, width, height, stat.st_size, stat.st_mtime))
    return sources


def link_images(sources: Sequence[Source], folder: Path, count: int, prefix: str) -> list[tuple[Path, Source]]:
    """``count`` image files under ``folder`` (sub-folders of ``FOLDER_SIZE``), each a hard link to a source: unique
    paths (the importer keys images by their resolved path, so symbolic links would all be one image). Files already
    there are kept, so concurrent runs share them."""
    files = []
    for index in range(count):
        source = sources[index % len(sources)]
        path = folder / f"{index // FOLDER_SIZE:03d}" / f"{prefix}_{index:06d}.jpg"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source.path, path)
            except FileExistsError:
                pass
            except OSError as exc:
                raise SystemExit(
                    f"{path}: cannot hard-link to {source.path} ({exc.strerror}); put --cache on a "
                    "file system with hard links"
                ) from None
        files.append((path.resolve(), source))
    return files


def distinct_count(size: int) -> int:
    """How many distinct image files a project of ``size`` images uses (few for a small test project)."""
    return max(4, min(DISTINCT_IMAGES, size // 50))


def image_files(cache: Path, count: int, prefix: str) -> list[tuple[Path, Source]]:
    """``count`` linked image files named ``prefix_N.jpg``, shared by every project that uses as many sources."""
    distinct = distinct_count(count)
    folder = cache / f"{prefix}-files-{distinct}"
    return link_images(ensure_sources(cache / "sources", distinct), folder, count, prefix)


def build_project(cache: Path, size: int) -> Path:
    """The project folder of ``size`` images under ``cache``, built once: in a folder of its own, renamed into
    place when complete, so that a run never sees a half-built project (concurrent runs each build, one wins)."""
    from studio.dataset.store import DB_NAME, Project

    folder = cache / f"scale-{size}"
    if (folder / DB_NAME).exists():
        upgrade_schema(folder)
        return folder
    files = image_files(cache, size, "image")
    building = cache / f".scale-{size}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    Project.create(building).close()
    fill_database(building / DB_NAME, files)
    try:
        building.rename(folder)
    except OSError:  # another run finished first
        shutil.rmtree(building, ignore_errors=True)
    return folder


def upgrade_schema(folder: Path) -> None:
    """Migrate a project cached by an older version once, so that no run times a migration as opening."""
    from studio.dataset.schema import SCHEMA_VERSION
    from studio.dataset.store import DB_NAME, Project

    conn = sqlite3.connect(folder / DB_NAME)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    if version < SCHEMA_VERSION:
        Project.open(folder).close()


def fill_database(db: Path, files: Sequence[tuple[Path, Source]], seed: int = 18) -> None:
    """Insert the images and their annotation in one transaction, straight into the real schema."""
    rng = random.Random(seed)
    statuses = [s for s, weight in STATUS_WEIGHTS for _ in range(weight)]
    splits = [s for s, weight in SPLIT_WEIGHTS for _ in range(weight)]
    images, boxes, captions, phrases, links, vqa = [], [], [], [], [], []
    for number, (path, source) in enumerate(files, start=1):
        images.append(
            (
                number,
                str(path),
                source.width,
                source.height,
                source.size,
                source.mtime,
                "JPEG",
                rng.choice(statuses),
                rng.choice(splits),
            )
        )
        names = rng.sample(LABELS, 5)
        for slot in range(5):
            w, h = rng.uniform(30, source.width / 3), rng.uniform(30, source.height / 3)
            x, y = rng.uniform(0, source.width - w), rng.uniform(0, source.height - h)
            boxes.append((number * 5 - 4 + slot, number, LABELS.index(names[slot]) + 1, x, y, x + w, y + h))
        text, spans = caption_for(names)
        captions.append((number, text))
        for slot, (start, end) in enumerate(spans):
            phrase_id = number * 4 - 3 + slot
            phrases.append((phrase_id, number, start, end))
            links.append((phrase_id, number * 5 - 4 + slot))
        for position, question in enumerate(rng.sample(QUESTIONS, 3)):
            vqa.append((number, position, question, rng.choice(("yes", "no", "two", "red", "on the left"))))
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO labels (id, name, color) VALUES (?, ?, ?)",
            [(i + 1, name, f"#{rng.randrange(0x1000000):06x}") for i, name in enumerate(LABELS)],
        )
        conn.executemany(
            "INSERT INTO images (id, path, width, height, file_size, mtime, format, status, split)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            images,
        )
        conn.executemany(
            "INSERT INTO boxes (id, image_id, label_id, x1, y1, x2, y2) VALUES (?, ?, ?, ?, ?, ?, ?)", boxes
        )
        conn.executemany("INSERT INTO captions (image_id, text) VALUES (?, ?)", captions)
        conn.executemany("INSERT INTO phrases (id, image_id, start, end) VALUES (?, ?, ?, ?)", phrases)
        conn.executemany("INSERT INTO phrase_boxes (phrase_id, box_id) VALUES (?, ?)", links)
        conn.executemany("INSERT INTO vqa (image_id, position, question, answer) VALUES (?, ?, ?, ?)", vqa)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def caption_for(names: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """A caption naming the first four labels, and the span of each name (the fifth box stays unlinked)."""
    parts = ["A ", names[0], " next to a ", names[1], ", with a ", names[2], " and a ", names[3], " behind them."]
    spans, offset = [], 0
    for index, part in enumerate(parts):
        if index % 2:
            spans.append((offset, offset + len(part)))
        offset += len(part)
    return "".join(parts), spans


def working_copy(pristine: Path, work: Path) -> Path:
    """A fresh copy of a cached project (edits and imports must not change the cache); the images stay shared."""
    from studio.dataset.store import CACHE_DIR, DB_NAME

    if work.exists():
        shutil.rmtree(work)
    (work / CACHE_DIR).mkdir(parents=True)
    shutil.copyfile(pristine / DB_NAME, work / DB_NAME)
    return work


def import_folder(cache: Path, count: int) -> Path:
    """A folder of ``count`` images that no project holds yet, for File > Import image folder…"""
    image_files(cache, count, "imported")
    return cache / f"imported-files-{distinct_count(count)}"


# ---------------------------------------------------------------------------------------------------- event loop
@dataclass
class Watch:
    """What a heartbeat saw while waiting: wall seconds, the longest gap between ticks, whether the wait ended."""

    seconds: float
    stall_ms: float
    finished: bool


class EventLoop:
    """Drains the GUI thread's events, waits for deferred work, and measures stalls (see the module docstring)."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.dispatcher = QAbstractEventDispatcher.instance()

    def timers(self) -> list[QTimer]:
        """Every QTimer of the application and its windows (the heartbeat has no parent: never listed). A scan of
        the object trees takes milliseconds, so the timed part of a measurement checks a list taken before it."""
        found: dict[int, QTimer] = {}
        for root in (self.app, *QApplication.topLevelWidgets()):
            for timer in root.findChildren(QTimer):
                found[id(timer)] = timer
        return list(found.values())

    def drain(self, timers: Sequence[QTimer] | None = None, limit_s: float = 60.0) -> None:
        """Process events until none is left and none of ``timers`` (default: all) is due within ``DUE_MS``."""
        deadline = time.perf_counter() + limit_s
        flags = QEventLoop.ProcessEventsFlag.AllEvents
        while True:
            while self.dispatcher.processEvents(flags):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"the event queue did not drain within {limit_s:.0f} s")
            due = [ms for ms in _remaining(self.timers() if timers is None else timers) if 0 <= ms <= DUE_MS]
            if not due:
                return
            time.sleep(min(due) / 1000)

    def pending_work(self, background: Collection[object] = ()) -> bool:
        """Deferred work still to come: short single-shot timers, running jobs (but ``background``, those already
        running before), busy thread pools."""
        if any(
            _alive(t) and t.isActive() and t.isSingleShot() and t.interval() <= SETTLE_TIMER_MS for t in self.timers()
        ):
            return True
        if running_jobs() - set(background):
            return True
        pools = [QThreadPool.globalInstance()]
        for widget in QApplication.topLevelWidgets():
            pools += widget.findChildren(QThreadPool)
        return any(pool.activeThreadCount() for pool in pools)

    def watch(self, done: Callable[[], bool], limit_s: float = SETTLE_LIMIT_S) -> Watch:
        """Run the event loop until ``done()`` (checked every ~10 heartbeats), recording the longest tick gap."""
        loop = QEventLoop()
        heartbeat = QTimer(timerType=Qt.TimerType.PreciseTimer, interval=HEARTBEAT_MS)
        started = last = time.perf_counter()
        state = {"gap": 0.0, "ticks": 0, "finished": False}

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            state["gap"] = max(state["gap"], now - last)
            last = now
            state["ticks"] += 1
            if state["ticks"] % 10 == 0 and done():
                state["finished"] = True
                loop.quit()
            elif now - started > limit_s:
                loop.quit()

        heartbeat.timeout.connect(tick)
        heartbeat.start()
        loop.exec()
        heartbeat.stop()
        return Watch(time.perf_counter() - started, state["gap"] * 1000, state["finished"])

    def settle(self, limit_s: float = SETTLE_LIMIT_S, background: Collection[object] = ()) -> Watch:
        """Wait until no deferred work is pending (jobs in ``background`` aside) and the queue is drained."""
        started = time.perf_counter()
        stall, finished = 0.0, False
        while not finished and time.perf_counter() - started < limit_s:
            seen = self.watch(lambda: not self.pending_work(background), limit_s - (time.perf_counter() - started))
            stall = max(stall, seen.stall_ms)
            self.drain()
            finished = seen.finished and not self.pending_work(background)
        return Watch(time.perf_counter() - started, stall, finished)


def running_jobs() -> set[object]:
    """The `Job`s whose thread has not finished (the workers module keeps them alive until then)."""
    from studio.workers import job

    return set(getattr(job, "_running", ()))


def _alive(obj: QObject) -> bool:
    """False for a QObject whose C++ side was deleted since it was listed."""
    from shiboken6 import isValid

    return isValid(obj)


def _remaining(timers: Sequence[QTimer]) -> Iterator[int]:
    """Milliseconds until each active timer fires."""
    for timer in timers:
        if _alive(timer) and timer.isActive():
            yield timer.remainingTime()


class PaintProbe(QObject):
    """Whether the canvas has painted since the workspace last announced a shown image (``image_shown``)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: int | None = None
        self.painted = False

    def attach(self, workspace) -> None:
        workspace.image_shown.connect(self._shown)
        workspace.canvas.viewport().installEventFilter(self)

    def _shown(self, image_id: int) -> None:
        self.shown, self.painted = image_id, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.shown is not None:
            self.painted = True
        return False


# ---------------------------------------------------------------------------------------------------- the window
@dataclass
class OpResult:
    """One operation's times (ms, until drained), the GUI thread's CPU time in them (ms), settle times (ms)
    and the longest stall while settling."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    settle: list[float] = field(default_factory=list)
    stall_ms: float = 0.0
    unsettled: int = 0


@dataclass
class SizeResult:
    """Everything measured on one project size."""

    size: int
    open_s: float = math.nan
    open_settle_s: float = math.nan
    open_stall_ms: float = math.nan
    ops: dict[str, OpResult] = field(default_factory=dict)
    recount: Watch | None = None
    imported: Watch | None = None
    background: list[str] = field(default_factory=list)  # jobs still running when the operations began


class WindowDriver:
    """The real main window on a project, driven through the GUI's own entry points."""

    def __init__(self, loop: EventLoop, settings_file: Path, model: str | None = None) -> None:
        from studio.ui import theme

        theme.apply(loop.app)
        self.loop = loop
        self.settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
        if model is not None:
            self.settings.setValue("model", model)  # the Model menu's choice, remembered across restarts
        self.window = None
        self.probe = PaintProbe()

    def open(self, folder: Path) -> float:
        """Seconds from constructing the window with ``folder`` to the canvas's first paint of the shown image (what
        the window builds after its first frame counts in the stall while settling, see `run_size`)."""
        from studio.ui.main_window import MainWindow

        started = time.perf_counter()
        self.window = MainWindow(self.settings)
        self.window.resize(1400, 860)
        self.window.show()
        if not self.window.open_project(folder):
            raise SystemExit(f"{folder}: the window could not open the project")
        self.probe.attach(self.workspace)
        self.probe.shown = self.workspace.image_id  # shown before the probe could listen
        deadline = started + 60.0
        while not self.probe.painted:  # what comes after the first frame is timed as the open's stall, not here
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{folder}: the canvas did not paint within a minute")
            self.loop.dispatcher.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        return time.perf_counter() - started

    @property
    def workspace(self):
        return self.window.annotate.workspace

    def close(self, limit_s: float = 120.0) -> None:
        """Close the window and wait for its jobs (cancelled on close) to end: a thread must not outlive Python."""
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None
            self.loop.watch(lambda: not running_jobs(), limit_s)
            self.loop.drain()

    def _wait_painted(self, timers: Sequence[QTimer] | None = None, limit_s: float = 30.0) -> None:
        """Drain, then keep processing until the canvas painted after the image was shown."""
        deadline = time.perf_counter() + limit_s
        self.loop.drain(timers)
        while not (self.probe.painted and self.probe.shown == self.workspace.image_id):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the canvas did not paint image {self.workspace.image_id} within {limit_s} s")
            self.loop.dispatcher.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            self.loop.drain(timers)

    # --- one operation: ``prepare(rep)`` does what is not timed and returns the timed action
    def prepare(self, op: str, rep: int) -> Callable[[], None]:
        ws, project = self.workspace, self.window.project
        if op in ("switch", "done-next"):
            return ws.actions["next_image" if op == "switch" else "done_next"].trigger
        if op == "move":
            box = project.boxes(ws.image_id)[0]
            shift = 4.0 if rep % 2 == 0 else -4.0
            after = (box.x1 + shift, box.y1, box.x2 + shift, box.y2)
            return lambda: ws.canvas.boxes_edited.emit({box.id: box.xyxy}, {box.id: after}, False)
        if op == "add":
            ws.canvas.box_drawn.emit(QRectF(20 + rep % 50, 20, 60, 40))  # opens the label picker
            return self._pick_label(None)
        if op == "relabel":
            box = project.boxes(ws.image_id)[0]
            ws.canvas.select_boxes([box.id])
            ws.actions["relabel"].trigger()  # opens the label picker
            return self._pick_label(LABELS[rep % 2])
        if op == "caption":
            return lambda: QTest.keyClicks(ws.caption_panel.edit, "x")
        if op == "vqa":
            field_ = ws.vqa_panel.question
            field_.setText(QUESTIONS[rep % len(QUESTIONS)])
            return lambda: QTest.keyClick(field_, Qt.Key.Key_Return)
        if op == "done":
            return lambda: ws.set_status("done" if rep % 2 == 0 else "todo")
        raise ValueError(f"unknown operation {op!r}; expected one of {', '.join(OPS)}")

    def _pick_label(self, name: str | None) -> Callable[[], None]:
        """Enter in the open label picker, after typing ``name`` (None: take the proposed label)."""
        picker = self.workspace.picker
        self.loop.drain()
        if not picker.isVisible():
            raise RuntimeError("the label picker did not open")
        if name is not None:
            picker.edit.setText(name)
        return lambda: QTest.keyClick(picker.edit, Qt.Key.Key_Return)

    def measure(self, op: str, reps: int, budget_s: float, *, warm_ups: int = 1) -> OpResult:
        """``reps`` timed repetitions of ``op`` after ``warm_ups`` untimed ones, each settled before the next."""
        result = OpResult()
        started = time.perf_counter()
        for rep in range(reps + warm_ups):
            if rep > warm_ups and time.perf_counter() - started > budget_s:
                break
            action = self.prepare(op, rep)
            self.loop.drain()
            timers, background = self.loop.timers(), running_jobs()
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            action()
            if op in ("switch", "done-next"):
                self._wait_painted(timers)
            else:
                self.loop.drain(timers)
            elapsed, cpu = (time.perf_counter() - begin) * 1000, (time.thread_time() - begin_cpu) * 1000
            after = self.loop.settle(background=background)
            if rep >= warm_ups:
                result.times.append(elapsed)
                result.cpu.append(cpu)
                result.settle.append(after.seconds * 1000)
                result.stall_ms = max(result.stall_ms, after.stall_ms)
                result.unsettled += not after.finished
        return result

    def budget_recount(self, limit_s: float) -> Watch | None:
        """The budget dock counts every image again (as after an import); until its new budget is shown."""
        models = self.window.models
        if models.budget_panel is None:
            return None
        shown = []
        models.budget_panel.budget_changed.connect(shown.append)
        models.reload()
        watch = self.loop.watch(lambda: bool(shown) and not self.loop.pending_work(), limit_s)
        models.budget_panel.budget_changed.disconnect(shown.append)
        return watch

    def import_images(self, folder: Path, limit_s: float) -> Watch:
        """File > Import image folder… on ``folder``: until the import ended and its effects settled."""
        job = self.window.import_paths([str(folder)])
        ended = []
        job.done.connect(lambda: ended.append(True))
        return self.loop.watch(lambda: bool(ended) and not self.loop.pending_work(), limit_s)


# ---------------------------------------------------------------------------------------------------- running
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def quiet_offscreen_warnings() -> None:
    """Drop the offscreen platform's "This plugin does not support raise()" lines; other messages go to stderr."""

    def handler(_kind, _context, message: str) -> None:
        if not message.startswith("This plugin does not support"):
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def warm_up(loop: EventLoop, scratch: Path) -> None:
    """Build and close one window without a project, so that module imports are not charged to the first size."""
    driver = WindowDriver(loop, scratch / f"{os.getpid()}-warm-up.ini")
    from studio.ui.main_window import MainWindow

    driver.window = MainWindow(driver.settings)
    driver.window.show()
    loop.watch(lambda: driver.window.playground_page is not None and not loop.pending_work(), 60.0)
    driver.close()


@dataclass(frozen=True)
class Plan:
    """What to measure on each size: operations, repetitions, the time allowed per operation and for background
    work (after opening, a budget recount, an import), how many images to import, the budget's model."""

    ops: Sequence[str] = tuple(OPS)
    reps: int = 50
    op_seconds: float = 60.0
    wait_s: float = 180.0
    import_count: int = IMPORT_COUNT
    warm_ups: int = 1
    model: str | None = None  # None: the window's default


def run_size(loop: EventLoop, cache: Path, size: int, plan: Plan, log: Callable[[str], None] = print) -> SizeResult:
    """Open a fresh copy of the ``size`` project and measure everything on it (the import last: it adds images)."""
    started = time.perf_counter()
    pristine = build_project(cache, size)
    imports = import_folder(cache, plan.import_count) if plan.import_count else None
    log(f"[{size:,}] project ready in {time.perf_counter() - started:.1f} s ({pristine})")
    work = working_copy(pristine, cache / "work" / f"{os.getpid()}-project-{size}")
    settings_file = cache / "work" / f"{os.getpid()}-settings-{size}.ini"
    settings_file.unlink(missing_ok=True)
    result = SizeResult(size)
    driver = WindowDriver(loop, settings_file, plan.model)
    try:
        result.open_s = driver.open(work)
        opened = loop.settle(plan.wait_s)
        result.open_settle_s, result.open_stall_ms = opened.seconds, opened.stall_ms
        result.background = sorted(job.title for job in running_jobs())
        log(
            f"[{size:,}] open {result.open_s:.2f} s; "
            + (
                f"settled after {opened.seconds:.1f} s more"
                if opened.finished
                else f"still running after {opened.seconds:.0f} s: {', '.join(result.background)}"
            )
        )
        for op in plan.ops:
            result.ops[op] = driver.measure(op, plan.reps, plan.op_seconds, warm_ups=plan.warm_ups)
            times = result.ops[op].times
            log(f"[{size:,}] {op}: {len(times)} reps, p50 {percentile(times, 50):.1f} ms")
        result.recount = driver.budget_recount(plan.wait_s)
        log(f"[{size:,}] budget recount: {describe(result.recount)}")
        if imports is not None:
            result.imported = driver.import_images(imports, plan.wait_s)
            log(f"[{size:,}] import of {plan.import_count:,} images: {describe(result.imported)}")
    finally:
        driver.close()
        shutil.rmtree(work, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------------- report
def describe(watch: Watch | None) -> str:
    if watch is None:
        return "not measured (no budget dock)"
    ended = "" if watch.finished else " (NOT finished: stopped waiting)"
    return f"{watch.seconds:.1f} s{ended}, longest stall {watch.stall_ms:.0f} ms"


def verdict(value: float, limit: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "pass" if value < limit else "FAIL"


def report(results: Sequence[SizeResult]) -> list[str]:
    """Each size's table, then the targets at the largest size and the ratios of the largest to the smallest."""
    return [line for r in results for line in size_table(r)] + summary(results)


def size_table(r: SizeResult) -> list[str]:
    settled = "until settled" if not r.background else "without settling"
    lines = [
        f"\n== {r.size:,} images ==",
        f"open to first paint {r.open_s:.2f} s   (then {r.open_settle_s:.1f} s {settled}, "
        f"longest stall meanwhile {r.open_stall_ms:.0f} ms)",
        f"{'operation':<10} {'n':>3} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'settle p50':>11}"
        f" {'settle p99':>11} {'stall ms':>9}",
    ]
    for op, o in r.ops.items():
        lines.append(
            f"{op:<10} {len(o.times):>3} {percentile(o.times, 50):>8.1f} {percentile(o.times, 99):>8.1f}"
            f" {percentile(o.cpu, 50):>8.1f}"
            f" {percentile(o.settle, 50):>11.0f} {percentile(o.settle, 99):>11.0f} {o.stall_ms:>9.0f}"
            + (f"  ({o.unsettled} did not settle)" if o.unsettled else "")
        )
    if r.background:
        lines.append(f"(timed while still running in the background since opening: {', '.join(r.background)})")
    lines.append(f"budget recount: {describe(r.recount)}")
    if r.imported is not None:
        lines.append(f"import: {describe(r.imported)}")
    return lines


def summary(results: Sequence[SizeResult]) -> list[str]:
    lines = []
    largest = results[-1]
    lines += [f"\n== targets at {largest.size:,} images =="]
    lines.append(f"first paint {largest.open_s:.2f} s < {TARGET_OPEN_S} s: {verdict(largest.open_s, TARGET_OPEN_S)}")
    for op, o in largest.ops.items():
        limit = TARGET_SWITCH_MS if op in ("switch", "done-next") else TARGET_EDIT_MS
        p99 = percentile(o.times, 99)
        lines.append(
            f"{op} p99 {p99:.1f} ms < {limit:.0f} ms: {verdict(p99, limit)}; deferred work's longest stall "
            f"{o.stall_ms:.0f} ms < {TARGET_STALL_MS:.0f} ms: {verdict(o.stall_ms, TARGET_STALL_MS)}"
        )
    for name, w in (("budget recount", largest.recount), ("import", largest.imported)):
        if w is not None:
            lines.append(
                f"{name} stall {w.stall_ms:.0f} ms < {TARGET_STALL_MS:.0f} ms: {verdict(w.stall_ms, TARGET_STALL_MS)}"
            )
    if len(results) > 1:
        small = results[0]
        lines.append(f"\n== ratio {largest.size:,} / {small.size:,} (p50; target < {TARGET_RATIO} for edits) ==")
        lines.append(f"open {largest.open_s / small.open_s:.2f}")
        for op, o in largest.ops.items():
            if op in small.ops:
                ratio = percentile(o.times, 50) / percentile(small.ops[op].times, 50)
                mark = verdict(ratio, TARGET_RATIO) if op in EDITS else "(not an edit)"
                lines.append(f"{op} {ratio:.2f} {mark}")
    return lines


def as_json(results: Sequence[SizeResult]) -> list[dict]:
    def op(o: OpResult) -> dict:
        return {
            "n": len(o.times),
            "p50_ms": percentile(o.times, 50),
            "p99_ms": percentile(o.times, 99),
            "cpu_p50_ms": percentile(o.cpu, 50),
            "cpu_p99_ms": percentile(o.cpu, 99),
            "settle_p50_ms": percentile(o.settle, 50),
            "settle_p99_ms": percentile(o.settle, 99),
            "stall_ms": o.stall_ms,
            "unsettled": o.unsettled,
        }

    def watch(w: Watch | None) -> dict | None:
        return None if w is None else {"seconds": w.seconds, "stall_ms": w.stall_ms, "finished": w.finished}

    return [
        {
            "size": r.size,
            "open_s": r.open_s,
            "open_settle_s": r.open_settle_s,
            "open_stall_ms": r.open_stall_ms,
            "ops": {name: op(o) for name, o in r.ops.items()},
            "budget_recount": watch(r.recount),
            "import": watch(r.imported),
            "background": r.background,
        }
        for r in results
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="project sizes in images (comma-separated)")
    parser.add_argument("--reps", type=int, default=50, help="repetitions per operation")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where built projects are kept")
    parser.add_argument(
        "--only",
        default=",".join(OPS),
        help="operations to time (comma-separated): " + "; ".join(f"{k}: {v}" for k, v in OPS.items()),
    )
    parser.add_argument("--op-seconds", type=float, default=60.0, help="stop an operation's repetitions after this")
    parser.add_argument("--import-count", type=int, default=IMPORT_COUNT, help="images to import (0: no import)")
    parser.add_argument(
        "--wait-s",
        type=float,
        default=180.0,
        help="the longest wait for background work: after opening, a budget recount, an import",
    )
    parser.add_argument("--model", help="the token budget's model (default: the window's, tiny)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    ops = [op.strip() for op in args.only.split(",") if op.strip()]
    unknown = set(ops) - set(OPS)
    if unknown:
        parser.error(f"unknown operation(s) {', '.join(sorted(unknown))}; expected some of {', '.join(OPS)}")
    args.cache.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    import studio

    print(
        f"bench_scale: {Path(studio.__file__).parent} at {sizes} images, {args.reps} reps, cache {args.cache}; "
        f"{os.cpu_count()} CPUs, load {load:.1f}, nice {os.nice(0)}; platform {os.environ['QT_QPA_PLATFORM']}",
        flush=True,
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    quiet_offscreen_warnings()
    loop = EventLoop(app)
    (args.cache / "work").mkdir(exist_ok=True)
    warm_up(loop, args.cache / "work")
    plan = Plan(ops, args.reps, args.op_seconds, args.wait_s, args.import_count, model=args.model)
    results = []
    for size in sizes:
        results.append(run_size(loop, args.cache, size, plan, log=lambda line: print(line, flush=True)))
        print("\n".join(size_table(results[-1])), flush=True)
    print("\n".join(summary(results)))
    if args.json:
        args.json.write_text(json.dumps(as_json(results), indent=1))


if __name__ == "__main__":
    main()

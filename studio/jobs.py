"""What every long core job takes: a progress callback and a cancel token (no Qt here)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# progress(done, total, message): called at least every second by long jobs.
Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback that ignores its reports."""


class Cancelled(Exception):
    """Raised inside a job when its cancel token was set."""


class CancelToken:
    """Set from any thread; the job checks it between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def throttled(progress: Progress, interval_s: float = 0.2) -> Progress:
    """``progress``, passed on at most every ``interval_s`` seconds, and always when ``done`` reaches ``total``."""
    import time

    last = -interval_s

    def report(done: int, total: int, message: str = "") -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= interval_s or (total and done >= total):
            last = now
            progress(done, total, message)

    return report


_gc_pauses = 0
_gc_was_enabled = False  # automatic collection was on before the first pause (off in the GUI: see ui/garbage.py)
_gc_guard = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a worker builds many objects: a full collection of a big heap
    holds the GIL for hundreds of milliseconds, freezing the GUI thread meanwhile (seconds at 100,000 images).
    Reference counting still frees all acyclic objects; collection resumes when the last pause ends, if it was on."""
    global _gc_pauses, _gc_was_enabled
    with _gc_guard:
        _gc_pauses += 1
        if _gc_pauses == 1:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _gc_guard:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def gc_is_paused() -> bool:
    """Whether a worker paused collection (`gc_paused`): the GUI's collector waits too."""
    return _gc_pauses > 0

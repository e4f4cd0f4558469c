"""One writer per project: an advisory lock file held while a project is open for writing.

The lock is process-wide and reference counted, so several connections of one process (the GUI and its
workers) share it, while a second process is refused with a message naming the holder.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from pathlib import Path


class ProjectLockedError(RuntimeError):
    """The project is open for writing in another process."""


_held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, reference count)
_guard = threading.Lock()


def acquire(lock_path: Path) -> None:
    """Take the project's write lock, or raise ``ProjectLockedError``."""
    lock_path = lock_path.resolve()
    with _guard:
        if lock_path in _held:
            fd, count = _held[lock_path]
            _held[lock_path] = (fd, count + 1)
            return
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ProjectLockedError(
                f"{lock_path.parent} is already open in {holder}; close it there or open this one read-only"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"VLM Studio (pid {os.getpid()} on {socket.gethostname()})".encode(), 0)
        _held[lock_path] = (fd, 1)


def release(lock_path: Path) -> None:
    """Drop one reference to the lock; the last one unlocks the file."""
    lock_path = lock_path.resolve()
    with _guard:
        if lock_path not in _held:
            return
        fd, count = _held[lock_path]
        if count > 1:
            _held[lock_path] = (fd, count - 1)
            return
        del _held[lock_path]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

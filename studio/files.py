"""Writing a file so that nobody ever sees half of it: readers find the old file or the whole new one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(target: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target`` for the block to write; after the block it replaces
    ``target`` in one rename. On any error (or an interrupt) the temporary file is deleted and ``target`` is left
    as it was. ``durable`` syncs the new file to disk before the rename (for data that must survive a power cut;
    caches do not need it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        if durable:
            with open(partial, "rb") as written:
                os.fsync(written.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

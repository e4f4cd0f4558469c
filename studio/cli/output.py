"""Printing results for people and for programs (``--json``)."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(data: Any, *, as_json: bool, text: str) -> None:
    """Print ``data`` as one JSON document, or ``text`` for a person."""
    if as_json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(text)


def progress_printer(as_json: bool, label: str):
    """A progress callback ``(done, total, message)`` for stderr: JSON lines with ``--json``, else one updating line.

    stdout stays free for the command's single result document.
    """

    def report(done: int, total: int, message: str = "") -> None:
        if as_json:
            print(json.dumps({"event": "progress", "task": label, "done": done, "total": total,
                              "message": message}), file=sys.stderr, flush=True)
        elif sys.stderr.isatty():
            print(f"\r{label}: {done:,}/{total:,} {message}".ljust(79), end="", file=sys.stderr, flush=True)

    return report

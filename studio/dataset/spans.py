"""Keep phrase spans valid when a caption is edited."""

from __future__ import annotations

from difflib import SequenceMatcher


def shift_spans(old: str, new: str, spans: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """Map each ``[start, end)`` span of ``old`` onto ``new``.

    Text inserted before a span shifts it, text inserted inside it widens it, and text deleted from it shrinks it.
    A span whose every character was deleted or replaced maps to ``None``.
    """
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()

    def kept(start: int, end: int) -> tuple[int, int] | None:
        first = last = None
        for tag, i1, i2, j1, _j2 in opcodes:
            if tag != "equal":
                continue
            lo, hi = max(start, i1), min(end, i2)
            if lo >= hi:
                continue
            if first is None:
                first = j1 + (lo - i1)
            last = j1 + (hi - i1)
        if first is None or last is None:
            return None
        return first, last

    return [kept(start, end) for start, end in spans]

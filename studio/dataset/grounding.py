"""Phrase-grounding helpers: which links to offer, what is left unlinked (pure functions, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from studio.dataset.model import Box, Label, Phrase


@dataclass(frozen=True)
class LinkSuggestion:
    """Link ``caption[start:end]`` (an existing phrase when ``phrase_id`` is set) to ``box_ids``."""

    start: int
    end: int
    text: str
    box_ids: tuple[int, ...]
    phrase_id: int | None = None


def unlinked_boxes(boxes: Sequence[Box], phrases: Sequence[Phrase]) -> list[int]:
    """Boxes no phrase points to."""
    linked = {box_id for phrase in phrases for box_id in phrase.box_ids}
    return [box.id for box in boxes if box.id not in linked]


def suggest_links(
    caption: str, phrases: Sequence[Phrase], boxes: Sequence[Box], labels: dict[int, Label]
) -> list[LinkSuggestion]:
    """For each label whose unlinked boxes' name is in the caption (as a word, plural allowed), offer a link
    from its first occurrence to those boxes; an existing phrase at or around that word is reused."""
    free = set(unlinked_boxes(boxes, phrases))
    by_label: dict[int, list[int]] = {}
    for box in boxes:
        if box.id in free and box.label_id in labels:
            by_label.setdefault(box.label_id, []).append(box.id)
    spans = {(p.start, p.end): p for p in phrases}
    suggestions = []
    for label_id, box_ids in by_label.items():
        name = labels[label_id].name
        match = re.search(rf"(?<!\w){re.escape(name)}(?:e?s)?(?!\w)", caption, flags=re.IGNORECASE)
        if match is None:
            continue
        # A word inside an existing phrase ("dog" in "brown dog") offers that phrase.
        inside = [p for p in phrases if p.start <= match.start() and match.end() <= p.end]
        existing = spans.get((match.start(), match.end())) or min(inside, key=lambda p: p.end - p.start, default=None)
        if existing is not None:
            suggestions.append(LinkSuggestion(existing.start, existing.end, existing.text, tuple(box_ids), existing.id))
        else:
            suggestions.append(LinkSuggestion(match.start(), match.end(), match.group(0), tuple(box_ids)))
    return sorted(suggestions, key=lambda s: s.start)

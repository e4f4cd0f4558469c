"""Phrase-grounding helpers: which links to offer, what is left unlinked, which phrases a relabel contradicts (pure
functions, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class RelabelConflict:
    """``phrase`` is linked to box ``box_id``, relabelled from ``old_label`` to ``new_label``, and still says
    ``words`` of the old label that the new one lacks ("a red block" on a box now labelled "green block")."""

    phrase: Phrase
    box_id: int
    old_label: str
    new_label: str
    words: tuple[str, ...]

    def message(self) -> str:
        now = f"now labelled “{self.new_label}”" if self.new_label else "that no longer has a label"
        return f"The phrase “{self.phrase.text}” is linked to a box {now}"


def relabel_conflicts(
    phrases: Sequence[Phrase], relabelled: Mapping[int, tuple[str, str]]
) -> list[RelabelConflict]:
    """Phrases that name a relabelled box by its old label: ``relabelled`` maps box id -> (old label, new label)
    names ("" for none). A word of the old label that the new label lacks ("red" from "red block" -> "green
    block"), found in a linked phrase as a word (plural allowed), is a conflict; one per phrase and box."""
    conflicts = []
    for phrase in phrases:
        said = set(_words(phrase.text))
        for box_id in phrase.box_ids:
            if box_id not in relabelled:
                continue
            old, new = relabelled[box_id]
            kept = set(_words(new))
            words = tuple(w for w in dict.fromkeys(_words(old)) if w not in kept and said & {w, f"{w}s", f"{w}es"})
            if words:
                conflicts.append(RelabelConflict(phrase, box_id, old, new, words))
    return conflicts


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())

"""What a committed transaction changed, as the store tells its listeners (typed changes).

A ``Change`` names the tables and images a commit touched and, for the edits a person makes, what kind of edit it
was (``kinds``) and which boxes it touched (``box_ids``), so that a view can update only what changed: the canvas
one item, the label panel the counts of ``label_deltas``, the budget dock only ``image_ids`` whose tokens can have
changed. A change without kinds (a bulk write such as an import batch, a merge, or a commit of another process)
tells only tables and images: views refresh what those can touch. ``RELOAD`` comes from another process: any row
of ``tables`` may have changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# Images
IMAGES_ADDED = "images_added"
STATUS_CHANGED = "status_changed"
SPLIT_CHANGED = "split_changed"
IMAGES_RELINKED = "images_relinked"
# Labels
LABEL_ADDED = "label_added"
LABEL_CHANGED = "label_changed"  # renamed or recoloured
LABELS_MERGED = "labels_merged"
# Boxes
BOXES_ADDED = "boxes_added"
BOXES_MOVED = "boxes_moved"
BOXES_RELABELLED = "boxes_relabelled"
BOXES_DELETED = "boxes_deleted"
# Grounding and VQA
CAPTION_CHANGED = "caption_changed"
PHRASES_CHANGED = "phrases_changed"  # a phrase added or deleted, a link made or removed
VQA_ADDED = "vqa_added"
VQA_EDITED = "vqa_edited"  # question and/or answer text
VQA_MOVED = "vqa_moved"
VQA_DELETED = "vqa_deleted"
# Other processes
RELOAD = "reload"

# Edits of the list of labels, their names or colours (what label lists and box colours show).
LABEL_SET_KINDS = frozenset({LABEL_ADDED, LABEL_CHANGED, LABELS_MERGED})

# Edits after which an image's token count (budget) can differ: what its samples say changed.
TOKEN_KINDS = frozenset({BOXES_ADDED, BOXES_RELABELLED, BOXES_DELETED, CAPTION_CHANGED, PHRASES_CHANGED, VQA_ADDED,
                         VQA_EDITED, VQA_DELETED, IMAGES_ADDED, IMAGES_RELINKED, LABEL_CHANGED, LABELS_MERGED})


@dataclass(frozen=True)
class Change:
    """What one committed transaction touched. No ``image_ids``: any image may have changed. No ``kinds``: only
    the tables are known."""

    tables: frozenset[str]
    image_ids: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()
    box_ids: frozenset[int] = frozenset()
    label_deltas: tuple[tuple[int, int], ...] = ()  # (label id, change of its box count), sorted, no zeros

    @property
    def is_reload(self) -> bool:
        return RELOAD in self.kinds

    def only(self, *kinds: str) -> bool:
        """Whether the change is typed and every kind of it is one of ``kinds``."""
        return bool(self.kinds) and self.kinds <= set(kinds)

    @staticmethod
    def merge(changes: Iterable[Change]) -> Change:
        """One change for a transaction made of nested blocks. Kinds are kept only when every block had some:
        an untyped block makes the whole change untyped (coarse); an empty block (one that only groups others)
        does not count."""
        changes = [c for c in changes if c.tables or c.kinds or c.image_ids] or [Change(frozenset())]
        typed = all(c.kinds for c in changes)
        deltas: Counter[int] = Counter()
        for change in changes:
            for label_id, delta in change.label_deltas:
                deltas[label_id] += delta
        return Change(
            frozenset().union(*(c.tables for c in changes)),
            frozenset().union(*(c.image_ids for c in changes)),
            frozenset().union(*(c.kinds for c in changes)) if typed else frozenset(),
            frozenset().union(*(c.box_ids for c in changes)),
            label_deltas(deltas) if typed else (),
        )


def label_deltas(counts: Counter[int] | dict[int, int]) -> tuple[tuple[int, int], ...]:
    """The canonical form of box-count changes per label: sorted by label id, zeros and unlabelled dropped."""
    return tuple(sorted((label_id, n) for label_id, n in counts.items() if n and label_id is not None))

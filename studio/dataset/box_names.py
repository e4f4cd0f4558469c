"""How the window names a box: its label and its number among that label's boxes on the same image."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from studio.dataset.model import Box, Label

UNLABELLED = "unlabelled"


def box_names(boxes: Iterable[Box], labels: Mapping[int, Label]) -> dict[int, str]:
    """Each box by id as people call it: "red wedge #2" is the second red wedge of its image, counting its boxes in
    id order (the order they were drawn), so the numbers are small, stable and the same in every view; boxes without
    a label (or with a label not in ``labels``) are "unlabelled #n". Boxes of several images are numbered per image."""
    seen: dict[tuple[int, str], int] = {}
    names = {}
    for box in sorted(boxes, key=lambda b: b.id):
        label = labels.get(box.label_id) if box.label_id is not None else None
        name = label.name if label else UNLABELLED
        number = seen[box.image_id, name] = seen.get((box.image_id, name), 0) + 1
        names[box.id] = f"{name} #{number}"
    return names

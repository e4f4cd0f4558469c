"""Box names: the label and the box's number among that label's boxes on its own image."""

from __future__ import annotations

from studio.dataset.box_names import box_names
from studio.dataset.model import Box, Label

LABELS = {1: Label(1, "red wedge", "#d62728"), 2: Label(2, "green ball", "#2ca02c")}


def _box(box_id: int, label_id: int | None, image_id: int = 7) -> Box:
    return Box(box_id, image_id, label_id, 0, 0, 1, 1)


def test_numbers_count_per_label_and_image_not_database_ids():
    boxes = [_box(1991, 2), _box(1, 1), _box(2400, 2), _box(3, None), _box(5000, 1, image_id=8)]
    assert box_names(boxes, LABELS) == {
        1: "red wedge #1",
        1991: "green ball #1",
        2400: "green ball #2",
        3: "unlabelled #1",
        5000: "red wedge #1",  # another image counts its own
    }


def test_order_is_by_box_id_whatever_order_the_boxes_come_in():
    forward = box_names([_box(10, 1), _box(20, 1), _box(30, 1)], LABELS)
    backward = box_names([_box(30, 1), _box(20, 1), _box(10, 1)], LABELS)
    assert forward == backward == {10: "red wedge #1", 20: "red wedge #2", 30: "red wedge #3"}


def test_deleting_a_box_renumbers_the_later_ones_and_an_unknown_label_reads_unlabelled():
    assert box_names([_box(20, 1), _box(30, 1)], LABELS) == {20: "red wedge #1", 30: "red wedge #2"}
    assert box_names([_box(40, 99)], LABELS) == {40: "unlabelled #1"}

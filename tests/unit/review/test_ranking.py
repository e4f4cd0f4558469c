"""Ordering the review queue by how unusual each item's score is for its kind."""

from __future__ import annotations

import pytest

from studio.review.ranking import Kinded, judged, rarities


def test_a_kind_the_model_flags_often_does_not_flood_the_queue():
    answers = [Kinded("wrong_answer", 0.99 - n / 1000) for n in range(30)]  # the model's own confident slips
    shifted = Kinded("misplaced", 0.6)
    values = rarities([*answers, shifted], {"boxes": 100, "answers": 100})
    assert values[-1] == pytest.approx(0.01)  # the strongest of its kind among 100 boxes
    assert sum(v < values[-1] for v in values[:-1]) == 0 and values[29] == pytest.approx(0.3)


def test_ties_count_together_and_too_few_reviewed_annotations_fall_back_to_the_items():
    items = [Kinded("missing", 0.5), Kinded("missing", 0.5), Kinded("missing", 0.2)]
    assert rarities(items, {}) == pytest.approx([2 / 3, 2 / 3, 1.0])
    assert judged("wrong_answer") == "answers" and judged("spurious") == "boxes"

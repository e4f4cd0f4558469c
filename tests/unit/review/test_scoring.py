"""Scoring annotations against synthetic predictions: each kind of mistake comes first in its image."""

from __future__ import annotations

import pytest

from studio.dataset.model import Annotation, Box, Image, Label, Phrase, VqaPair
from studio.review.scoring import (
    MIN_SCORE,
    AnswerCheck,
    GroundingAnswer,
    ImagePredictions,
    PredictedBox,
    score_image,
)

RED, BLUE = Label(1, "red ball", "#f00"), Label(2, "blue block", "#00f")
LABELS = [RED, BLUE]
CAPTION = "a red ball left of a blue block"
BALL, BLOCK = (10.0, 10.0, 50.0, 50.0), (100.0, 20.0, 160.0, 80.0)


def _annotation(
    boxes=((1, RED, BALL), (2, BLUE, BLOCK)), links=((1,), (2,)), vqa=(), caption=CAPTION, red="a red ball"
):
    phrases = [Phrase(11, 7, 0, 10, red, links[0]), Phrase(12, 7, 19, 31, "a blue block", links[1])]
    return Annotation(
        Image(7, "/d/a.png", 200, 100),
        boxes=[Box(i, 7, label.id if label else None, *xyxy) for i, label, xyxy in boxes],
        caption=caption,
        phrases=phrases if caption else [],
        vqa=[VqaPair(i, 7, n, q, a) for n, (i, q, a) in enumerate(vqa)],
    )


def _caption_answer(*boxes, confidence=0.9):
    return GroundingAnswer("caption", CAPTION, tuple(PredictedBox(t, b, c) for t, b, c in boxes), confidence)


def _score(annotation, *grounding, answers=(), seen=False, localisation=None, corners=None):
    predicted = ImagePredictions(7, tuple(grounding), tuple(answers), seen, corners or {})
    return score_image(annotation, LABELS, predicted, localisation=localisation)


def test_agreeing_predictions_raise_nothing():
    items = _score(_annotation(), _caption_answer(("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.9)))
    assert items == []


def test_a_shifted_box_is_misplaced_with_the_models_box_as_the_suggestion():
    shifted = (30.0, 30.0, 70.0, 70.0)  # half its size right and down: IoU 0.14 with the true place
    annotation = _annotation(boxes=((1, RED, shifted), (2, BLUE, BLOCK)))
    items = _score(annotation, _caption_answer(("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.8)))
    assert [(i.kind, i.box_id) for i in items] == [("misplaced", 1)]
    assert items[0].evidence["box"] == list(BALL) and items[0].evidence["iou"] == pytest.approx(0.143, abs=1e-3)
    assert items[0].score == pytest.approx(0.9 * (1 - 0.1429), abs=1e-3)
    assert "misplaced" in items[0].message


def test_a_phrase_grounded_on_another_annotated_object_is_the_models_confusion_not_a_misplaced_box():
    answer = _caption_answer(("a red ball", BLOCK, 0.9), ("a blue block", BLOCK, 0.8))
    assert [i.kind for i in _score(_annotation(), answer)] == []


def test_corners_the_model_would_as_readily_have_written_are_not_misplaced():
    shifted = _annotation(boxes=((1, RED, (30.0, 30.0, 70.0, 70.0)), (2, BLUE, BLOCK)))
    boxes = (PredictedBox("a red ball", BALL, 0.9, corners=0.2), PredictedBox("a blue block", BLOCK, 0.9, corners=0.2))
    ball = GroundingAnswer("caption", CAPTION, boxes, 0.9)
    unlikely = _score(shifted, ball, corners={1: 0.002, 2: 0.2})
    plausible = _score(shifted, ball, corners={1: 0.25, 2: 0.2})
    # 100 x less likely than its own corners: two of the three decades that make a misplaced box sure
    assert [i.kind for i in unlikely] == ["misplaced"] and unlikely[0].score == pytest.approx(0.9 * 0.857 * 2 / 3, 1e-2)
    assert unlikely[0].evidence["annotated_corners"] == 0.002 and plausible == []


def test_the_models_usual_localisation_discounts_small_shortfalls():
    nudged = (14.0, 10.0, 54.0, 50.0)  # IoU 0.82: a match, nothing to say
    both = (("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.9))
    assert _score(_annotation(boxes=((1, RED, nudged), (2, BLUE, BLOCK))), _caption_answer(*both)) == []
    loose = (26.0, 10.0, 66.0, 50.0)  # IoU 0.43: below a match
    plain = _score(_annotation(boxes=((1, RED, loose), (2, BLUE, BLOCK))), _caption_answer(*both))
    usual = _score(_annotation(boxes=((1, RED, loose), (2, BLUE, BLOCK))), _caption_answer(*both), localisation=0.6)
    assert plain[0].kind == usual[0].kind == "misplaced" and usual[0].score < plain[0].score


def test_a_swapped_label_is_a_wrong_label_suggesting_the_models_label():
    annotation = _annotation(boxes=((1, BLUE, BALL), (2, BLUE, BLOCK)))
    items = _score(annotation, _caption_answer(("a red ball", BALL, 0.85), ("a blue block", BLOCK, 0.9)))
    assert [(i.kind, i.box_id, i.evidence["label"]) for i in items] == [("wrong_label", 1, "red ball")]
    assert items[0].score == pytest.approx(0.85)


def test_a_deleted_box_is_missing_and_an_added_one_spurious():
    annotation = _annotation(boxes=((2, BLUE, BLOCK), (3, RED, (150.0, 85.0, 190.0, 99.0))), links=((), (2,)))
    unlinked_label = GroundingAnswer("label", "red ball", (), 0.8)  # asked about the unlinked box's label: nothing
    items = _score(annotation, _caption_answer(("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.9)),
                   unlinked_label)  # fmt: skip
    assert [(i.kind, i.box_id) for i in items] == [("missing", None), ("spurious", 3)]
    assert items[0].evidence["box"] == list(BALL) and items[0].evidence["label"] == "red ball"
    assert items[1].score == pytest.approx(0.8)


def test_a_label_the_caption_does_not_name_is_the_models_slip_not_evidence():
    items = _score(_annotation(), _caption_answer(("a green wedge", BALL, 0.9), ("a blue block", BLOCK, 0.9)))
    assert items == []


def test_a_phrase_grounded_far_away_is_misplaced_and_one_not_grounded_is_judged_neither_way():
    far = _caption_answer(("a red ball", (150.0, 80.0, 170.0, 99.0), 0.9), ("a blue block", BLOCK, 0.9))
    assert [(i.kind, i.box_id) for i in _score(_annotation(), far)] == [("misplaced", 1)]
    skipped = _caption_answer(("a blue block", BLOCK, 0.9))
    assert _score(_annotation(), skipped) == []


def test_a_box_nobody_asked_about_is_not_spurious():
    annotation = _annotation(boxes=((1, RED, BALL), (2, BLUE, BLOCK), (3, None, (150.0, 85.0, 190.0, 99.0))))
    items = _score(annotation, _caption_answer(("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.9)))
    assert items == []


def test_a_plural_phrase_names_its_label():
    annotation = _annotation(boxes=((1, BLUE, BALL), (2, BLUE, BLOCK)), red="two red balls")
    items = _score(annotation, _caption_answer(("two red balls", BALL, 0.9), ("a blue block", BLOCK, 0.9)))
    assert [(i.kind, i.evidence["label"]) for i in items] == [("wrong_label", "red ball")]


def test_a_phrase_linked_to_the_wrong_box_is_a_wrong_link():
    annotation = _annotation(links=((2,), (1,)))  # the phrases point at each other's boxes
    items = _score(annotation, _caption_answer(("a red ball", BALL, 0.9), ("a blue block", BLOCK, 0.7)))
    kinds = {(i.kind, i.phrase_id, i.box_id) for i in items}
    assert kinds == {("wrong_link", 11, 2), ("wrong_link", 12, 1)}
    red = next(i for i in items if i.phrase_id == 11)
    assert red.evidence["link_box_ids"] == [1] and red.score == pytest.approx(0.9)


def test_a_changed_answer_scores_by_the_probability_of_the_annotated_answer():
    annotation = _annotation(vqa=((5, "How many shapes?", "3"), (6, "What colour is the ball?", "red")))
    answers = (AnswerCheck(5, "2", 0.95, 0.03), AnswerCheck(6, "red", 0.9, 0.9))
    items = _score(annotation, answers=answers, seen=True)
    assert [(i.kind, i.vqa_id) for i in items] == [("wrong_answer", 5)]
    assert items[0].score == pytest.approx(0.97)
    assert items[0].evidence["answer"] == "2" and items[0].evidence["seen_in_training"] is True


def test_a_doubtful_disagreement_ranks_below_a_confident_one_and_noise_is_dropped():
    annotation = _annotation(vqa=((5, "How many shapes?", "3"), (6, "Is there a red ball?", "yes")))
    answers = (AnswerCheck(5, "2", 0.5, 0.45), AnswerCheck(6, "no", 0.99, 0.001))
    items = _score(annotation, answers=answers)
    assert [i.vqa_id for i in items] == [6, 5]
    quiet = _score(annotation, answers=(AnswerCheck(5, "2", 0.5, 1 - MIN_SCORE / 2),))
    assert quiet == []


def test_every_score_is_in_range_and_every_suggestion_is_in_pixels():
    annotation = _annotation(boxes=((1, BLUE, (30.0, 30.0, 70.0, 70.0)),), links=((), (1,)))
    items = _score(annotation, _caption_answer(("a red ball", BALL, 1.0), ("a blue block", BLOCK, 1.0)))
    assert items and all(0 <= i.score <= 1 for i in items)
    assert all(i.evidence["box"] is None or len(i.evidence["box"]) == 4 for i in items)


def test_a_swapped_label_the_model_grounds_loosely_is_a_wrong_label_along_the_phrase_link():
    # labelled blue where "a red ball" is: the model's red ball overlaps it loosely (IoU 0.43, no match), but it would
    # almost as readily have written the annotated corners for "a red ball" (0.08 against 0.1)
    loose = (26.0, 10.0, 66.0, 50.0)
    annotation = _annotation(boxes=((1, BLUE, BALL), (2, BLUE, BLOCK)))
    boxes = (PredictedBox("a red ball", loose, 0.9, corners=0.1), PredictedBox("a blue block", BLOCK, 0.9, 0.1))
    items = _score(annotation, GroundingAnswer("caption", CAPTION, boxes, 0.9), corners={1: 0.08, 2: 0.1})
    assert [(i.kind, i.box_id, i.evidence["label"]) for i in items] == [("wrong_label", 1, "red ball")]
    assert items[0].score == pytest.approx(0.9 * 0.8) and "caption" in items[0].message


def test_misplacement_grows_with_the_decades_by_which_the_annotated_corners_are_less_likely():
    shifted = _annotation(boxes=((1, RED, (30.0, 30.0, 70.0, 70.0)), (2, BLUE, BLOCK)))
    boxes = (PredictedBox("a red ball", BALL, 0.9, corners=0.2), PredictedBox("a blue block", BLOCK, 0.9, corners=0.2))
    ball = GroundingAnswer("caption", CAPTION, boxes, 0.9)
    ten, thousand, more = (_score(shifted, ball, corners={1: 0.2 / n, 2: 0.2})[0].score for n in (10, 1e3, 1e5))
    assert ten == pytest.approx(0.9 * 0.857 / 3, 1e-2) and thousand == more == pytest.approx(0.9 * 0.857, 1e-2)


def test_a_slipped_word_answers_the_phrase_in_its_slot_but_names_no_label():
    shifted = _annotation(boxes=((1, RED, (30.0, 30.0, 70.0, 70.0)), (2, BLUE, BLOCK)))
    slipped = _caption_answer(("a red wedge", BALL, 0.9), ("a blue block", BLOCK, 0.9))  # "wedge" for "ball"
    assert [(i.kind, i.box_id, i.evidence["box"]) for i in _score(shifted, slipped)] == [("misplaced", 1, list(BALL))]
    relabelled = _annotation(boxes=((1, BLUE, BALL), (2, BLUE, BLOCK)))
    assert _score(relabelled, slipped) == []  # the slip says where the phrase is, not what the box is
    unaligned = _caption_answer(("a red wedge", BALL, 0.9))  # fewer boxes than the caption links: no slots
    assert _score(shifted, unaligned) == []

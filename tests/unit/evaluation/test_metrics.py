"""Grounding and VQA metrics on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from studio.evaluation.grounding import GroundingCase, grounding_metrics, match_greedy, score_case
from studio.evaluation.vqa import anls, normalise, token_f1, vqa_metrics, vqa_normalise, vqa_scores


def test_greedy_matching_takes_the_best_pairs_first():
    truth = [(0, 0, 10, 10), (20, 0, 30, 10)]
    predicted = [(21, 0, 31, 10), (0, 0, 10, 10), (100, 100, 110, 110)]
    matches = match_greedy(truth, predicted)
    assert [(t, p) for t, p, _ in matches] == [(0, 1), (1, 0)]
    assert matches[0][2] == pytest.approx(1.0)
    assert matches[1][2] == pytest.approx(90 / 110)


def test_case_score_per_phrase_iou_and_counts():
    case = GroundingCase(
        truth=(("red circle", ((0, 0, 10, 10),)), ("blue squares", ((20, 0, 30, 10), (40, 0, 50, 10)))),
        predicted=(("the red circle", (0, 0, 10, 10)), ("blue squares", (20, 0, 30, 10)), ("cat", (0, 0, 5, 5))),
    )
    score = score_case(case)
    assert score.phrase_ious == pytest.approx((1.0, 0.5))  # one of two squares found
    assert (score.true_positives, score.predicted, score.truth) == (2, 3, 3)
    assert score.f1 == pytest.approx(2 / 3)


def test_single_phrase_takes_every_box_whatever_its_label():
    case = GroundingCase(truth=(("red circle", ((0, 0, 10, 10),)),), predicted=(("circle", (1, 0, 10, 10)),))
    assert score_case(case).phrase_ious[0] == pytest.approx(0.9)


def test_grounding_metrics_perfect_wrong_and_unparseable():
    perfect = GroundingCase(truth=(("a", ((0, 0, 10, 10),)),), predicted=(("a", (0, 0, 10, 10)),))
    wrong = GroundingCase(truth=(("a", ((0, 0, 10, 10),)),), predicted=(("a", (50, 50, 60, 60)),))
    unreadable = GroundingCase(truth=(("b", ((0, 0, 10, 10),)),), predicted=(), parsed=False)
    assert grounding_metrics([perfect])["mAP"] == pytest.approx(1.0)
    m = grounding_metrics([perfect, wrong, unreadable])
    assert m["precision@0.5"] == pytest.approx(1 / 2)
    assert m["recall@0.5"] == pytest.approx(1 / 3)
    assert m["f1@0.5"] == pytest.approx(2 * 1 / 5)
    assert m["unparseable_rate"] == pytest.approx(1 / 3)
    assert m["mean_phrase_iou"] == pytest.approx(1 / 3)
    # category "a": 2 truths, 1 of 2 detections right -> AP50 0.5; category "b": nothing found -> 0
    assert m["AP50"] == pytest.approx((51 / 101 + 0.0) / 2)  # 101-point interpolation
    assert grounding_metrics([]) == {"count": 0}


def test_vqa_normalisation_and_scores():
    assert normalise("The  Two, red circles!") == "2 red circles"
    assert vqa_scores("two", "Two") == {"exact_match": 0.0, "vqav2_match": 1.0, "anls": 1.0, "token_f1": 1.0}
    assert anls("recieve", "receive") == pytest.approx(1 - 2 / 7)
    assert anls("abc", "xyz") == 0.0
    assert anls("abcd", ["zzzz", "abcx"]) == pytest.approx(0.75)
    assert token_f1("a red circle", "red square") == pytest.approx(0.5)
    m = vqa_metrics([("2", "two"), ("blue", "red")])
    assert m["count"] == 2 and m["vqav2_match"] == 0.5 and m["exact_match"] == 0.0


@pytest.mark.parametrize(("prediction", "truth", "same"), [
    ("1,000", "1000", True),  # VQAv2 drops a comma between digits
    ("2.5", "2.5", True),
    ("2.5", "2 5", False),  # and keeps a decimal point
    ("Two dogs.", "2 dogs", True),  # number words, a final period
    ("dont", "don't", True),  # contractions restored
    ("The red ball!", "red ball", True),  # articles, punctuation
    ("red-ball", "red ball", True),  # a mark inside a word becomes a space
    ("yes", "no", False),
])
def test_vqav2_normalisation_follows_the_challenge_rules(prediction, truth, same):
    assert (vqa_normalise(prediction) == vqa_normalise(truth)) is same
    assert vqa_scores(prediction, truth)["vqav2_match"] == float(same)


def test_a_phrase_without_true_boxes_scores_as_f1_does():
    block = (0, 0, 10, 10)
    nothing = GroundingCase(truth=(("a ball", ()), ("a block", (block,))), predicted=(("a block", block),))
    assert score_case(nothing).phrase_ious == (1.0, 1.0) and score_case(nothing).f1 == 1.0
    alarm = GroundingCase(truth=nothing.truth, predicted=(("a block", block), ("a ball", (50, 50, 60, 60))))
    assert score_case(alarm).phrase_ious == (0.0, 1.0)
    assert grounding_metrics([alarm])["precision@0.5"] == pytest.approx(1 / 2)


def test_a_box_that_names_no_phrase_is_a_false_positive_in_ap_too():
    a1, b1, a2, b2 = (0, 0, 10, 10), (50, 50, 60, 60), (0, 0, 20, 20), (40, 40, 60, 60)
    confident = GroundingCase(truth=(("a", (a1,)), ("b", (b1,))), score=0.9,
                              predicted=(("a", a1), ("b", b1), ("c", (1, 1, 11, 11))))
    unsure = GroundingCase(truth=(("a", (a2,)), ("b", (b2,))), predicted=(("a", a2), ("b", b2)), score=0.5)
    m = grounding_metrics([confident, unsure])
    assert m["precision@0.5"] == pytest.approx(4 / 5)
    # category "a": detections 0.9 right, 0.9 wrong ("c", charged to "a", which it overlaps), 0.5 right
    recall_points = np.linspace(0, 1, 101)
    expected_a = np.mean(np.where(recall_points <= 0.5, 1.0, 2 / 3))
    assert m["AP50"] == pytest.approx((expected_a + 1.0) / 2)

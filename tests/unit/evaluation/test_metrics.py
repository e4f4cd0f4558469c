"""Grounding and VQA metrics on hand-checked cases."""

from __future__ import annotations

import pytest

from studio.evaluation.grounding import GroundingCase, grounding_metrics, match_greedy, score_case
from studio.evaluation.vqa import anls, normalise, token_f1, vqa_metrics, vqa_scores


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
    assert vqa_scores("two", "Two") == {"exact_match": 0.0, "normalised_match": 1.0, "anls": 1.0, "token_f1": 1.0}
    assert anls("recieve", "receive") == pytest.approx(1 - 2 / 7)
    assert anls("abc", "xyz") == 0.0
    assert anls("abcd", ["zzzz", "abcx"]) == pytest.approx(0.75)
    assert token_f1("a red circle", "red square") == pytest.approx(0.5)
    m = vqa_metrics([("2", "two"), ("blue", "red")])
    assert m["count"] == 2 and m["normalised_match"] == 0.5 and m["exact_match"] == 0.0

"""Link suggestions and unlinked boxes."""

from __future__ import annotations

from studio.dataset.grounding import relabel_conflicts, suggest_links, unlinked_boxes
from studio.dataset.model import Box, Label, Phrase

LABELS = {1: Label(1, "dog", "#f00"), 2: Label(2, "ball", "#0f0"), 3: Label(3, "tree", "#00f")}


def _box(box_id, label_id):
    return Box(box_id, 1, label_id, 0, 0, 1, 1)


def test_suggests_label_words_including_plurals():
    boxes = [_box(10, 1), _box(11, 1), _box(12, 2), _box(13, 3)]
    caption = "Two Dogs chase a ball; no trees."
    suggestions = suggest_links(caption, [], boxes, LABELS)
    assert [(s.text, s.box_ids, s.phrase_id) for s in suggestions] == [
        ("Dogs", (10, 11), None),
        ("ball", (12,), None),
        ("trees", (13,), None),
    ]
    assert caption[suggestions[0].start : suggestions[0].end] == "Dogs"


def test_no_suggestion_inside_other_words_or_for_linked_boxes():
    boxes = [_box(10, 1), _box(12, 2)]
    caption = "A hotdog near the ball."
    phrases = [Phrase(5, 1, 18, 22, "ball", (12,))]
    assert suggest_links(caption, phrases, boxes, LABELS) == []
    assert unlinked_boxes(boxes, phrases) == [10]


def test_reuses_an_unlinked_phrase_at_the_same_span():
    caption = "a ball"
    phrases = [Phrase(7, 1, 2, 6, "ball", ())]
    (suggestion,) = suggest_links(caption, phrases, [_box(12, 2)], LABELS)
    assert suggestion.phrase_id == 7 and suggestion.box_ids == (12,)


def test_a_label_word_inside_a_phrase_offers_that_phrase():
    caption = "A brown dog and a dog."
    phrases = [Phrase(3, 1, 2, 11, "brown dog", (10,))]
    (suggestion,) = suggest_links(caption, phrases, [_box(10, 1), _box(11, 1)], LABELS)
    assert (suggestion.phrase_id, suggestion.text, suggestion.box_ids) == (3, "brown dog", (11,))


def test_a_phrase_naming_the_old_label_of_a_relabelled_box_conflicts():
    phrase = Phrase(1, 1, 0, 11, "a red block", (10,))
    (conflict,) = relabel_conflicts([phrase], {10: ("red block", "green block")})
    assert conflict.words == ("red",) and conflict.box_id == 10
    assert conflict.message() == "The phrase “a red block” is linked to a box now labelled “green block”"


def test_plurals_and_several_words_of_the_old_label_count():
    phrase = Phrase(1, 1, 0, 14, "two red blocks", (10, 11))
    (conflict,) = relabel_conflicts([phrase], {11: ("red block", "green ball")})
    assert conflict.words == ("red", "block")


def test_no_conflict_when_the_phrase_keeps_to_shared_words_or_the_box_is_elsewhere():
    shared = Phrase(1, 1, 0, 9, "the block", (10,))
    other_box = Phrase(2, 1, 0, 11, "a red block", (12,))
    inside_a_word = Phrase(3, 1, 0, 12, "a reddish one", (10,))
    relabelled = {10: ("red block", "green block")}
    assert relabel_conflicts([shared, other_box, inside_a_word], relabelled) == []
    assert relabel_conflicts([other_box], {12: ("red block", "red block")}) == []  # relabelled back
    (removed,) = relabel_conflicts([other_box], {12: ("red block", "")})
    assert removed.message() == "The phrase “a red block” is linked to a box that no longer has a label"

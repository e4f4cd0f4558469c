"""Samples from annotations and the prompt wording."""

from __future__ import annotations

import pytest

from studio.adapters import prompts
from studio.adapters.samples import Sample, TaskMix, samples_from_annotation
from studio.dataset.model import Annotation, Box, Image, Phrase, VqaPair


@pytest.fixture()
def annotation():
    caption = "a red circle left of a blue square"
    return Annotation(
        image=Image(id=7, path="/data/shapes.png", width=240, height=160),
        boxes=[Box(1, 7, None, 40, 30, 100, 90), Box(2, 7, None, 150, 60, 210, 120)],
        caption=caption,
        phrases=[
            Phrase(11, 7, 23, 34, "blue square", (2,)),
            Phrase(10, 7, 2, 12, "red circle", (1,)),
            Phrase(12, 7, 0, 1, "a", ()),
        ],
        vqa=[
            VqaPair(21, 7, 1, "What colour is the square?", "blue"),
            VqaPair(20, 7, 0, "How many?", "two"),
            VqaPair(22, 7, 2, "  ", "empty question"),
        ],
    )


def test_all_tasks_in_a_stable_order(annotation):
    samples = samples_from_annotation(annotation)
    assert [s.task for s in samples] == ["grounding", "grounding", "grounding", "vqa", "vqa"]
    caption = samples[0]
    assert (
        caption.prompt
        == "Locate every phrase of this caption in the image: a red circle left of a blue square"
    )
    assert [p.text for p in caption.phrases] == [
        "red circle",
        "blue square",
    ]  # caption order, unlinked dropped
    assert caption.phrases[0].boxes == ((40, 30, 100, 90),)
    assert samples[1].phrases[0].text == "red circle" and "the red circle" in samples[1].prompt
    assert [(s.prompt, s.answer) for s in samples[3:]] == [
        ("How many?", "two"),
        ("What colour is the square?", "blue"),
    ]
    assert {(s.image_path, s.width, s.height, s.image_id) for s in samples} == {
        ("/data/shapes.png", 240, 160, 7)
    }


def test_task_mix_selects(annotation):
    assert [s.task for s in samples_from_annotation(annotation, TaskMix(caption=False, phrases=False))] == [
        "vqa",
        "vqa",
    ]
    only_caption = samples_from_annotation(annotation, TaskMix(phrases=False, vqa=False))
    assert len(only_caption) == 1 and len(only_caption[0].phrases) == 2


def test_phrase_prompt_is_stable_and_keeps_articles():
    assert prompts.phrase_prompt("red circle") == prompts.phrase_prompt("red circle")
    assert prompts.phrase_prompt("two blue squares", variant=0) == "Locate two blue squares."
    assert prompts.phrase_prompt("red circle", variant=3) == "Where is the red circle?"
    assert {prompts.phrase_prompt(p) for p in ("red circle", "blue square", "green triangle", "a shape")} <= {
        t.format(phrase=n)
        for t in prompts.PHRASE_PROMPTS
        for n in ("the red circle", "the blue square", "the green triangle", "a shape")
    }


def test_system_prompts_are_shipped():
    assert "JSON" in prompts.system_prompt("grounding")
    assert "question" in prompts.system_prompt("vqa")
    with pytest.raises(ValueError, match="unknown task"):
        prompts.system_prompt("caption")


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task"):
        Sample(1, "x.png", 10, 10, task="detect", prompt="?")


def test_detection_samples_name_boxes_by_label(annotation):
    labelled = Annotation(
        image=annotation.image,
        boxes=[Box(1, 7, 5, 40, 30, 100, 90), Box(2, 7, 6, 150, 60, 210, 120), Box(3, 7, 5, 0, 0, 10, 10),
               Box(4, 7, None, 1, 1, 2, 2)],
    )
    assert samples_from_annotation(labelled, TaskMix(detection=True)) == []  # no label names given
    samples = samples_from_annotation(labelled, TaskMix(detection=True), labels={5: "red circle", 6: "blue square"})
    assert len(samples) == 1 and samples[0].prompt == prompts.DETECTION_PROMPT
    assert [(p.text, p.boxes) for p in samples[0].phrases] == [
        ("red circle", ((40, 30, 100, 90), (0, 0, 10, 10))), ("blue square", ((150, 60, 210, 120),))]
    assert samples_from_annotation(labelled, labels={5: "red circle"}) == []  # detection is off by default

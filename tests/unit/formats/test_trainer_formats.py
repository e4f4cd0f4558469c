"""LLaVA, LLaMA-Factory and ms-swift: the text is the adapter's, and boxes, phrases and answers round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.adapters import TaskMix, get_adapter, prompts, samples_from_annotation
from studio.dataset.formats.exporting import export_dataset
from studio.dataset.formats.importing import import_dataset
from studio.dataset.store import Project
from tests.unit.formats.formats_helpers import close_boxes, snapshot

TRAINER = ["llava", "llamafactory", "msswift"]


def _conversations(fmt, folder):
    """(system, user, assistant) of every exported record."""
    if fmt == "llava":
        records = json.loads((folder / "llava.json").read_text())
        return [(r["system"], r["conversations"][0]["value"], r["conversations"][1]["value"]) for r in records]
    if fmt == "llamafactory":
        records = json.loads((folder / "vlm_studio_train.json").read_text())
    else:
        records = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
    return [tuple(m["content"] for m in r["messages"]) for r in records]


@pytest.mark.parametrize("fmt", TRAINER)
@pytest.mark.parametrize("model", ["tiny", "qwen3-vl-8b"])
def test_export_text_is_the_adapters(fmt, model, annotated, tmp_path):
    adapter = get_adapter(model)
    names = {label.id: label.name for label in annotated.labels()}
    expected = []
    for image in annotated.images():
        annotation = annotated.annotation(image.id)
        linked = {i for phrase in annotation.phrases for i in phrase.box_ids}
        mix = TaskMix(detection=any(b.label_id and b.id not in linked for b in annotation.boxes))
        for sample in samples_from_annotation(annotation, mix, names):
            messages = adapter.messages(sample, answer=adapter.answer_text(sample))
            system = messages[0]["content"][0]["text"]
            assert system == prompts.system_prompt(sample.task)
            user = messages[1]["content"][1]["text"]
            tag = "<image>\n" if fmt == "llava" else "<image>"
            expected.append((system, tag + user, messages[2]["content"][0]["text"]))
    report = export_dataset(annotated, fmt, tmp_path / "out", model=model)
    assert _conversations(fmt, tmp_path / "out") == expected
    assert len(expected) == 9  # 2 caption samples, 3 phrase samples, 1 detection sample, 3 questions
    assert report.records == 9
    assert any("1 labelled boxes linked to no phrase were written as 1 detection" in n for n in report.notes)


@pytest.mark.parametrize("fmt", TRAINER)
def test_round_trip(fmt, annotated, other_project, tmp_path):
    export_dataset(annotated, fmt, tmp_path / "first", model="qwen3-vl-8b")
    report = import_dataset(other_project, fmt, tmp_path / "first")
    assert report.missing == [] and report.images_new == 3  # rotated.png: its detection conversation
    after = snapshot(other_project)
    source = snapshot(annotated)
    rotated = after["rotated.png"]
    assert [label for label, _ in rotated["boxes"]] == ["cat"] and rotated["size"] == source["rotated.png"]["size"]
    for name in ("cat.png", "street.png"):
        item = after[name]
        want = source[name]
        assert item["caption"] == want["caption"]
        assert item["vqa"] == want["vqa"]
        assert [p[:3] for p in item["phrases"]] == [p[:3] for p in want["phrases"]]
        assert [label for label, _ in item["boxes"]] == [None] * len(want["boxes"])
        # ms-swift carries exact pixels; the others the model's 0-1000 integers (half a unit of 1000)
        tolerance = 0.01 if fmt == "msswift" else 0.5 * max(item["size"]) / 1000 + 0.01
        pairs = zip(sorted(b for _, b in item["boxes"]), sorted(b for _, b in want["boxes"]), strict=True)
        for got, exp in pairs:
            assert all(abs(a - b) <= tolerance for a, b in zip(got, exp, strict=True))
    export_dataset(other_project, fmt, tmp_path / "second", model="qwen3-vl-8b")
    with Project.create(tmp_path / "third") as third:
        import_dataset(third, fmt, tmp_path / "second")
        assert close_boxes(snapshot(third), after)


def test_answers_with_boxes_stay_text_without_a_model(annotated, other_project, tmp_path):
    export_dataset(annotated, "llava", tmp_path / "out", model="tiny")
    (tmp_path / "out" / "vlm_studio.json").unlink()
    report = import_dataset(other_project, "llava", tmp_path / "out")
    assert report.boxes == 0 and report.vqa_pairs == 9
    assert any("--model" in note for note in report.notes)
    with Project.create(tmp_path / "again") as again:
        report = import_dataset(again, "llava", tmp_path / "out", model="tiny")
        assert report.boxes == 5 and report.vqa_pairs == 3 and report.phrases == 3


def test_export_needs_a_model(annotated, tmp_path):
    with pytest.raises(ValueError, match="needs a model"):
        export_dataset(annotated, "msswift", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_msswift_image_paths_are_absolute_and_point_into_the_export(annotated, tmp_path):
    export_dataset(annotated, "msswift", tmp_path / "out", model="tiny")
    records = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    paths = {record["images"][0] for record in records}
    assert paths == {str(tmp_path / "out" / "images" / f"{name}.png") for name in ("cat", "street", "rotated")}
    assert all(Path(p).is_file() for p in paths)

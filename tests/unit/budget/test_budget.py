"""The token budget: exact for the tiny model (equal to the trainer's sequence), estimates flagged, advice."""

from __future__ import annotations

import re

import numpy as np
import pytest

from studio.adapters import get_adapter, samples_from_annotation
from studio.budget import budget as budget_module
from studio.budget.budget import TextTable, compute_budget, project_annotations, project_text_table, text_table
from studio.budget.text import estimate_counter, estimate_tokens, text_counter
from studio.dataset.sample import create_sample_project
from studio.dataset.store import NewImage


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory):
    with create_sample_project(tmp_path_factory.mktemp("budget") / "sample", count=12) as project:
        yield project


@pytest.fixture(scope="module")
def tiny_counter():
    return text_counter(get_adapter("tiny"))


def test_tiny_budget_equals_the_trainers_sequence_lengths(sample_project, tiny_counter):
    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    annotations = project_annotations(sample_project)
    assert tiny_counter.exact
    budget = compute_budget(adapter, text_table(adapter, tiny_counter, annotations), adapter.settings(), 4096)
    for annotation, total in zip(annotations[:4], budget.totals[:4], strict=True):
        lengths = [len(adapter.supervised_example(s, processor)["input_ids"])
                   for s in samples_from_annotation(annotation)]
        assert max(lengths) == total


def test_summary_flags_estimates_and_counts_over_budget(sample_project, tiny_counter):
    annotations = project_annotations(sample_project)
    adapter = get_adapter("qwen3-vl-8b")
    table = text_table(adapter, text_counter(adapter), annotations)
    budget = compute_budget(adapter, table, adapter.settings(), 2048)
    summary = budget.summary()
    assert summary["text_counts"] == "estimate" and summary["over_budget"] == 0 and summary["images"] == 12
    assert summary["samples"] == int(table.samples.sum()) > 12
    tight = compute_budget(adapter, table, adapter.settings(), int(np.median(budget.totals)))
    assert 0 < len(tight.over) < 12
    found = re.search(r"max pixels to ([\d,]+)", tight.advice[1])
    assert found, tight.advice
    fitting = int(found.group(1).replace(",", ""))
    assert len(compute_budget(adapter, table, adapter.settings(max_pixels=fitting), tight.max_seq_len).over) == 0
    names = {a.image.id: a.image.name for a in annotations}
    message = tight.refusal(names, shown=2)
    assert message.startswith(f"{len(tight.over)} images would be cut at the {tight.limit:,}-token limit")
    assert names[int(tight.over[0])] in message and "more" in message and "max pixels" in message
    assert budget.refusal(names) == ""


def test_tiled_models_advise_fewer_tiles(sample_project):
    adapter = get_adapter("internvl3.5-8b")
    table = text_table(adapter, estimate_counter(), project_annotations(sample_project))
    budget = compute_budget(adapter, table, adapter.settings(), 2048)
    assert len(budget.over) > 0 and "Lower max tiles to" in budget.advice[1]


def test_estimate_is_close_to_the_tiny_tokenizer_and_never_far_below(tiny_counter):
    texts = ['[{"bbox_2d": [12, 345, 999, 1000], "label": "red circle"}]',
             "Locate every phrase of this caption in the image: a red circle left of a blue square"]
    for text in texts:
        exact = tiny_counter.count(text)
        assert exact * 0.8 <= estimate_tokens(text) <= exact * 2.5, text


def test_partial_recount_merges_into_the_table(tmp_path):
    from studio.budget.budget import merge_tables, project_text_table

    sample_project = create_sample_project(tmp_path / "own", count=5)
    full = project_text_table(sample_project.folder, "tiny")
    image_id = int(full.image_ids[3])
    sample_project.set_caption(image_id, "")
    part = project_text_table(sample_project.folder, "tiny", image_ids=[image_id, 999])
    assert part.image_ids.tolist() == [image_id]
    merged = merge_tables(full, part)
    again = project_text_table(sample_project.folder, "tiny")
    assert merged.longest.tolist() == again.longest.tolist() and merged.samples.tolist() == again.samples.tolist()
    assert merged.samples[3] < full.samples[3]
    (new_id,) = sample_project.add_images([NewImage(str(tmp_path / "new.png"), 64, 48)])
    sample_project.add_vqa(new_id, "What is it?", "a new image")
    added = merge_tables(merged, project_text_table(sample_project.folder, "tiny", image_ids=[new_id]))
    again = project_text_table(sample_project.folder, "tiny")
    assert added.image_ids.tolist() == again.image_ids.tolist() and added.longest.tolist() == again.longest.tolist()
    assert added.widths[-1] == 64 and added.samples[-1] == again.samples[-1] > 0
    sample_project.close()


def test_the_worst_images_over_the_limit_come_longest_first():
    budget = compute_budget(get_adapter("tiny"), TextTable(
        np.array([1, 2, 3, 4]), np.array([64] * 4), np.array([64] * 4), np.array([5000, 10, 9000, 5000]),
        np.array([5000, 10, 9000, 5000]), np.array([1] * 4), True), get_adapter("tiny").settings(), 4096)
    assert [image_id for image_id, _ in budget.worst(10)] == [3, 1, 4] and len(budget.worst(2)) == 2


def test_a_project_is_counted_in_small_parts_with_the_same_result(sample_project, monkeypatch):
    whole = project_text_table(sample_project.folder, "tiny")
    monkeypatch.setattr(budget_module, "TABLE_CHUNK", 5)  # 12 images: parts of 5, 5 and 2
    parts = project_text_table(sample_project.folder, "tiny")
    assert len(whole.image_ids) == 12
    for name in ("image_ids", "widths", "heights", "longest", "total", "samples"):
        assert (getattr(parts, name) == getattr(whole, name)).all(), name

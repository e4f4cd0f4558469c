"""A resumed run reuses the samples it prepared (kept in the run folder) while nothing that shapes them changed,
and prepares them again when the data or the settings did."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from studio.adapters import get_adapter
from studio.jobs import CancelToken
from studio.training import runs, trainer
from studio.training.data import split_data, vision_settings
from studio.training.prepared import Prepared, load_prepared, prepared_key, prepared_path, save_prepared
from studio.training.trainer import RunConfig, train
from studio.training.workflows import get_workflow


@pytest.fixture
def encoded(monkeypatch):
    """The splits the trainer encodes (``_encode_cached`` calls), in order."""
    calls: list[str] = []
    original = trainer._Session._encode_cached

    def counting(self, source, cache, what):
        calls.append(what)
        return original(self, source, cache, what)

    monkeypatch.setattr(trainer._Session, "_encode_cached", counting)
    return calls


def _run(project, *, resume=None, max_steps=None):
    """A run stopped after its first step (or finished at ``max_steps``): its result and log lines."""
    lines, token = [], CancelToken()

    def on_progress(event):
        lines.append(event.log_line())
        if event.kind == "step" and max_steps is None:
            token.cancel()

    result = train(RunConfig(project.folder, "quick", resume=resume, max_steps=max_steps), on_progress, token)
    return result, lines


def test_a_resume_reuses_the_prepared_samples_until_the_data_changes(small_project, encoded):
    stopped, lines = _run(small_project)
    assert stopped.status == "stopped" and encoded == ["train", "validation"]
    folder = runs.find_run(small_project, stopped.run_name).folder
    assert prepared_path(folder, "train").is_file() and prepared_path(folder, "validation").is_file()
    assert any(re.match(r"prepared \d+ train samples in [\d.]+ s$", line) for line in lines)

    encoded.clear()
    resumed, lines = _run(small_project, resume=stopped.run_name)
    assert resumed.status == "stopped" and resumed.steps == 2 and encoded == []
    assert any(line.startswith("reused prepared train samples") for line in lines)
    assert any(line.startswith("reused prepared validation samples") for line in lines)

    train_image = small_project.images(split="train")[0]
    small_project.set_caption(train_image.id, "a caption written after the run stopped")
    encoded.clear()
    resumed, lines = _run(small_project, resume=stopped.run_name, max_steps=3)
    assert resumed.status == "finished" and encoded == ["train"]  # the validation split did not change
    assert any(line.startswith("reused prepared validation samples") for line in lines)
    assert not (folder / "prepared").exists()  # a finished run never resumes: its preparation is removed


def test_the_key_follows_what_shapes_the_samples_and_nothing_else(small_project):
    config = get_workflow(small_project, "quick").config
    adapter = get_adapter(config.model_id)
    checkpoint = adapter.checkpoint_folder()
    data = split_data(small_project, "train", config)

    def key(cfg=config, device="cpu", precision="fp32"):
        return prepared_key(small_project, data, cfg, vision_settings(adapter, cfg), checkpoint, device, precision)

    base = key()
    assert key(replace(config, lr=1e-3, epochs=9.0, batch_size=2, eval_every=5)) == base  # the loop's settings
    assert key(replace(config, max_pixels=32 * 28 * 28)) != base
    assert key(replace(config, system_prompts={"vqa": "Answer in one word."})) != base
    assert key(precision="bf16") != base and key(device="cuda:0") != base
    other = split_data(small_project, "train", replace(config, task_mix=replace(config.task_mix, vqa=False)))
    assert prepared_key(small_project, other, config, vision_settings(adapter, config), checkpoint, "cpu",
                        "fp32") != base


def test_a_kept_preparation_loads_only_under_its_key(tmp_path):
    import torch

    examples = [{"input_ids": torch.arange(n), "labels": torch.full((n,), -100),
                 "image_grid_thw": torch.tensor([[1, 2, 2]]), "image_key": key}
                for n, key in ((5, 7), (3, 7), (4, 9))]
    vision = {7: [torch.ones(2, 4, dtype=torch.bfloat16)], 9: [torch.zeros(1, 4, dtype=torch.bfloat16)]}
    assert save_prepared(tmp_path, "train", "k1", Prepared(examples, vision, "BaseModelOutputWithPooling")) == ""
    assert load_prepared(tmp_path, "train", "k2") is None
    kept = load_prepared(tmp_path, "train", "k1")
    assert kept.output_type == "BaseModelOutputWithPooling"
    assert [e["image_key"] for e in kept.examples] == [7, 7, 9]
    for got, want in zip(kept.examples, examples, strict=True):
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want if k != "image_key")
    assert torch.equal(kept.vision[7][0], vision[7][0]) and kept.vision[9][0].dtype == torch.bfloat16
    prepared_path(tmp_path, "train").write_bytes(b"not a safetensors file")
    assert load_prepared(tmp_path, "train", "k1") is None  # damaged: rebuilt


def test_restored_vision_outputs_equal_the_computed_ones():
    import torch

    from studio.training.batching import collate
    from studio.training.scenes import scene_samples
    from studio.training.vision_cache import VisionCache

    adapter = get_adapter("tiny")
    processor = adapter.load_processor()
    model = adapter.load_model().eval()
    examples = [adapter.supervised_example(s, processor, image=image) for s, image in scene_samples(3, 1)[:2]]
    batch = collate(examples, processor.tokenizer.pad_token_id)
    computed = VisionCache(model)
    computed.add([0, 1], batch["pixel_values"], batch["image_grid_thw"])
    restored = VisionCache(model)
    with pytest.raises(ValueError, match="no vision output class 'Pickled'"):
        restored.restore(computed.entries([0, 1]), "Pickled")
    restored.restore(computed.entries([0, 1]), computed.output_type)
    want, got = computed.encoder_outputs([1, 0])["image"], restored.encoder_outputs([1, 0])["image"]
    assert type(got) is type(want)
    assert all(torch.equal(a, b) for a, b in zip(got.pooler_output, want.pooler_output, strict=True))

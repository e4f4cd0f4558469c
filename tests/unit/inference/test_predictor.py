"""The inference API on tiny checkpoints: loading, answers, boxes in original pixels, streaming, cancel, and the
image-encoding reuse giving the same answers as a full run."""

from __future__ import annotations

import pytest
from PIL import Image

from studio.inference import GenerationSettings, Predictor, load_run
from studio.inference.loading import load_checkpoint
from studio.inference.predictor import Prediction
from studio.jobs import CancelToken
from tests.unit.inference.conftest import SYSTEM, add_run

TOKENS = GenerationSettings(max_new_tokens=12)


@pytest.fixture(scope="module")
def lora_predictor(tiny_checkpoints):
    return Predictor.from_checkpoint(tiny_checkpoints["lora"])


def test_load_checkpoint_lora_and_full(tiny_checkpoints):
    model, _processor, adapter, meta = load_checkpoint(tiny_checkpoints["lora"])
    assert type(model).__name__ == "PeftModel" and meta["mode"] == "lora" and adapter.entry.id == "tiny"
    full = load_checkpoint(tiny_checkpoints["full"])
    assert type(full.model).__name__ == "Qwen3VLForConditionalGeneration"
    assert full.settings.max_pixels == 25600


def test_answer_streams_and_reports_timing(lora_predictor, shapes_image):
    pieces = []
    result = lora_predictor(shapes_image, "Locate the red circle.", generation=TOKENS, on_text=pieces.append)
    assert "".join(pieces) == result.text and result.new_tokens == 12
    assert 0 < result.time_to_first_token <= result.seconds
    assert result.tokens_used == result.prompt_tokens + 12
    assert lora_predictor.system_prompt("vqa") == SYSTEM["vqa"]


def test_second_prompt_reuses_the_image_and_answers_the_same(lora_predictor, shapes_image, tiny_checkpoints):
    image = Image.open(shapes_image).convert("RGB")
    first = lora_predictor(image, "Find the blue square.", generation=TOKENS)
    second = lora_predictor(image, "Where is the red circle?", generation=TOKENS)
    assert second.image_cached and not first.image_cached
    plain = Predictor.from_checkpoint(tiny_checkpoints["lora"])
    plain.cache = None
    assert plain(image, "Where is the red circle?", generation=TOKENS).text == second.text
    other_system = lora_predictor(image, "Where is the red circle?", system_prompt="Other.", generation=TOKENS)
    assert not other_system.image_cached


def test_boxes_come_back_in_original_pixels(lora_predictor):
    answer = '[{"bbox_2d": [500, 250, 1000, 1000], "label": "red circle"}]'
    parsed = lora_predictor.adapter.parse_boxes(answer, 240, 160, lora_predictor.settings)
    assert parsed.boxes[0].box == pytest.approx((120, 40, 240, 160))


def test_cancel_stops_early(lora_predictor, shapes_image):
    token = CancelToken()
    result = lora_predictor(shapes_image, "Locate the red circle.", generation=GenerationSettings(max_new_tokens=50),
                            on_text=lambda _: token.cancel(), cancel=token)
    assert result.stopped and result.new_tokens < 50


def test_sampling_with_a_seed_is_reproducible(lora_predictor, shapes_image):
    sampled = GenerationSettings(max_new_tokens=10, temperature=1.5, top_p=0.9, top_k=50, seed=3)
    a = lora_predictor(shapes_image, "Locate the red circle.", generation=sampled).text
    b = lora_predictor(shapes_image, "Locate the red circle.", generation=sampled).text
    assert a == b
    with pytest.raises(ValueError):
        GenerationSettings(top_p=0)


def test_batch_generation_equals_one_at_a_time(lora_predictor, shapes_image, tmp_path):
    from studio.adapters import Sample

    small = tmp_path / "small.png"
    Image.new("RGB", (200, 120), "#446688").save(small)
    samples = [Sample(0, str(shapes_image), 240, 160, "grounding", "Locate the red circle."),
               Sample(1, str(small), 200, 120, "vqa", "How many shapes are there?")]
    images = [Image.open(s.image_path).convert("RGB") for s in samples]
    batch = lora_predictor.generate_batch(samples, images, max_new_tokens=8)
    single = [lora_predictor.generate_batch([s], [i], max_new_tokens=8)[0]
              for s, i in zip(samples, images, strict=True)]
    assert [a.text for a in batch] == [a.text for a in single]
    assert [a.confidence for a in batch] == pytest.approx([a.confidence for a in single], rel=1e-4)
    assert all(0 < a.confidence <= 1 for a in batch)
    plain = lora_predictor(images[0], samples[0].prompt, generation=GenerationSettings(max_new_tokens=8))
    assert plain.text.strip() == batch[0].text


def test_load_run_from_project(project, tiny_checkpoints, shapes_image):
    add_run(project, "first", tiny_checkpoints["full"])
    predictor = load_run(project, "first")
    assert isinstance(predictor(shapes_image, "Find the red circle.", generation=TOKENS), Prediction)
    with pytest.raises(ValueError, match=r"no run 'nope'.*first"):
        load_run(project, "nope")


def test_qlora_checkpoints_load_quantised_only_on_cuda():
    from studio.inference.loading import trained_quantization

    assert trained_quantization({"mode": "qlora4"}, "cuda") == 4
    assert trained_quantization({"mode": "qlora8"}, "cuda:0") == 8
    assert trained_quantization({"mode": "qlora4"}, "cpu") is None
    assert trained_quantization({"mode": "lora"}, "cuda") is None

"""The real-size path on a tiny Qwen2.5-VL-class checkpoint written to disk: a catalog model loaded from a local
folder, trained with LoRA (peft adapter checkpoint) and with QLoRA 4-bit on real bitsandbytes layers (which run on
the CPU too, once the product's CUDA requirement is lifted), and the QLoRA set-up refused with advice here."""

from __future__ import annotations

import json

import pytest
import torch

from studio.training import runs
from studio.training.trainer import RunConfig, TrainingError, train
from studio.training.workflows import get_workflow, save_workflow
from tests.unit.adapters.test_other_families import qwen25_folder  # noqa: F401 (fixture)
from tests.unit.training.test_trainer import _losses, _run


def _workflow(project, folder, mode):
    config = get_workflow(project, "quick").config
    config.model_id, config.model_folder, config.mode = "qwen2.5-vl-7b", str(folder), mode
    config.min_pixels, config.max_pixels, config.lora_r, config.lora_alpha = 56 * 56, 112 * 112, 4, 8
    config.lr = 1e-3
    save_workflow(project, mode, config)


def test_lora_on_a_local_qwen25_checkpoint(small_project, qwen25_folder):  # noqa: F811
    _workflow(small_project, qwen25_folder, "lora")
    result = train(RunConfig(small_project.folder, "lora", max_steps=2))
    run = runs.find_run(small_project, result.run_name)
    assert result.status == "finished" and run.config["model_id"] == "qwen2.5-vl-7b"
    last = run.folder / run.summary["last_checkpoint"]
    adapter_config = json.loads((last / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4 and "language_model" in json.dumps(adapter_config["target_modules"])
    assert (last / "adapter_model.safetensors").is_file() and (last / "trainer_state" / "optimizer.pt").is_file()
    assert run.config["preflight"]["memory_estimate_bytes"] > 0


def test_qlora_4bit_is_refused_with_advice_without_a_gpu(small_project, qwen25_folder, monkeypatch):  # noqa: F811
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # refused the same on a CUDA machine's CPU view
    _workflow(small_project, qwen25_folder, "qlora4")
    with pytest.raises(TrainingError, match=r"bitsandbytes|CUDA GPU"):
        train(RunConfig(small_project.folder, "qlora4", max_steps=1))


def test_qlora_4bit_trains_and_resumes_on_real_bitsandbytes_layers(small_project, qwen25_folder, monkeypatch):  # noqa: F811
    """Quantised loading (the vision tower and lm_head left alone), peft's kbit preparation undone to half
    precision, LoRA on Linear4bit layers, an adapter checkpoint, and a stopped run resumed exactly: all for real,
    only the CUDA check lifted."""
    pytest.importorskip("bitsandbytes")
    from studio.adapters import loading
    from studio.training import preflight, trainer

    monkeypatch.setattr(loading, "check_quantization_available", lambda: None)
    monkeypatch.setattr(preflight, "check_quantization_available", lambda: None)
    built = {}
    load = trainer.load_for_training

    def spy(*args, **kwargs):
        model = load(*args, **kwargs)
        built.update({name: type(module).__name__ for name, module in model.named_modules()})
        built["dtypes"] = {p.dtype for n, p in model.named_parameters() if "lora_" not in n}
        return model

    monkeypatch.setattr(trainer, "load_for_training", spy)
    _workflow(small_project, qwen25_folder, "qlora4")
    config = get_workflow(small_project, "qlora4").config
    config.precision = "bf16"  # what a GPU run uses; here without autocast, so no weight may stay in peft's fp32
    save_workflow(small_project, "qlora4", config)
    whole, whole_events = _run(small_project, "qlora4", max_steps=4)
    layers = {name.rsplit(".", 1)[-1]: kind for name, kind in built.items() if name.endswith(("q_proj.base_layer",
                                                                                               "lm_head", "qkv"))}
    assert layers == {"base_layer": "Linear4bit", "lm_head": "Linear", "qkv": "Linear"}
    assert built["dtypes"] == {torch.uint8, torch.bfloat16}  # 4-bit storage; the rest in the run's precision
    run = runs.find_run(small_project, whole.run_name)
    assert whole.status == "finished" and run.summary["steps"] == 4
    last = run.folder / run.summary["last_checkpoint"]
    assert (last / "adapter_model.safetensors").is_file()
    assert json.loads((last / "vlm_studio.json").read_text())["mode"] == "qlora4"
    stopped, stopped_events = _run(small_project, "qlora4", stop_at=2, max_steps=4)
    resumed, resumed_events = _run(small_project, "qlora4", resume=stopped.run_name, max_steps=4)
    assert stopped.status == "stopped" and resumed.status == "finished"
    curve = {**_losses(stopped_events), **_losses(resumed_events)}
    expected = _losses(whole_events)
    assert [curve[s] for s in range(1, 5)] == pytest.approx([expected[s] for s in range(1, 5)], rel=1e-4)

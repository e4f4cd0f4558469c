"""train(): records, checkpoints, stop and exact resume, LoRA, and refusals before a run starts."""

from __future__ import annotations

import json

import pytest

from studio.jobs import CancelToken
from studio.training import runs
from studio.training.trainer import RunConfig, TrainingError, train
from studio.training.workflows import get_workflow, save_workflow


def _losses(events):
    return {e.step: e.metrics["loss"] for e in events if e.kind == "step"}


def _run(project, workflow, *, stop_at=None, resume=None, max_steps=8):
    events, token = [], CancelToken()

    def on_progress(event):
        events.append(event)
        if stop_at is not None and event.kind == "step" and event.step == stop_at:
            token.cancel()

    result = train(RunConfig(project.folder, workflow, resume=resume, max_steps=max_steps), on_progress, token)
    return result, events


@pytest.mark.parametrize("mode", ["full", "lora"])
def test_a_stopped_and_resumed_run_continues_the_uninterrupted_loss_curve(small_project, mode):
    config = get_workflow(small_project, "quick").config
    config.mode = mode
    if mode == "lora":  # dropout (RNG) and augmentation (no vision cache) take the other path
        config.lr, config.lora_dropout = 2e-3, 0.1
        config.augment.colour, config.augment.hflip = 0.5, True
    save_workflow(small_project, "quick", config)
    whole, whole_events = _run(small_project, "quick")
    stopped, stopped_events = _run(small_project, "quick", stop_at=3)
    assert whole.status == "finished" and whole.steps == 8
    assert stopped.status == "stopped" and stopped.steps == 3
    assert runs.find_run(small_project, stopped.run_name).status == "stopped"
    resumed, resumed_events = _run(small_project, "quick", resume=stopped.run_name)
    assert resumed.run_name == stopped.run_name and resumed.status == "finished"
    curve = {**_losses(stopped_events), **_losses(resumed_events)}
    expected = _losses(whole_events)
    assert sorted(curve) == list(range(1, 9))
    assert [curve[s] for s in range(1, 9)] == pytest.approx([expected[s] for s in range(1, 9)], rel=1e-5, abs=1e-6)
    stored = runs.metrics(small_project, runs.find_run(small_project, stopped.run_name), "loss")["loss"]
    assert [v for _, v in stored] == pytest.approx([expected[s] for s in range(1, 9)], rel=1e-5, abs=1e-6)


def test_a_run_leaves_standard_checkpoints_and_records(small_project):
    result, events = _run(small_project, "quick", max_steps=6)
    run = runs.find_run(small_project, result.run_name)
    assert run.status == "finished" and run.workflow_name == "quick"
    assert run.config["dataset"]["content_hash"] and run.config["dataset"]["train_image_ids"]
    assert run.config["system_prompts"]["grounding"]
    assert json.loads((run.folder / "run.json").read_text())["mode"] == "full"
    last = run.folder / run.summary["last_checkpoint"]
    for name in ("model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja", "vlm_studio.json",
                 "trainer_state/optimizer.pt", "trainer_state/state.json"):
        assert (last / name).is_file(), name
    assert json.loads((last / "vlm_studio.json").read_text())["model_id"] == "tiny"
    assert run.summary["best_val_loss"] is not None and run.summary["best_checkpoint"]
    series = runs.metrics(small_project, run)
    assert len(series["loss"]) == 6 and series["val_loss"] and series["lr"]
    assert list((run.folder / "tensorboard").glob("events.out.tfevents.*"))
    assert {e.kind for e in events} >= {"status", "prepare", "step", "eval", "checkpoint", "done"}
    log = runs.read_log(run)  # the log lines the Train page showed, timestamped, from before the run folder existed
    lines = [e.log_line() for e in events if e.log_line()]
    assert [line.split("  ", 1)[1] for line in log.splitlines()] == lines
    assert lines[0] == "preparing" and f"run {run.name} finished at step 6" in lines[-1]

    from studio.inference.loading import load_checkpoint

    loaded = load_checkpoint(last, device="cpu")
    assert loaded.meta["mode"] == "full" and loaded.model is not None


def test_lora_checkpoints_are_peft_adapters(small_project):
    config = get_workflow(small_project, "quick").config
    config.mode, config.lora_r = "lora", 4
    save_workflow(small_project, "lora", config)
    result, _ = _run(small_project, "lora", max_steps=2)
    last = runs.find_run(small_project, result.run_name).folder / result.summary["last_checkpoint"]
    assert (last / "adapter_config.json").is_file() and (last / "adapter_model.safetensors").is_file()
    from studio.inference.loading import load_checkpoint

    assert type(load_checkpoint(last, device="cpu").model).__name__.startswith("Peft")


def test_samples_over_the_token_budget_are_refused_by_name(small_project):
    config = get_workflow(small_project, "quick").config
    config.max_seq_len = 60
    save_workflow(small_project, "short", config)
    with pytest.raises(TrainingError, match=r"exceed max sequence length 60: shapes_\d+\.jpg"):
        _run(small_project, "short")
    assert runs.list_runs(small_project) == []


def test_qlora_without_a_gpu_says_what_to_do(small_project):
    config = get_workflow(small_project, "quick").config
    config.mode = "qlora4"
    save_workflow(small_project, "q", config)
    with pytest.raises(TrainingError, match=r"CUDA GPU|bitsandbytes"):
        _run(small_project, "q")


def test_stop_while_preparing_leaves_a_stopped_run_that_resumes_from_the_start(small_project):
    token = CancelToken()

    def on_progress(event):
        if event.kind == "prepare":
            token.cancel()

    stopped = train(RunConfig(small_project.folder, "quick", max_steps=2), on_progress, token)
    assert stopped.status == "stopped" and stopped.steps == 0
    assert runs.find_run(small_project, stopped.run_name).status == "stopped"
    resumed, _ = _run(small_project, "quick", resume=stopped.run_name, max_steps=2)
    assert resumed.status == "finished" and resumed.steps == 2
    log = runs.read_log(runs.find_run(small_project, stopped.run_name))
    stages = ("stopped at step 0", f"resuming {stopped.run_name} from the start", "finished at step 2")
    assert [log.index(stage) for stage in stages] == sorted(log.index(stage) for stage in stages)


def test_missing_weights_say_what_to_do(small_project, tmp_path):
    config = get_workflow(small_project, "quick").config
    config.model_folder = str(tmp_path / "nowhere")
    save_workflow(small_project, "lost", config)
    with pytest.raises(TrainingError, match=r"weights not found: .*nowhere: no config\.json there"):
        _run(small_project, "lost")


def test_lora_on_a_model_without_lora_support_is_refused():
    from studio.adapters import get_adapter
    from studio.training.config import WorkflowConfig
    from studio.training.preflight import check_settings

    adapter = get_adapter("nvila-lite-2b")
    report = check_settings(adapter, WorkflowConfig(model_id="nvila-lite-2b", mode="lora"), "cpu")
    assert any("does not support LoRA" in e and "full fine-tuning" in e for e in report.errors)


def test_a_full_disk_stops_the_run_with_advice(small_project, monkeypatch):
    import errno

    from studio.training import checkpoints

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(small_project.folder / "runs"))

    monkeypatch.setattr(checkpoints, "save_checkpoint", no_space)
    with pytest.raises(TrainingError, match="the disk is full"):
        _run(small_project, "quick", max_steps=1)
    run = runs.list_runs(small_project)[0]
    assert run.status == "failed" and "disk is full" in run.summary["error"]
    assert "failed: the disk is full" in runs.read_log(run).splitlines()[-1]


def test_a_non_finite_loss_stops_the_run(small_project, monkeypatch):
    import torch

    real = torch.isfinite
    monkeypatch.setattr(torch, "isfinite", lambda t: torch.zeros_like(real(t)))  # every loss reads as NaN
    with pytest.raises(TrainingError, match=r"the loss became .* lower the learning rate"):
        _run(small_project, "quick", max_steps=1)


def test_a_gpu_run_records_its_peak_memory_beside_the_estimate(small_project, monkeypatch):
    from studio.training import trainer

    result, _ = _run(small_project, "quick", max_steps=2)
    assert "peak_memory_bytes" not in result.summary  # on a CPU there is no allocator peak to report
    calls = []  # the allocator's own reading is tested in test_device.py; here: reset at the start, read at the end
    monkeypatch.setattr(trainer, "reset_peak_memory", lambda device: calls.append(("reset", device)))
    monkeypatch.setattr(trainer, "peak_memory", lambda device: calls.append(("peak", device)) or 3 * 2**30)
    result, _ = _run(small_project, "quick", max_steps=2)
    run = runs.find_run(small_project, result.run_name)
    assert calls == [("reset", "cpu"), ("peak", "cpu")]
    assert run.summary["peak_memory_bytes"] == 3 * 2**30
    estimate = run.config["preflight"]["memory_estimate_bytes"] / 2**30
    assert f"peak GPU memory 3.00 GiB (estimated {estimate:.2f} GiB before the run)" in runs.read_log(run)


def test_every_checkpoint_finds_the_loss_curve_stored_up_to_its_step(small_project):
    """A kill right after a checkpoint must not lose the last steps' loss values (metrics flush every 2 s)."""
    config = get_workflow(small_project, "quick").config
    config.save_every = 2
    save_workflow(small_project, "quick", config)
    stored_at_checkpoint = {}

    def on_progress(event):
        if event.kind == "checkpoint":
            run = runs.list_runs(small_project)[0]
            stored_at_checkpoint[event.step] = [s for s, _ in runs.metrics(small_project, run, "loss").get("loss", [])]

    train(RunConfig(small_project.folder, "quick", max_steps=4), on_progress, CancelToken())
    assert stored_at_checkpoint == {2: [1, 2], 4: [1, 2, 3, 4]}

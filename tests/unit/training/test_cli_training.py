"""vlm-studio workflows / train / runs / launch-config."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from studio.cli import run


def test_workflows_train_and_runs(small_project, capsys):
    folder = str(small_project.folder)
    assert run(["workflows", folder, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [w["name"] for w in listed] == ["quick"] and listed[0]["mode"] == "full"

    assert run(["train", folder, "--workflow", "quick", "--max-steps", "2", "--json-progress"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["step"] for e in lines if e["event"] == "step"] == [1, 2]
    assert lines[-1]["event"] == "result" and lines[-1]["status"] == "finished"

    assert run(["runs", folder, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["name"] == "quick-1" and runs[0]["status"] == "finished" and "loss" in runs[0]["last_metrics"]
    assert run(["runs", folder, "--log", "quick-1"]) == 0
    log = capsys.readouterr().out
    assert "preparing" in log and log.rstrip().endswith("run quick-1 finished at step 2")
    assert Path(runs[0]["log_file"]).read_text(encoding="utf-8").strip() == log.strip()


def test_train_check_is_the_data_check_without_a_run(small_project, capsys):
    from studio.training.workflows import get_workflow, save_workflow

    folder = str(small_project.folder)
    assert run(["train", folder, "--workflow", "quick", "--check"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ready: workflow quick, tiny, full") and "memory estimate" in text
    config = get_workflow(small_project, "quick").config
    config.max_seq_len = 60
    save_workflow(small_project, "short", config)
    assert run(["train", folder, "--workflow", "short", "--check", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and "exceed max sequence length 60" in report["errors"][0]
    assert report["facts"]["train_samples"] > 0
    assert run(["train", folder, "--check"]) == 0  # creates the default workflow, as the Train page does
    assert capsys.readouterr().out.startswith("ready: workflow default")
    assert run(["runs", folder, "--json"]) == 0 and json.loads(capsys.readouterr().out) == []  # no run was made
    assert run(["workflows", folder, "--json"]) == 0
    assert {w["name"] for w in json.loads(capsys.readouterr().out)} == {"default", "quick", "short"}


def test_train_errors_are_one_line(small_project, capsys):
    assert run(["train", str(small_project.folder), "--workflow", "missing"]) == 2
    assert "no workflow named 'missing'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "kind"),
    [([], "MULTI_GPU"), (["--deepspeed", "zero2"], "FSDP"), (["--deepspeed", "zero3"], "FSDP"),
     (["--fsdp"], "FSDP"), (["--nodes", "2"], "MULTI_GPU")],
)
def test_launch_configs_load_in_accelerate(small_project, capsys, extra, kind):
    from accelerate.commands.config.config_args import load_config_from_file

    assert run(["launch-config", str(small_project.folder), "--workflow", "quick", "--gpus", "4", *extra,
                "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    config = load_config_from_file(written["config"])
    assert config.distributed_type.value == kind
    nodes = 2 if "--nodes" in extra else 1
    assert config.num_processes == 4 * nodes and config.num_machines == nodes
    assert written["command"].startswith(f"accelerate launch --config_file {written['config']}")
    assert written["command"].endswith(f"train {small_project.folder} --workflow quick")
    if kind == "FSDP":
        assert config.fsdp_config["fsdp_reshard_after_forward"] == ("zero2" not in extra)


@pytest.mark.parametrize(("extra", "sharded", "reshard"),
                         [([], False, True), (["--deepspeed", "zero2"], True, False), (["--fsdp"], True, True)])
def test_a_launch_from_the_written_config_trains_as_asked(small_project, capsys, monkeypatch, extra, sharded, reshard):
    """The environment `accelerate launch` gives each process from the written config selects DDP or FSDP2."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_multi_gpu_env

    from studio.training.distributed import Distributed

    assert run(["launch-config", str(small_project.folder), "--workflow", "quick", "--gpus", "2", *extra,
                "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    args = launch_command_parser().parse_args(shlex.split(written["command"])[2:])
    env = prepare_multi_gpu_env(_validate_launch_command(args)[0])
    for name in ("ACCELERATE_USE_FSDP", "FSDP_RESHARD_AFTER_FORWARD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**env, "WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(name, value)
    dist = Distributed.from_env()
    assert (dist.world, dist.rank, dist.sharded) == (2, 1, sharded)
    assert not sharded or dist.reshard_after_forward == reshard


def test_a_deepspeed_engine_launch_is_refused_with_the_way_out(monkeypatch):
    from studio.training.distributed import Distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    with pytest.raises(RuntimeError, match=r"DeepSpeed engine.*--deepspeed zero2\|zero3"):
        Distributed.from_env()

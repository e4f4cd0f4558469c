"""vlm-studio workflows / train / runs / launch-config."""

from __future__ import annotations

import json

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


def test_train_errors_are_one_line(small_project, capsys):
    assert run(["train", str(small_project.folder), "--workflow", "missing"]) == 2
    assert "no workflow named 'missing'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "kind"),
    [([], "MULTI_GPU"), (["--deepspeed", "zero2"], "DEEPSPEED"), (["--deepspeed", "zero3"], "DEEPSPEED"),
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
    if "zero3" in extra:
        assert config.deepspeed_config["zero_stage"] == 3

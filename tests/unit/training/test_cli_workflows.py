"""vlm-studio workflows: --new, --edit, --show, --export, --import (LLaMA-Factory-shaped YAML), --delete; bad keys
and values refused by name with nothing written; the default workflow made by launch-config and train --check."""

from __future__ import annotations

import json

import pytest
import yaml

from studio.cli import run
from studio.dataset.sample import create_sample_project
from studio.training.config import MODES, PRECISIONS, default_workflow
from studio.training.workflow_file import new_config, workflow_yaml


@pytest.fixture
def fresh(tmp_path):
    """A sample project (with splits) that has no workflow yet, closed as the CLI finds it."""
    folder = tmp_path / "fresh"
    create_sample_project(folder, count=8).close()
    return str(folder)


def _json(capsys, *argv: str):
    assert run(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _names(capsys, folder: str) -> list[str]:
    return [w["name"] for w in _json(capsys, "workflows", folder, "--json")]


def test_new_show_export_and_import_give_the_same_workflow(fresh, tmp_path, capsys):
    assert run(["workflows", fresh, "--new", "q3", "--model", "qwen3-vl-2b", "--method", "qlora4",
                "--set", "learning_rate=1e-4", "--set", "lora_rank=32", "--set", "augment.scale=0.1",
                "--set", "system_prompts.vqa=Answer briefly."]) == 0
    assert capsys.readouterr().out.startswith("saved q3: qwen3-vl-2b, qlora4")
    shown = _json(capsys, "workflows", fresh, "--show", "q3", "--json")
    assert (shown["mode"], shown["lr"], shown["lora_r"], shown["augment"]["scale"]) == ("qlora4", 1e-4, 32, 0.1)
    assert shown["grad_checkpointing"] is True  # the rest: the model's shipped defaults
    assert run(["workflows", fresh, "--show", "q3"]) == 0
    assert "quantization_bit: 4" in capsys.readouterr().out

    file = tmp_path / "q3.yaml"
    assert run(["workflows", fresh, "--export", "q3", str(file)]) == 0
    written = yaml.safe_load(file.read_text())
    assert written["model_name_or_path"] == "Qwen/Qwen3-VL-2B-Instruct"
    assert (written["finetuning_type"], written["quantization_bit"], written["lora_rank"]) == ("lora", 4, 32)
    assert written["learning_rate"] == 1e-4 and written["augment"]["scale"] == 0.1
    assert run(["workflows", fresh, "--import", str(file), "--name", "again"]) == 0
    capsys.readouterr()
    again = _json(capsys, "workflows", fresh, "--show", "again", "--json")
    assert again == {**shown, "name": "again"}
    assert run(["workflows", fresh, "--import", str(file)]) == 2  # named after the file: q3 exists
    assert "'q3' exists: --replace overwrites it" in capsys.readouterr().err


def test_a_llama_factory_file_imports_with_our_own_settings_beside(fresh, tmp_path, capsys):
    file = tmp_path / "qwen2_5vl_lora_sft.yaml"
    file.write_text("""
### model
model_name_or_path: Qwen/Qwen2.5-VL-3B-Instruct
image_max_pixels: 262144
image_min_pixels: 1024
### method
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 8
lora_alpha: 16
lora_dropout: 0.1
lora_target: q_proj,v_proj
freeze_vision_tower: false
quantization_bit: 8
### train
cutoff_len: 1024
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 5e-5
num_train_epochs: 2
lr_scheduler_type: linear
bf16: true
seed: 7
gradient_checkpointing: true
### VLM Studio
lr_floor: 0.1
augment:
  hflip: true
""")
    assert run(["workflows", fresh, "--import", str(file), "--set", "save_steps=50"]) == 0
    capsys.readouterr()
    got = _json(capsys, "workflows", fresh, "--show", "qwen2_5vl_lora_sft", "--json")
    assert got["model_id"] == "qwen2.5-vl-3b" and got["model_folder"] == "" and got["mode"] == "qlora8"
    assert (got["max_pixels"], got["min_pixels"], got["max_seq_len"]) == (262144, 1024, 1024)
    assert (got["lora_r"], got["lora_alpha"], got["lora_dropout"], got["lora_targets"]) == (8, 16, 0.1,
                                                                                          ["q_proj", "v_proj"])
    assert got["train_vision"] is True and got["train_projector"] is False
    assert (got["batch_size"], got["grad_accum"], got["lr"], got["epochs"]) == (2, 8, 5e-5, 2.0)
    assert (got["schedule"], got["precision"], got["seed"], got["grad_checkpointing"]) == ("linear", "bf16", 7, True)
    assert (got["lr_floor"], got["augment"]["hflip"], got["save_every"]) == (0.1, True, 50)


@pytest.mark.parametrize(
    ("argv", "file", "said"),
    [
        (["--set", "lora_rank=0"], None, ["lora_rank: LoRA rank must be between 1 and 1,024"]),
        (["--set", "learning_rate=abc"], None, ["learning_rate: 'abc' is not a number"]),
        (["--set", "lr_scheduler_type=poly"], None, ["lr_scheduler_type:", "'poly' is not one of cosine, linear"]),
        (["--set", "per_device_train_batch_size=2.5"], None,
         ["per_device_train_batch_size: '2.5' is not a whole number"]),
        (["--set", "device=gpu"], None, ["device: device 'gpu' is not one of auto, cpu, cuda"]),
        (["--set", "lr=1e-3", "--set", "learning_rate=1e-3"], None, ["lr and learning_rate set the same setting"]),
        (["--set", "val_split=train"], None, ["val_split: train and validation splits must differ"]),
        (["--set", "lr"], None, ["--set 'lr': expected KEY=VALUE"]),
        ([], "model_name_or_path: tiny\nwarmup_ratio: 0.1\nfoo: 1\n",
         ["warmup_ratio: use warmup_steps", "unknown key foo", "vlm-studio workflows --help"]),
        ([], "model_name_or_path: tiny\nval_size: 0.1\n", ["val_size:", "vlm-studio split PROJECT --val"]),
        ([], "model_name_or_path: tiny\nfinetuning_type: freeze\nquantization_bit: 3\n",
         ["finetuning_type: 'freeze' is not one of lora, full", "quantization_bit: 3 is not one of 4, 8"]),
        ([], "model_name_or_path: my/own-model\n", ["model_name_or_path: 'my/own-model' is not a catalog model",
                                                    "add model_id"]),
        ([], "model_name_or_path: tiny\nbf16: maybe\n", ["bf16: 'maybe' is not true or false"]),
        ([], "model_name_or_path: tiny\nlearning_rate: [1\n", ["is not valid YAML at line"]),
        (["--model", "nope"], None, ["--model: model 'nope' is not in the model catalog; available:", "qwen3-vl-2b"]),
        (["--model", "tiny", "--method", "lorax"], None,
         ["--method: training mode 'lorax' is not one of lora, qlora4"]),
        (["--model", "nvila-lite-2b", "--method", "lora"], None,
         ["--method: NVIDIA NVILA-Lite 2B does not support LoRA", "full fine-tuning"]),
    ],
)
def test_bad_keys_and_values_are_named_and_nothing_is_written(fresh, tmp_path, capsys, argv, file, said):
    if file is None:
        argv = ["--new", "bad", *(argv if "--model" in argv else ["--model", "tiny", *argv])]
    else:
        (tmp_path / "bad.yaml").write_text(file)
        argv = ["--import", str(tmp_path / "bad.yaml"), *argv]
    assert run(["workflows", fresh, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for words in said:
        assert words in err
    assert _names(capsys, fresh) == []


def test_edit_replace_and_delete(fresh, capsys):
    assert run(["workflows", fresh, "--new", "a", "--model", "tiny", "--method", "lora"]) == 0
    assert run(["workflows", fresh, "--edit", "a", "--set", "cutoff_len=1024", "--set", "lora_target=q_proj"]) == 0
    capsys.readouterr()
    edited = _json(capsys, "workflows", fresh, "--show", "a", "--json")
    assert (edited["max_seq_len"], edited["lora_targets"], edited["mode"]) == (1024, ["q_proj"], "lora")
    assert run(["workflows", fresh, "--edit", "a", "--set", "cutoff_len=8"]) == 2  # refused: the saved one stays
    assert _json(capsys, "workflows", fresh, "--show", "a", "--json")["max_seq_len"] == 1024
    assert run(["workflows", fresh, "--new", "a", "--model", "tiny"]) == 2
    assert run(["workflows", fresh, "--new", "a", "--model", "tiny", "--replace"]) == 0
    capsys.readouterr()
    assert _json(capsys, "workflows", fresh, "--show", "a", "--json")["mode"] == "full"  # the tiny model's default
    assert run(["workflows", fresh, "--show", "a", "--set", "lr=1"]) == 2
    assert "--set, --model and --method apply to --new, --edit and --import" in capsys.readouterr().err
    assert run(["workflows", fresh, "--delete", "a"]) == 0
    capsys.readouterr()
    assert _names(capsys, fresh) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_mode_and_precision_survives_the_yaml_round_trip(mode, precision):
    config = default_workflow("qwen2.5-vl-3b")
    config.mode, config.precision = mode, precision
    config.task_mix.vqa = False
    assert new_config(yaml.safe_load(workflow_yaml(config, "x"))) == config


def test_a_local_weights_folder_survives_the_yaml_round_trip():
    config = default_workflow("tiny")
    config.model_folder = "/models/my-tiny"
    text = workflow_yaml(config, "x")
    assert "model_name_or_path: /models/my-tiny" in text and "model_id: tiny" in text
    assert new_config(yaml.safe_load(text)) == config


def test_launch_config_on_a_fresh_project_creates_the_default_workflow(fresh, capsys):
    written = _json(capsys, "launch-config", fresh, "--gpus", "2", "--fsdp", "--json")
    assert written["command"].endswith("--workflow default")
    assert _names(capsys, fresh) == ["default"]
    assert _json(capsys, "workflows", fresh, "--show", "default", "--json")["model_id"] == "tiny"


def test_train_check_on_a_fresh_project_creates_the_default_workflow(fresh, capsys):
    assert run(["train", fresh, "--check"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ready: workflow default, tiny, full") and "created the workflow 'default'" in err
    assert _names(capsys, fresh) == ["default"]


def test_train_check_while_another_program_writes_checks_the_default_unsaved(fresh, capsys, monkeypatch):
    from studio.dataset import lock

    def locked(path):
        raise lock.ProjectLockedError(f"{path.parent} is already open in VLM Studio (pid 1)")

    monkeypatch.setattr(lock, "acquire", locked)
    assert run(["train", fresh, "--check"]) == 0
    assert capsys.readouterr().out.startswith("ready: workflow default")
    assert run(["launch-config", fresh, "--gpus", "2"]) == 2
    assert "already open in VLM Studio" in capsys.readouterr().err
    assert _names(capsys, fresh) == []

"""Two processes on the CPU (launched by torchrun, gloo): DDP and FSDP2. Rank 0 keeps the records, both train."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.dataset.store import Project
from studio.training import runs
from studio.training.workflows import get_workflow, save_workflow

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow  # processes launched by torchrun: 15-65 s each


def _launch(folder: Path, *args: str, fsdp: bool = False) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    if fsdp:  # what `accelerate launch` sets for an FSDP config
        env.update(ACCELERATE_USE_FSDP="true", FSDP_RESHARD_AFTER_FORWARD="true")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "studio", "train", str(folder), *args, "--json-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"event": "result"')]


@pytest.mark.parametrize("fsdp", [False, True], ids=["ddp", "fsdp"])
def test_two_processes_train_one_run(small_project, fsdp):
    folder = small_project.folder
    small_project.close()  # the launched processes open it (rank 0 writable, rank 1 read-only)
    results = _launch(folder, "--workflow", "quick", "--max-steps", "2", fsdp=fsdp)
    assert [r["status"] for r in results] == ["finished"]  # one report, from rank 0
    with Project.open(folder, read_only=True) as project:
        found = runs.list_runs(project)
        assert [r.name for r in found] == ["quick-1"] and found[0].status == "finished"
        assert found[0].summary["samples"] == 2 * 2 * 4  # 2 steps x 2 processes x batch 4
        assert (found[0].folder / found[0].summary["last_checkpoint"] / "model.safetensors").is_file()


def test_a_sharded_lora_run_resumes_exactly_and_saves_a_whole_adapter(small_project):
    from safetensors.torch import load_file

    config = get_workflow(small_project, "quick").config
    config.mode, config.lr, config.lora_dropout = "lora", 2e-3, 0.1
    save_workflow(small_project, "quick", config)
    folder = small_project.folder
    small_project.close()
    _launch(folder, "--workflow", "quick", "--max-steps", "4", fsdp=True)
    _launch(folder, "--workflow", "quick", "--max-steps", "2", fsdp=True)  # warm-up steps: the same learning rates
    with Project.open(folder) as project:  # as if stopped after step 2
        runs.set_status(project, runs.find_run(project, "quick-2"), "stopped")
    _launch(folder, "--resume", "quick-2", "--max-steps", "4", fsdp=True)
    with Project.open(folder, read_only=True) as project:
        whole, resumed = (runs.find_run(project, name) for name in ("quick-1", "quick-2"))
        curves = [[v for _, v in runs.metrics(project, run, "loss")["loss"]] for run in (whole, resumed)]
        assert resumed.status == "finished" and len(curves[0]) == 4
        assert curves[1] == pytest.approx(curves[0], rel=1e-5, abs=1e-6)
        adapter = load_file(whole.folder / whole.summary["last_checkpoint"] / "adapter_model.safetensors")
    rank = config.lora_r
    lora_a = [t for name, t in adapter.items() if "lora_A" in name]
    assert lora_a and all(t.shape[0] == rank and t.shape[1] > 0 for t in lora_a)  # whole tensors, not shards

"""Two processes on the CPU (gloo DDP, launched by torchrun): rank 0 keeps the records, both train."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from studio.dataset.store import Project
from studio.training import runs

ROOT = Path(__file__).resolve().parents[3]


def test_two_processes_train_one_run(small_project):
    folder = small_project.folder
    small_project.close()  # the launched processes open it (rank 0 writable, rank 1 read-only)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "studio", "train", str(folder), "--workflow", "quick", "--max-steps", "2", "--json-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"event": "result"')]
    assert {r["status"] for r in results} == {"finished"}
    with Project.open(folder, read_only=True) as project:
        found = runs.list_runs(project)
        assert [r.name for r in found] == ["quick-1"] and found[0].status == "finished"
        assert found[0].summary["samples"] == 2 * 2 * 4  # 2 steps x 2 processes x batch 4

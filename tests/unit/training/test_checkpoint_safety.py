"""Resuming never unpickles arbitrary objects from a (possibly shared) project folder (issue 17.2)."""

from __future__ import annotations

import pickle

import pytest
import torch

from studio.jobs import CancelToken
from studio.training import checkpoints as ckpt
from studio.training import runs
from studio.training.trainer import RunConfig, TrainingError, train


class _Planted:
    """Unpickling this calls ``Path.write_text(marker, "ran")``: code chosen by whoever wrote the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path

        return Path.write_text, (Path(self.marker), "ran")


def _stopped_run(project, stop_at=2):
    token = CancelToken()

    def on_progress(event):
        if event.kind == "step" and event.step == stop_at:
            token.cancel()

    return train(RunConfig(project.folder, "quick", max_steps=4), on_progress, token)


@pytest.mark.parametrize("name", ["optimizer.pt", "scheduler.pt", "rng.pt"])
def test_a_state_file_that_would_run_code_is_refused_and_not_run(small_project, tmp_path, name):
    stopped = _stopped_run(small_project)
    run = runs.find_run(small_project, stopped.run_name)
    state = ckpt.latest_checkpoint(run.folder) / ckpt.STATE_DIR / name
    marker = tmp_path / "marker"
    with state.open("wb") as file:
        pickle.dump({"state": _Planted(str(marker))}, file)
    with pytest.raises(TrainingError, match=rf"{name}: holds objects other than tensors and numbers.*not loaded"):
        train(RunConfig(small_project.folder, "quick", resume=stopped.run_name, max_steps=4))
    assert not marker.exists()
    assert runs.find_run(small_project, stopped.run_name).status == "failed"


def test_the_states_written_are_plain_tensors_and_numbers(small_project):
    stopped = _stopped_run(small_project)
    folder = ckpt.latest_checkpoint(runs.find_run(small_project, stopped.run_name).folder) / ckpt.STATE_DIR
    for name in ("optimizer.pt", "scheduler.pt", "rng.pt"):
        ckpt.load_state(folder / name)  # weights_only=True: raises on anything else


def test_an_rng_state_saved_by_the_old_code_is_refused_with_the_reason(tmp_path):
    import numpy as np

    path = tmp_path / "rng.pt"
    torch.save([{"numpy": np.random.get_state()}], path)  # the numpy array itself, as before 2026-12-03
    with pytest.raises(ckpt.CheckpointRefused, match=r"rng\.pt: .*written by a VLM Studio before"):
        ckpt.load_state(path)

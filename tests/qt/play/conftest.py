"""Fixtures for the playground and evaluate pages: a small sample project with two runs of tiny checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.dataset.sample import create_sample_project
from tests.unit.inference.conftest import add_run, tiny_checkpoints  # noqa: F401 (fixtures)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


@pytest.fixture
def sample_project(tmp_path, tiny_checkpoints):  # noqa: F811
    with create_sample_project(tmp_path / "sample", count=8) as project:
        project.set_split([i.id for i in project.images()][:2], "val", pinned=True)
        add_run(project, "lora-run", tiny_checkpoints["lora"])
        add_run(project, "full-run", tiny_checkpoints["full"])
        yield project


def save_shot(widget, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    widget.grab().save(str(path))
    return path

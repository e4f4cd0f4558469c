"""A small sample project (24 synthetic images: 22 train, 2 val) with a saved tiny-model workflow."""

from __future__ import annotations

import pytest

from studio.dataset.sample import create_sample_project
from studio.training.config import default_workflow
from studio.training.workflows import save_workflow


@pytest.fixture
def small_project(tmp_path):
    folder = tmp_path / "shapes"
    project = create_sample_project(folder, count=24)
    config = default_workflow("tiny")
    config.batch_size = 4
    config.threads = 1
    config.warmup_steps = 2
    save_workflow(project, "quick", config)
    yield project
    project.close()

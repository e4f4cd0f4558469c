"""Fixtures shared by every test: headless Qt, no network, a fresh project."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from studio.dataset.store import Project


@pytest.fixture
def project(tmp_path):
    """A new, empty project, closed after the test."""
    with Project.create(tmp_path / "project") as opened:
        yield opened

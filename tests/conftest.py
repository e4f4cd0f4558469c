"""Fixtures shared by every test: headless Qt, no network, a fresh project."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from studio.dataset.store import Project


@pytest.fixture(scope="session")
def shapes_image(tmp_path_factory):
    """A 240 x 160 image with a red circle at (40, 30)-(100, 90) and a blue square at (150, 60)-(210, 120)."""
    from PIL import Image, ImageDraw

    path = tmp_path_factory.mktemp("images") / "shapes.png"
    image = Image.new("RGB", (240, 160), "#eeeeee")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 100, 90), fill="red")
    draw.rectangle((150, 60, 210, 120), fill="blue")
    image.save(path)
    return path


@pytest.fixture(autouse=True)
def user_config_dir(tmp_path_factory, monkeypatch):
    """Each test gets its own empty user config folder (trusted model code lives there), never the real one."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("VLM_STUDIO_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def project(tmp_path):
    """A new, empty project, closed after the test."""
    with Project.create(tmp_path / "project") as opened:
        yield opened

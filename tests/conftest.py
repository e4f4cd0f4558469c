"""Fixtures shared by every test: headless Qt, no network, a fresh project."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from studio.dataset.store import Project
from studio.ui.garbage import GuiGarbageCollector


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


@pytest.fixture(autouse=True)
def collect_garbage_between_tests() -> Iterator[None]:
    """A main window turns automatic collection off and collects from Qt's event loop (studio/ui/garbage.py); the
    tests after it, without an event loop, collect between tests as the thresholds say."""
    yield
    if not gc.isenabled():
        GuiGarbageCollector.collect()


@pytest.fixture
def project(tmp_path):
    """A new, empty project, closed after the test."""
    with Project.create(tmp_path / "project") as opened:
        yield opened


# Tables small whatever the number of images: a statement may read them whole on an edit.
# Keys that find a bounded number of rows of a large table (a row, an image's rows); a label or a status does not.
PER_IMAGE_KEYS = r"\((image_id|id|rowid|phrase_id|box_id)=\?"
SMALL_TABLES = {"labels", "label_counts", "question_counts", "meta", "workflows", "runs", "sqlite_master", "CONSTANT"}


@contextmanager
def full_scans(project: Project) -> Iterator[list[str]]:
    """``with full_scans(project) as scans:`` after the block, ``scans`` lists the statements run on the project's
    connection inside it that read a table growing with the project in full, by a range or by a key shared by many
    images (their query plan has ``SCAN boxes`` or ``SEARCH boxes USING INDEX boxes_label (label_id=?)``), each as
    'table: statement'."""
    statements: list[str] = []
    scans: list[str] = []
    project.conn.set_trace_callback(statements.append)
    try:
        yield scans
    finally:
        project.conn.set_trace_callback(None)
    for sql in dict.fromkeys(statements):
        if not re.match(r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b", sql, re.IGNORECASE):
            continue
        for *_, detail in project.conn.execute("EXPLAIN QUERY PLAN " + sql):
            found = re.match(r"(SCAN|SEARCH) (\w+)", detail)
            keyed = found and found.group(1) == "SEARCH" and re.search(PER_IMAGE_KEYS, detail)
            if found and not keyed and found.group(2) not in SMALL_TABLES:
                scans.append(f"{found.group(2)}: {sql}")

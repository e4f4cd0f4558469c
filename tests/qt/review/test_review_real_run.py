"""Find mistakes with the real review core and a tiny trained checkpoint: the window's job runs it to the end."""

from __future__ import annotations

import json
import shutil
import sqlite3

from PySide6.QtCore import Qt

from studio.dataset.sample import create_sample_project
from tests.unit.inference.conftest import tiny_checkpoints  # noqa: F401 (fixture)


def test_find_mistakes_with_a_tiny_run_reviews_every_image(window, qtbot, tmp_path, tiny_checkpoints):  # noqa: F811
    create_sample_project(tmp_path / "s", count=4).close()
    checkpoint = tiny_checkpoints["full"]
    shutil.copytree(checkpoint.parent.parent, tmp_path / "s" / "runs" / "tiny-run")
    summary = {"best_checkpoint": f"checkpoints/{checkpoint.name}"}
    with sqlite3.connect(tmp_path / "s" / "project.vlmstudio.sqlite") as conn:
        conn.execute("INSERT INTO runs (name, status, folder, config, summary) VALUES (?, 'finished', ?, ?, ?)",
                     ("tiny-run", "runs/tiny-run", json.dumps({"model_id": "tiny"}), json.dumps(summary)))  # fmt: skip
    assert window.open_project(tmp_path / "s")
    dock = window.review.dock
    assert dock.run_box.currentText() == "tiny-run"
    qtbot.mouseClick(dock.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.busy, timeout=240_000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Review with tiny-run done: 4 images checked"), message
    assert dock.run_box.currentText() == "tiny-run · reviewed"
    assert dock.again_button.isVisible()

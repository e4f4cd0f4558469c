"""Writes made by another connection (a worker, the CLI in another process) reach the open window unasked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QRectF

from studio.dataset.sample import create_sample_project
from studio.dataset.store import DB_NAME, NewImage

ROOT = Path(__file__).resolve().parents[2]


def _shown_box(window):
    """The id and stored rectangle of the first box of the image on the canvas."""
    box = window.project.boxes(window.annotate.workspace.image_id)[0]
    return box.id, QRectF(box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1)


def _shows(window, box_id: int, rect: QRectF) -> bool:
    item = window.annotate.workspace.canvas.box_item(box_id)
    return item is not None and item.rect() == rect


def test_a_box_moved_by_another_connection_appears_within_a_second(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    assert window.open_project(tmp_path / "s")
    box_id, before = _shown_box(window)
    assert _shows(window, box_id, before)
    with sqlite3.connect(tmp_path / "s" / DB_NAME) as other:
        other.execute("UPDATE boxes SET x1 = 3, y1 = 4, x2 = 50, y2 = 60 WHERE id = ?", (box_id,))
    qtbot.waitUntil(lambda: _shows(window, box_id, QRectF(3, 4, 47, 56)), timeout=2000)
    assert window.images.current_image_id() == window.annotate.workspace.image_id


def test_a_read_only_window_follows_a_writer_in_another_process(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    assert window.open_project(tmp_path / "s", read_only=True)
    box_id, _ = _shown_box(window)
    code = ("import sys; from studio.dataset.store import Project\n"
            "with Project.open(sys.argv[1]) as p: p.update_box(int(sys.argv[2]), x1=5, y1=6, x2=40, y2=30)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "s"), str(box_id)], cwd=ROOT, check=True)
    qtbot.waitUntil(lambda: _shows(window, box_id, QRectF(5, 6, 35, 24)), timeout=2000)


def test_a_worker_connection_edit_shows_without_reloading_the_image_list(window, tmp_path, qtbot, monkeypatch):
    create_sample_project(tmp_path / "s", count=5).close()
    assert window.open_project(tmp_path / "s")
    box_id, _ = _shown_box(window)
    reloads = []
    monkeypatch.setattr(window, "reload_images", lambda: reloads.append(1))
    with window.project.reopen() as worker:  # what a Job does in its thread
        worker.update_box(box_id, x1=8, y1=9, x2=30, y2=40)
    qtbot.waitUntil(lambda: _shows(window, box_id, QRectF(8, 9, 22, 31)), timeout=2000)
    assert reloads == []  # a precise change, not "reload everything"


def test_images_added_by_a_worker_connection_join_the_image_list(window, tmp_path, qtbot):
    create_sample_project(tmp_path / "s", count=5).close()
    assert window.open_project(tmp_path / "s")
    with window.project.reopen() as worker:  # what the import job does in its thread
        worker.add_images([NewImage(str(tmp_path / "elsewhere.png"), 10, 10)])
    qtbot.waitUntil(lambda: window.images.model.total() == 6, timeout=2000)

"""The main window with the Review queue raised and the worst suspect shown (its box selected, the model's box
dashed): ``artifacts/review-queue.png``. Under Xvfb for the real look: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s
"-screen 0 1600x1000x24" python -m pytest tests/qt/review/test_review_screenshot.py``."""

from __future__ import annotations

from tests.screenshots import save_shot


def test_review_queue_screenshot(window, qtbot, reviewed):
    window.resize(1400, 860)
    assert window.open_project(reviewed.folder)
    dock = window.review.dock
    dock.show()
    dock.raise_()
    dock.select_row(0)
    dock.show_current()
    qtbot.wait(200)
    path = save_shot(window, "review-queue.png")
    assert path.stat().st_size > 20_000

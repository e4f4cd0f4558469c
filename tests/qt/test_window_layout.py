"""The window's layout at the size a first start opens it (1,400 x 860): mode switches keep the docks usable, the
saved layout is annotate's, View > Reset layout, and the mouse wheel scrolls instead of changing settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QTabBar, QWidget

from studio.dataset.sample import create_sample_project
from studio.ui import theme
from studio.ui.dock_layout import DEFAULT_RIGHT_WIDTH, LAYOUT_VERSION, SIDE_DOCK_MIN_WIDTH
from studio.ui.main_window import MainWindow


def first_start_window(qtbot, settings) -> MainWindow:
    window = MainWindow(settings)  # no saved geometry: 1,400 x 860
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.playground_page is not None and window.models.ready,
                    timeout=20000)
    return window


@pytest.fixture
def window(qtbot, qapp, settings):
    theme.apply(qapp)
    main = first_start_window(qtbot, settings)
    yield main
    main.set_project(None)


@pytest.fixture
def sample(tmp_path):
    create_sample_project(tmp_path / "s", count=30).close()
    return tmp_path / "s"


def right_column(window: MainWindow) -> list[QDockWidget]:
    return [window.annotate.docks[key] for key in ("labels", "caption", "vqa")]


def assert_tabs_read_in_full(window: MainWindow) -> None:
    bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window and bar.isVisible()]
    titles = sorted(tuple(bar.tabText(i) for i in range(bar.count())) for bar in bars)
    assert titles == [("Caption and phrases", "Review queue"), ("Labels", "Token budget"),
                      ("Questions and answers", "Training text")]  # no stale bars
    for bar in bars:
        for index in range(bar.count()):
            text = bar.tabText(index)
            assert bar.tabRect(index).width() > bar.fontMetrics().horizontalAdvance(text), text


def wheel(widget: QWidget, steps: int) -> None:
    """One notch of the wheel per step over the middle of ``widget`` (negative: towards the user)."""
    position = QPointF(widget.rect().center())
    event = QWheelEvent(position, QPointF(widget.mapToGlobal(position)), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_visiting_train_keeps_the_window_width_and_the_right_hand_column(window, sample, qtbot):
    window.open_project(sample)
    assert window.width() == 1400
    widths = [dock.width() for dock in right_column(window)]
    assert min(widths) >= DEFAULT_RIGHT_WIDTH - 2
    assert_tabs_read_in_full(window)
    window.set_mode("train")
    qtbot.wait(50)
    assert window.width() == 1400
    window.set_mode("playground")
    window.set_mode("annotate")
    qtbot.wait(50)
    assert window.width() == 1400
    assert [dock.width() for dock in right_column(window)] == widths
    labels = window.annotate.docks["labels"]
    assert not labels.visibleRegion().isEmpty() and window.models.budget_dock.visibleRegion().isEmpty()
    assert_tabs_read_in_full(window)


def test_the_layout_saved_in_train_mode_is_annotate_s_and_comes_back(window, sample, settings, qtbot):
    window.open_project(sample)
    window.annotate.docks["vqa"].hide()  # the person's choice is kept
    widths = [dock.width() for dock in right_column(window)[:2]]
    window.set_mode("train")
    window.close()
    settings.remove("mainWindow/geometry")  # the offscreen screen is 800 x 600: the window would shrink to it
    again = first_start_window(qtbot, settings)
    try:
        again.open_project(sample)
        assert again.width() == 1400 and again.current_mode() == "annotate"
        assert [dock.width() for dock in right_column(again)[:2]] == widths
        assert again.annotate.docks["labels"].isVisible() and again.annotate.docks["vqa"].isHidden()
    finally:
        again.set_project(None)


def test_a_layout_saved_by_an_older_version_is_replaced_by_the_default(window, settings, qtbot):
    window.annotate.docks["caption"].hide()
    settings.setValue("mainWindow/state", window.saveState(LAYOUT_VERSION - 1))  # could squeeze the right column
    again = first_start_window(qtbot, settings)
    assert again.annotate.docks["caption"].isVisible()
    assert min(dock.width() for dock in right_column(again)) >= DEFAULT_RIGHT_WIDTH - 2


def test_docks_cannot_be_squeezed_below_a_readable_width(window):
    window.resizeDocks([window.annotate.docks["caption"]], [120], Qt.Orientation.Horizontal)
    window.layout().activate()
    assert min(dock.width() for dock in right_column(window)) >= SIDE_DOCK_MIN_WIDTH


def test_reset_layout_restores_the_default_docks_and_sizes(window, sample, settings, qtbot):
    window.open_project(sample)
    default = {dock.objectName(): dock.size() for dock in right_column(window)}
    caption, vqa = window.annotate.docks["caption"], window.annotate.docks["vqa"]
    caption.setFloating(True)
    vqa.hide()
    window.models.budget_dock.raise_()
    window.resizeDocks([window.annotate.docks["labels"]], [SIDE_DOCK_MIN_WIDTH], Qt.Orientation.Horizontal)
    window.close()  # saves the changed layout
    window.show()
    assert settings.contains("mainWindow/state")
    window.reset_layout_action.trigger()
    window.layout().activate()
    assert not caption.isFloating() and vqa.isVisible()
    assert {dock.objectName(): dock.size() for dock in right_column(window)} == default
    assert not window.annotate.docks["labels"].visibleRegion().isEmpty()
    assert_tabs_read_in_full(window)
    assert not settings.contains("mainWindow/state")


def test_reset_layout_in_train_mode_keeps_train_s_width(window, sample, qtbot):
    window.open_project(sample)
    window.set_mode("train")
    window.reset_layout_action.trigger()
    assert window.width() == 1400 and not window.image_dock.isVisible()
    window.set_mode("annotate")
    assert window.image_dock.isVisible() and min(d.width() for d in right_column(window)) >= DEFAULT_RIGHT_WIDTH - 2


def test_the_label_list_shows_the_sample_s_nine_labels_without_scrolling(window, sample, qtbot):
    window.open_project(sample)
    tree = window.annotate.workspace.label_panel.tree
    assert tree.topLevelItemCount() == 9
    qtbot.wait(50)  # the list lays itself out
    assert tree.verticalScrollBar().maximum() == 0


def test_the_wheel_scrolls_the_train_settings_and_changes_only_a_focused_number(window, sample, qtbot):
    window.open_project(sample)
    window.set_mode("train")
    page = window.mode_pages["train"]
    spin = page.form.editors["max_seq_len"][1]
    mode = page.form.editors["mode"][1]
    scroll = next(area for area in page.findChildren(QScrollArea) if area.isAncestorOf(spin))
    assert spin.focusPolicy() == mode.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives no focus
    value, index, bar = spin.value(), mode.currentIndex(), scroll.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    wheel(spin, -1)
    wheel(mode, -1)
    assert spin.value() == value and mode.currentIndex() == index
    assert bar.value() > 0  # the page scrolled instead
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel(spin, -1)
    assert spin.value() == value - 1



def test_a_link_suggestion_takes_one_line_and_leaves_the_phrase_table_its_rows(window, sample, qtbot):
    window.open_project(sample)
    project = window.project
    project.set_caption(2, "a red ball next to a green block and a blue wedge near another red ball")
    boxes = {"red ball": (10, 10, 50, 50), "green block": (60, 60, 99, 99), "blue wedge": (9, 60, 40, 99)}
    for name, box in boxes.items():
        project.add_box(2, project.ensure_label(name).id, *box)
    window.images.select_image(2)
    qtbot.wait(50)
    panel = window.annotate.workspace.caption_panel
    assert len(panel.suggestions()) == 3 and panel.suggest_button.isVisible()
    assert panel.suggestion.height() < 2 * panel.suggestion.fontMetrics().lineSpacing()
    assert "+2 more" in panel.suggestion.toolTip()
    phrases = panel.phrases
    assert phrases.topLevelItemCount() >= 1
    assert phrases.viewport().height() >= 3 * phrases.sizeHintForRow(0)
    assert phrases.horizontalScrollBar().maximum() == 0  # both columns fit the panel's width

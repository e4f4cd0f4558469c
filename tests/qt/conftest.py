"""Fixtures for widget tests: a main window with settings kept in the test's folder."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from studio.ui import theme
from studio.ui.main_window import MainWindow


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, qapp, settings):
    theme.apply(qapp)
    main = MainWindow(settings)
    qtbot.addWidget(main)
    main.resize(1200, 800)
    main.show()
    qtbot.waitUntil(lambda: main.models.ready, timeout=20000)  # docks come after the first paint
    yield main
    main.set_project(None)

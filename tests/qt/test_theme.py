"""The theme: a disabled button reads as disabled (lighter text and icon than an enabled one)."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from studio.ui import theme


def _darkest(button: QPushButton) -> int:
    image = button.grab().toImage()
    return min(image.pixelColor(x, y).lightness() for x in range(image.width()) for y in range(image.height()))


def test_disabled_buttons_look_disabled(qtbot, qapp):
    theme.apply(qapp)
    buttons = []
    for enabled in (True, False):
        button = QPushButton(theme.icon("mdi6.stop"), "Stop")
        button.setEnabled(enabled)
        qtbot.addWidget(button)
        button.resize(100, 30)
        button.show()
        buttons.append(button)
    enabled_ink, disabled_ink = (_darkest(b) for b in buttons)
    assert disabled_ink > enabled_ink + 40

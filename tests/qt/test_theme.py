"""The theme: a disabled button reads as disabled (lighter text and icon than an enabled one); phrase highlights and
tag text read whatever the label colour."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
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


PALE = ("#fabed4", "#dcbeff", "#aaffc3", "#ffff99", "#eeeeee", "#9e9e9e")  # pale user picks, and grey


@pytest.mark.parametrize("dark", [False, True])
def test_phrase_highlights_stand_out_and_their_text_reads_whatever_the_label_colour(monkeypatch, dark):
    from studio.dataset.store import PALETTE

    monkeypatch.setattr(theme, "is_dark", lambda: dark)
    field = QColor(theme.colours()["base"])
    for color in (*PALETTE, *PALE):
        background, text = theme.phrase_highlight(color)
        hot_background, hot_text = theme.phrase_highlight(color, hot=True)
        assert theme.contrast(background, field) >= 1.4, color  # visible against the text field
        assert theme.contrast(hot_background, field) > theme.contrast(background, field) + 0.5, color
        assert theme.contrast(text, background) >= 4.5 and theme.contrast(hot_text, hot_background) >= 4.5, color
        if QColor(color).hslSaturationF() > 0.3:  # the highlight keeps the label's hue
            turn = abs(background.hslHueF() - QColor(color).hslHueF())
            assert min(turn, 1 - turn) < 0.03, color


def test_text_on_picks_the_readable_ink():
    assert theme.text_on(QColor("#e6b800")) == QColor("#000000")  # gold: light by luminance, not by lightness
    assert theme.text_on(QColor("#000075")) == QColor("#ffffff")

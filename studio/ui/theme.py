"""One look for the whole window: Fusion style, a palette that follows the system's light or dark scheme,
one accent colour, one icon set (qtawesome, Material Design Icons)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from studio.ui.wheel_guard import WheelGuardStyle

ACCENT = "#3a7bd5"
_DARK = {"window": "#202226", "base": "#17181b", "alt": "#24262b", "text": "#e6e7ea", "muted": "#8b9099",
         "button": "#2b2e33", "border": "#363a41"}
_LIGHT = {"window": "#f3f4f6", "base": "#ffffff", "alt": "#f7f8fa", "text": "#1d1f23", "muted": "#6b7280",
          "button": "#ffffff", "border": "#d7dae0"}


def is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def colours() -> dict[str, str]:
    return dict(_DARK if is_dark() else _LIGHT, accent=ACCENT)


def apply(app: QApplication) -> None:
    """Style the application; call again when the system scheme changes."""
    app.setStyle(WheelGuardStyle("Fusion"))
    c = colours()
    palette = QPalette()
    for role, key in (
        (QPalette.ColorRole.Window, "window"), (QPalette.ColorRole.Base, "base"),
        (QPalette.ColorRole.AlternateBase, "alt"), (QPalette.ColorRole.Text, "text"),
        (QPalette.ColorRole.WindowText, "text"), (QPalette.ColorRole.ButtonText, "text"),
        (QPalette.ColorRole.Button, "button"), (QPalette.ColorRole.ToolTipBase, "base"),
        (QPalette.ColorRole.ToolTipText, "text"), (QPalette.ColorRole.PlaceholderText, "muted"),
        (QPalette.ColorRole.Mid, "border"),
    ):
        palette.setColor(role, QColor(c[key]))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["muted"]))  # disabled reads as disabled
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    app.setPalette(palette)
    app.setStyleSheet(_STYLE.format(**c))


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2): 0 for black, 1 for white."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours: 1 (same) to 21 (black on white); body text wants 4.5."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    black, white = QColor("#000000"), QColor("#ffffff")
    return black if contrast(black, background) >= contrast(white, background) else white


def phrase_highlight(color: str, *, hot: bool = False) -> tuple[QColor, QColor]:
    """Background and text colour for a phrase highlighted in its box's label colour, readable on this theme's
    text field whatever the colour: the hue is kept, a pale or dull colour is deepened (saturation at least 0.6,
    lightness 0.3-0.6, then moved away from the field until it contrasts 3:1 with it), laid over the field at 50 %
    (90 % when ``hot``: the phrase or its box is hovered), and the text is black or white by luminance."""
    background, text = _phrase_highlight(color, hot, colours()["base"])
    return QColor(background), QColor(text)


@lru_cache(maxsize=512)
def _phrase_highlight(color: str, hot: bool, base_colour: str) -> tuple[QColor, QColor]:
    """``phrase_highlight`` for a theme's text field colour, worked out once per colour (a caption shows several
    phrases on every image)."""
    base = QColor(base_colour)
    hue, saturation, lightness, _alpha = QColor(color).getHslF()
    if saturation >= 0.08:  # a grey stays grey
        saturation = max(saturation, 0.6)
    lightness = min(max(lightness, 0.3), 0.6)
    step = -0.02 if luminance(base) > 0.18 else 0.02
    tint = QColor.fromHslF(max(hue, 0.0), saturation, lightness)
    while contrast(tint, base) < 3.0 and 0.0 < lightness < 1.0:
        lightness = min(max(lightness + step, 0.0), 1.0)
        tint = QColor.fromHslF(max(hue, 0.0), saturation, lightness)
    weight = 0.9 if hot else 0.5
    background = QColor.fromRgbF(*(b + (t - b) * weight for b, t in (
        (base.redF(), tint.redF()), (base.greenF(), tint.greenF()), (base.blueF(), tint.blueF()))))
    return background, text_on(background)


def icon(name: str, *, color: str | None = None) -> QIcon:
    """An icon from the one icon set, e.g. ``icon("mdi6.folder-open")``."""
    import qtawesome

    c = colours()
    return qtawesome.icon(name, color=color or c["text"], color_active=ACCENT, color_disabled=c["muted"])


_STYLE = """
QMainWindow::separator {{ background: {border}; width: 1px; height: 1px; }}
QDockWidget {{ titlebar-close-icon: none; }}
QDockWidget::title {{ padding: 6px 8px; background: {window}; color: {muted}; font-weight: 600; }}
QToolBar#modeRail {{ background: {alt}; border: none; border-right: 1px solid {border}; padding: 6px 2px;
                     spacing: 4px; }}
QToolBar#modeRail QToolButton {{ border-radius: 8px; padding: 6px 2px; margin: 0 4px; color: {muted};
                                 font-size: 11px; min-width: 58px; }}
QToolBar#modeRail QToolButton:checked {{ background: {accent}; color: white; }}
QToolBar#modeRail QToolButton:hover:!checked {{ background: {border}; }}
QStatusBar {{ border-top: 1px solid {border}; color: {muted}; }}
QStatusBar QLabel {{ padding: 0 8px; color: {muted}; }}
QListView {{ border: none; }}
QLineEdit, QPlainTextEdit, QTextEdit {{ border: 1px solid {border}; border-radius: 5px; padding: 3px 6px;
    background: {base}; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border-color: {accent}; }}
QPushButton {{ border: 1px solid {border}; border-radius: 5px; padding: 4px 12px; background: {button}; }}
QPushButton:hover {{ border-color: {accent}; }}
QPushButton[primary="true"] {{ background: {accent}; color: white; border-color: {accent}; font-weight: 600; }}
QPushButton:disabled {{ color: {muted}; background: {alt}; border-color: {border}; }}
QPushButton[primary="true"]:disabled {{ background: {border}; border-color: {border}; color: {muted}; }}
QLabel[role="empty"] {{ color: {muted}; font-size: 14px; }}
QLabel[role="heading"] {{ font-size: 16px; font-weight: 600; }}
QProgressBar {{ border: 1px solid {border}; border-radius: 4px; text-align: center; max-height: 14px; }}
QProgressBar::chunk {{ background: {accent}; border-radius: 3px; }}
"""

"""One look for the whole window: Fusion style, a palette that follows the system's light or dark scheme,
one accent colour, one icon set (qtawesome, Material Design Icons)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

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
    app.setStyle("Fusion")
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

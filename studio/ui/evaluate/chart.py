"""A grouped bar chart comparing evaluated checkpoints: grounding F1@0.5 and mAP, VQA ANLS."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from studio.ui import theme

SERIES = (("F1@0.5", "grounding", "f1@0.5", "#3a7bd5"), ("mAP", "grounding", "mAP", "#ff7f0e"),
          ("ANLS", "vqa", "anls", "#2ca02c"))
TOP = 1.15  # scores go to 1; the legend sits above


class ScoreChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        colours = theme.colours()
        super().__init__(parent, background=colours["base"], enableMenu=False)  # a menu built, then dropped: 0.3 s
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, TOP)
        self.getPlotItem().showGrid(y=True, alpha=0.2)
        self.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self.legend = self.addLegend(offset=(-10, 4), colCount=len(SERIES))  # one row, above the bars' reach
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(colours["muted"])
            self.getAxis(axis).setPen(colours["border"])
        self.getAxis("bottom").setHeight(2 * QFontMetrics(self.font()).height() + 14)  # names on two lines
        self.setMinimumHeight(160)
        self.names: list[str] = []  # the groups' names along the axis

    def show_scores(self, runs: list[tuple[str, dict[str, Any]]]) -> None:
        """One group of bars per evaluated checkpoint, named along the axis."""
        self.names = [name for name, _ in runs]
        self.clear()
        self.legend.clear()
        width = 0.8 / len(SERIES)
        for n, (title, section, key, colour) in enumerate(SERIES):
            heights = [max(summary.get(section, {}).get(key, 0.0) or 0.0, 0.0) for _, summary in runs]
            if not runs:
                continue
            bars = pg.BarGraphItem(x=[i - 0.4 + width * (n + 0.5) for i in range(len(runs))], height=heights,
                                   width=width, brush=colour, pen=None, name=title)
            self.addItem(bars)  # named items join the legend
        # "default-1 (before training)" on two lines: the groups' names fit side by side
        self.getAxis("bottom").setTicks([[(i, name.replace(" (", "\n(", 1)) for i, name in enumerate(self.names)]])
        self.setXRange(-0.6, max(len(runs) - 0.4, 0.6))
        self.setYRange(0, TOP)

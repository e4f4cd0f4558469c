"""A grouped bar chart comparing runs: grounding F1@0.5 and mAP, VQA ANLS."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from studio.ui import theme

SERIES = (("F1@0.5", "grounding", "f1@0.5", "#3a7bd5"), ("mAP", "grounding", "mAP", "#ff7f0e"),
          ("ANLS", "vqa", "anls", "#2ca02c"))


class ScoreChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        colours = theme.colours()
        super().__init__(parent, background=colours["base"])
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, 1)
        self.getPlotItem().showGrid(y=True, alpha=0.2)
        self.legend = self.addLegend(offset=(-10, 10))
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(colours["muted"])
            self.getAxis(axis).setPen(colours["border"])
        self.setMinimumHeight(160)

    def show_scores(self, runs: list[tuple[str, dict[str, Any]]]) -> None:
        """One group of bars per run."""
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
        self.getAxis("bottom").setTicks([[(i, name) for i, (name, _) in enumerate(runs)]])
        self.setXRange(-0.6, max(len(runs) - 0.4, 0.6))
        self.setYRange(0, 1)

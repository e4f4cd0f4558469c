"""Live training curves (pyqtgraph): train and validation loss above, learning rate below, and a stats line."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui import theme


class CurvesView(QWidget):
    """Collects (step, value) points and redraws at most a few times per second."""

    def __init__(self) -> None:
        super().__init__()
        colours = theme.colours()
        pg.setConfigOptions(antialias=True, background=colours["base"], foreground=colours["text"])
        self.stats = QLabel("No run yet: choose a workflow and press Start.")
        self.stats.setObjectName("trainStats")
        self.stats.setWordWrap(True)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_plot.setLabel("bottom", "step")
        self.lr_plot = pg.PlotWidget(title="Learning rate")
        self.lr_plot.showGrid(x=True, y=True, alpha=0.2)
        self.lr_plot.setXLink(self.loss_plot)
        self.lr_plot.setMaximumHeight(180)
        raw = QColor(colours["muted"])
        raw.setAlpha(70)  # per-batch losses: faint, so the smoothed curve reads first
        self.raw_curve = self.loss_plot.plot(pen=pg.mkPen(raw, width=1))
        self.train_curve = self.loss_plot.plot(name="train loss (smoothed)", pen=pg.mkPen(theme.ACCENT, width=2))
        self.val_curve = self.loss_plot.plot(name="val loss", pen=pg.mkPen("#e8853d", width=2), symbol="o",
                                             symbolSize=6, symbolBrush="#e8853d")
        self.lr_curve = self.lr_plot.plot(pen=pg.mkPen("#2ca02c", width=2))
        layout = QVBoxLayout(self)
        layout.addWidget(self.stats)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.lr_plot, 1)
        self.series: dict[str, list[tuple[int, float]]] = {"loss": [], "val_loss": [], "lr": []}
        self._compared: list = []
        self._dirty = False
        self._timer = QTimer(self, interval=250)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def clear(self) -> None:
        for points in self.series.values():
            points.clear()
        self._dirty = True

    def set_series(self, series: dict[str, list[tuple[int, float]]]) -> None:
        """Show a stored run's metrics."""
        self.clear()
        for name in self.series:
            self.series[name].extend(series.get(name, []))
        self._redraw()

    def compare(self, others: dict[str, dict[str, list[tuple[int, float]]]]) -> None:
        """Overlay other runs' validation loss (dashed) and smoothed train loss (thin) for comparison."""
        for item in self._compared:
            self.loss_plot.removeItem(item)
        self._compared = []
        palette = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
        for n, (name, series) in enumerate(others.items()):
            colour = palette[n % len(palette)]
            loss = series.get("loss", [])
            val = series.get("val_loss", [])
            self._compared.append(self.loss_plot.plot([p[0] for p in loss], smoothed([v for _, v in loss]),
                                                      pen=pg.mkPen(colour, width=1), name=f"{name} train"))
            dashed = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine)
            self._compared.append(self.loss_plot.plot([p[0] for p in val], [v for _, v in val], pen=dashed,
                                                      name=f"{name} val"))

    def add(self, step: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            if name in self.series:
                points = self.series[name]
                while points and points[-1][0] >= step:  # a resumed run repeats no step
                    points.pop()
                points.append((step, value))
                self._dirty = True

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for name, curve in (("loss", self.raw_curve), ("val_loss", self.val_curve), ("lr", self.lr_curve)):
            points = self.series[name]
            curve.setData([p[0] for p in points], [p[1] for p in points])
        self.train_curve.setData([p[0] for p in self.series["loss"]], smoothed([v for _, v in self.series["loss"]]))


def smoothed(values: list[float]) -> list[float]:
    """TensorBoard-style exponential smoothing, debiased at the start, over a window of ~5 % of the run (at least
    10 steps): length-grouped batches of different tasks have very different losses, and the trend must read."""
    weight = 1 - 1 / max(10, len(values) // 20)
    out, last = [], 0.0
    for n, value in enumerate(values, start=1):
        last = weight * last + (1 - weight) * value
        out.append(last / (1 - weight**n))
    return out

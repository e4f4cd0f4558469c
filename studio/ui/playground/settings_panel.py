"""The playground's collapsible generation settings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.inference.generation import GenerationSettings


class GenerationPanel(QWidget):
    """A "Generation settings" header that folds open the sampling controls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = GenerationSettings()
        self.toggle = QToolButton()
        self.toggle.setText("Generation settings")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.body = QWidget()
        form = QFormLayout(self.body)
        form.setContentsMargins(16, 0, 0, 0)
        self.max_new_tokens = QSpinBox(minimum=1, maximum=8192, value=defaults.max_new_tokens)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.1, value=defaults.temperature)
        self.temperature.setSpecialValueText("0 (greedy)")
        self.top_p = QDoubleSpinBox(minimum=0.01, maximum=1.0, singleStep=0.05, value=defaults.top_p)
        self.top_k = QSpinBox(minimum=0, maximum=1000, value=defaults.top_k)
        self.top_k.setSpecialValueText("off")
        self.repetition_penalty = QDoubleSpinBox(minimum=0.5, maximum=3.0, singleStep=0.05,
                                                 value=defaults.repetition_penalty)
        self.seed = QSpinBox(minimum=-1, maximum=2**31 - 1, value=-1)
        self.seed.setSpecialValueText("random")
        for label, widget in (("Max new tokens", self.max_new_tokens), ("Temperature", self.temperature),
                              ("Top-p", self.top_p), ("Top-k", self.top_k),
                              ("Repetition penalty", self.repetition_penalty), ("Seed", self.seed)):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.body.setVisible(False)
        self.toggle.toggled.connect(self._fold)

    def _fold(self, open_: bool) -> None:
        self.body.setVisible(open_)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)

    def settings(self) -> GenerationSettings:
        return GenerationSettings(
            max_new_tokens=self.max_new_tokens.value(),
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            repetition_penalty=self.repetition_penalty.value(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
        )

"""The workflow settings form: every `WorkflowConfig` field, grouped, validated as it is edited."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import load_catalog
from studio.training.config import BOUNDS, MODE_NAMES, MODES, AugmentConfig, TaskMixConfig, WorkflowConfig
from studio.training.device import PRECISIONS
from studio.training.schedule import SCHEDULES

# (group title, [(field, label, kind, options)]); kind: int, float (options: decimals, step; the bounds of both:
# config.BOUNDS), bool, choice, text, list
GROUPS: list[tuple[str, list[tuple[str, str, str, Any]]]] = [
    ("Model", [
        ("model_id", "Model", "choice", None),
        ("model_folder", "Local weights folder", "text", "catalog default"),
        ("mode", "Training mode", "choice", [(MODE_NAMES[m], m) for m in MODES]),
    ]),
    ("Schedule", [
        ("epochs", "Epochs", "float", (1, 0.5)),
        ("lr", "Learning rate", "float", (7, 1e-4)),
        ("schedule", "Schedule", "choice", [(s, s) for s in SCHEDULES]),
        ("warmup_steps", "Warm-up steps", "int", None),
        ("lr_floor", "Final lr fraction", "float", (3, 0.01)),
        ("weight_decay", "Weight decay", "float", (4, 0.001)),
        ("max_grad_norm", "Gradient clipping", "float", (2, 0.1)),
    ]),
    ("Batches", [
        ("batch_size", "Batch size", "int", None),
        ("grad_accum", "Gradient accumulation", "int", None),
        ("max_seq_len", "Max sequence length", "int", None),
        ("min_pixels", "Min pixels (0 = model's)", "int", None),
        ("max_pixels", "Max pixels (0 = model's)", "int", None),
        ("max_tiles", "Max tiles (0 = model's; InternVL)", "int", None),
    ]),
    ("Vision and LoRA", [
        ("train_vision", "Train the vision tower", "bool", None),
        ("train_projector", "Train the projector", "bool", None),
        ("lora_r", "LoRA rank", "int", None),
        ("lora_alpha", "LoRA alpha", "int", None),
        ("lora_dropout", "LoRA dropout", "float", (2, 0.05)),
        ("lora_targets", "LoRA targets (blank = model's)", "list", "q_proj, v_proj, …"),
        ("grad_checkpointing", "Gradient checkpointing", "bool", None),
    ]),
    ("Data", [
        ("task_mix.caption", "Caption grounding", "bool", None),
        ("task_mix.phrases", "Phrase grounding", "bool", None),
        ("task_mix.vqa", "VQA", "bool", None),
        ("train_split", "Train split", "choice", [("train", "train"), ("val", "val"), ("test", "test")]),
        ("val_split", "Validation split", "choice", [("val", "val"), ("test", "test"), ("train", "train")]),
        ("system_prompts.grounding", "System prompt (grounding)", "prompt", "grounding"),
        ("system_prompts.vqa", "System prompt (VQA)", "prompt", "vqa"),
    ]),
    ("Augmentation (box-aware)", [
        ("augment.scale", "Scale ±", "float", (2, 0.05)),
        ("augment.crop", "Crop up to", "float", (2, 0.05)),
        ("augment.colour", "Colour jitter", "float", (2, 0.1)),
        ("augment.hflip", "Horizontal flip (no left/right texts)", "bool", None),
    ]),
    ("Run", [
        ("precision", "Precision", "choice", [(p, p) for p in PRECISIONS]),
        ("device", "Device", "choice", [("auto", "auto"), ("cpu", "cpu"), ("cuda", "cuda"), ("mps", "mps")]),
        ("threads", "CPU threads (0 = cores - 1)", "int", None),
        ("seed", "Seed", "int", None),
        ("eval_every", "Validate every N steps (0 = epoch)", "int", None),
        ("save_every", "Save every N steps (0 = epoch)", "int", None),
        ("keep_last", "Keep last checkpoints", "int", None),
    ]),
]


LORA_KEYS = ("lora_r", "lora_alpha", "lora_dropout", "lora_targets")


class WorkflowForm(QWidget):
    """Edits one `WorkflowConfig`; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.editors: dict[str, tuple[str, QWidget]] = {}
        self.labels: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, rows in GROUPS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for key, label, kind, options in rows:
                editor = self._editor(key, kind, options)
                self.editors[key] = (kind, editor)
                self.labels[key] = QLabel(label)
                form.addRow(self.labels[key], editor)
            layout.addWidget(box)
        layout.addStretch(1)
        self.editors["mode"][1].currentIndexChanged.connect(self._follow_mode)
        self._follow_mode()

    def _follow_mode(self) -> None:
        """The LoRA settings apply to LoRA and QLoRA runs only: greyed out for full fine-tuning."""
        lora = self.editors["mode"][1].currentData() != "full"
        for key in LORA_KEYS:
            self.editors[key][1].setEnabled(lora)
            self.labels[key].setEnabled(lora)

    def _editor(self, key: str, kind: str, options: Any) -> QWidget:
        if kind == "int":
            editor = QSpinBox()
            editor.setRange(*BOUNDS[key][1:])
            editor.valueChanged.connect(self.changed)
        elif kind == "float":
            decimals, step = options
            editor = QDoubleSpinBox()
            editor.setRange(*BOUNDS[key][1:])
            editor.setDecimals(decimals)
            editor.setSingleStep(step)
            editor.valueChanged.connect(self.changed)
        elif kind == "bool":
            editor = QCheckBox()
            editor.toggled.connect(self.changed)
        elif kind == "choice":
            editor = QComboBox()
            choices = options or [(f"{e.name}", e.id) for e in load_catalog().values() if e.available]
            for text, value in choices:
                editor.addItem(text, value)
            editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            editor.setMinimumContentsLength(10)
            editor.currentIndexChanged.connect(self.changed)
        elif kind == "prompt":
            editor = QPlainTextEdit()
            editor.setPlaceholderText("the shipped default (studio/resources/prompts)")
            editor.setFixedHeight(64)
            editor.textChanged.connect(self.changed)
        else:  # text, list
            editor = QLineEdit()
            editor.setPlaceholderText(options or "")
            editor.textChanged.connect(self.changed)
        editor.setObjectName(f"field_{key}")
        editor.setToolTip(f"workflow setting {key}")
        return editor

    def set_config(self, config: WorkflowConfig) -> None:
        values = _flatten(config)
        self.blockSignals(True)
        try:
            for key, (kind, editor) in self.editors.items():
                value = values.get(key)
                editor.blockSignals(True)
                if kind in ("int", "float"):
                    editor.setValue(value)
                elif kind == "bool":
                    editor.setChecked(bool(value))
                elif kind == "choice":
                    index = editor.findData(value)
                    editor.setCurrentIndex(max(0, index))
                elif kind == "prompt":
                    editor.setPlainText(value or "")
                elif kind == "list":
                    editor.setText(", ".join(value or []))
                else:
                    editor.setText(value or "")
                editor.blockSignals(False)
        finally:
            self.blockSignals(False)
        self._follow_mode()
        self.changed.emit()

    def config(self) -> WorkflowConfig:
        """The edited settings (not validated: see ``WorkflowConfig.problems``)."""
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {"task_mix": {}, "augment": {}, "system_prompts": {}}
        for key, (kind, editor) in self.editors.items():
            if kind in ("int", "float"):
                value: Any = editor.value()
            elif kind == "bool":
                value = editor.isChecked()
            elif kind == "choice":
                value = editor.currentData()
            elif kind == "prompt":
                value = editor.toPlainText().strip()
            elif kind == "list":
                value = [part.strip() for part in editor.text().split(",") if part.strip()]
            else:
                value = editor.text().strip()
            if "." in key:
                group, name = key.split(".", 1)
                if group != "system_prompts" or value:
                    nested[group][name] = value
            else:
                top[key] = value
        return WorkflowConfig(**top, task_mix=TaskMixConfig(**nested["task_mix"]),
                              augment=AugmentConfig(**nested["augment"]), system_prompts=nested["system_prompts"])


def _flatten(config: WorkflowConfig) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: getattr(config, f.name) for f in fields(config)}
    for group in ("task_mix", "augment"):
        for f in fields(values[group]):
            values[f"{group}.{f.name}"] = getattr(values[group], f.name)
    for task, text in config.system_prompts.items():
        values[f"system_prompts.{task}"] = text
    return values

"""The Train page's settings form offers exactly the bounds the core validates, so a workflow made headless
(vlm-studio workflows --new/--import) opens on the page unchanged."""

from __future__ import annotations

from studio.training.config import BOUNDS
from studio.training.workflow_file import new_config
from studio.ui.train.settings_form import WorkflowForm


def test_the_spin_boxes_take_their_bounds_from_the_core(qtbot):
    form = WorkflowForm()
    qtbot.addWidget(form)
    for key, (_name, low, high) in BOUNDS.items():
        editor = form.editors[key][1]
        assert (editor.minimum(), editor.maximum()) == (low, high), key


def test_a_workflow_at_the_bounds_made_headless_opens_unchanged(qtbot):
    config = new_config({"model_name_or_path": "Qwen/Qwen2.5-VL-3B-Instruct", "finetuning_type": "lora",
                         "quantization_bit": 8, "learning_rate": 1e-7, "lora_rank": 1024, "num_train_epochs": 0.1,
                         "seed": 2**31 - 1, "augment.crop": 0.49, "lora_target": "q_proj,v_proj", "bf16": True,
                         "system_prompts.vqa": "Answer in one word."})
    form = WorkflowForm()
    qtbot.addWidget(form)
    form.set_config(config)
    assert form.config() == config

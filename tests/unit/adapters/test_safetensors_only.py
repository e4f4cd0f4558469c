"""Weights load from safetensors only (issue 17.3): a pickle (.bin) can run code when loaded, and a folder without
weights is an error, never a model with random weights."""

from __future__ import annotations

import shutil

import pytest

from studio.adapters import get_adapter
from studio.adapters.loading import ModelNotAvailable, load_lora
from studio.adapters.tiny import build_tiny_checkpoint


def test_a_checkpoint_without_model_safetensors_is_an_error(tmp_path):
    folder = build_tiny_checkpoint(tmp_path / "tiny", weights=False)
    with pytest.raises(ModelNotAvailable, match=r"cannot load tiny .*model\.safetensors"):
        get_adapter("tiny").load_model(folder)


def test_a_checkpoint_with_only_a_pickle_is_refused(tmp_path, tiny_model):
    import torch

    folder = build_tiny_checkpoint(tmp_path / "tiny", weights=False)
    torch.save(tiny_model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelNotAvailable, match=r"model\.safetensors"):
        get_adapter("tiny").load_model(folder)


def test_a_lora_adapter_with_only_adapter_model_bin_is_refused(tmp_path):
    from peft import LoraConfig, get_peft_model

    folder = tmp_path / "adapter"
    get_peft_model(get_adapter("tiny").load_model(), LoraConfig(r=2, target_modules=["q_proj"])).save_pretrained(folder)
    assert type(load_lora(get_adapter("tiny").load_model(), folder)).__name__.startswith("Peft")
    shutil.move(folder / "adapter_model.safetensors", folder / "adapter_model.bin")
    with pytest.raises(ModelNotAvailable, match=r"no adapter_model\.safetensors \(it holds only adapter_model\.bin"):
        load_lora(get_adapter("tiny").load_model(), folder)

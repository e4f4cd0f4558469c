"""The training loss computed only where it is learned: the language-model head runs on the last positions
that hold answer tokens (``logits_to_keep``) instead of the whole prompt and image, then the usual shifted
cross entropy (mean over answer tokens, as transformers computes it)."""

from __future__ import annotations

import inspect
from typing import Any

from studio.training.batching import IGNORE_INDEX


def keeps_logits(model: Any) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` (transformers causal and vision-language LMs do)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def answer_loss(model: Any, batch: dict[str, Any], keep: bool = True) -> Any:
    """The mean cross entropy over the labelled tokens of ``batch`` (which holds ``labels``)."""
    import torch

    if not keep:
        return model(**batch).loss
    labels = batch["labels"]
    length = labels.shape[1]
    first = int((labels != IGNORE_INDEX).float().argmax(dim=1).min())  # earliest answer token in the batch
    window = min(length, length - first + 1)  # one more: the position that predicts that first token
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs, logits_to_keep=window).logits
    targets = labels[:, length - window + 1 :]
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX
    )

"""Counting text tokens for the budget: the model's own tokenizer when it is on this machine (the tiny model's
always is), otherwise a documented estimate, flagged as such.

The estimate, for Qwen-style byte-level BPE tokenizers: every digit is one token (Qwen splits numbers into
digits), every run of letters costs ceil(length / 4) tokens (at least one; a leading space joins the word),
every other non-space character is one token, and line breaks are one token each. On the sample project's
English prompts and JSON box answers it over-counts a little, which is the safe side for a budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from studio.adapters.base import Adapter
from studio.adapters.loading import ModelNotAvailable
from studio.budget.tokenizer_files import FileTokenizer, load_file_tokenizer
from studio.mlstack import import_ml_stack

# Chat-template tokens a ChatML turn adds around its content: <|im_start|>, role, "\n", <|im_end|>, "\n".
CHATML_TURN_TOKENS = 5
# Texts per tokenizer call: the tokenizer holds the GIL for a whole call (a project's million texts at once froze the
# window for 3 s); a thousand take a few milliseconds.
TOKENIZER_BATCH = 1000
# How a tokenizer counts a batch of texts, and renders a chat with its template (None: it has no template).
Tokenizing = tuple[Callable[[list[str]], list[int]], Callable[[list[dict]], str] | None]
_PIECES = re.compile(r"\d|[^\W\d_]+|\n|[^\s\w]|_")


def estimate_tokens(text: str) -> int:
    """The documented estimate of a text's token count (see the module docstring)."""
    count = 0
    for piece in _PIECES.findall(text):
        count += math.ceil(len(piece) / 4) if piece[0].isalpha() else 1
    return count


@dataclass(frozen=True)
class TextCounter:
    """Counts tokens of many texts at once; ``exact`` tells whether the model's tokenizer does it."""

    count_many: Callable[[Sequence[str]], list[int]]
    exact: bool
    source: str  # the tokenizer's folder, or "estimate"
    template_tokens: int  # chat-template tokens of a system + user (with image) + assistant exchange

    def count(self, text: str) -> int:
        return self.count_many([text])[0]


def estimate_counter() -> TextCounter:
    return TextCounter(
        count_many=lambda texts: [estimate_tokens(t) for t in texts],
        exact=False,
        source="estimate",
        template_tokens=3 * CHATML_TURN_TOKENS,
    )


def text_counter(adapter: Adapter) -> TextCounter:
    """The model's tokenizer when its files are on this machine, else the estimate. A checkpoint whose
    ``tokenizer.json`` transformers loads as it is is read by `tokenizers` alone (no torch: importing it in a
    worker froze the window); any other goes through ``AutoTokenizer``."""
    try:
        folder = adapter.checkpoint_folder()
    except ModelNotAvailable:
        return estimate_counter()
    own = load_file_tokenizer(folder)
    tokenizer = _own_tokenizer(own, adapter) if own is not None else _auto_tokenizer(folder, adapter)
    if tokenizer is None:
        return estimate_counter()
    count_batch, render = tokenizer
    count_many = _batched(count_batch)
    return TextCounter(count_many, True, str(folder), _template_tokens(render, count_many))


def _own_tokenizer(own: FileTokenizer, adapter: Adapter) -> Tokenizing:
    if not own.chat_template:
        return own.count_batch, None
    return own.count_batch, lambda messages: own.render_chat(messages, adapter.chat_template_kwargs)


def _auto_tokenizer(folder: Path, adapter: Adapter) -> Tokenizing | None:
    """transformers' ``AutoTokenizer`` for ``folder`` (imports torch); None when it cannot load it."""
    import_ml_stack()
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError):
        return None

    def count_batch(batch: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]]

    if not getattr(tokenizer, "chat_template", None):
        return count_batch, None
    return count_batch, lambda messages: tokenizer.apply_chat_template(
        messages, tokenize=False, **adapter.chat_template_kwargs
    )


def _batched(count_batch: Callable[[list[str]], list[int]]) -> Callable[[Sequence[str]], list[int]]:
    """``count_batch`` over any number of texts, `TOKENIZER_BATCH` per call."""

    def count_many(texts: Sequence[str]) -> list[int]:
        counts: list[int] = []
        for start in range(0, len(texts), TOKENIZER_BATCH):
            counts += count_batch(list(texts[start : start + TOKENIZER_BATCH]))
        return counts

    return count_many


def _template_tokens(
    render: Callable[[list[dict]], str] | None, count_many: Callable[[Sequence[str]], list[int]]
) -> int:
    """Tokens the chat template (``render``, None for a tokenizer without one) adds beyond system prompt, prompt,
    answer and the image placeholders."""
    if render is None:
        return 3 * CHATML_TURN_TOKENS
    parts = ["system words", "user words", "answer words"]
    messages = [
        {"role": "system", "content": [{"type": "text", "text": parts[0]}]},
        {"role": "user", "content": [{"type": "text", "text": parts[1]}]},
        {"role": "assistant", "content": [{"type": "text", "text": parts[2]}]},
    ]
    return count_many([render(messages)])[0] - sum(count_many(parts))


@lru_cache(maxsize=8)
def cached_text_counter(model_id: str) -> TextCounter:
    """`text_counter` for a catalog model, loaded once per process (loading a tokenizer takes seconds)."""
    from studio.adapters import get_adapter

    return text_counter(get_adapter(model_id))

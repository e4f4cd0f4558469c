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

from studio.adapters.base import Adapter
from studio.adapters.loading import ModelNotAvailable
from studio.mlstack import import_ml_stack

# Chat-template tokens a ChatML turn adds around its content: <|im_start|>, role, "\n", <|im_end|>, "\n".
CHATML_TURN_TOKENS = 5
# Texts per tokenizer call: the tokenizer holds the GIL for a whole call (a project's million texts at once froze the
# window for 3 s); a thousand take a few milliseconds.
TOKENIZER_BATCH = 1000
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
    """The model's tokenizer when its files are on this machine, else the estimate."""
    import_ml_stack()
    try:
        folder = adapter.checkpoint_folder()
    except ModelNotAvailable:
        return estimate_counter()
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError):
        return estimate_counter()

    def count_many(texts: Sequence[str]) -> list[int]:
        counts: list[int] = []
        for start in range(0, len(texts), TOKENIZER_BATCH):
            batch = list(texts[start : start + TOKENIZER_BATCH])
            counts += [len(ids) for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]]
        return counts

    template = _template_tokens(tokenizer, count_many, adapter.chat_template_kwargs)
    return TextCounter(count_many, True, str(folder), template)


def _template_tokens(tokenizer, count_many: Callable[[Sequence[str]], list[int]], template_kwargs: dict) -> int:
    """Tokens the chat template adds beyond system prompt, prompt, answer and the image placeholders."""
    if not getattr(tokenizer, "chat_template", None):
        return 3 * CHATML_TURN_TOKENS
    parts = ["system words", "user words", "answer words"]
    messages = [
        {"role": "system", "content": [{"type": "text", "text": parts[0]}]},
        {"role": "user", "content": [{"type": "text", "text": parts[1]}]},
        {"role": "assistant", "content": [{"type": "text", "text": parts[2]}]},
    ]
    full = tokenizer.apply_chat_template(messages, tokenize=False, **template_kwargs)
    return count_many([full])[0] - sum(count_many(parts))


@lru_cache(maxsize=8)
def cached_text_counter(model_id: str) -> TextCounter:
    """`text_counter` for a catalog model, loaded once per process (loading a tokenizer takes seconds)."""
    from studio.adapters import get_adapter

    return text_counter(get_adapter(model_id))

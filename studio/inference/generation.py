"""Generation settings, token streaming with timing, and stopping on a cancel token."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from studio.jobs import CancelToken


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings; ``temperature`` 0 means greedy decoding."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError("max new tokens must be at least 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0 or self.repetition_penalty <= 0:
            raise ValueError("temperature >= 0, 0 < top-p <= 1, top-k >= 0 and repetition penalty > 0, please")

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens,
                                  "repetition_penalty": self.repetition_penalty}
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p, top_k=self.top_k or None)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenStream:
    """A transformers streamer: decodes the new tokens as they come, calls ``on_text(piece)`` with each new piece
    of text, and records the time of the first token."""

    def __init__(self, tokenizer: Any, on_text: Callable[[str], None] | None = None) -> None:
        self.tokenizer = tokenizer
        self.on_text = on_text
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.ids: list[int] = []
        self.text = ""
        self._prompt_seen = False

    # BaseStreamer protocol
    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first puts the prompt
            self._prompt_seen = True
            return
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.ids.extend(int(v) for v in value.reshape(-1).tolist())
        self._emit(final=False)

    def end(self) -> None:
        self._emit(final=True)

    def _emit(self, final: bool) -> None:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd") and not final:
            return  # an incomplete UTF-8 sequence: wait for the next token
        piece, self.text = text[len(self.text):], text
        if piece and self.on_text is not None:
            self.on_text(piece)


def stopping_criteria(cancel: CancelToken | None) -> Any:
    """Stops generation (every sequence) once ``cancel`` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            stop = cancel is not None and cancel.cancelled
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Stop()])

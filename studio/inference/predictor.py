"""The inference API: a `Predictor` you call with an image and a prompt; it returns the text and the boxes in
original-image pixels, streams tokens, and reuses an image's encoding for the next prompt on the same image.

    from studio.inference import Predictor
    predictor = Predictor.from_run(project, "run-1")       # or Predictor.from_model("tiny")
    result = predictor("photo.jpg", "Locate the red circle.")
    result.text, result.boxes
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.adapters import Sample, load_image, prompts
from studio.adapters.boxes import ParsedBox
from studio.dataset.store import Project
from studio.inference import vision_cache
from studio.inference.generation import GenerationSettings, TokenStream, stopping_criteria
from studio.inference.loading import Loaded, load_base, load_checkpoint
from studio.jobs import CancelToken
from studio.training.runs import find_run


@dataclass
class Prediction:
    """One answer: the text, boxes read from it (original-image pixels) and what could not be read, and timings."""

    text: str
    boxes: list[ParsedBox] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    new_tokens: int = 0
    time_to_first_token: float = 0.0
    seconds: float = 0.0
    image_cached: bool = False
    stopped: bool = False

    @property
    def tokens_per_second(self) -> float:
        decode = self.seconds - self.time_to_first_token
        return (self.new_tokens - 1) / decode if self.new_tokens > 1 and decode > 0 else 0.0

    @property
    def tokens_used(self) -> int:
        return self.prompt_tokens + self.new_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "boxes": [{"label": b.label, "box": [round(v, 2) for v in b.box]} for b in self.boxes],
            "problems": self.problems,
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": self.new_tokens,
            "tokens_used": self.tokens_used,
            "time_to_first_token_s": round(self.time_to_first_token, 4),
            "tokens_per_second": round(self.tokens_per_second, 1),
            "seconds": round(self.seconds, 4),
            "image_cached": self.image_cached,
            "stopped": self.stopped,
        }


class Predictor:
    """A loaded model with its processor, adapter and the run's system prompts. Not thread-safe on its own: calls
    are serialised by a lock."""

    def __init__(self, loaded: Loaded, *, use_cache: bool = True) -> None:
        self.model, self.processor, self.adapter, self.meta = loaded
        self.settings = loaded.settings
        self.device = next(self.model.parameters()).device
        self.cache = vision_cache.PrefixCache() if use_cache and vision_cache.supports(self.model) else None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_checkpoint(cls, folder: str | Path, **kwargs: Any) -> Predictor:
        return cls(load_checkpoint(folder, **kwargs))

    @classmethod
    def from_run(cls, project: Project, run: str | int, checkpoint: str = "best", **kwargs: Any) -> Predictor:
        """A run's checkpoint (best, last, a step-… folder), or with ``start`` the model the run started from,
        loaded as its checkpoints are (``kwargs`` then do not apply)."""
        from studio.evaluation.run_eval import START, start_predictor

        record = find_run(project, run)
        if checkpoint == START:
            return start_predictor(record.config)
        return cls.from_checkpoint(record.checkpoint(checkpoint), **kwargs)

    @classmethod
    def from_model(cls, model_id: str, **kwargs: Any) -> Predictor:
        return cls(load_base(model_id, **kwargs))

    @property
    def model_id(self) -> str:
        return self.meta["model_id"]

    def system_prompt(self, task: str = "grounding") -> str:
        """The system prompt the run was trained with for ``task``, else the default one."""
        return (self.meta.get("system_prompts") or {}).get(task) or prompts.system_prompt(task)

    def warm_up(self) -> None:
        """One short generation on a blank image, so that the first real prompt's time to first token is not
        mostly one-off start-up work (kernel selection, lazy initialisation)."""
        from PIL import Image

        self(Image.new("RGB", (64, 64), "grey"), "Hi", generation=GenerationSettings(max_new_tokens=1))
        if self.cache is not None:
            self.cache.clear()

    # ---------------------------------------------------------------- one prompt
    def __call__(
        self,
        image: Any,
        prompt: str,
        *,
        system_prompt: str | None = None,
        task: str = "grounding",
        generation: GenerationSettings | None = None,
        on_text: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Prediction:
        """Answer ``prompt`` about ``image`` (a path or a PIL image); ``on_text`` receives the answer as it
        streams; setting ``cancel`` stops generation and returns what was said so far."""
        import torch

        generation = generation or GenerationSettings()
        with self._lock, torch.inference_mode():
            started = time.perf_counter()
            path = image if isinstance(image, str | Path) else None
            picture = load_image(path) if path is not None else image.convert("RGB")
            sample = self._sample(picture, prompt, task, path)
            system = self.system_prompt(task) if system_prompt is None else system_prompt
            inputs = self.adapter.prompt_inputs(sample, self.processor, picture, self.settings, system).to(self.device)
            kwargs, cached = dict(inputs), False
            if self.cache is not None:
                kwargs, cached = self.cache.prepare(self.model, vision_cache.image_key(picture, path), inputs)
            stream = TokenStream(self.processor.tokenizer, on_text)
            stream.started = started
            if generation.seed is not None:
                torch.manual_seed(generation.seed)
            self.model.generate(**kwargs, **generation.generate_kwargs(), streamer=stream,
                                stopping_criteria=stopping_criteria(cancel))
            seconds = time.perf_counter() - started
        parsed = self.adapter.parse_boxes(stream.text, sample.width, sample.height, self.settings)
        first = stream.first_token_at - started if stream.first_token_at is not None else seconds
        return Prediction(
            text=stream.text,
            boxes=parsed.boxes if task == "grounding" or parsed.boxes else [],
            problems=parsed.problems if task == "grounding" else [],
            prompt_tokens=int(inputs["input_ids"].shape[1]),
            new_tokens=len(stream.ids),
            time_to_first_token=first,
            seconds=seconds,
            image_cached=cached,
            stopped=bool(cancel is not None and cancel.cancelled),
        )

    @staticmethod
    def _sample(picture: Any, prompt: str, task: str, path: str | Path | None) -> Sample:
        width, height = picture.size
        return Sample(image_id=0, image_path=str(path or ""), width=width, height=height, task=task,
                      prompt=prompt.strip())

    # ---------------------------------------------------------------- batches (evaluation, pre-labelling)
    def generate_batch(
        self, samples: Sequence[Sample], images: Sequence[Any], *, max_new_tokens: int = 256,
        system_prompts: dict[str, str] | None = None,
    ) -> list[BatchAnswer]:
        """Greedy answers for several samples at once (left padding gives the same answers as one at a time),
        each with its confidence: the geometric mean of its tokens' probabilities."""
        import torch

        systems = system_prompts or {}
        with self._lock, torch.inference_mode():
            encoded = [
                self.adapter.prompt_inputs(s, self.processor, image, self.settings,
                                           systems.get(s.task) or self.system_prompt(s.task))
                for s, image in zip(samples, images, strict=True)
            ]
            batch = collate_left(encoded, self.processor.tokenizer.pad_token_id).to(self.device)
            output = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                         temperature=None, top_p=None, top_k=None, output_scores=True,
                                         return_dict_in_generate=True)
            new = output.sequences[:, batch["input_ids"].shape[1]:]
            logprobs = vision_cache.core_model(self.model).compute_transition_scores(
                output.sequences, output.scores, normalize_logits=True)
        answers = []
        for row, scores in zip(new.tolist(), logprobs, strict=True):
            length = _answer_length(row, self._end_ids())
            kept = scores[:length].float()
            confidence = float(torch.exp(kept.mean())) if length else 0.0
            text = self.processor.tokenizer.decode(row[:length], skip_special_tokens=True).strip()
            answers.append(BatchAnswer(text, confidence, tuple(row[:length]), tuple(kept.tolist())))
        return answers

    def answer_probabilities(
        self, samples: Sequence[Sample], images: Sequence[Any], *, system_prompts: dict[str, str] | None = None
    ) -> list[float]:
        """The probability the model gives each sample's own answer (teacher-forced: every token of the answer as
        training writes it, and its end token), for samples of one batch."""
        import torch

        from studio.training.batching import IGNORE_INDEX, collate, rope_index_for, to_device

        systems = system_prompts or {}
        with self._lock, torch.inference_mode():
            examples = [
                self.adapter.supervised_example(s, self.processor, image, self.settings,
                                                systems.get(s.task) or self.system_prompt(s.task))
                for s, image in zip(samples, images, strict=True)
            ]
            batch = collate(examples, self.processor.tokenizer.pad_token_id,
                            positions=rope_index_for(vision_cache.core_model(self.model)))
            batch = to_device(batch, self.device)
            labels = batch.pop("labels")[:, 1:]
            logits = self.model(**batch).logits[:, :-1].float()
            picked = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            totals = (picked * (labels != IGNORE_INDEX)).sum(dim=1)
        return [float(v) for v in torch.exp(totals)]

    def _end_ids(self) -> set[int]:
        eos = vision_cache.core_model(self.model).generation_config.eos_token_id
        return set(eos if isinstance(eos, list) else [eos] if eos is not None else [])


@dataclass(frozen=True)
class BatchAnswer:
    """A greedy answer, its confidence, and its tokens (up to and including the end token) with their log
    probabilities."""

    text: str
    confidence: float
    tokens: tuple[int, ...] = ()
    logprobs: tuple[float, ...] = ()


def _answer_length(tokens: list[int], end_ids: set[int]) -> int:
    """Tokens up to and including the first end token (the rest is padding)."""
    for n, token in enumerate(tokens):
        if token in end_ids:
            return n + 1
    return len(tokens)


SEQUENCE_KEYS = ("input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids")


def collate_left(encoded: Sequence[Any], pad_id: int) -> Any:
    """One batch from single-prompt processor outputs: token rows padded on the left, everything else (pixels,
    image grids) concatenated."""
    import torch
    from transformers import BatchFeature

    width = max(e["input_ids"].shape[1] for e in encoded)
    data = {}
    for key in encoded[0]:
        values = [e[key] for e in encoded]
        if key in SEQUENCE_KEYS:
            fill = pad_id if key == "input_ids" else 0
            data[key] = torch.cat([torch.nn.functional.pad(v, (width - v.shape[1], 0), value=fill) for v in values])
        else:
            data[key] = torch.cat(values)
    return BatchFeature(data)

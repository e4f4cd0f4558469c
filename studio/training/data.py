"""Training data from a project: the adapter's samples per split, a content hash of that snapshot, box-aware
augmentation, token lengths, and the length-grouped, seeded batch order (the same on every resume)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from studio.adapters.base import load_image
from studio.adapters.samples import GroundedPhrase, Sample, TaskMix, samples_from_annotation
from studio.dataset.store import Project
from studio.jobs import CancelToken, Progress, no_progress
from studio.training.config import SIDE_WORDS, AugmentConfig, WorkflowConfig

GROUP = 8  # batches whose samples are sorted by length together


@dataclass(frozen=True)
class SplitData:
    """The samples of one split and every box of their images (crops never cut through a box)."""

    split: str
    samples: list[Sample]
    image_boxes: dict[int, list[tuple[float, float, float, float]]]

    @property
    def image_ids(self) -> list[int]:
        return sorted({s.image_id for s in self.samples})


def split_data(project: Project, split: str, config: WorkflowConfig) -> SplitData:
    mix = TaskMix(config.task_mix.caption, config.task_mix.phrases, config.task_mix.vqa)
    samples: list[Sample] = []
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    for image in project.images(split=split):
        annotation = project.annotation(image.id)
        found = samples_from_annotation(annotation, mix)
        if found:
            samples.extend(found)
            boxes[image.id] = [b.xyxy for b in annotation.boxes]
    return SplitData(split, samples, boxes)


def snapshot(project: Project, data: Sequence[SplitData]) -> dict[str, Any]:
    """Image ids per split and a SHA-256 over the image files' identity and every sample's content."""
    digest = hashlib.sha256()
    out: dict[str, Any] = {}
    for part in data:
        out[f"{part.split}_image_ids"] = part.image_ids
        out[f"{part.split}_samples"] = len(part.samples)
        for image_id in part.image_ids:
            image = project.image(image_id)
            digest.update(f"{image.id}|{image.path}|{image.file_size}|{image.width}x{image.height}\n".encode())
        for sample in part.samples:
            digest.update(json.dumps([sample.image_id, sample.task, sample.prompt, sample.answer,
                                      [[p.text, p.boxes] for p in sample.phrases]]).encode())
    out["content_hash"] = digest.hexdigest()
    return out


def token_lengths(
    adapter: Any, processor: Any, samples: Sequence[Sample], config: WorkflowConfig, *,
    progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> tuple[list[int], list[int]]:
    """Each sample's full training sequence length (text tokens plus the image's visual and wrapper tokens) at the
    workflow's pixel settings, and the length of its answer (the tokens learned), computed without processing any
    image. ``progress(done, len(samples))`` after each sample's text; ``cancel`` is checked before each."""
    settings = vision_settings(adapter, config)
    tokenizer = processor.tokenizer
    prompts = config.resolved_system_prompts()
    texts = []
    for sample in samples:
        if cancel is not None:
            cancel.raise_if_cancelled()
        texts.append(adapter.training_text(sample, processor, settings, prompts[sample.task]))
        progress(len(texts), len(samples), "")
    ids = tokenizer([t.full for t in texts], add_special_tokens=False)["input_ids"]
    answers = tokenizer([t.target for t in texts], add_special_tokens=False)["input_ids"]
    image_tokens = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    lengths = [
        len(row) - row.count(image_tokens) + adapter.visual_tokens(s.width, s.height, settings)
        for row, s in zip(ids, samples, strict=True)
    ]
    return lengths, [len(row) for row in answers]


def vision_settings(adapter: Any, config: WorkflowConfig) -> Any:
    """The processor settings of a workflow (the model's own where it leaves them at 0): training, its data check,
    the budget and, through the run record, inference all use these."""
    return adapter.settings(max_pixels=config.max_pixels or None, min_pixels=config.min_pixels or None,
                            max_tiles=config.max_tiles or None)


def batch_plan(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of one epoch: a seeded shuffle, then groups of ``GROUP`` batches sorted by length and cut
    (little padding), the batches in a seeded order. The last batch may be smaller."""
    rng = random.Random(f"{seed}/epoch/{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = GROUP * batch_size
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        group = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    rng.shuffle(batches)
    return batches


def augment(
    image: Any, sample: Sample, boxes: Sequence[tuple[float, float, float, float]], cfg: AugmentConfig,
    rng: random.Random,
) -> tuple[Any, Sample]:
    """A randomly changed copy of (image, sample) with its boxes moved along: crop (never through one of the
    image's ``boxes``), scale, colour, and a horizontal flip only when no text of the sample names a side."""
    from PIL import ImageEnhance, ImageOps

    width, height = image.size
    x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    if cfg.crop > 0 and boxes:
        left = min(b[0] for b in boxes)
        top = min(b[1] for b in boxes)
        right = max(b[2] for b in boxes)
        bottom = max(b[3] for b in boxes)
        x0 = float(int(rng.uniform(0, min(left, cfg.crop * width))))
        y0 = float(int(rng.uniform(0, min(top, cfg.crop * height))))
        x1 = float(width - int(rng.uniform(0, min(width - right, cfg.crop * width))))
        y1 = float(height - int(rng.uniform(0, min(height - bottom, cfg.crop * height))))
        image = image.crop((int(x0), int(y0), int(x1), int(y1)))
    factor = rng.uniform(1 - cfg.scale, 1 + cfg.scale) if cfg.scale > 0 else 1.0
    new_w, new_h = max(16, round(image.size[0] * factor)), max(16, round(image.size[1] * factor))
    sx, sy = new_w / image.size[0], new_h / image.size[1]
    if (new_w, new_h) != image.size:
        image = image.resize((new_w, new_h))
    flip = cfg.hflip and rng.random() < 0.5 and not _names_a_side(sample)
    if flip:
        image = ImageOps.mirror(image)
    if cfg.colour > 0:
        for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
            image = enhancer(image).enhance(rng.uniform(1 - 0.4 * cfg.colour, 1 + 0.4 * cfg.colour))

    def move(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        a, b, c, d = (box[0] - x0) * sx, (box[1] - y0) * sy, (box[2] - x0) * sx, (box[3] - y0) * sy
        return (new_w - c, b, new_w - a, d) if flip else (a, b, c, d)

    phrases = tuple(GroundedPhrase(p.text, tuple(move(b) for b in p.boxes)) for p in sample.phrases)
    return image, replace(sample, width=new_w, height=new_h, phrases=phrases)


def _names_a_side(sample: Sample) -> bool:
    texts = [sample.prompt, sample.answer, *(p.text for p in sample.phrases)]
    return any(SIDE_WORDS.search(t) for t in texts)


class ExampleSource:
    """Encodes samples with the adapter (after augmentation when asked) for a data-loader worker.
    ``augment_seed`` + (epoch, index) seeds each augmentation, so resumed runs see the same images."""

    def __init__(self, adapter: Any, processor: Any, data: SplitData, config: WorkflowConfig,
                 *, augmentation: bool) -> None:
        self.adapter = adapter
        self.processor = processor
        self.data = data
        self.config = config
        self.settings = vision_settings(adapter, config)
        self.prompts = config.resolved_system_prompts()
        self.augmentation = augmentation and config.augment.active
        self._last_image: tuple[str, Any] = ("", None)  # samples of one image come together

    def __len__(self) -> int:
        return len(self.data.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.example(index)

    def example(self, index: int, epoch: int = 0) -> dict[str, Any]:
        sample = self.data.samples[index]
        if self._last_image[0] != sample.image_path:
            self._last_image = (sample.image_path, load_image(sample.image_path))
        image = self._last_image[1]
        if self.augmentation:
            rng = random.Random(f"{self.config.seed}/aug/{epoch}/{index}")
            image, sample = augment(image, sample, self.data.image_boxes.get(sample.image_id, []),
                                    self.config.augment, rng)
        return self.adapter.supervised_example(
            sample, self.processor, image=image, settings=self.settings, system_prompt=self.prompts[sample.task]
        )

"""The token budget: per image, visual tokens + text tokens of its longest training sample against the model's
context window and the user's maximum sequence length.

Two steps, so that changing the model or the resolution is instant: `text_table` formats and counts the text of
every sample once per model (box text differs per family), and `compute_budget` adds the visual tokens from the
stored image sizes (vectorised, no image decoded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from studio.adapters import prompts
from studio.adapters.base import Adapter, VisionSettings
from studio.adapters.samples import Sample, TaskMix, samples_from_annotation
from studio.budget.text import TextCounter
from studio.dataset.model import Annotation
from studio.jobs import CancelToken, Progress, gc_paused, no_progress


@dataclass(frozen=True)
class TextTable:
    """Text tokens per image for one model: of the longest sample, of all samples, and the sample count."""

    image_ids: np.ndarray
    widths: np.ndarray
    heights: np.ndarray
    longest: np.ndarray  # system + prompt + answer + chat template, the longest sample of the image
    total: np.ndarray  # the same summed over all samples of the image
    samples: np.ndarray
    exact: bool


@dataclass
class Budget:
    model_id: str
    settings: VisionSettings
    max_seq_len: int
    context_length: int
    image_ids: np.ndarray
    visual: np.ndarray  # image placeholder + wrapper tokens per sample of that image
    text: np.ndarray  # longest sample's text tokens
    totals: np.ndarray  # visual + text, the longest sample of each image
    samples: np.ndarray
    exact_text: bool
    exact_visual: bool
    text_sum: int = 0  # text tokens of all samples of all images
    advice: list[str] = field(default_factory=list)

    @property
    def limit(self) -> int:
        """The tightest of the context window and the maximum sequence length."""
        return min(self.max_seq_len, self.context_length) if self.max_seq_len else self.context_length

    @property
    def over(self) -> np.ndarray:
        """Ids of the images whose longest sample does not fit."""
        return self.image_ids[self.totals > self.limit]

    def worst(self, shown: int) -> list[tuple[int, int]]:
        """(image id, tokens) of at most ``shown`` images over the limit, longest first (ties: by id); only the
        images over the limit are sorted."""
        rows = np.flatnonzero(self.totals > self.limit)
        rows = rows[np.lexsort((self.image_ids[rows], -self.totals[rows]))][:shown]
        return list(zip(self.image_ids[rows].tolist(), self.totals[rows].tolist(), strict=True))

    def refusal(self, names: dict[int, str], shown: int = 10) -> str:
        """The message a training run gives when it refuses the images over budget ('' when all fit): their image
        tokens would be cut by truncation."""
        over = self.image_ids[self.totals > self.limit]
        if not len(over):
            return ""
        tokens = dict(zip(self.image_ids.tolist(), self.totals.tolist(), strict=True))
        listed = ", ".join(f"{names.get(int(i), f'image {i}')} ({tokens[int(i)]:,} tokens)" for i in over[:shown])
        more = f" and {len(over) - shown:,} more" if len(over) > shown else ""
        return (f"{len(over):,} image{'s' if len(over) != 1 else ''} would be cut at the {self.limit:,}-token limit "
                f"and are left out of training: {listed}{more}. " + " ".join(self.advice[1:]))

    def summary(self) -> dict:
        n = len(self.totals)
        return {
            "model": self.model_id,
            "images": n,
            "samples": int(self.samples.sum()),
            "limit": self.limit,
            "context_length": self.context_length,
            "max_seq_len": self.max_seq_len,
            "max_pixels": self.settings.max_pixels,
            "max_tiles": self.settings.max_tiles,
            "visual_tokens": _stats(self.visual),
            "text_tokens": _stats(self.text),
            "total_tokens": _stats(self.totals),
            "sample_tokens_sum": int((self.visual * self.samples).sum() + self.text_sum) if n else 0,
            "over_budget": len(self.over),
            "text_counts": "tokenizer" if self.exact_text else "estimate",
            "visual_counts": "processor arithmetic" if self.exact_visual else "estimate",
            "advice": self.advice,
        }


def _stats(values: np.ndarray) -> dict:
    if not len(values):
        return {"min": 0, "mean": 0.0, "max": 0}
    return {"min": int(values.min()), "mean": round(float(values.mean()), 1), "max": int(values.max())}


def sample_texts(adapter: Adapter, sample: Sample, system_prompts: dict[str, str] | None = None) -> list[str]:
    """The texts of one sample as the trainer sends them: system prompt, prompt, answer."""
    system = (system_prompts or {}).get(sample.task)
    return [
        prompts.system_prompt(sample.task) if system is None else system,
        sample.prompt,
        adapter.answer_text(sample),
    ]


def text_table(
    adapter: Adapter,
    counter: TextCounter,
    annotations: Iterable[Annotation],
    *,
    task_mix: TaskMix | None = None,
    labels: dict[int, str] | None = None,
    system_prompts: dict[str, str] | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> TextTable:
    """Format and count every sample's text (the answer's box text depends on the model family); ``labels``
    names boxes for detection samples."""
    items = list(annotations)
    ids, widths, heights, owners, texts = [], [], [], [], []
    for index, annotation in enumerate(items):
        if cancel is not None and index % 500 == 0:
            cancel.raise_if_cancelled()
            progress(index, len(items), "counting text tokens")
        image = annotation.image
        ids.append(image.id)
        widths.append(image.width)
        heights.append(image.height)
        for sample in samples_from_annotation(annotation, task_mix, labels):
            owners.append(index)
            texts.extend(sample_texts(adapter, sample, system_prompts))
    unique = list(dict.fromkeys(texts))  # system prompts and many prompts repeat: count each text once
    known = dict(zip(unique, counter.count_many(unique), strict=True))
    counts = np.asarray([known[t] for t in texts], dtype=np.int64)
    per_sample = counts.reshape(-1, 3).sum(axis=1) + counter.template_tokens
    owner = np.asarray(owners, dtype=np.int64)
    n = len(items)
    longest = np.zeros(n, dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    samples = np.bincount(owner, minlength=n).astype(np.int64)
    if owners:
        np.maximum.at(longest, owner, per_sample)
        np.add.at(total, owner, per_sample)
    progress(n, n, "text tokens counted")
    return TextTable(np.asarray(ids, dtype=np.int64), np.asarray(widths, dtype=np.int64),
                     np.asarray(heights, dtype=np.int64), longest, total, samples, counter.exact)


def compute_budget(adapter: Adapter, table: TextTable, settings: VisionSettings, max_seq_len: int) -> Budget:
    """Visual tokens from the stored sizes plus the counted text; advice when images do not fit."""
    visual = adapter.visual_tokens_batch(table.widths, table.heights, settings) + adapter.image_wrapper_tokens()
    visual = np.asarray(visual, dtype=np.int64)
    budget = Budget(
        model_id=adapter.entry.id,
        settings=settings,
        max_seq_len=max_seq_len,
        context_length=adapter.entry.context_length,
        image_ids=table.image_ids,
        visual=visual,
        text=table.longest,
        totals=visual + table.longest,
        samples=table.samples,
        exact_text=table.exact,
        exact_visual=adapter.exact_visual_tokens,
        text_sum=int(table.total.sum()),
    )
    budget.advice = advise(adapter, table, budget)
    return budget


def advise(adapter: Adapter, table: TextTable, budget: Budget) -> list[str]:
    """What to do when images do not fit: a lower resolution that fits them all, or cropping."""
    over = budget.totals > budget.limit
    if not over.any():
        return []
    n = int(over.sum())
    advice = [f"{n} image{'s' if n != 1 else ''} exceed{'s' if n == 1 else ''} the limit of {budget.limit:,} "
              f"tokens (largest: {int(budget.totals.max()):,})."]
    room = budget.limit - table.longest - adapter.image_wrapper_tokens()
    if (room <= 0).any():
        advice.append("Some samples' text alone exceeds the limit: shorten captions or answers, or raise the "
                      "maximum sequence length.")
        return advice
    s = budget.settings
    if adapter.entry.vision.kind == "dynamic_resolution":
        fitting = _largest_fitting(
            lambda px: adapter.visual_tokens_batch(
                table.widths, table.heights, VisionSettings(min(s.min_pixels, px), px, s.max_tiles)),
            room, s.max_pixels, step=(adapter.entry.vision.patch_size * adapter.entry.vision.merge_size) ** 2)
        if fitting and fitting * 4 < s.max_pixels:
            advice.append(f"The text takes most of the limit (up to {int(table.longest.max()):,} tokens): raise the "
                          f"maximum sequence length, or lower max pixels to {fitting:,} (now {s.max_pixels:,}).")
        elif fitting:
            advice.append(f"Lower max pixels to {fitting:,} (now {s.max_pixels:,}) and every image fits.")
    else:
        for tiles in range(s.max_tiles - 1, 0, -1):
            if (adapter.visual_tokens_batch(table.widths, table.heights,
                                            VisionSettings(s.min_pixels, s.max_pixels, tiles)) <= room).all():
                advice.append(f"Lower max tiles to {tiles} (now {s.max_tiles}) and every image fits.")
                break
    advice.append("Or crop the images over budget to the region of interest, or raise the maximum sequence "
                  "length if the GPU memory allows.")
    return advice


def _largest_fitting(tokens_at, room: np.ndarray, upper: int, step: int) -> int:
    """The largest pixel budget (a multiple of ``step``, below ``upper``) at which every image fits."""
    lo, hi = 1, upper // step  # in units of step
    if not (tokens_at(lo * step) <= room).all():
        return 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if (tokens_at(mid * step) <= room).all():
            lo = mid
        else:
            hi = mid - 1
    return lo * step


def project_annotations(project) -> list[Annotation]:
    """Every image's annotation, in import order."""
    return [project.annotation(image.id) for image in project.images()]


TABLE_CHUNK = 2000  # images read and counted at a time by project_text_table


def project_text_table(
    folder, model_id: str, *, image_ids: Iterable[int] | None = None, task_mix: TaskMix | None = None,
    progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> TextTable:
    """`text_table` for a project folder (all images, or only ``image_ids``: those deleted meanwhile are skipped),
    read through its own read-only connection, so it is safe in a worker thread."""
    from studio.adapters import get_adapter
    from studio.budget.text import cached_text_counter
    from studio.dataset.store import Project

    adapter = get_adapter(model_id)
    counter = cached_text_counter(model_id)
    progress(0, 1, "reading annotations")
    with Project.open(folder, read_only=True) as project:
        labels = {label.id: label.name for label in project.labels()}
        if image_ids is None:
            image_ids = [row[0] for row in project.conn.execute("SELECT id FROM images ORDER BY id")]
        ids = list(image_ids)
        parts = []
        for start in range(0, len(ids), TABLE_CHUNK):  # small parts: freeing a whole project's objects at once
            annotations = []  # would hold the GIL for a noticeable time
            for image_id in ids[start : start + TABLE_CHUNK]:
                try:
                    annotations.append(project.annotation(image_id))
                except KeyError:
                    continue  # deleted meanwhile
            parts.append(text_table(adapter, counter, annotations, task_mix=task_mix, labels=labels, cancel=cancel))
            progress(min(start + TABLE_CHUNK, len(ids)), len(ids), "counting text tokens")
    return TextTable(*(np.concatenate([getattr(p, name) for p in parts]) if parts else np.zeros(0, dtype=np.int64)
                       for name in _TABLE_FIELDS), exact=counter.exact)


def recount_budget(
    folder, model_id: str, settings: VisionSettings | None, max_seq_len: int, *, base: TextTable | None = None,
    image_ids: Iterable[int] | None = None, progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> tuple[TextTable, Budget]:
    """A budget dock's whole recount, for a worker thread: the text of ``image_ids`` (every image when None)
    merged into ``base``, and the budget of the result at ``settings`` (the model's defaults when None)."""
    from studio.adapters import get_adapter

    with gc_paused():  # a collection of the annotations read would hold the GIL, freezing the window meanwhile
        update = project_text_table(folder, model_id, image_ids=image_ids, progress=progress, cancel=cancel)
    table = merge_tables(base, update) if base is not None and image_ids is not None else update
    adapter = get_adapter(model_id)
    return table, compute_budget(adapter, table, settings or adapter.settings(), max_seq_len)


_TABLE_FIELDS = ("image_ids", "widths", "heights", "longest", "total", "samples")


def merge_tables(base: TextTable, update: TextTable) -> TextTable:
    """``base`` with the rows of the images in ``update`` replaced and those of new images added, in image id order
    (as a whole project's table comes), so that each row is found by binary search: a few milliseconds for
    100,000 images, where the GUI thread merges each edit's recount."""
    base_fields = {name: getattr(base, name) for name in _TABLE_FIELDS}
    if (np.diff(base.image_ids) <= 0).any():
        base_fields = _by_id(base_fields)
    ids = base_fields["image_ids"]
    rows = np.minimum(np.searchsorted(ids, update.image_ids), max(len(ids) - 1, 0))
    known = ids[rows] == update.image_ids if len(ids) else np.zeros(len(update.image_ids), dtype=bool)
    merged = {}
    for name, values in base_fields.items():
        values, new = values.copy(), getattr(update, name)
        values[rows[known]] = new[known]
        merged[name] = np.concatenate([values, new[~known]])
    return TextTable(**(merged if known.all() else _by_id(merged)), exact=base.exact)


def _by_id(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.argsort(fields["image_ids"], kind="stable")
    return {name: values[order] for name, values in fields.items()}

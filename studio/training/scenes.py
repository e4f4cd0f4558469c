"""Synthetic shape scenes as training samples: the same `Sample`s (prompts, answers) the adapters make from a
project's annotations, built in memory. Stream seed 0 is the sample project and is refused."""

from __future__ import annotations

from typing import Any

from studio.adapters.samples import Sample, TaskMix, samples_from_annotation
from studio.dataset.model import Annotation, Box, Image, Phrase, VqaPair
from studio.dataset.sample import SAMPLE_SEED
from studio.dataset.synthetic import Scene, make_scene

HELD_OUT_SEED = 7_777_777  # the stream of fresh scenes that pre-training evaluates on (never trained on)


def check_stream(seed: int) -> None:
    """Refuse the sample project's stream (its validation images must stay unseen)."""
    if seed == SAMPLE_SEED:
        raise ValueError(f"scene stream {SAMPLE_SEED} is the sample project; choose another seed")


def scene_annotation(scene: Scene, seed: int, index: int) -> Annotation:
    """The scene as the store would hold it once annotated (ids are local to the scene)."""
    width, height = scene.image.size
    image = Image(id=index, path=f"synthetic:{seed}/{index}", width=width, height=height, status="done")
    boxes = [Box(k + 1, index, None, *shape.box) for k, shape in enumerate(scene.shapes)]
    phrases = [
        Phrase(n + 1, index, p.start, p.end, scene.caption[p.start : p.end], tuple(k + 1 for k in p.shape_indexes))
        for n, p in enumerate(scene.phrases)
    ]
    vqa = [VqaPair(n + 1, index, n, q, a) for n, (q, a) in enumerate(scene.vqa)]
    return Annotation(image=image, boxes=boxes, caption=scene.caption, phrases=phrases, vqa=vqa)


def scene_samples(
    seed: int, index: int, task_mix: TaskMix | None = None, *, vqa_per_scene: int | None = None
) -> list[tuple[Sample, Any]]:
    """(sample, PIL image) pairs of scene ``index`` of stream ``seed``: caption, phrases, then VQA pairs
    (at most ``vqa_per_scene`` of them, chosen by the scene index)."""
    check_stream(seed)
    scene = make_scene(seed, index)
    samples = samples_from_annotation(scene_annotation(scene, seed, index), task_mix)
    if vqa_per_scene is not None:
        vqa = [s for s in samples if s.task == "vqa"]
        keep = {id(vqa[(index + k) % len(vqa)]) for k in range(min(vqa_per_scene, len(vqa)))} if vqa else set()
        samples = [s for s in samples if s.task != "vqa" or id(s) in keep]
    return [(sample, scene.image) for sample in samples]

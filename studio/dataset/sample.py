"""The built-in sample project: ~1,000 synthetic shape images with linked phrases, VQA pairs and a split."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from studio.dataset.imaging import read_image_info
from studio.dataset.store import Project, ProjectError
from studio.dataset.synthetic import COLOURS, SHAPES, Words, make_scene, shape_label
from studio.jobs import CancelToken, Progress, no_progress

SAMPLE_SEED = 0  # the tiny model's pre-training uses other seeds, never this one
SAMPLE_SIZE = 1000
VAL_FRACTION = 0.1
# The sample project's own names for the shapes: words the tiny model's pre-training never reads, so the default
# run has something to teach it (a project's vocabulary), as fine-tuning teaches a real model a project's classes.
SAMPLE_WORDS: Words = {"circle": "ball", "square": "block", "triangle": "wedge"}
_LABEL_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f5bcc"}


def create_sample_project(
    folder: str | Path,
    *,
    count: int = SAMPLE_SIZE,
    seed: int = SAMPLE_SEED,
    words: Words = SAMPLE_WORDS,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Project:
    """Write the sample images into ``folder``/assets and annotate them; returns the open project.

    The same ``count`` and ``seed`` always give the same images, captions, phrases, answers and split.
    """
    project = Project.create(folder)
    try:
        _fill(project, count, seed, words, progress, cancel)
    except BaseException:
        project.close()
        raise
    return project


def build_sample_project(
    folder: str | Path,
    *,
    count: int = SAMPLE_SIZE,
    seed: int = SAMPLE_SEED,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Build the sample project beside ``folder`` (absent or empty) and move it there when it is whole: an
    interrupted or cancelled build leaves nothing behind. Returns the folder."""
    folder = Path(folder).expanduser().resolve()
    if folder.is_dir() and any(folder.iterdir()):
        raise ProjectError(f"{folder} is not empty; choose an empty folder for the sample project")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with create_sample_project(partial, count=count, seed=seed, progress=progress, cancel=cancel) as project:
            project.relink(str(project.folder), str(folder))  # the image paths after the move
        if folder.is_dir():
            folder.rmdir()
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def _fill(
    project: Project, count: int, seed: int, words: Words, progress: Progress, cancel: CancelToken | None
) -> None:
    project.assets_dir.mkdir(exist_ok=True)
    labels = {
        (colour, shape): project.ensure_label(shape_label(colour, shape, words), _LABEL_COLOURS[colour]).id
        for colour in COLOURS for shape in SHAPES
    }
    val = set(np.random.default_rng(seed).permutation(count)[: round(count * VAL_FRACTION)].tolist())
    for start in range(0, count, 100):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(start, count, "drawing sample images")
        scenes = [(i, make_scene(seed, i, words=words)) for i in range(start, min(start + 100, count))]
        infos = []
        for i, scene in scenes:
            path = project.assets_dir / f"shapes_{i:04d}.jpg"
            scene.image.save(path, quality=92)
            infos.append(read_image_info(path))
        with project.transaction({"images", "boxes", "captions", "phrases", "phrase_boxes", "vqa"}):
            ids = project.add_images(infos)
            for image_id, (i, scene) in zip(ids, scenes, strict=True):
                box_ids = [project.add_box(image_id, labels[s.colour, s.shape], *s.box) for s in scene.shapes]
                project.set_caption(image_id, scene.caption)
                for phrase in scene.phrases:
                    project.add_phrase(image_id, phrase.start, phrase.end, [box_ids[k] for k in phrase.shape_indexes])
                for question, answer in scene.vqa:
                    project.add_vqa(image_id, question, answer)
                project.set_status(image_id, "done")
                project.set_split([image_id], "val" if i in val else "train")
    project.set_meta("sample", {"seed": seed, "count": count})
    progress(count, count, "sample project ready")

"""Token-budget benchmark: 10,000 images x every catalog model from stored sizes (no image decoded).

Prints the time of each step: reading the annotations, counting the text once per model (box text differs per
family), and the budget itself (visual tokens + totals + over-budget list) for every model. Target: the budget
for 10,000 images x every catalog model in < 0.5 s. Baseline in the same run: one model's budget for 1,000 images.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from studio.adapters import get_adapter, load_catalog
from studio.budget.budget import TextTable, compute_budget, project_annotations, text_table
from studio.budget.text import estimate_counter
from studio.dataset.store import NewImage, Project

COLOURS = ("red", "green", "blue")
SHAPES = ("circle", "square", "triangle")


def fill(project: Project, count: int, seed: int = 0) -> None:
    """Image records (varied sizes, no files) with a two-phrase caption, its boxes and two VQA pairs each."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(120, 4000, size=(count, 2))
    with project.transaction({"images", "boxes", "captions", "phrases", "phrase_boxes", "vqa"}):
        records = [NewImage(f"/bench/img_{i:05d}.jpg", int(w), int(h)) for i, (w, h) in enumerate(sizes)]
        ids = project.add_images(records)
        for image_id, (w, h) in zip(ids, sizes, strict=True):
            a, b = (f"{COLOURS[rng.integers(3)]} {SHAPES[rng.integers(3)]}" for _ in range(2))
            caption = f"a {a} left of a {b}"
            project.set_caption(image_id, caption)
            for phrase, start in ((a, 2), (b, len(caption) - len(b))):
                x, y = float(rng.uniform(0, w / 2)), float(rng.uniform(0, h / 2))
                box = project.add_box(image_id, None, x, y, x + w / 4, y + h / 4)
                project.add_phrase(image_id, start, start + len(phrase), [box])
            project.add_vqa(image_id, "How many shapes are there?", "two")
            project.add_vqa(image_id, f"What colour is the {a.split()[1]}?", a.split()[0])


def subset(table: TextTable, n: int) -> TextTable:
    return TextTable(*(getattr(table, f)[:n] for f in ("image_ids", "widths", "heights", "longest", "total",
                                                     "samples")), table.exact)


def main() -> None:
    count = 10_000
    models = list(load_catalog())
    with tempfile.TemporaryDirectory() as tmp, Project.create(Path(tmp) / "bench") as project:
        fill(project, count)
        started = time.perf_counter()
        annotations = project_annotations(project)
        print(f"read {count:,} annotations from the store: {time.perf_counter() - started:.2f} s")
    counter = estimate_counter()
    tables = {}
    started = time.perf_counter()
    for model_id in models:
        tables[model_id] = text_table(get_adapter(model_id), counter, annotations)
    elapsed = time.perf_counter() - started
    print(f"text tokens (estimate), {count:,} images x {len(models)} models: {elapsed:.2f} s "
          f"({elapsed / len(models):.2f} s per model; done once per model and annotation change)")

    adapters = {m: get_adapter(m) for m in models}
    settings = {m: a.settings() for m, a in adapters.items()}
    started = time.perf_counter()
    base = compute_budget(adapters["qwen3-vl-8b"], subset(tables["qwen3-vl-8b"], 1000), settings["qwen3-vl-8b"], 4096)
    baseline = time.perf_counter() - started
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        budgets = [compute_budget(adapters[m], tables[m], settings[m], 4096) for m in models]
        runs.append(time.perf_counter() - started)
    best = min(runs)
    over = sum(len(b.over) for b in budgets)
    print(f"budget, 1,000 images x 1 model (baseline): {baseline * 1000:.1f} ms ({len(base.over)} over budget)")
    print(f"budget, {count:,} images x {len(models)} models: best {best * 1000:.0f} ms, median "
          f"{sorted(runs)[2] * 1000:.0f} ms of 5 runs ({over:,} image-model pairs over 4,096 tokens); "
          f"ratio to baseline {best / baseline:.1f}x for {count * len(models) / 1000:.0f}x the work; "
          f"target < 500 ms: {'met' if best < 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()

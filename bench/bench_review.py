"""How well the review queue finds known label mistakes (studio/review, issue 22).

Copies the sample project, injects errors into 5 % of its images (one each, the kinds in turn: a box shifted by half
its size, a box's label swapped to another colour or shape, a box deleted, a spurious box added, a VQA answer
changed), trains the default workflow on the corrupted copy (the honest case: the model has seen the errors of the
train split) or, with ``--run-folder``, reuses a run trained on the clean sample project before the injection, then
reviews every annotated image and prints, per kind of injected error: its recall within the top 10 % of the queue
(10 % of the reviewed annotations: boxes and answered questions), the same on train and on held-out images, and the
precision of the queue's top 50 (share of them that name an injected error), with the time each stage took.

    python bench/bench_review.py [--run-folder RUNS/default-1] [--folder DIR] [--threads N] [--limit N]

Goal: recall >= 0.8 for shifted, swapped and deleted boxes and >= 0.6 for changed answers, within 15 minutes on
2 CPU cores including training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.dataset.sample import create_sample_project
from studio.dataset.store import DB_NAME, Project
from studio.inference.predictor import Predictor
from studio.review.items import ReviewItem, box_iou, review_items
from studio.review.run_review import review_project
from studio.training.runs import find_run

INJECTED = ("shifted", "swapped", "deleted", "spurious", "answer")
EXPECTED = {"shifted": "misplaced", "swapped": "wrong_label", "deleted": "missing", "spurious": "spurious",
            "answer": "wrong_answer"}  # the queue filter a person would use for each  # fmt: skip
GOALS = {"shifted": 0.8, "swapped": 0.8, "deleted": 0.8, "answer": 0.6}
COLOURS, SHAPES = ("red", "green", "blue"), ("ball", "block", "wedge")


@dataclass
class Injected:
    kind: str
    image_id: int
    split: str
    box_id: int | None = None
    vqa_id: int | None = None
    box: tuple[float, float, float, float] | None = None  # a deleted box's place

    def found_by(self, item: ReviewItem) -> bool:
        if item.image_id != self.image_id:
            return False
        if self.kind == "deleted":
            return item.kind == "missing" and box_iou(item.evidence.get("box") or (0, 0, 0, 0), self.box) >= 0.3
        if self.kind == "answer":
            return item.vqa_id == self.vqa_id
        return item.box_id == self.box_id


def copy_project(source: Path, target: Path) -> Project:
    """The project's database copied (its images and runs stay where they are: read, never written)."""
    target.mkdir(parents=True)
    with sqlite3.connect(source / DB_NAME) as src, sqlite3.connect(target / DB_NAME) as dst:
        src.backup(dst)
    return Project.open(target)


def inject(project: Project, fraction: float, seed: int) -> list[Injected]:
    """One error in each of ``fraction`` of the images, the kinds in turn; returns what was done."""
    rng = random.Random(seed)
    images = project.images()
    chosen = rng.sample(images, max(len(INJECTED), round(len(images) * fraction)))
    labels = {label.name: label for label in project.labels()}
    done = []
    for n, image in enumerate(chosen):
        kind = INJECTED[n % len(INJECTED)]
        boxes = project.boxes(image.id)
        box = rng.choice(boxes) if boxes else None
        record = Injected(kind, image.id, image.split)
        if kind == "shifted" and box:
            w, h = box.x2 - box.x1, box.y2 - box.y1
            dx, dy = rng.choice((-1, 1)) * w / 2, rng.choice((-1, 1)) * h / 2
            dx = dx if box.x1 + dx >= 0 and box.x2 + dx <= image.width else -dx
            dy = dy if box.y1 + dy >= 0 and box.y2 + dy <= image.height else -dy
            project.update_box(box.id, x1=box.x1 + dx, y1=box.y1 + dy, x2=box.x2 + dx, y2=box.y2 + dy)
            record.box_id = box.id
        elif kind == "swapped" and box:
            colour, shape = project.label(box.label_id).name.split()
            other = rng.choice([f"{c} {shape}" for c in COLOURS if c != colour] + [f"{colour} {s}" for s in SHAPES
                                                                                   if s != shape])  # fmt: skip
            project.update_box(box.id, label_id=labels[other].id)
            record.box_id = box.id
        elif kind == "deleted" and box:
            project.delete_boxes([box.id])
            record.box = box.xyxy
        elif kind == "spurious":
            record.box_id = _add_spurious(project, image, boxes, labels, rng)
        elif kind == "answer":
            pair = rng.choice(project.vqa(image.id))
            project.update_vqa(pair.id, answer=_other_answer(pair.answer, rng))
            record.vqa_id = pair.id
        if record.box_id is None and record.vqa_id is None and record.box is None:
            continue  # an image without a box for a box error
        done.append(record)
    return done


def _add_spurious(project, image, boxes, labels, rng) -> int | None:
    """A box of a random label where there is nothing, of a typical size; not linked to any phrase."""
    for _ in range(200):
        side = rng.uniform(30, 60)
        x1, y1 = rng.uniform(0, image.width - side), rng.uniform(0, image.height - side)
        candidate = (x1, y1, x1 + side, y1 + side)
        if all(box_iou(candidate, b.xyxy) == 0 for b in boxes):
            label = labels[rng.choice(sorted(labels))]
            return project.add_box(image.id, label.id, *candidate)
    return None


def _other_answer(answer: str, rng: random.Random) -> str:
    if answer.isdigit():
        return rng.choice([str(n) for n in range(4) if str(n) != answer])
    if answer in ("yes", "no"):
        return "no" if answer == "yes" else "yes"
    return rng.choice([c for c in COLOURS if c != answer])


def train_default(project: Project, threads: int | None) -> str:
    from studio.training.trainer import RunConfig, train
    from studio.training.workflows import DEFAULT_NAME, ensure_default_workflow, save_workflow

    config = ensure_default_workflow(project).config
    if threads is not None:
        config.threads = threads
    save_workflow(project, DEFAULT_NAME, config)
    started = time.monotonic()

    def on_progress(event) -> None:
        if event.kind == "done" or (event.kind == "step" and event.step % 200 == 0):
            print(f"  train {time.monotonic() - started:5.0f}s step {event.step}/{event.total_steps}", flush=True)

    return train(RunConfig(project.folder, DEFAULT_NAME), on_progress).run_name


def measure(items: list[ReviewItem], injected: list[Injected], boxes: int, answers: int) -> dict:
    """Per kind of injected error: recall within the top 10 % of the whole queue (10 % of the reviewed annotations:
    boxes and answered questions), within the top 10 % of the queue filtered to the item kind that names it (10 % of
    the boxes, or of the answers), and within the top 2 x injected of the whole queue; recall on train and held-out
    images apart; the precision of the top 50 of the whole queue; the median rank."""
    top, tight = math.ceil(0.1 * (boxes + answers)), 2 * len(injected)
    ranks = {n: next((r for r, item in enumerate(items) if e.found_by(item)), None) for n, e in enumerate(injected)}
    table = {}
    for kind in INJECTED:
        mine = [n for n, e in enumerate(injected) if e.kind == kind]
        filtered = [item for item in items if item.kind == EXPECTED[kind]]
        kind_top = math.ceil(0.1 * (answers if kind == "answer" else boxes))
        kind_ranks = {n: next((r for r, item in enumerate(filtered) if injected[n].found_by(item)), None) for n in mine}
        row = {
            "injected": len(mine),
            "recall@top10%": _recall(mine, ranks, top),
            f"recall@top10% of {EXPECTED[kind]}": _recall(mine, kind_ranks, kind_top),
            f"recall@top{tight}": _recall(mine, ranks, tight),
        }
        for split in ("train", "val"):
            part = [n for n in mine if injected[n].split == split]
            row[f"recall {split} ({len(part)})"] = _recall(part, ranks, top)
        found = sorted(ranks[n] for n in mine if ranks[n] is not None)
        row["median rank"] = found[len(found) // 2] + 1 if found else None
        table[kind] = row
    precision = sum(any(e.found_by(item) for e in injected) for item in items[:50]) / max(1, min(50, len(items)))
    return {"queue": len(items), "annotations": boxes + answers, "top10%": top, "kinds": table,
            "precision@50": round(precision, 3)}  # fmt: skip


def _recall(members: list[int], ranks: dict[int, int | None], top: int) -> float | None:
    if not members:
        return None
    return round(sum(1 for n in members if ranks[n] is not None and ranks[n] < top) / len(members), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="work folder (default: a new temporary one)")
    parser.add_argument("--run-folder", type=Path, help="reuse this run, trained on a clean sample project")
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: cores - 1)")
    parser.add_argument("--checkpoint", default="best", help="the run's checkpoint to review with (default best)")
    parser.add_argument("--limit", type=int, help="review only this many images (the injected ones among them)")
    args = parser.parse_args()
    work = args.folder or Path(tempfile.mkdtemp(prefix="vlm-review-"))
    times = {}
    started = time.monotonic()
    if args.run_folder:
        source = args.run_folder.absolute().parents[1]  # not resolved: the project may link to its runs
        run_name = args.run_folder.absolute().name
    else:
        source = work / "sample"
        create_sample_project(source).close()
        run_name = None
    times["sample project"] = time.monotonic() - started
    started = time.monotonic()
    project = copy_project(source, work / "corrupted")
    injected = inject(project, args.fraction, args.seed)
    times["copy and inject"] = time.monotonic() - started
    print(f"injected {len(injected)} errors into {project.folder} ({os.getloadavg()[0]:.1f} load)", flush=True)
    started = time.monotonic()
    if run_name is None:
        run_name = train_default(project, args.threads)
        trained = "trained the default workflow on the corrupted copy"
    else:
        trained = f"reused {args.run_folder}, trained on the clean sample project before the injection"
    times["training"] = time.monotonic() - started
    started = time.monotonic()
    image_ids = None
    if args.limit:
        others = [i.id for i in project.images() if i.id not in {e.image_id for e in injected}]
        image_ids = sorted({e.image_id for e in injected} | set(others[: max(0, args.limit - len(injected))]))
        injected = [e for e in injected if e.image_id in image_ids]
    checkpoint = find_run(project, run_name).checkpoint(args.checkpoint)
    predictor = Predictor.from_checkpoint(checkpoint)
    summary = review_project(project, run_name, image_ids=image_ids, threads=args.threads, predictor=predictor,
                             progress=_printer())  # fmt: skip
    times["review"] = time.monotonic() - started
    items = review_items(project, summary.run_id, states=None)
    reviewed = image_ids or [i.id for i in project.images()]
    boxes = sum(len(project.boxes(i)) for i in reviewed)
    answers = sum(1 for i in reviewed for pair in project.vqa(i) if pair.answer)
    report = {
        "model": trained,
        "checkpoint": str(checkpoint),
        "images reviewed": summary.images,
        "seconds": {k: round(v, 1) for k, v in times.items()},
        "load average (1 min) at the end": round(os.getloadavg()[0], 1),
        "cpu cores": os.cpu_count(),
        **measure(items, injected, boxes, answers),
        "queue by kind": summary.items_by_kind,
    }
    print(json.dumps(report, indent=2))
    print(_table(report))
    project.close()
    return 0


def _printer():
    last = [0.0]

    def report(done: int, total: int, message: str = "") -> None:
        if time.monotonic() - last[0] > 30 or done == total:
            last[0] = time.monotonic()
            print(f"  review {done}/{total} {message} ({os.getloadavg()[0]:.1f} load)", flush=True)

    return report


def _table(report: dict) -> str:
    rows = ["| kind | injected | recall@top10% (goal) | same, kind filter | recall@top 2x injected | train | "
            "held-out | median rank |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for kind, row in report["kinds"].items():
        values = list(row.values())  # injected, top10%, filtered, tight, train, val, median rank
        goal = f" ({GOALS[kind]})" if kind in GOALS else ""
        rows.append(f"| {kind} | {values[0]} | {values[1]}{goal} | {values[2]} | {values[3]} | {values[4]} | "
                    f"{values[5]} | {values[6]} |")  # fmt: skip
    rows.append(f"precision of the top 50: {report['precision@50']}; queue {report['queue']} items, top 10 % = "
                f"{report['top10%']} of {report['annotations']} annotations; seconds {report['seconds']}")  # fmt: skip
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())

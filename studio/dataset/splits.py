"""Train / val / test splits by ratio, seeded, and stratified by label so that rare labels reach every split.

Each image is keyed by its rarest label (images without boxes share one key); every key's images are shuffled
with the seed and dealt out by the ratios, largest remainder first, and a key with at least as many images as
there are splits gives each split (with a ratio above zero) at least one while that split is below its share of
all the images dealt out (so that, in a small project, val and test do not take most annotated images). Images
pinned to a split by hand
keep it; with ``only_unsplit`` every image that has a split keeps it and only the others are dealt out (new
images join a project without moving the images earlier runs were validated on).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from studio.dataset.model import SPLITS
from studio.dataset.store import Project
from studio.humanize import count
from studio.jobs import CancelToken, Progress, no_progress


@dataclass
class SplitReport:
    counts: dict[str, int]  # images per split, pinned ones included
    pinned: int
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> split -> images with it
    kept: int = 0  # images not pinned that kept the split they had (``only_unsplit``)
    assigned: int = 0  # images dealt out by this split

    def to_dict(self) -> dict:
        return {"counts": self.counts, "pinned": self.pinned, "kept": self.kept, "assigned": self.assigned,
                "labels": self.labels}

    def summary(self) -> str:
        parts = ", ".join(f"{split} {n:,}" for split, n in self.counts.items())
        kept = [f"{n:,} {what}" for n, what in ((self.pinned, "pinned"), (self.kept, "already split")) if n]
        text = f"Split: {parts}" + (
            f" ({self.assigned:,} images assigned; {' and '.join(kept)} kept their split)" if kept else ""
        )
        missing = [name for name, per in self.labels.items() if any(per.get(s, 0) == 0 for s in self.counts)]
        if missing:
            text += f"\nLabels missing from a split (too few images): {', '.join(missing)}"
        return text


def unsplit_warning(unsplit: int) -> str:
    """What the data check and the Train page say about annotated images in no split."""
    one = unsplit == 1
    return (f"{count(unsplit, 'annotated image')} {'has' if one else 'have'} no split: training and evaluation "
            f"leave {'it' if one else 'them'} out")


def ratios_from(train: float, val: float, test: float) -> dict[str, float]:
    """Normalised ratios; raises ``ValueError`` for negative ones or a zero sum."""
    values = {"train": train, "val": val, "test": test}
    if any(v < 0 or not math.isfinite(v) for v in values.values()) or sum(values.values()) <= 0:
        raise ValueError(f"split ratios must be >= 0 with a positive sum, got {train}, {val}, {test}")
    total = sum(values.values())
    return {k: v / total for k, v in values.items()}


def allocate(
    count: int, ratios: dict[str, float], have: dict[str, int] | None = None, share: dict[str, int] | None = None
) -> dict[str, int]:
    """How many of ``count`` new items each split gets so that the totals (``have`` plus these) follow the
    ratios, largest remainder first; each split with a ratio above zero gets one if there are enough items and
    (given ``share``, its final size) it has fewer than its share."""
    have = have or dict.fromkeys(ratios, 0)
    total = sum(have.values()) + count
    want = {s: total * r - have.get(s, 0) for s, r in ratios.items()}
    result = {s: max(0, min(count, math.floor(w))) for s, w in want.items()}
    while sum(result.values()) < count:
        result[max(want, key=lambda s: (want[s] - result[s], -SPLITS.index(s)))] += 1
    while sum(result.values()) > count:
        result[max((s for s in want if result[s]), key=lambda s: (result[s] - want[s], SPLITS.index(s)))] -= 1
    used = [s for s in SPLITS if ratios.get(s, 0) > 0]
    if count >= len(used):
        for s in used:
            if result[s] == 0 and (share is None or have.get(s, 0) < share[s]):
                donor = max(used, key=lambda d: (result[d], -SPLITS.index(d)))
                result[donor] -= 1
                result[s] += 1
    return result


def assign_splits(
    project: Project, train: float, val: float, test: float, *, seed: int = 0, only_unsplit: bool = False
) -> SplitReport:
    """Assign every unpinned image (with ``only_unsplit``: every image in no split) to a split, in one
    transaction, and report the result."""
    ratios = ratios_from(train, val, test)
    names = {label.id: label.name for label in project.labels()}
    images = project.images()
    labels_of = {
        image.id: {names[b.label_id] for b in project.boxes(image.id) if b.label_id} for image in images
    }
    frequency = Counter(name for found in labels_of.values() for name in found)
    groups: dict[str, list[int]] = {}
    for image in images:
        if image.split_pinned or (only_unsplit and image.split):
            continue
        found = labels_of[image.id]
        key = min(found, key=lambda n: (frequency[n], n)) if found else ""
        groups.setdefault(key, []).append(image.id)
    rng = random.Random(seed)
    chosen: dict[str, list[int]] = {s: [] for s in SPLITS}
    dealt = sum(len(members) for members in groups.values())
    share = {s: max(1, round(dealt * r)) for s, r in ratios.items()}
    for key in sorted(groups, key=lambda k: (len(groups[k]), k)):
        members = sorted(groups[key])
        rng.shuffle(members)
        start = 0
        have = {split: len(ids) for split, ids in chosen.items()}
        for split, n in allocate(len(members), ratios, have, share).items():
            chosen[split] += members[start : start + n]
            start += n
    with project.transaction({"images"}):
        for split, ids in chosen.items():
            if ids:
                project.set_split(ids, split)
    final = {image.id: image.split for image in project.images()}
    report = SplitReport(
        counts={s: sum(1 for v in final.values() if v == s) for s in SPLITS},
        pinned=sum(1 for image in images if image.split_pinned),
        kept=sum(1 for image in images if only_unsplit and image.split and not image.split_pinned),
        assigned=sum(len(ids) for ids in chosen.values()),
    )
    for image_id, found in labels_of.items():
        for name in found:
            per = report.labels.setdefault(name, {s: 0 for s in SPLITS})
            if final[image_id] in per:
                per[final[image_id]] += 1
    report.counts = {s: n for s, n in report.counts.items() if n or ratios[s] > 0}
    return report


def assign_splits_at(
    folder: str | Path, train: float, val: float, test: float, *, seed: int = 0, only_unsplit: bool = False,
    progress: Progress = no_progress, cancel: CancelToken | None = None,
) -> SplitReport:
    """``assign_splits`` on its own connection to the project in ``folder`` (for a worker thread)."""
    progress(0, 1, "splitting")
    with Project.open(folder) as project:
        report = assign_splits(project, train, val, test, seed=seed, only_unsplit=only_unsplit)
    progress(1, 1, "split")
    return report

"""Where a tiny-model checkpoint's localisation fails: held-out single-box phrase prompts (fresh scenes of the
held-out stream, never trained on), mean IoU by the number of shapes in the scene, and how often the answer box fits
another shape of the scene better than the named one (a binding error: right kind of box, wrong object), split by
what that other shape shares with the named one.

    python bench/diagnose_grounding.py [CHECKPOINT_FOLDER] [--scenes 100]

CHECKPOINT_FOLDER is a pre-training output; without one it scores the shipped checkpoint (studio/resources/tiny-model).

Measured on the shipped checkpoint (100 scenes): mean IoU 0.45; 0.73 with one shape in the scene, 0.44 with two,
0.32 with three; 23 % of the answers box another shape (same colour 18, same shape 6, neither 15 of 169).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.adapters import TaskMix, get_adapter, samples_from_annotation
from studio.dataset.synthetic import make_scene
from studio.evaluation.grounding import iou_matrix
from studio.inference.loading import Loaded
from studio.inference.predictor import Predictor
from studio.training.scenes import HELD_OUT_SEED, scene_annotation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=None, help="checkpoint folder (default: shipped)")
    parser.add_argument("--scenes", type=int, default=100, help="held-out scenes (default 100)")
    args = parser.parse_args()
    adapter = get_adapter("tiny")
    model = adapter.load_model(args.folder, dtype="float32").eval()
    meta = {"model_id": "tiny", "mode": "full", "step": 0, "system_prompts": {}}
    predictor = Predictor(Loaded(model, adapter.load_processor(), adapter, meta), use_cache=False)
    cases = []
    for index in range(args.scenes):
        scene = make_scene(HELD_OUT_SEED, index)
        mix = TaskMix(caption=False, vqa=False)
        for sample in samples_from_annotation(scene_annotation(scene, HELD_OUT_SEED, index), mix):
            if len(sample.phrases[0].boxes) == 1:
                cases.append((scene, sample))
    answers = []
    for start in range(0, len(cases), 64):
        chunk = cases[start : start + 64]
        answers += predictor.generate_batch([s for _, s in chunk], [scene.image for scene, _ in chunk],
                                            max_new_tokens=64)
    by_count: dict[int, list[float]] = defaultdict(list)
    binding: Counter[str] = Counter()
    for (scene, sample), answer in zip(cases, answers, strict=True):
        parsed = predictor.adapter.parse_boxes(answer.text, sample.width, sample.height, predictor.settings)
        target = sample.phrases[0].boxes[0]
        if not parsed.boxes:
            by_count[len(scene.shapes)].append(0.0)
            binding["unparseable"] += 1
            continue
        ious = iou_matrix([parsed.boxes[0].box], [shape.box for shape in scene.shapes])[0]
        named = next(k for k, shape in enumerate(scene.shapes) if shape.box == target)
        by_count[len(scene.shapes)].append(float(ious[named]))
        best = int(ious.argmax())
        if best != named and ious[best] > ious[named] + 0.1:
            other, wanted = scene.shapes[best], scene.shapes[named]
            binding["same colour" if other.colour == wanted.colour else
                    "same shape" if other.shape == wanted.shape else "neither"] += 1
    scores = [v for values in by_count.values() for v in values]
    report = {
        "checkpoint": str(args.folder or "shipped"),
        "prompts": len(scores),
        "mean_iou": round(sum(scores) / len(scores), 4),
        "mean_iou_by_shapes_in_scene": {n: round(sum(v) / len(v), 4) for n, v in sorted(by_count.items())},
        "prompts_by_shapes_in_scene": {n: len(v) for n, v in sorted(by_count.items())},
        "wrong_object": dict(binding),
        "wrong_object_rate": round(sum(v for k, v in binding.items() if k != "unparseable") / len(scores), 4),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

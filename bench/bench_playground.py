"""Playground time to first token: the first prompt on an image against a second prompt on the same image (which
reuses the image's encoding: the KV cache of the system prompt + image prefix), measured with `Predictor` on

- the tiny built-in model (random weights, 240 x 160 image stretched to 224 x 224: 49 visual tokens), and
- a larger random Qwen3-VL configuration (text 512 x 8 layers, vision 256 x 8 layers, 448 x 448 image, 196
  visual tokens) where the image is most of the prompt, as with real checkpoints.

Prints medians over a few images and the ratio first / second (target >= 2). ``--device cuda`` runs on a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

LARGER_TEXT = {"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "head_dim": 64,
               "num_key_value_heads": 4, "intermediate_size": 1536,
               "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [12, 10, 10],
                                   "mrope_interleaved": True}}
LARGER_VISION = {"depth": 8, "hidden_size": 256, "num_heads": 4, "intermediate_size": 1024, "out_hidden_size": 512,
                 "deepstack_visual_indexes": [1, 3, 5]}
PROMPTS = ("Locate the red circle.", "Find the blue square.", "How many shapes are there?")


def scene(seed: int, size: tuple[int, int]):
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randint(200, 255),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randint(0, size[0] - 40), rng.randint(0, size[1] - 40)
        draw.ellipse((x, y, x + 40, y + 40), fill=rng.choice(["red", "green", "blue"]))
    return image


def larger_model_folder(folder: Path) -> tuple[Path, int]:
    """A random Qwen3-VL checkpoint with the tiny tokenizer and bigger towers; returns it and its pixels."""
    from studio.adapters.tiny import build_config, build_model, build_processor

    processor = build_processor()
    pixels = 448 * 448
    processor.image_processor.size = {"shortest_edge": pixels, "longest_edge": pixels}
    ids = {t: processor.tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_end|>", "<|image_pad|>",
                                                                     "<|video_pad|>", "<|vision_start|>",
                                                                     "<|vision_end|>")}
    config = build_config(len(processor.tokenizer), ids)
    config.text_config.update(LARGER_TEXT)
    config.vision_config.update(LARGER_VISION)
    processor.save_pretrained(folder)
    build_model(config).save_pretrained(folder)
    return folder, pixels


def measure(predictor, size: tuple[int, int], images: int, new_tokens: int) -> dict[str, float]:
    from studio.inference.generation import GenerationSettings

    settings = GenerationSettings(max_new_tokens=new_tokens)
    predictor(scene(999, size), PROMPTS[0], generation=settings)  # warm up
    first, second, third = [], [], []
    for seed in range(images):
        image = scene(seed, size)
        results = [predictor(image, prompt, generation=settings) for prompt in PROMPTS]
        assert not results[0].image_cached and results[1].image_cached
        first.append(results[0].time_to_first_token)
        second.append(results[1].time_to_first_token)
        third.append(results[2].time_to_first_token)
    cached_runs = second + third
    uncached = statistics.median(first)
    return {"first_ms": uncached * 1e3, "second_ms": statistics.median(cached_runs) * 1e3,
            "ratio": uncached / statistics.median(cached_runs), "prompt_tokens": results[0].prompt_tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-larger", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from studio.adapters import get_adapter
    from studio.inference.loading import Loaded
    from studio.inference.predictor import Predictor

    adapter = get_adapter("tiny")
    meta = {"model_id": "tiny", "system_prompts": {}}
    tiny = Loaded(adapter.load_model(device=args.device), adapter.load_processor(), adapter, meta)
    rows = {"tiny (1.9 M, 240x160 image)": measure(Predictor(tiny), (240, 160), args.images, 1)}
    if not args.skip_larger:
        with tempfile.TemporaryDirectory() as tmp:
            folder, pixels = larger_model_folder(Path(tmp))
            model = adapter.load_model(folder, device=args.device)
            params = sum(p.numel() for p in model.parameters()) / 1e6
            processor = adapter.load_processor(adapter.settings(min_pixels=pixels, max_pixels=pixels), folder=folder)
            larger = Loaded(model, processor, adapter,
                            {**meta, "vision": {"min_pixels": pixels, "max_pixels": pixels}})
            rows[f"larger random Qwen3-VL ({params:.0f} M, 448x448 image)"] = measure(
                Predictor(larger), (448, 448), args.images, 1)
    print(f"device {args.device}, {args.threads} thread(s), median of {args.images} images")
    for name, row in rows.items():
        print(f"{name}: prompt {row['prompt_tokens']} tokens, first prompt TTFT {row['first_ms']:.1f} ms, "
              f"next prompt on the same image {row['second_ms']:.1f} ms, ratio {row['ratio']:.2f}x")


if __name__ == "__main__":
    main()

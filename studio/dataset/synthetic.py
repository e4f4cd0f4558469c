"""Deterministic synthetic scenes: coloured shapes on varied backgrounds, with captions, phrases and VQA pairs.

One generator serves the built-in sample project and the tiny model's pre-training, so both speak the same language.
Scene ``index`` of ``seed`` is always the same picture and text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

COLOURS = {"red": (214, 39, 40), "green": (44, 160, 44), "blue": (31, 91, 204)}
SHAPES = ("circle", "square", "triangle")
NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}
Words = Mapping[str, str]  # a project's own name for a colour or shape; the rest keep theirs


@dataclass(frozen=True)
class Shape:
    colour: str
    shape: str
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels; x2/y2 are the outer pixel edges

    def label(self, words: Words | None = None) -> str:
        return shape_label(self.colour, self.shape, words)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


@dataclass(frozen=True)
class ScenePhrase:
    start: int
    end: int
    shape_indexes: tuple[int, ...]


@dataclass
class Scene:
    image: Image.Image
    shapes: list[Shape]
    caption: str
    phrases: list[ScenePhrase] = field(default_factory=list)
    vqa: list[tuple[str, str]] = field(default_factory=list)


def name(word: str, words: Words | None) -> str:
    """``word`` as a project with ``words`` calls it."""
    return (words or {}).get(word, word)


def shape_label(colour: str, shape: str, words: Words | None = None) -> str:
    """The label "colour shape", named by ``words``."""
    return f"{name(colour, words)} {name(shape, words)}"


def make_scene(seed: int, index: int, *, size: tuple[int, int] | None = None, words: Words | None = None) -> Scene:
    """Scene ``index`` of the stream ``seed``: 1-3 non-overlapping shapes, a caption with phrases, VQA pairs; the
    text names colours and shapes by ``words`` where it has them (the picture is the same whatever the words)."""
    rng = np.random.default_rng([seed, index])
    width, height = size or (int(rng.integers(160, 257)), int(rng.integers(160, 257)))
    image = _background(rng, width, height)
    draw = ImageDraw.Draw(image)
    shapes: list[Shape] = []
    for _ in range(int(rng.integers(1, 4))):
        shape = _place(rng, width, height, shapes)
        if shape is not None:
            _draw(draw, shape, rng)
            shapes.append(shape)
    caption, phrases = _caption(rng, shapes, words)
    return Scene(image=image, shapes=shapes, caption=caption, phrases=phrases, vqa=_questions(rng, shapes, words))


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    base = rng.integers(165, 250, size=3).astype(np.float32)
    tilt = rng.uniform(-40, 40, size=3).astype(np.float32)
    if rng.random() < 0.5:
        ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    else:
        ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    pixels = base + tilt * ramp + rng.normal(0, rng.uniform(3, 14), size=(height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _place(rng: np.random.Generator, width: int, height: int, placed: list[Shape]) -> Shape | None:
    side_min, side_max = min(width, height) / 7, min(width, height) / 3
    for _ in range(30):
        side = float(rng.uniform(side_min, side_max))
        x1 = float(rng.integers(2, int(width - side - 2)))
        y1 = float(rng.integers(2, int(height - side - 2)))
        box = (x1, y1, x1 + round(side), y1 + round(side))
        if all(_apart(box, other.box) for other in placed):
            colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
            return Shape(colour, SHAPES[int(rng.integers(len(SHAPES)))], box)
    return None


def _apart(a: tuple[float, ...], b: tuple[float, ...], gap: float = 4) -> bool:
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def _draw(draw: ImageDraw.ImageDraw, shape: Shape, rng: np.random.Generator) -> None:
    jitter = rng.integers(-18, 19, size=3)
    fill = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(COLOURS[shape.colour], jitter, strict=True))
    x1, y1, x2, y2 = shape.box
    inner = (x1, y1, x2 - 1, y2 - 1)  # PIL draws inclusive end pixels
    if shape.shape == "circle":
        draw.ellipse(inner, fill=fill)
    elif shape.shape == "square":
        draw.rectangle(inner, fill=fill)
    else:
        draw.polygon([((x1 + x2 - 1) / 2, y1), (x2 - 1, y2 - 1), (x1, y2 - 1)], fill=fill)


def _relation(a: Shape, b: Shape) -> str:
    (ax, ay), (bx, by) = a.centre, b.centre
    if abs(ax - bx) >= abs(ay - by):
        return "left of" if ax < bx else "right of"
    return "above" if ay < by else "below"


def _caption(rng: np.random.Generator, shapes: list[Shape], words: Words | None) -> tuple[str, list[ScenePhrase]]:
    """A caption whose phrases name the shapes; identical shapes are grouped ("two red circles")."""
    groups: dict[str, list[int]] = {}
    for i, shape in enumerate(shapes):
        groups.setdefault(shape.label(words), []).append(i)
    items = [(label, tuple(indexes)) for label, indexes in groups.items()]
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    texts = []
    for label, indexes in items:
        texts.append(f"a {label}" if len(indexes) == 1 else f"{NUMBER_WORDS[len(indexes)]} {label}s")
    if len(items) == 2 and len(items[0][1]) == len(items[1][1]) == 1:
        glue = [f" {_relation(shapes[items[0][1][0]], shapes[items[1][1][0]])} "]
    else:
        glue = [", "] * (len(items) - 2) + [" and "] if len(items) > 1 else []
    caption, phrases = "", []
    for n, ((_, indexes), text) in enumerate(zip(items, texts, strict=True)):
        phrases.append(ScenePhrase(len(caption), len(caption) + len(text), indexes))
        caption += text + (glue[n] if n < len(glue) else "")
    return caption, phrases


def _questions(rng: np.random.Generator, shapes: list[Shape], words: Words | None) -> list[tuple[str, str]]:
    kinds = [shape.shape for shape in shapes]
    candidates = [("How many shapes are there?", str(len(shapes)))]
    for kind in SHAPES:
        called = name(kind, words)
        candidates.append((f"How many {called}s are there?", str(kinds.count(kind))))
        if kinds.count(kind) == 1:
            candidates.append((f"What colour is the {called}?", name(shapes[kinds.index(kind)].colour, words)))
    colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
    kind = SHAPES[int(rng.integers(len(SHAPES)))]
    present = any(s.colour == colour and s.shape == kind for s in shapes)
    candidates.append((f"Is there a {name(colour, words)} {name(kind, words)}?", "yes" if present else "no"))
    picks = rng.choice(len(candidates), size=min(3, len(candidates)), replace=False)
    return [candidates[i] for i in sorted(picks)]

"""The wording of every prompt, in one place: training, evaluation, the playground and the exporters all use
it.

Default system prompts per task live in ``studio/resources/prompts/<task>.txt``."""

from __future__ import annotations

import zlib
from functools import lru_cache

from studio.shipped import RESOURCES_DIR

TASKS = ("grounding", "vqa")
PROMPTS_DIR = RESOURCES_DIR / "prompts"

CAPTION_PROMPT = "Locate every phrase of this caption in the image: {caption}"
DETECTION_PROMPT = "Detect every object in this image and label it."
PHRASE_PROMPTS = ("Locate {phrase}.", "Find {phrase}.", "Detect {phrase}.", "Where is {phrase}?")
_ARTICLES = (
    "a",
    "an",
    "the",
    "one",
    "two",
    "three",
    "every",
    "each",
    "all",
    "this",
    "that",
    "these",
    "those",
)


@lru_cache(maxsize=8)
def system_prompt(task: str) -> str:
    """The default system prompt for ``task`` ("grounding" or "vqa")."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    path = PROMPTS_DIR / f"{task}.txt"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise OSError(f"{path}: cannot read the default system prompt ({exc.strerror or exc})") from None


def caption_prompt(caption: str) -> str:
    """The user prompt asking for the boxes of every linked phrase of a caption."""
    return CAPTION_PROMPT.format(caption=caption.strip())


def phrase_prompt(phrase: str, variant: int | None = None) -> str:
    """The user prompt asking for one phrase's boxes. Without ``variant`` the wording is chosen by a stable
    hash of the phrase, so the same phrase always gets the same prompt."""
    phrase = phrase.strip()
    first = phrase.split(" ", 1)[0].lower()
    noun = phrase if first in _ARTICLES else f"the {phrase}"
    if variant is None:
        variant = zlib.crc32(phrase.encode("utf-8"))
    return PHRASE_PROMPTS[variant % len(PHRASE_PROMPTS)].format(phrase=noun)

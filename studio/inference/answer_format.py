"""What a model's answer should look like, in words a person can act on: when boxes cannot be read from an
answer, say which format the model was expected to write instead of quoting the parser's fragments."""

from __future__ import annotations

from studio.adapters import Adapter

FAMILY_NAMES = {"qwen3_vl": "Qwen3-VL", "qwen2_5_vl": "Qwen2.5-VL", "internvl": "InternVL", "nvila": "NVILA",
                "deepseek_ocr2": "DeepSeek-OCR", "llava_next": "LLaVA-NeXT"}
REPAIRED = ("(fixed)", "(clamped)")  # the endings of the parser's messages about boxes it read and repaired


def format_name(adapter: Adapter) -> str:
    return FAMILY_NAMES.get(adapter.entry.family, adapter.entry.name)


def reading_problem(adapter: Adapter | None, boxes: int, problems: list[str], text: str) -> str:
    """One or two sentences on what could not be read from a grounding answer ('' when it was read cleanly)."""
    unreadable = [p for p in problems if not p.endswith(REPAIRED)]
    repaired = len(problems) - len(unreadable)
    if boxes and not problems:
        return ""
    if not boxes and not text.strip():
        return "The model gave an empty answer."
    name = f"the {format_name(adapter)} format" if adapter is not None else "this model's format"
    expected = adapter.box_format() if adapter is not None else ""
    expected = f" (expected {expected})" if expected else ""
    if not boxes:
        return f"The answer has no boxes in {name}{expected}."
    parts = []
    if unreadable:
        parts.append(f"Part of the answer is not in {name}{expected} and was left out.")
    if repaired:
        parts.append(f"{repaired:,} {'box was' if repaired == 1 else 'boxes were'} repaired (corners swapped or "
                     "coordinates outside the image).")
    return " ".join(parts)

"""LLaVA conversation JSON: a list of ``{"id", "image", "conversations": [{"from": "human", "value":
"<image>\\n..."}, {"from": "gpt", "value": ...}]}`` records (LLaVA-Instruct, ShareGPT-style
``from``/``value``).

Exports write one record per training sample of the chosen model, with its system prompt in a ``system`` key
(LLaVA's own code ignores it; ShareGPT readers such as LLaMA-Factory map it) and boxes in the model's format.
The image tag is followed by a newline, as LLaVA's preprocessing puts it there anyway.
"""

from __future__ import annotations

from pathlib import Path

from studio.dataset.formats import conversations as conv
from studio.dataset.formats.base import DatasetDoc, Fields, FormatError, load_json
from studio.dataset.formats.exporting import Output

USER_ROLES = ("human", "user")
ASSISTANT_ROLES = ("gpt", "assistant")
DATA_FILE = "llava.json"


def read(path: Path, model: str | None = None) -> DatasetDoc:
    if path.is_dir():
        path = path / DATA_FILE
    data = load_json(path)
    if not isinstance(data, list):
        raise FormatError(path, "$", "expected a list of conversation records")
    doc = DatasetDoc(source=path)
    reader = conv.ConversationReader(doc, conv.model_for(path, model))
    for index, value in enumerate(data):
        record = Fields(path, f"$[{index}]", value)
        if not record.has("image"):
            doc.notes.append(f"{path.name} $[{index}]: a text-only conversation was skipped")
            continue
        image = reader.image(record.text("image"), f"{path.name} $[{index}]")
        read_turns(reader, image, record.children("conversations"), "from", "value", USER_ROLES, ASSISTANT_ROLES)
    reader.finish()
    return doc


def read_turns(reader, image, turns: list[Fields], role_key: str, text_key: str, users, assistants) -> None:
    """Pair each user turn with the assistant turn after it; system turns are skipped."""
    pending: Fields | None = None
    for turn in turns:
        role = turn.text(role_key)
        if role in users:
            pending = turn
        elif role in assistants:
            if pending is None:
                raise turn.error(role_key, "an assistant turn without a user turn before it")
            reader.add(image, pending.text(text_key), turn.text(text_key))
            pending = None
        elif role != "system":
            raise turn.error(role_key, f"unknown role {role!r} (expected {', '.join((*users, *assistants))})")


def write(doc: DatasetDoc, output: Output, model: str | None) -> None:
    adapter = conv.adapter_of(model, "LLaVA")
    sizing = conv.processor_sizing(adapter, output.options)
    records = []
    for image in doc.images:
        relative = None
        for index, turn in enumerate(conv.turns(image, adapter, sizing, output.options.system_prompts)):
            relative = relative or output.image(image, "images")
            records.append(
                {
                    "id": f"{Path(relative).stem}-{index}",
                    "image": relative,
                    "system": turn.system,
                    "conversations": [
                        {"from": "human", "value": f"{conv.IMAGE_TOKEN}\n{turn.prompt}"},
                        {"from": "gpt", "value": turn.answer},
                    ],
                }
            )
    conv.note_records(doc, output, len(records))
    output.write_json(DATA_FILE, records)
    conv.write_sidecar(output, "llava", adapter.entry.id, sizing)
    conv.write_readme(
        output,
        "LLaVA conversation",
        adapter,
        sizing,
        f"the model's processor at max_pixels {sizing.max_pixels:,} and min_pixels {sizing.min_pixels:,}",
        f"`{DATA_FILE}` holds one record per conversation; image paths are relative to this folder.",
    )

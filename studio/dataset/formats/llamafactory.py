"""LLaMA-Factory multimodal sharegpt data: a JSON list of ``{"messages": [...], "images": [...]}`` records
plus the ``dataset_info.json`` entry that names the file, ``"formatting": "sharegpt"``, its columns and role
tags.

Import reads ``dataset_info.json`` (every sharegpt entry with images), or one data file directly (``messages``
with role/content or ``conversations`` with from/value). Image paths are relative to the dataset folder, as
LLaMA-Factory's ``media_dir`` defaults to it. Exports write the system prompt as the first message, the
``<image>`` tag right before the prompt (where LLaMA-Factory puts the image tokens, as VLM Studio's trainer
does), and boxes in the chosen model's format.
"""

from __future__ import annotations

from pathlib import Path

from studio.dataset.formats import conversations as conv
from studio.dataset.formats.base import DatasetDoc, Fields, FormatError, load_json
from studio.dataset.formats.exporting import Output
from studio.dataset.formats.llava import read_turns

INFO_FILE = "dataset_info.json"
DATA_FILE = "vlm_studio_train.json"
DATASET_NAME = "vlm_studio"
TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}
_SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "system_tag": "system",
}


def read(path: Path, model: str | None = None) -> DatasetDoc:
    info = path / INFO_FILE if path.is_dir() else path if path.name == INFO_FILE else None
    doc = DatasetDoc(source=path)
    reader = conv.ConversationReader(doc, conv.model_for(path, model))
    if info is None:
        _read_data(path, None, reader)
    else:
        entries = Fields(info, "$", load_json(info))
        used = 0
        for name in entries.value:
            entry = entries.child(name)
            if entry.text("formatting", "alpaca") != "sharegpt":
                continue
            columns = entry.child("columns", None)
            if columns is not None and not columns.has("images"):
                continue
            if not entry.has("file_name"):
                continue  # a Hugging Face Hub or ModelScope dataset: nothing on disk to import
            _read_data(info.parent / entry.text("file_name"), entry, reader)
            used += 1
        if not used:
            raise FormatError(info, "$", 'expected an entry with "formatting": "sharegpt" and an images column')
    reader.finish()
    return doc


def _read_data(data_file: Path, entry: Fields | None, reader: conv.ConversationReader) -> None:
    """One sharegpt data file, read with the columns and role tags of its ``dataset_info.json`` entry."""
    if not data_file.is_file():
        raise FormatError(data_file, "", "no such data file")
    data = load_json(data_file)
    if not isinstance(data, list):
        raise FormatError(data_file, "$", "expected a list of records")
    columns = entry.child("columns", None) if entry is not None else None
    given_tags = entry.child("tags", None) if entry is not None else None
    default = "messages" if data and isinstance(data[0], dict) and "messages" in data[0] else "conversations"
    messages_key = columns.text("messages", default) if columns is not None else default
    images_key = columns.text("images", "images") if columns is not None else "images"
    defaults = TAGS if messages_key == "messages" and given_tags is None else _SHAREGPT_TAGS
    tags = {key: given_tags.text(key, value) if given_tags else value for key, value in defaults.items()}
    for index, value in enumerate(data):
        record = Fields(data_file, f"$[{index}]", value)
        file = conv.single_image(record.items(images_key, []))
        if file is None:
            reader.doc.notes.append(
                f"{data_file.name} $[{index}]: a record without exactly one image file was skipped "
                "(one image per record is supported)"
            )
            continue
        image = reader.image(file, f"{data_file.name} $[{index}]")
        read_turns(
            reader,
            image,
            record.children(messages_key),
            tags["role_tag"],
            tags["content_tag"],
            (tags["user_tag"],),
            (tags["assistant_tag"],),
        )


def write(doc: DatasetDoc, output: Output, model: str | None) -> None:
    adapter = conv.adapter_of(model, "LLaMA-Factory")
    records = []
    for image in doc.images:
        relative = None
        for turn in conv.turns(image, adapter):
            relative = relative or output.image(image, "images")
            records.append(
                {
                    "messages": [
                        {"role": "system", "content": turn.system},
                        {"role": "user", "content": f"{conv.IMAGE_TOKEN}{turn.prompt}"},
                        {"role": "assistant", "content": turn.answer},
                    ],
                    "images": [relative],
                }
            )
    conv.note_unexported(doc, output)
    output.write_json(DATA_FILE, records)
    output.write_json(
        INFO_FILE,
        {
            DATASET_NAME: {
                "file_name": DATA_FILE,
                "formatting": "sharegpt",
                "columns": {"messages": "messages", "images": "images"},
                "tags": TAGS,
            }
        },
    )
    conv.write_sidecar(output, "llamafactory", adapter.entry.id)

"""LLaMA-Factory multimodal sharegpt data: a JSON list of ``{"messages": [...], "images": [...]}`` records
plus the ``dataset_info.json`` entry that names the file, ``"formatting": "sharegpt"``, its columns and role
tags.

Import reads ``dataset_info.json`` (every sharegpt entry with images), or one data file directly (``messages``
with role/content or ``conversations`` with from/value). Image paths are relative to the dataset folder, as
LLaMA-Factory's ``media_dir`` defaults to it. Exports write the system prompt as the first message, the
``<image>`` tag right before the prompt (where LLaMA-Factory puts the image tokens, as VLM Studio's trainer
does), and boxes in the chosen model's format, in the frame of the image the model sees after LLaMA-Factory's
own resize (``image_max_pixels``, 768 * 768 by default) and the processor's; ``vlm_studio_sft.yaml`` and the
README name that setting, so training with them cannot disagree with the boxes.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import yaml

from studio.dataset.formats import conversations as conv
from studio.dataset.formats.base import DatasetDoc, Fields, FormatError, load_json
from studio.dataset.formats.exporting import Output
from studio.dataset.formats.llava import read_turns

INFO_FILE = "dataset_info.json"
TRAIN_FILE = "vlm_studio_sft.yaml"
# LLaMA-Factory's ModelArguments defaults (src/llamafactory/hparams/model_args.py)
IMAGE_MAX_PIXELS = 768 * 768
IMAGE_MIN_PIXELS = 32 * 32
TEMPLATES = {"qwen2_5_vl": "qwen2_vl", "qwen3_vl": "qwen3_vl_nothink"}  # catalog family -> LLaMA-Factory template
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


def image_size(width: int, height: int, max_pixels: int, min_pixels: int) -> tuple[int, int]:
    """The size of the image LLaMA-Factory hands the model's processor: its mm_plugin scales an image above
    ``image_max_pixels`` (or below ``image_min_pixels``) to that area, truncating each side, and its Qwen-VL
    plugin then widens sides under 28 px and cuts aspect ratios over 200 to 180."""
    if width * height > max_pixels:
        factor = math.sqrt(max_pixels / (width * height))
        width, height = int(width * factor), int(height * factor)
    if width * height < min_pixels:
        factor = math.sqrt(min_pixels / (width * height))
        width, height = int(width * factor), int(height * factor)
    if min(width, height) < 28:
        width, height = max(width, 28), max(height, 28)
    if width / height > 200:
        width = height * 180
    if height / width > 200:
        height = width * 180
    return width, height


def sizing(adapter, options) -> conv.Sizing:
    """LLaMA-Factory's own resize (``image_max_pixels`` / ``image_min_pixels``: the export's, else LLaMA-Factory's
    defaults), then the model's processor at its own (catalog) settings."""
    max_pixels = options.max_pixels or IMAGE_MAX_PIXELS
    min_pixels = options.min_pixels or IMAGE_MIN_PIXELS
    return conv.Sizing(
        adapter.settings(), functools.partial(_sized, max_pixels=max_pixels, min_pixels=min_pixels),
        max_pixels, min_pixels,
    )


def _sized(width: int, height: int, *, max_pixels: int, min_pixels: int) -> tuple[int, int]:
    return image_size(width, height, max_pixels, min_pixels)


def write(doc: DatasetDoc, output: Output, model: str | None) -> None:
    adapter = conv.adapter_of(model, "LLaMA-Factory")
    size = sizing(adapter, output.options)
    records = []
    for image in doc.images:
        relative = None
        for turn in conv.turns(image, adapter, size, output.options.system_prompts):
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
    conv.note_records(doc, output, len(records))
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
    output.write_text(TRAIN_FILE, yaml.safe_dump(train_config(adapter, size, output.final), sort_keys=False))
    conv.write_sidecar(output, "llamafactory", adapter.entry.id, size)
    conv.write_readme(
        output,
        "LLaMA-Factory",
        adapter,
        size,
        f"image_max_pixels {size.max_pixels:,} and image_min_pixels {size.min_pixels:,} (LLaMA-Factory's resize, "
        "then the model's processor)",
        f"`{TRAIN_FILE}` trains a LoRA on it with these settings:\n\n```sh\nllamafactory-cli train "
        f"{output.final / TRAIN_FILE}\n```",
    )


def train_config(adapter, size: conv.Sizing, folder: Path) -> dict:
    """A LLaMA-Factory SFT config for this export, with the image settings its boxes were written for."""
    entry = adapter.entry
    return {
        "model_name_or_path": entry.hf_id or str(entry.local_folder() or entry.id),
        "image_max_pixels": size.max_pixels,
        "image_min_pixels": size.min_pixels,
        "trust_remote_code": entry.remote_code,
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "lora",
        "lora_target": "all",
        "dataset": DATASET_NAME,
        "dataset_dir": str(folder),
        "template": TEMPLATES.get(entry.family, "FILL IN: the LLaMA-Factory template of " + entry.name),
        "cutoff_len": 4096,
        "output_dir": str(folder / "saves" / "lora"),
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 8,
        "learning_rate": 1.0e-4,
        "num_train_epochs": 3.0,
        "bf16": True,
    }

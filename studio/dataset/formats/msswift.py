"""ms-swift JSON lines: ``{"messages": [...], "images": [...], "objects": {"ref": [...], "bbox": [[x1, y1, x2,
y2], ...], "bbox_type": "real" | "norm1000"}}`` per line.

Image paths are written absolute (ms-swift resolves relative ones against its working directory). On import,
``objects`` give exact boxes (``real``: pixels; ``norm1000``: 0-1000 of the image) and ``<ref-object>`` /
``<bbox>`` tags in the text are filled from them in order, as ms-swift does. Exports write the answer text in
the chosen model's format (what VLM Studio's trainer feeds the model, so ms-swift has no tags to replace) and
add ``objects`` with the same boxes in pixels (``bbox_type`` ``real``) for tools that read them. Boxes in
absolute coordinates (Qwen2.5-VL) are written for ms-swift's ``MAX_PIXELS`` / ``MIN_PIXELS`` (qwen_vl_utils'
defaults, 16384 and 4 tokens of 28 x 28 px: the catalog's, unless the export is given others), which the
README's ``swift sft`` command sets.
"""

from __future__ import annotations

from pathlib import Path

from studio.dataset.formats import conversations as conv
from studio.dataset.formats.base import (
    PIXELS,
    DatasetDoc,
    DocBox,
    Fields,
    FormatError,
    ScaledFrame,
    fmt_number,
    iter_jsonl,
    numbers,
    ordered_box,
)
from studio.dataset.formats.exporting import Output

DATA_FILE = "train.jsonl"
NORM1000 = ScaledFrame(1000.0, "norm1000")
FRAMES = {"real": PIXELS, "norm1000": NORM1000}


def read(path: Path, model: str | None = None) -> DatasetDoc:
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        raise FormatError(path, "", "no such file")
    doc = DatasetDoc(source=path)
    reader = conv.ConversationReader(doc, conv.model_for(path, model))
    for number, value in iter_jsonl(path):
        record = Fields(path, f"line {number} $", value)
        file = conv.single_image(record.items("images", []))
        if file is None:
            doc.notes.append(
                f"{path.name} line {number}: a record without exactly one image file was skipped "
                "(one image per record is supported)"
            )
            continue
        image = reader.image(file, f"{path.name} line {number}")
        boxes = _objects(record)
        refs = iter([box.label or "" for box in boxes])
        used = 0
        pending: str | None = None
        for turn in record.children("messages"):
            role, text = turn.text("role"), turn.text("content")
            if role == "user":
                pending = _fill(text, refs)
            elif role == "assistant":
                if pending is None:
                    raise turn.error("role", "an assistant message without a user message before it")
                tags = text.count("<bbox>")
                if not tags and text.lstrip().startswith(("[", "{")):
                    tags = len(boxes) - used  # a literal answer (a VLM Studio export): the remaining objects
                given = boxes[used : used + tags]
                used += len(given)
                reader.add(image, pending, _fill(text, refs), given or None)
                pending = None
            elif role not in ("system", "tool"):
                raise turn.error("role", f"unknown role {role!r} (expected system, user or assistant)")
    reader.finish()
    return doc


def _objects(record: Fields) -> list[DocBox]:
    objects = record.child("objects", None)
    if objects is None:
        return []
    kind = objects.text("bbox_type", "real")
    if kind not in FRAMES:
        raise objects.error("bbox_type", f"expected 'real' or 'norm1000', found {kind!r}")
    refs = objects.items("ref", [])
    boxes = objects.items("bbox", [])
    result = []
    for i, value in enumerate(boxes):
        place = f"{objects.path}.bbox[{i}]"
        box = ordered_box(record.file, place, None, *numbers(record.file, place, value, 4))
        ref = refs[i] if i < len(refs) else ""
        box.label = ref if isinstance(ref, str) and ref else None
        box.frame = FRAMES[kind]
        result.append(box)
    return result


def _fill(text: str, refs) -> str:
    """Replace ``<ref-object>`` tags by the next refs, as ms-swift does (``<bbox>`` boxes come from objects)."""
    while "<ref-object>" in text:
        text = text.replace("<ref-object>", next(refs, ""), 1)
    return text


def write(doc: DatasetDoc, output: Output, model: str | None) -> None:
    adapter = conv.adapter_of(model, "ms-swift")
    sizing = conv.processor_sizing(adapter, output.options)
    lines = []
    for image in doc.images:
        path = None
        for turn in conv.turns(image, adapter, sizing, output.options.system_prompts):
            # absolute: ms-swift reads relative image paths from its working directory
            path = path or str(output.final / output.image(image, "images"))
            record = {
                "messages": [
                    {"role": "system", "content": turn.system},
                    {"role": "user", "content": f"{conv.IMAGE_TOKEN}{turn.prompt}"},
                    {"role": "assistant", "content": turn.answer},
                ],
                "images": [path],
            }
            if turn.boxes:
                record["objects"] = {
                    "ref": [label for label, _box in turn.boxes],
                    "bbox": [[fmt_number(v) for v in box] for _label, box in turn.boxes],
                    "bbox_type": "real",
                }
            lines.append(record)
    conv.note_records(doc, output, len(lines))
    output.write_jsonl(DATA_FILE, lines)
    conv.write_sidecar(output, "msswift", adapter.entry.id, sizing)
    conv.write_readme(
        output,
        "ms-swift",
        adapter,
        sizing,
        f"MAX_PIXELS={sizing.max_pixels} and MIN_PIXELS={sizing.min_pixels} (qwen_vl_utils' resize in ms-swift)",
        "```sh\n" + swift_command(adapter, sizing, output.final / DATA_FILE) + "\n```",
    )


def swift_command(adapter, sizing: conv.Sizing, data: Path) -> str:
    """``swift sft`` for this export, with the pixel settings the boxes were written for."""
    model = adapter.entry.hf_id or str(adapter.entry.local_folder() or adapter.entry.id)
    return (
        f"MAX_PIXELS={sizing.max_pixels} MIN_PIXELS={sizing.min_pixels} swift sft --model {model} "
        f"--dataset {data} --train_type lora"
    )

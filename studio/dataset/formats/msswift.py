"""ms-swift JSON lines: ``{"messages": [...], "images": [...], "objects": {"ref": [...], "bbox": [[x1, y1, x2,
y2], ...], "bbox_type": "real" | "norm1000"}}`` per line.

Image paths are written absolute (ms-swift resolves relative ones against its working directory). On import,
``objects`` give exact boxes (``real``: pixels; ``norm1000``: 0-1000 of the image) and ``<ref-object>`` /
``<bbox>`` tags in the text are filled from them in order, as ms-swift does (each tag takes the next ref or box
of its own list, so one ref may be followed by several boxes). An answer that is prose with refs and boxes (a
grounded caption, "<ref-object><bbox> and <ref-object><bbox> are playing") becomes the image's caption, each
ref a phrase linked to the boxes that follow it; an answer of only tags, or boxes answering a ref in the
question, becomes boxes labelled with their ref. Exports write the answer text in
the chosen model's format (what VLM Studio's trainer feeds the model, so ms-swift has no tags to replace) and
add ``objects`` with the same boxes in pixels (``bbox_type`` ``real``) for tools that read them. Boxes in
absolute coordinates (Qwen2.5-VL) are written for ms-swift's ``MAX_PIXELS`` / ``MIN_PIXELS`` (qwen_vl_utils'
defaults, 16384 and 4 tokens of 28 x 28 px: the catalog's, unless the export is given others), which the
README's ``swift sft`` command sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from studio.dataset.formats import conversations as conv
from studio.dataset.formats.base import (
    PIXELS,
    DatasetDoc,
    DocBox,
    DocImage,
    DocPhrase,
    DocQA,
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
_TAGS = re.compile(r"<ref-object>|<bbox>")


def read(path: Path, model: str | None = None) -> DatasetDoc:
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        raise FormatError(path, "", "no such file")
    doc = DatasetDoc(source=path)
    reader = conv.ConversationReader(doc, conv.model_for(path, model))
    second_captions = 0
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
        objects = _objects(record)
        pending: str | None = None
        for turn in record.children("messages"):
            role, text = turn.text("role"), turn.text("content")
            if role == "user":
                pending = objects.fill(text).text
            elif role == "assistant":
                if pending is None:
                    raise turn.error("role", "an assistant message without a user message before it")
                if not _TAGS.search(text) and text.lstrip().startswith(("[", "{")):
                    # a literal answer (a VLM Studio export): the remaining objects, labelled by their refs
                    reader.add(image, pending, text, objects.rest() or None)
                else:
                    filled = objects.fill(text)
                    if filled.is_caption():
                        second_captions += not _caption(image, pending, filled)
                    else:
                        reader.add(image, pending, filled.text, filled.labelled() or None)
                pending = None
            elif role not in ("system", "tool"):
                raise turn.error("role", f"unknown role {role!r} (expected system, user or assistant)")
    reader.finish()
    if second_captions:
        doc.notes.append(
            f"{second_captions:,} grounded captions of images that already had another one were imported as "
            "question/answer pairs (an image has one caption); their boxes were not imported"
        )
    return doc


@dataclass
class _Ref:
    """A ``<ref-object>`` filled in a text: its span there and the boxes whose ``<bbox>`` tags follow it."""

    text: str
    start: int
    end: int
    boxes: list[DocBox] = field(default_factory=list)


@dataclass
class _Filled:
    """A message with its tags filled: refs by their text, boxes by nothing (they go beside the text)."""

    text: str
    refs: list[_Ref]
    before: list[tuple[str | None, DocBox]]  # boxes ahead of the first ref here, with the ref before (or None)

    def is_caption(self) -> bool:
        """Prose around its refs, rather than only tags: a grounded caption."""
        prose = self.text
        for ref in reversed(self.refs):
            prose = prose[: ref.start] + prose[ref.end :]
        return bool(self.refs) and any(c.isalnum() for c in prose)

    def labelled(self) -> list[DocBox]:
        """Every box, labelled with the ref it follows."""
        pairs = self.before + [(ref.text, box) for ref in self.refs for box in ref.boxes]
        for label, box in pairs:
            box.label = label or None
        return [box for _label, box in pairs]


class _Objects:
    """A record's ``objects``, handed out in text order as ms-swift does: each ``<ref-object>`` takes the next
    ref, each ``<bbox>`` the next box; boxes belong to the ref before them (in the same or an earlier message)."""

    def __init__(self, refs: list[str], boxes: list[DocBox]) -> None:
        self.refs, self.boxes = refs, boxes
        self.next_ref = self.next_box = 0
        self.last_ref: str | None = None

    def fill(self, text: str) -> _Filled:
        out: list[str] = []
        length = 0
        refs: list[_Ref] = []
        before: list[tuple[str | None, DocBox]] = []
        position = 0
        for match in _TAGS.finditer(text):
            out.append(text[position : match.start()])
            length += match.start() - position
            position = match.end()
            if match.group() == "<ref-object>":
                ref = self.refs[self.next_ref] if self.next_ref < len(self.refs) else ""
                self.next_ref += 1
                self.last_ref = ref
                refs.append(_Ref(ref, length, length + len(ref)))
                out.append(ref)
                length += len(ref)
            elif self.next_box < len(self.boxes):
                box = self.boxes[self.next_box]
                self.next_box += 1
                if refs:
                    refs[-1].boxes.append(box)
                else:
                    before.append((self.last_ref, box))
        out.append(text[position:])
        return _Filled("".join(out), refs, before)

    def rest(self) -> list[DocBox]:
        """The boxes no tag took, each labelled with the ref at its own index (VLM Studio's exports)."""
        rest = self.boxes[self.next_box :]
        for i, box in enumerate(rest, self.next_box):
            box.label = self.refs[i] if i < len(self.refs) and self.refs[i] else None
        self.next_box = len(self.boxes)
        return rest


def _caption(image: DocImage, question: str, filled: _Filled) -> bool:
    """Make a grounded caption the image's caption, each ref a phrase linked to its boxes; a second, different
    caption of the same image becomes a question/answer pair instead (returns False then)."""
    caption = filled.text.strip()
    shift = len(filled.text) - len(filled.text.lstrip())
    if image.caption:
        if image.caption != caption:
            image.vqa.append(DocQA(conv.strip_image_tokens(question), caption))
            return False
        return True  # the same caption again
    image.caption = caption
    image.boxes += [DocBox(label or None, *box.xyxy, frame=box.frame) for label, box in filled.before]
    for ref in filled.refs:
        first = len(image.boxes)
        image.boxes += [DocBox(None, *box.xyxy, frame=box.frame) for box in ref.boxes]
        if ref.text.strip():
            image.phrases.append(DocPhrase(ref.start - shift, ref.end - shift, tuple(range(first, len(image.boxes)))))
    return True


def _objects(record: Fields) -> _Objects:
    objects = record.child("objects", None)
    if objects is None:
        return _Objects([], [])
    kind = objects.text("bbox_type", "real")
    if kind not in FRAMES:
        raise objects.error("bbox_type", f"expected 'real' or 'norm1000', found {kind!r}")
    refs = [ref if isinstance(ref, str) else "" for ref in objects.items("ref", [])]
    boxes = []
    for i, value in enumerate(objects.items("bbox", [])):
        place = f"{objects.path}.bbox[{i}]"
        box = ordered_box(record.file, place, None, *numbers(record.file, place, value, 4))
        box.frame = FRAMES[kind]
        boxes.append(box)
    return _Objects(refs, boxes)


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

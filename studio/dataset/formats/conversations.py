"""Conversations for trainer formats (LLaVA, LLaMA-Factory, ms-swift), built and read with the model adapters.

Export: each image's annotation becomes the adapter's training samples (``samples_from_annotation``, plus the
detection sample when labelled boxes are linked to no phrase); each sample is one conversation with the task's
system prompt, the user prompt after the image, and the adapter's answer text (boxes in the model's convention,
in the frame of the image the consuming trainer hands the model: see ``Sizing``). The export records the model
and the pixel setting in ``vlm_studio.json`` and a README.md, so that a re-import reads the boxes back with the
same convention and the trainer is run with the setting the boxes were written for.

Import: a conversation whose user prompt is VLM Studio's caption prompt and whose answer holds boxes becomes
the caption with its phrases and boxes; a per-phrase prompt repeating a caption phrase adds nothing; any other
answer that is a list of boxes becomes labelled boxes; everything else is a VQA pair.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from studio.adapters import (
    Adapter,
    GroundedPhrase,
    Sample,
    TaskMix,
    VisionSettings,
    get_adapter,
    prompts,
    samples_from_annotation,
)
from studio.adapters.boxes import BoxMap, parse_qwen_json
from studio.dataset.formats.base import (
    Box4,
    BoxFrame,
    DatasetDoc,
    DocBox,
    DocImage,
    DocPhrase,
    DocQA,
    find_phrase_spans,
    load_json,
)
from studio.dataset.formats.exporting import ExportOptions, Output
from studio.dataset.model import Annotation, Box, Image, Phrase, VqaPair

SIDECAR = "vlm_studio.json"
IMAGE_TOKEN = "<image>"
_CAPTION = re.compile("^" + re.escape(prompts.CAPTION_PROMPT).replace(re.escape("{caption}"), "(?P<c>.*)") + "$", re.S)
_PHRASES = [
    re.compile("^" + re.escape(p).replace(re.escape("{phrase}"), "(?P<p>.*)") + "$", re.S)
    for p in prompts.PHRASE_PROMPTS
]


@dataclass(frozen=True)
class Turn:
    """One training conversation: system prompt, user prompt (after the image) and the answer."""

    system: str
    prompt: str
    answer: str
    boxes: tuple[tuple[str, Box4], ...] = ()  # grounding answers: (phrase, box in original pixels)


@dataclass(frozen=True)
class Sizing:
    """How the trainer that reads an export sizes each image: its own resize first (``prescale``: LLaMA-Factory's
    image_max_pixels / image_min_pixels; None: none), then the model's processor with ``settings``. Boxes are
    written in the frame of the image the model then sees."""

    settings: VisionSettings
    prescale: Callable[[int, int], tuple[int, int]] | None = None
    max_pixels: int = 0  # the trainer setting the export names (image_max_pixels, MAX_PIXELS, ...)
    min_pixels: int = 0


def processor_sizing(adapter: Adapter, options: ExportOptions) -> Sizing:
    """The model's processor alone, at the export's pixel settings (the catalog's by default)."""
    settings = adapter.settings(max_pixels=options.max_pixels, min_pixels=options.min_pixels)
    return Sizing(settings, None, settings.max_pixels, settings.min_pixels)


def adapter_of(model: str | None, fmt: str) -> Adapter:
    if not model:
        raise ValueError(f"exporting {fmt} needs a model: its box format and system prompt go into the text")
    return get_adapter(model)


def turns(
    image: DocImage, adapter: Adapter, sizing: Sizing, system_prompts: dict[str, str] | None = None
) -> list[Turn]:
    """The conversations the trainer would build from this image, in its order; an image with labelled boxes
    linked to no phrase adds the detection conversation (every labelled box, named by its label)."""
    annotation, labels = _annotation(image)
    mix = TaskMix(detection=bool(_loose_labelled(image)))
    result = []
    for sample in samples_from_annotation(annotation, mix, labels):
        boxes = tuple((p.text, box) for p in sample.phrases for box in p.boxes)
        system = (system_prompts or {}).get(sample.task) or prompts.system_prompt(sample.task)
        result.append(Turn(system, sample.prompt, _answer(sample, adapter, sizing), boxes))
    return result


def _answer(sample: Sample, adapter: Adapter, sizing: Sizing) -> str:
    """The adapter's answer, with boxes in the frame of the image the trainer hands the processor."""
    if sample.task != "grounding" or sizing.prescale is None:
        return adapter.answer_text(sample, sizing.settings)
    width, height = sizing.prescale(sample.width, sample.height)
    sx, sy = width / sample.width, height / sample.height
    phrases = tuple(
        GroundedPhrase(p.text, tuple((b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy) for b in p.boxes))
        for p in sample.phrases
    )
    return adapter.answer_text(replace(sample, width=width, height=height, phrases=phrases), sizing.settings)


def _loose_labelled(image: DocImage) -> list[int]:
    linked = {i for phrase in image.phrases for i in phrase.boxes}
    return [i for i, box in enumerate(image.boxes) if box.label and i not in linked]


def note_records(doc: DatasetDoc, output: Output, records: int) -> None:
    """Count the conversations written, and say how boxes outside every phrase were written (or not)."""
    output.records += records
    loose = detections = unlabeled = 0
    for image in doc.images:
        found = _loose_labelled(image)
        loose += len(found)
        detections += bool(found)
        linked = {i for phrase in image.phrases for i in phrase.boxes}
        unlabeled += sum(1 for i, box in enumerate(image.boxes) if not box.label and i not in linked)
    if loose:
        output.notes.append(
            f"{loose:,} labelled boxes linked to no phrase were written as {detections:,} detection conversations "
            f"({prompts.DETECTION_PROMPT!r}, answered with every labelled box of the image)"
        )
    if unlabeled:
        output.notes.append(f"{unlabeled:,} boxes with neither a label nor a phrase were not written")


def write_sidecar(output: Output, fmt: str, model: str, sizing: Sizing) -> None:
    output.write_json(
        SIDECAR,
        {
            "exported_by": "VLM Studio",
            "format": fmt,
            "model": model,
            "max_pixels": sizing.max_pixels,
            "min_pixels": sizing.min_pixels,
            "workflow": output.options.workflow,
        },
    )


def write_readme(output: Output, title: str, adapter: Adapter, sizing: Sizing, setting: str, how: str) -> None:
    """README.md of a trainer export: the model, its box convention, the pixel setting the boxes were written for
    (``setting`` names it in the trainer's words) and how to train (``how``, Markdown)."""
    entry = adapter.entry
    source = f" (workflow {output.options.workflow!r})" if output.options.workflow else ""
    output.write_text(
        "README.md",
        f"# {title} dataset exported by VLM Studio\n\n"
        f"- Model: {entry.name} (`{entry.hf_id or entry.id}`), boxes as `{entry.box_convention}`.\n"
        f"- Images: {setting}{source}. Boxes in absolute coordinates are written for the image the model sees at "
        "exactly this setting: train with the same value (the command below sets it), or export again with "
        "another one.\n"
        f"- Training conversations: {output.records:,}.\n\n{how}\n",
    )


def model_for(path: Path, model: str | None) -> str | None:
    """The model whose box convention the dataset's answers use: given, or recorded by a VLM Studio export."""
    if model:
        return model
    recorded = _sidecar(path).get("model")
    return recorded if isinstance(recorded, str) else None


def recorded_sizing(path: Path, adapter: Adapter) -> Sizing:
    """The sizing a VLM Studio export for this model recorded (its trainer's resize at its pixel setting), else
    the model's processor at its defaults."""
    data = _sidecar(path)
    if data.get("model") != adapter.entry.id:
        return processor_sizing(adapter, ExportOptions())
    pixels = {key: data[key] if isinstance(data.get(key), int) and data[key] > 0 else None
              for key in ("max_pixels", "min_pixels")}
    if data.get("format") == "llamafactory":
        from studio.dataset.formats.llamafactory import sizing  # it builds on this module

        return sizing(adapter, ExportOptions(**pixels))
    return processor_sizing(adapter, ExportOptions(**pixels))


def _sidecar(path: Path) -> dict:
    sidecar = (path if path.is_dir() else path.parent) / SIDECAR
    data = load_json(sidecar) if sidecar.is_file() else {}
    return data if isinstance(data, dict) else {}


def single_image(images: list) -> str | None:
    """The one image file a record names (repeats of the same file count once), else None."""
    if not images or not all(isinstance(image, str) for image in images):
        return None
    return images[0] if len(set(images)) == 1 else None


def strip_image_tokens(text: str) -> str:
    return text.replace(IMAGE_TOKEN + "\n", "").replace(IMAGE_TOKEN, "").strip()


class ModelFrame(BoxFrame):
    """Boxes as one model writes them (0-1000, or pixels of the resized image), through its adapter, for the image
    a trainer's ``sizing`` hands the model."""

    def __init__(self, adapter: Adapter, sizing: Sizing) -> None:
        self.adapter, self.sizing, self.name = adapter, sizing, f"model {adapter.entry.id}"

    def to_pixels(self, box: Box4, width: int, height: int) -> Box4:
        seen, (sx, sy) = self._seen(width, height)
        x1, y1, x2, y2 = self.adapter.box_map(*seen, self.sizing.settings).to_pixels(box)
        return (x1 / sx, y1 / sy, x2 / sx, y2 / sy)

    def from_pixels(self, box: Box4, width: int, height: int) -> Box4:
        seen, (sx, sy) = self._seen(width, height)
        return self.adapter.box_map(*seen, self.sizing.settings).to_model((box[0] * sx, box[1] * sy,
                                                                           box[2] * sx, box[3] * sy))

    def _seen(self, width: int, height: int) -> tuple[tuple[int, int], tuple[float, float]]:
        """The size the trainer hands the processor, and its scale from the original image."""
        seen = self.sizing.prescale(width, height) if self.sizing.prescale else (width, height)
        return seen, (seen[0] / width, seen[1] / height)


class ConversationReader:
    """Collects conversations per image file into ``DocImage``s."""

    def __init__(self, doc: DatasetDoc, model: str | None) -> None:
        self.doc = doc
        self.adapter = get_adapter(model) if model else None
        if self.adapter is not None and not self.adapter.entry.box_convention.startswith("qwen_json"):
            raise ValueError(f"reading boxes written for {model} is not supported yet")
        self.frame = ModelFrame(self.adapter, recorded_sizing(doc.source, self.adapter)) if self.adapter else None
        self.images: dict[str, DocImage] = {}
        self.unparsed = 0

    def image(self, file: str, where: str) -> DocImage:
        if file not in self.images:
            self.images[file] = DocImage(file=file, where=where, frame=self.frame or BoxFrame())
            self.doc.images.append(self.images[file])
        return self.images[file]

    def add(self, image: DocImage, user: str, answer: str, pixel_boxes: list[DocBox] | None = None) -> None:
        """One user/assistant exchange; ``pixel_boxes`` are exact boxes given beside the text (ms-swift)."""
        prompt = strip_image_tokens(user)
        caption = _CAPTION.match(prompt)
        phrase = next((m.group("p") for m in (r.match(prompt) for r in _PHRASES) if m), None)
        parsed = self._parse(answer, pixel_boxes)
        if parsed and caption and not image.caption:
            image.caption = caption.group("c")
            first = len(image.boxes)
            image.boxes += [DocBox(None, *box.xyxy, frame=box.frame) for _label, box in parsed]
            texts = list(dict.fromkeys(label for label, _box in parsed))
            for text, span in zip(texts, find_phrase_spans(image.caption, texts), strict=True):
                links = tuple(first + i for i, (label, _b) in enumerate(parsed) if label == text)
                if span is not None:
                    image.phrases.append(DocPhrase(span[0], span[1], links))
        elif parsed and phrase is not None and self._repeats(image, parsed):
            return
        elif parsed:
            image.boxes += [DocBox(label or None, *box.xyxy, frame=box.frame) for label, box in parsed]
        else:
            image.vqa.append(DocQA(prompt, answer))

    def _parse(self, answer: str, pixel_boxes: list[DocBox] | None) -> list[tuple[str, DocBox]]:
        if pixel_boxes:
            return [(box.label or "", box) for box in pixel_boxes]
        text = answer.strip()
        if not text.startswith(("[", "{", "```")):
            return []
        if self.adapter is None:
            self.unparsed += 1
            return []
        result = parse_qwen_json(text, BoxMap(1.0, 1.0, math.inf, math.inf))
        if result.problems or not result.boxes:
            return []
        return [(b.label, DocBox(None, *b.box)) for b in result.boxes]

    def _repeats(self, image: DocImage, parsed: list[tuple[str, DocBox]]) -> bool:
        """A per-phrase conversation whose boxes are already linked to the same caption phrase."""
        known = {
            (image.caption[p.start : p.end], tuple(round(v, 3) for v in image.boxes[i].xyxy))
            for p in image.phrases
            for i in p.boxes
        }
        return all((label, tuple(round(v, 3) for v in box.xyxy)) in known for label, box in parsed)

    def finish(self) -> None:
        if self.unparsed:
            self.doc.notes.append(
                f"{self.unparsed:,} answers look like boxes but were kept as text: name the model they were "
                "written for (--model) to import them as boxes"
            )


def _annotation(image: DocImage) -> tuple[Annotation, dict[int, str]]:
    """A store-shaped annotation of a document image, for the adapters' sample builder, and its label names."""
    record = Image(0, image.file, image.width or 0, image.height or 0)
    ids = {name: i for i, name in enumerate(dict.fromkeys(box.label for box in image.boxes if box.label))}
    boxes = [Box(i, 0, ids.get(box.label), *box.xyxy) for i, box in enumerate(image.boxes)]
    phrases = [
        Phrase(i, 0, p.start, p.end, image.caption[p.start : p.end], tuple(p.boxes))
        for i, p in enumerate(image.phrases)
    ]
    vqa = [VqaPair(i, 0, i, pair.question, pair.answer) for i, pair in enumerate(image.vqa)]
    annotation = Annotation(image=record, boxes=boxes, caption=image.caption, phrases=phrases, vqa=vqa)
    return annotation, {i: name for name, i in ids.items()}

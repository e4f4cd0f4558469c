"""Conversations for trainer formats (LLaVA, LLaMA-Factory, ms-swift), built and read with the model adapters.

Export: each image's annotation becomes the adapter's training samples (``samples_from_annotation``); each
sample is one conversation with the task's system prompt, the user prompt after the image, and the adapter's
answer text (boxes in the model's convention): the same text VLM Studio's trainer feeds the model. The export
records the model in ``vlm_studio.json`` so that a re-import reads the boxes back with the same convention.

Import: a conversation whose user prompt is VLM Studio's caption prompt and whose answer holds boxes becomes
the caption with its phrases and boxes; a per-phrase prompt repeating a caption phrase adds nothing; any other
answer that is a list of boxes becomes labelled boxes; everything else is a VQA pair.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from studio.adapters import Adapter, get_adapter, prompts, samples_from_annotation
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
from studio.dataset.formats.exporting import Output
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


def adapter_of(model: str | None, fmt: str) -> Adapter:
    if not model:
        raise ValueError(f"exporting {fmt} needs a model: its box format and system prompt go into the text")
    return get_adapter(model)


def turns(image: DocImage, adapter: Adapter) -> list[Turn]:
    """The conversations the trainer would build from this image, in its order."""
    result = []
    for sample in samples_from_annotation(_annotation(image)):
        boxes = tuple((p.text, box) for p in sample.phrases for box in p.boxes)
        result.append(Turn(prompts.system_prompt(sample.task), sample.prompt, adapter.answer_text(sample), boxes))
    return result


def note_unexported(doc: DatasetDoc, output: Output) -> None:
    """Say what the trainer does not train on (boxes outside every phrase)."""
    loose = sum(
        1 for image in doc.images for i in range(len(image.boxes)) if not any(i in p.boxes for p in image.phrases)
    )
    if loose:
        output.notes.append(f"{loose:,} boxes linked to no phrase were not written (the trainer does not use them)")


def write_sidecar(output: Output, fmt: str, model: str) -> None:
    output.write_json(SIDECAR, {"exported_by": "VLM Studio", "format": fmt, "model": model})


def model_for(path: Path, model: str | None) -> str | None:
    """The model whose box convention the dataset's answers use: given, or recorded by a VLM Studio export."""
    if model:
        return model
    sidecar = (path if path.is_dir() else path.parent) / SIDECAR
    if sidecar.is_file():
        data = load_json(sidecar)
        if isinstance(data, dict) and isinstance(data.get("model"), str):
            return data["model"]
    return None


def single_image(images: list) -> str | None:
    """The one image file a record names (repeats of the same file count once), else None."""
    files = set(images)
    return images[0] if len(files) == 1 and isinstance(images[0], str) else None


def strip_image_tokens(text: str) -> str:
    return text.replace(IMAGE_TOKEN + "\n", "").replace(IMAGE_TOKEN, "").strip()


class ModelFrame(BoxFrame):
    """Boxes as one model writes them (0-1000, or pixels of the resized image), through its adapter."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter, self.name = adapter, f"model {adapter.entry.id}"

    def to_pixels(self, box: Box4, width: int, height: int) -> Box4:
        return self.adapter.box_map(width, height).to_pixels(box)

    def from_pixels(self, box: Box4, width: int, height: int) -> Box4:
        return self.adapter.box_map(width, height).to_model(box)


class ConversationReader:
    """Collects conversations per image file into ``DocImage``s."""

    def __init__(self, doc: DatasetDoc, model: str | None) -> None:
        self.doc = doc
        self.adapter = get_adapter(model) if model else None
        if self.adapter is not None and not self.adapter.entry.box_convention.startswith("qwen_json"):
            raise ValueError(f"reading boxes written for {model} is not supported yet")
        self.frame = ModelFrame(self.adapter) if self.adapter else None
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


def _annotation(image: DocImage) -> Annotation:
    """A store-shaped annotation of a document image, for the adapters' sample builder."""
    record = Image(0, image.file, image.width or 0, image.height or 0)
    boxes = [Box(i, 0, None, *box.xyxy) for i, box in enumerate(image.boxes)]
    phrases = [
        Phrase(i, 0, p.start, p.end, image.caption[p.start : p.end], tuple(p.boxes))
        for i, p in enumerate(image.phrases)
    ]
    vqa = [VqaPair(i, 0, i, pair.question, pair.answer) for i, pair in enumerate(image.vqa)]
    return Annotation(image=record, boxes=boxes, caption=image.caption, phrases=phrases, vqa=vqa)

"""ODVG JSON lines, as Open-GroundingDino and X-AnyLabeling use them: one image per line with ``filename``,
``width``, ``height``, and ``detection.instances`` (``bbox`` [x1, y1, x2, y2] in pixels, ``label`` number,
``category``) and/or ``grounding`` (``caption`` and ``regions`` of ``phrase`` + ``bbox``). X-AnyLabeling names
its file ``od.json``; a ``.json`` file may also hold a JSON list of such records, or one record.

Class numbers map to names through ``label_map.json`` ({"0": "person", ...}) beside the file when present,
else through ``category``. A region's phrase is found in the caption (successive occurrences for repeated
phrases; ``tokens_positive`` character spans when given); regions with the same span are one phrase. A region
``bbox`` may hold several boxes. A region box with the corners of a detection instance is that (labelled) box;
other grounding boxes carry no label.

Exports write one box per region and every labelled box as a detection instance (grounded ones too), so that
``label_map.json`` and the ``detection`` key of every record go together as Open-GroundingDino expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.dataset.formats.base import (
    DatasetDoc,
    DocImage,
    DocPhrase,
    Fields,
    FormatError,
    find_phrase_spans,
    fmt_number,
    iter_jsonl,
    load_json,
    numbers,
    ordered_box,
)
from studio.dataset.formats.exporting import Output

LABEL_MAP = "label_map.json"


def read(path: Path, model: str | None = None) -> DatasetDoc:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl")) + sorted(f for f in path.glob("*.json") if f.name != LABEL_MAP)
        if len(files) != 1:
            found = f": {', '.join(f.name for f in files[:5])}" if files else ""
            raise FormatError(
                path, "", f"expected one ODVG file (.jsonl, or X-AnyLabeling's od.json) in this folder, "
                f"found {len(files)}{found}"
            )
        path = files[0]
    label_map = _label_map(path.parent / LABEL_MAP)
    doc = DatasetDoc(source=path, labels=list(label_map.values()))
    for place, value in _records(path):
        record = Fields(path, f"{place} $" if place.startswith("line") else place, value)
        image = DocImage(
            file=record.text("filename"),
            where=f"{path.name} {place}",
            width=record.integer("width", None),
            height=record.integer("height", None),
        )
        detection = record.child("detection", None)
        if detection is not None:
            for item in detection.children("instances"):
                image.boxes.append(_instance(item, label_map))
        grounding = record.child("grounding", None)
        if grounding is not None:
            _grounding(grounding, image)
        doc.images.append(image)
    return doc


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    """``(place, record)`` for each record: JSON lines, or (a .json file) a JSON list of records or one record."""
    if path.suffix.lower() == ".json":
        try:
            value = load_json(path)
        except FormatError as whole:  # not one JSON document: JSON lines (X-AnyLabeling's od.json)
            try:
                lines = list(iter_jsonl(path))
            except FormatError:
                raise whole from None
        else:
            if isinstance(value, list):
                yield from ((f"$[{i}]", item) for i, item in enumerate(value))
            else:
                yield "$", value
            return
    else:
        lines = iter_jsonl(path)
    yield from ((f"line {number}", value) for number, value in lines)


def _label_map(file: Path) -> dict[int, str]:
    if not file.is_file():
        return {}
    data = load_json(file)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise FormatError(file, "$", 'expected an object {"0": "name", "1": "name", ...}')
    try:
        return {int(key): value for key, value in sorted(data.items(), key=lambda kv: int(kv[0]))}
    except ValueError:
        raise FormatError(file, "$", "expected class numbers as keys") from None


def _instance(item: Fields, label_map: dict[int, str]):
    x1, y1, x2, y2 = numbers(item.file, f"{item.path}.bbox", item.value.get("bbox"), 4)
    number = item.integer("label", None)
    label = item.text("category", None) or (label_map.get(number) if number is not None else None)
    if label is None and number is not None:
        raise item.error("label", f"class {number} has no name (no 'category' and not in {LABEL_MAP})")
    return ordered_box(item.file, f"{item.path}.bbox", label, x1, y1, x2, y2)


def _grounding(grounding: Fields, image: DocImage) -> None:
    image.caption = grounding.text("caption")
    regions = grounding.children("regions")
    phrases = [region.text("phrase") for region in regions]
    found = find_phrase_spans(image.caption, phrases)
    unlinked = list(range(len(image.boxes)))  # detection instances not yet matched to a region's box
    for region, phrase, span in zip(regions, phrases, found, strict=True):
        given = region.items("tokens_positive", None)
        if given:
            place = f"{region.path}.tokens_positive[0]"
            start, end = numbers(region.file, place, given[0], 2)
            if not 0 <= start < end <= len(image.caption):
                raise FormatError(
                    region.file, place, f"expected a span inside the caption (0..{len(image.caption)}), "
                    f"found [{start:g}, {end:g}]"
                )
            span = (int(start), int(end))
        if span is None:
            raise region.error("phrase", f"{phrase!r} does not occur in the caption")
        value = region.value.get("bbox")
        boxes = value if isinstance(value, list) and value and isinstance(value[0], list) else [value]
        links = []
        for i, box in enumerate(boxes):
            place = f"{region.path}.bbox" + (f"[{i}]" if len(boxes) > 1 else "")
            found = ordered_box(region.file, place, None, *numbers(region.file, place, box, 4))
            same = next((j for j in unlinked if image.boxes[j].xyxy == found.xyxy), None)
            if same is None:  # a box of this region only
                links.append(len(image.boxes))
                image.boxes.append(found)
            else:  # the labelled detection instance with these corners (a VLM Studio export writes both)
                unlinked.remove(same)
                links.append(same)
        phrase = next((p for p in image.phrases if (p.start, p.end) == span), None)
        if phrase is None:
            image.phrases.append(DocPhrase(span[0], span[1], tuple(links)))
        else:  # regions of one span (one box each) are one phrase
            phrase.boxes += tuple(links)


def write(doc: DatasetDoc, output: Output, model: str | None = None) -> None:
    labels = doc.used_labels()
    index = {name: i for i, name in enumerate(labels)}
    records = []
    for image in doc.images:
        record: dict = {
            "filename": output.image(image, "images").split("/", 1)[1],
            "height": image.height,
            "width": image.width,
            # every record has it: Open-GroundingDino reads record["detection"] whenever a label map is given
            "detection": {
                "instances": [
                    {"bbox": _xyxy(box), "label": index[box.label], "category": box.label}
                    for box in image.boxes
                    if box.label
                ]
            },
        }
        if image.caption:
            record["grounding"] = {
                "caption": image.caption,
                # one box per region (a phrase with two boxes is two regions with the same span), as
                # Open-GroundingDino's loader and a typed JSON reader expect
                "regions": [
                    {
                        "bbox": _xyxy(image.boxes[i]),
                        "phrase": image.caption[phrase.start : phrase.end],
                        "tokens_positive": [[phrase.start, phrase.end]],
                    }
                    for phrase in image.phrases
                    for i in phrase.boxes
                ],
            }
        records.append(record)
    _note_losses(doc, output)
    ungrounded = sum("grounding" not in record for record in records)
    if ungrounded and ungrounded < len(records):
        output.notes.append(
            f"{ungrounded:,} images without a caption have no grounding regions: train Open-GroundingDino on this "
            f"file with {LABEL_MAP} (detection mode), which reads every image"
        )
    output.write_jsonl("train.jsonl", records)
    if index:
        output.write_json(LABEL_MAP, {str(i): name for name, i in index.items()})


def _note_losses(doc: DatasetDoc, output: Output) -> None:
    dropped = empty = 0
    for image in doc.images:
        linked = {i for phrase in image.phrases for i in phrase.boxes} if image.caption else set()
        dropped += sum(1 for i, box in enumerate(image.boxes) if not box.label and i not in linked)
        empty += sum(1 for phrase in image.phrases if not phrase.boxes)
    if dropped:
        output.notes.append(f"{dropped:,} boxes with neither a label nor a phrase were not written")
    if empty:
        output.notes.append(f"{empty:,} phrases without boxes were not written (a region needs a box)")


def _xyxy(box) -> list[float]:
    return [fmt_number(v) for v in box.xyxy]

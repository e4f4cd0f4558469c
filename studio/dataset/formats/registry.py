"""Every dataset format by name: its reader, its writer and what it can carry. Used by the CLI and the GUI."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.dataset.formats.base import DatasetDoc

if TYPE_CHECKING:
    from studio.dataset.formats.exporting import Output


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    title: str
    module: str  # studio.dataset.formats.<module> with read(path) and write(doc, output, model)
    carries: frozenset[str]  # of "boxes", "labels", "captions", "phrases", "vqa"
    import_hint: str  # what to point the import at
    needs_model: bool = False  # exports write boxes and the system prompt the way one model is trained

    def read(self, path: Path, model: str | None = None) -> DatasetDoc:
        """Read the dataset; ``model`` says how boxes in answer text are written (trainer formats)."""
        return importlib.import_module(self.module).read(path, model)

    def write(self, doc: DatasetDoc, output: Output, model: str | None) -> None:
        importlib.import_module(self.module).write(doc, output, model)


def _fmt(name: str, title: str, carries: str, hint: str, needs_model: bool = False) -> DatasetFormat:
    return DatasetFormat(name, title, f"studio.dataset.formats.{name}", frozenset(carries.split()), hint, needs_model)


FORMATS: dict[str, DatasetFormat] = {
    f.name: f
    for f in (
        _fmt(
            "coco",
            "COCO detection JSON",
            "boxes labels captions",
            "an instances JSON file (a captions file beside it is read too), or a folder holding them",
        ),
        _fmt(
            "yolo",
            "YOLO (Ultralytics)",
            "boxes labels",
            "data.yaml, or a folder with data.yaml or classes.txt",
        ),
        _fmt(
            "voc",
            "Pascal VOC XML",
            "boxes labels",
            "a VOC folder (Annotations/, or fiftyone's labels/ and data/), a folder of XML files, or one file",
        ),
        _fmt("labelme", "labelme JSON", "boxes labels", "a folder of labelme JSON files, or one file"),
        _fmt(
            "odvg",
            "ODVG JSONL (GroundingDINO)",
            "boxes labels captions phrases",
            "an ODVG .jsonl file (or X-AnyLabeling's od.json), or a folder holding one",
        ),
        _fmt("llava", "LLaVA / ShareGPT JSON", "boxes vqa", "a LLaVA JSON file (list of conversations)", True),
        _fmt(
            "llamafactory",
            "LLaMA-Factory (sharegpt)",
            "boxes vqa",
            "dataset_info.json (or a folder holding it), or a sharegpt JSON file",
            True,
        ),
        _fmt("msswift", "ms-swift JSONL", "boxes labels vqa", "an ms-swift .jsonl file", True),
    )
}


def get_format(name: str) -> DatasetFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown dataset format {name!r}; expected one of {', '.join(FORMATS)}") from None

"""Plain records read from and written to the project store (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("todo", "in-progress", "done", "review")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Image:
    id: int
    path: str
    width: int
    height: int
    orientation: int = 1
    file_size: int = 0
    status: str = "todo"
    split: str = ""
    split_pinned: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Label:
    id: int
    name: str
    color: str


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in original-image pixels (after EXIF orientation)."""

    id: int
    image_id: int
    label_id: int | None
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Phrase:
    """A character span ``[start, end)`` of an image's caption, linked to zero or more boxes."""

    id: int
    image_id: int
    start: int
    end: int
    text: str
    box_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class VqaPair:
    id: int
    image_id: int
    position: int
    question: str
    answer: str


@dataclass(frozen=True)
class Annotation:
    """Everything annotated on one image."""

    image: Image
    boxes: list[Box] = field(default_factory=list)
    caption: str = ""
    phrases: list[Phrase] = field(default_factory=list)
    vqa: list[VqaPair] = field(default_factory=list)

"""Pascal VOC XML: one ``<annotation>`` file per image (``filename``, ``size``, ``object``s with ``name`` and
``bndbox`` xmin/ymin/xmax/ymax in pixels), as VOC itself, labelImg and CVAT write it.

A VOC folder holds ``Annotations/``, ``JPEGImages/`` and ``ImageSets/Main/{train,val,test}.txt``; fiftyone's
VOCDetectionDataset export holds ``labels/`` and ``data/``; a plain folder of XML files or a single file works
too. Coordinates are taken as written (no 1-based shift), as labelImg does. Exports write whole pixels (rounded
to the nearest, as VOC tools expect integers) unless exact corners are asked for. XML is parsed with defusedxml:
entity expansion and external references are refused.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from studio.dataset.formats.base import (
    MAX_WHOLE,
    DatasetDoc,
    DocImage,
    FormatError,
    fmt_number,
    ordered_box,
    read_text,
)
from studio.dataset.formats.exporting import Output

UNLABELED = "unlabeled"
XML_FOLDERS = ("Annotations", "labels")  # VOC's own layout, then fiftyone's (labels/ beside data/)
IMAGE_FOLDERS = ("JPEGImages", "data")


def read(path: Path, model: str | None = None) -> DatasetDoc:
    if path.is_file():
        doc = DatasetDoc(source=path)
        doc.images.append(_read_file(path, doc, path.parent, ""))
        return doc
    annotations = next((path / name for name in XML_FOLDERS if (path / name).is_dir()), path)
    files = sorted(annotations.glob("*.xml"))
    if not files:
        raise FormatError(path, "", "expected VOC XML files (in Annotations/, labels/ or in this folder)")
    splits = _splits(path)
    doc = DatasetDoc(source=path)
    for file in files:
        doc.images.append(_read_file(file, doc, path, splits.get(file.stem, "")))
    return doc


def _splits(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for split in ("train", "val", "test"):
        listing = root / "ImageSets" / "Main" / f"{split}.txt"
        if listing.is_file():
            for line in read_text(listing).splitlines():
                if line.split():
                    found.setdefault(line.split()[0], split)
    return found


def _read_file(file: Path, doc: DatasetDoc, root: Path, split: str) -> DocImage:
    try:
        tree = SafeET.parse(file)
    except ET.ParseError as exc:
        line, column = exc.position
        raise FormatError(file, f"line {line} column {column + 1}", f"invalid XML ({exc})") from None
    except DefusedXmlException as exc:
        raise FormatError(file, "", f"refused unsafe XML ({type(exc).__name__})") from None
    except LookupError as exc:  # the declaration names an encoding Python does not know
        raise FormatError(file, "line 1", f"unknown text encoding ({exc})") from None
    except OSError as exc:
        raise FormatError(file, "", f"cannot read the file ({exc.strerror or exc})") from None
    top = tree.getroot()
    if top.tag != "annotation":
        raise FormatError(file, f"<{top.tag}>", "expected an <annotation> root element")
    name = _text(file, top, "filename", "/annotation")
    size = top.find("size")
    width = height = None
    if size is not None and size.find("width") is not None:
        width = _whole(file, size, "width", "/annotation/size")
        height = _whole(file, size, "height", "/annotation/size")
    image = DocImage(
        file=name,
        where=str(file),
        width=width or None,
        height=height or None,
        split=split,
        search=(*(root / name for name in IMAGE_FOLDERS), file.parent, *_path_folder(top)),
    )
    for index, item in enumerate(top.findall("object"), 1):
        place = f"/annotation/object[{index}]"
        label = _text(file, item, "name", place)
        box = item.find("bndbox")
        if box is None:
            raise FormatError(file, place, "missing <bndbox> (expected xmin, ymin, xmax, ymax)")
        corners = [_number(file, box, tag, f"{place}/bndbox") for tag in ("xmin", "ymin", "xmax", "ymax")]
        image.boxes.append(ordered_box(file, f"{place}/bndbox", label, *corners))
    return image


def _path_folder(top: ET.Element) -> tuple[Path, ...]:
    path = (top.findtext("path") or "").strip()
    return (Path(path.replace("\\", "/")).parent,) if path else ()


def _text(file: Path, element: ET.Element, tag: str, place: str) -> str:
    text = (element.findtext(tag) or "").strip()
    if not text:
        raise FormatError(file, f"{place}/{tag}", "missing or empty (expected text)")
    return text


def _number(file: Path, element: ET.Element, tag: str, place: str) -> float:
    text = _text(file, element, tag, place)
    try:
        value = float(text)
    except ValueError:
        raise FormatError(file, f"{place}/{tag}", f"expected a number, found {text!r}") from None
    if value != value or abs(value) == float("inf"):
        raise FormatError(file, f"{place}/{tag}", f"expected a finite number, found {text!r}")
    return value


def _whole(file: Path, element: ET.Element, tag: str, place: str) -> int:
    value = _number(file, element, tag, place)
    if abs(value) > MAX_WHOLE:
        raise FormatError(file, f"{place}/{tag}", f"expected a whole number up to {MAX_WHOLE:,}, found {value:g}")
    return int(value)


def write(doc: DatasetDoc, output: Output, model: str | None = None) -> None:
    splits: dict[str, list[str]] = {}
    unlabeled = 0
    whole = output.options.whole_pixels
    for image in doc.images:
        relative = output.image(image, "JPEGImages")
        name = relative.split("/", 1)[1]
        stem = Path(name).stem
        top = ET.Element("annotation")
        ET.SubElement(top, "folder").text = "JPEGImages"
        ET.SubElement(top, "filename").text = name
        size = ET.SubElement(top, "size")
        for tag, value in (("width", image.width), ("height", image.height), ("depth", 3)):
            ET.SubElement(size, tag).text = str(value)
        ET.SubElement(top, "segmented").text = "0"
        for box in image.boxes:
            unlabeled += box.label is None
            item = ET.SubElement(top, "object")
            ET.SubElement(item, "name").text = box.label or UNLABELED
            for tag, value in (("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")):
                ET.SubElement(item, tag).text = value
            bndbox = ET.SubElement(item, "bndbox")
            for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), box.xyxy, strict=True):
                ET.SubElement(bndbox, tag).text = str(math.floor(value + 0.5) if whole else fmt_number(value))
        ET.indent(top)
        output.write_text(f"Annotations/{stem}.xml", ET.tostring(top, encoding="unicode") + "\n")
        if image.split:
            splits.setdefault(image.split, []).append(stem)
    for split, stems in splits.items():
        output.write_text(f"ImageSets/Main/{split}.txt", "".join(s + "\n" for s in stems))
    if unlabeled:
        output.notes.append(f"{unlabeled:,} boxes without a label were written as {UNLABELED!r}")

"""YOLO detection labels (Ultralytics / Darknet): one ``.txt`` per image with ``class cx cy w h`` lines, all
normalised to 0..1, and the class names in ``data.yaml`` (``names``, splits ``train``/``val``/``test``) or in
``classes.txt``.

A label file lives where Ultralytics looks for it: the image path with its last ``/images/`` replaced by
``/labels/`` and the suffix by ``.txt``, or else right beside the image. Images without a label file are
background images (no boxes). Segmentation lines (``class x1 y1 x2 y2 ...``) become their bounding box.

Exports write that layout (``images/<split>/x.jpg``, ``labels/<split>/x.txt``) and a ``data.yaml`` whose ``path``
is the export's absolute folder (Ultralytics reads a relative one from its own datasets folder).
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from studio.dataset.formats.base import (
    NORMALIZED,
    DatasetDoc,
    DocImage,
    FormatError,
    check_unicode,
    ordered_box,
    read_text,
)
from studio.dataset.formats.exporting import Output
from studio.dataset.formats.scope import allows, walk_images

UNLABELED = "unlabeled"
CLASS_FILES = ("classes.txt", "obj.names")
_DIGITS = 7  # normalised digits written: well inside 0.01 px for images up to 100,000 px wide


def read(path: Path, model: str | None = None) -> DatasetDoc:
    yaml_file = _yaml_file(path)
    if yaml_file is not None:
        return _read_yaml(yaml_file)
    folder = (path if path.is_dir() else path.parent).absolute()  # image paths are used as they are
    class_file = next((folder / n for n in CLASS_FILES if (folder / n).is_file()), None)
    if class_file is None:
        raise FormatError(path, "", "expected data.yaml, or a folder holding data.yaml or classes.txt")
    names = [line.strip() for line in read_text(class_file).splitlines() if line.strip()]
    doc = DatasetDoc(source=folder, labels=names)
    for image in walk_images(folder, path, ""):
        doc.images.append(_image(image, "", names, doc))
    return doc


def _yaml_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.suffix.lower() in (".yaml", ".yml") else None
    found = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    preferred = [f for f in found if f.stem.lower() in ("data", "dataset")]
    return (preferred or found or [None])[0]


def _read_yaml(file: Path) -> DatasetDoc:
    text = read_text(file)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise FormatError(file, place, f"invalid YAML ({getattr(exc, 'problem', exc)})") from None
    except RecursionError:
        raise FormatError(file, "", "nested too deeply to read") from None
    except ValueError as exc:  # an integer over Python's digit limit
        raise FormatError(file, "", f"unreadable value ({str(exc).split(';')[0]})") from None
    check_unicode(file, "", data)  # YAML's "\\ud800" escape, like JSON's
    if not isinstance(data, dict):
        raise FormatError(file, "", "expected a mapping with 'names' and 'train' / 'val' / 'test'")
    names = _names(file, data.get("names"))
    if "nc" in data and data["nc"] != len(names):
        raise FormatError(file, "nc", f"says {data['nc']!r} classes but 'names' lists {len(names)}")
    doc = DatasetDoc(source=file, labels=names)
    root = _root(file, data.get("path"), doc)
    seen: set[Path] = set()
    for split in ("train", "val", "test"):
        entries = data.get(split)
        for entry in entries if isinstance(entries, list) else [entries] if entries else []:
            if not isinstance(entry, str):
                raise FormatError(file, split, f"expected a folder, a list file or a list of them, found {entry!r}")
            try:
                for image in _split_images(root, entry, file, split):
                    if image not in seen:
                        seen.add(image)
                        doc.images.append(_image(image, split, names, doc))
            except OSError as exc:  # a name the system refuses (too long, ...)
                raise FormatError(file, split, f"cannot read {entry[:80]!r} ({exc.strerror or exc})") from None
    if not seen:
        raise FormatError(file, "train", "names no images (expected folders or list files under 'train'/'val'/'test')")
    return doc


def _root(file: Path, path: object, doc: DatasetDoc) -> Path:
    """The folder 'train' / 'val' / 'test' start from, absolute: 'path' (relative to the yaml's folder), else the
    yaml's folder, also when 'path' names a folder that is not there (a dataset moved since it was written)."""
    folder = file.parent.absolute()
    if not path:
        return folder
    given = Path(str(path)).expanduser()
    root = given if given.is_absolute() else folder / given
    if root.is_dir():
        return root
    doc.notes.append(f"{file.name}: path {str(path)!r} is not a folder here; the yaml's own folder {folder} was used")
    return folder


def _names(file: Path, value: object) -> list[str]:
    if isinstance(value, list) and all(isinstance(n, (str, int, float)) for n in value):
        return [str(n) for n in value]
    if isinstance(value, dict) and all(isinstance(k, int) for k in value):
        if sorted(value) != list(range(len(value))):
            raise FormatError(file, "names", "expected class numbers 0, 1, 2, ... without gaps")
        return [str(value[k]) for k in range(len(value))]
    raise FormatError(file, "names", "expected a list of class names or a mapping {0: name, 1: name, ...}")


def _split_images(root: Path, entry: str, file: Path, split: str) -> list[Path]:
    target = Path(entry) if Path(entry).is_absolute() else root / entry
    if entry.startswith("../") and (not allows(target) or not target.exists()):  # Ultralytics' rule, for
        target = root / entry[3:]  # Roboflow's "../train/images" meaning the folder beside data.yaml
    if target.is_dir() or not allows(target):  # outside: refused by the walk, before looking at it
        return walk_images(target, file, split)
    if target.suffix.lower() == ".txt" and target.is_file():
        lines = [line.strip() for line in read_text(target).splitlines() if line.strip()]
        return [Path(line) if Path(line).is_absolute() else target.parent / line for line in lines]
    if target.is_file():
        return [target]
    raise FormatError(file, split, f"{entry!r} is not a folder or a list file (looked for {target})")


def label_path(image: Path) -> Path:
    """Where Ultralytics looks for an image's label file."""
    text = image.as_posix()
    if "/images/" in text:
        head, tail = text.rsplit("/images/", 1)
        return Path(f"{head}/labels/{tail}").with_suffix(".txt")
    return image.with_suffix(".txt")


def _image(image: Path, split: str, names: list[str], doc: DatasetDoc) -> DocImage:
    result = DocImage(file=str(image), where=str(image), frame=NORMALIZED, split=split)
    if not allows(image):  # the importer reports it; its label file is not read either
        return result
    labels = label_path(image)
    if not labels.is_file():
        labels = image.with_suffix(".txt")
        if not labels.is_file():
            return result
    result.where = str(labels)
    for number, line in enumerate(read_text(labels).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        place = f"line {number}"
        try:
            values = [float(p) for p in parts[1:]]
            index = int(parts[0])
        except ValueError:
            raise FormatError(labels, place, f"expected 'class cx cy w h' numbers, found {line.strip()!r}") from None
        if not 0 <= index < len(names):
            raise FormatError(labels, place, f"class {index} is not in the {len(names)} class names")
        if len(values) == 4:
            cx, cy, w, h = values
            x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = values[0::2], values[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
            doc.notes.append(f"{labels.name} {place}: a polygon became its bounding box")
        else:
            raise FormatError(labels, place, f"expected 'class cx cy w h' (5 numbers), found {len(parts)}")
        if not all(math.isfinite(v) for v in values):
            raise FormatError(labels, place, f"expected finite numbers, found {line.strip()[:60]!r}")
        if not all(-0.01 <= v <= 1.01 for v in (x1, y1, x2, y2)):
            raise FormatError(labels, place, "expected coordinates normalised to 0..1 (is this file in pixels?)")
        result.boxes.append(ordered_box(labels, place, names[index], x1, y1, x2, y2))
    return result


def write(doc: DatasetDoc, output: Output, model: str | None = None) -> None:
    names = doc.used_labels()
    if any(box.label is None for image in doc.images for box in image.boxes):
        names.append(UNLABELED)
        output.notes.append(f"boxes without a label were written with the class {UNLABELED!r}")
    index = {name: i for i, name in enumerate(names)}
    splits: set[str] = set()
    unassigned = 0
    for image in doc.images:
        split = image.split or "train"
        unassigned += not image.split
        splits.add(split)
        name = output.image(image, f"images/{split}").rsplit("/", 1)[1]
        lines = []
        for box in image.boxes:
            x1, y1, x2, y2 = NORMALIZED.from_pixels(box.xyxy, image.width or 1, image.height or 1)
            values = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
            lines.append(" ".join([str(index[box.label or UNLABELED]), *(f"{v:.{_DIGITS}f}" for v in values)]))
        # Ultralytics' layout: images/<split>/x.jpg is labelled by labels/<split>/x.txt
        output.write_text(f"labels/{split}/{Path(name).stem}.txt", "".join(line + "\n" for line in lines))
    if unassigned:
        output.notes.append(f"{unassigned:,} images in no split were written to the train split")
    # an absolute root: Ultralytics reads a relative ``path`` from its own datasets folder
    data: dict = {"path": str(output.final)}
    data.update({split: f"images/{split}" for split in ("train", "val", "test") if split in splits})
    data.setdefault("val", data.get("train", "images/train"))
    data.setdefault("train", data["val"])
    data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    output.write_text("data.yaml", yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    output.write_text("classes.txt", "".join(name + "\n" for name in names))

"""Fuzzed dataset input for all eight importers, at the byte level and at the level of values (JSON, YAML, XML):
every import either succeeds with finite boxes or raises a ``FormatError`` that names a file of the dataset,
never another exception, and a refused import leaves every table of the project as it was.

``FUZZ_EXAMPLES`` sets the examples per importer and level (25 by default; 1000 for a real hunt); with
``FUZZ_REPORT=path`` the outcome counts per importer are written there as JSON.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from studio.dataset.formats.base import FormatError
from studio.dataset.formats.importing import import_dataset
from tests.unit.formats.formats_helpers import make_png

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
TALLY: Counter[tuple[str, str, str]] = Counter()  # (format, level, outcome)


# ---------------------------------------------------------------- the valid datasets that get mutated
class Raw:
    """Text written into a JSON, YAML or XML file as it is (numbers no encoder writes, deep nesting)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:20]!r}... {len(self.text)} chars)"


@dataclass(frozen=True)
class Case:
    fmt: str
    files: dict[str, object]  # relative path -> content: a JSON value, JSON lines (list), YAML (dict), XML, text
    target: str  # what the import is pointed at
    model: str | None = None

    def kinds(self) -> dict[str, str]:
        return {name: _kind_of(name) for name in self.files}


def _kind_of(name: str) -> str:
    return {".json": "json", ".jsonl": "jsonl", ".yaml": "yaml", ".xml": "xml"}.get(Path(name).suffix, "text")


GROUNDING_ANSWER = '[{"bbox_2d": [1, 2, 300, 400], "label": "a cat"}]'
CASES = {
    "coco": Case("coco", {
        "instances.json": {
            "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": 0},
                {"id": 2, "image_id": 1, "segmentation": [[1, 1, 5, 1, 5, 6]], "category_id": 1},
            ],
            "categories": [{"id": 1, "name": "cat"}],
        },
    }, "instances.json"),
    "yolo": Case("yolo", {
        "data.yaml": {"path": ".", "train": "images/train", "nc": 1, "names": ["cat"]},
        "labels/train/a.txt": [["0", "0.5", "0.5", "0.2", "0.4"], ["0", "0.1", "0.1", "0.3", "0.1", "0.2", "0.4"]],
    }, "data.yaml"),
    "voc": Case("voc", {
        "Annotations/a.xml": {"annotation": {
            "filename": "a.png",
            "size": {"width": 20, "height": 10, "depth": 3},
            "object": [{"name": "cat", "bndbox": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4}}],
        }},
        "ImageSets/Main/train.txt": [["a"]],
    }, "."),
    "labelme": Case("labelme", {
        "a.json": {
            "version": "5.4.1",
            "shapes": [
                {"label": "cat", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"},
                {"label": "dog", "points": [[5, 5], [7, 7]], "shape_type": "circle"},
                {"label": "cow", "points": [[1, 1], [9, 1], [5, 8]], "shape_type": "polygon"},
            ],
            "imagePath": "a.png",
            "imageHeight": 10,
            "imageWidth": 20,
        },
    }, "a.json"),
    "odvg": Case("odvg", {
        "train.jsonl": [
            {
                "filename": "a.png", "height": 10, "width": 20,
                "detection": {"instances": [{"bbox": [1, 2, 3, 4], "label": 0, "category": "cat"}]},
            },
            {
                "filename": "a.png", "height": 10, "width": 20,
                "grounding": {"caption": "a cat", "regions": [
                    {"bbox": [1, 2, 3, 4], "phrase": "a cat", "tokens_positive": [[0, 5]]},
                ]},
            },
        ],
        "label_map.json": {"0": "cat"},
    }, "train.jsonl"),
    "llava": Case("llava", {
        "llava.json": [{
            "id": "1",
            "image": "a.png",
            "conversations": [
                {"from": "human", "value": "<image>\nLocate every phrase of this caption in the image: a cat"},
                {"from": "gpt", "value": GROUNDING_ANSWER},
                {"from": "human", "value": "What is it?"},
                {"from": "gpt", "value": "A cat."},
            ],
        }],
    }, "llava.json", "tiny"),
    "llamafactory": Case("llamafactory", {
        "dataset_info.json": {"d": {
            "file_name": "data.json",
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "images": "images"},
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
        }},
        "data.json": [{
            "messages": [
                {"role": "system", "content": "You find things."},
                {"role": "user", "content": "<image>Find the cat"},
                {"role": "assistant", "content": GROUNDING_ANSWER},
            ],
            "images": ["a.png"],
        }],
    }, ".", "tiny"),
    "msswift": Case("msswift", {
        "train.jsonl": [{
            "messages": [
                {"role": "user", "content": "<image>Find <ref-object>"},
                {"role": "assistant", "content": "<bbox>"},
            ],
            "images": ["a.png"],
            "objects": {"ref": ["cat"], "bbox": [[1, 2, 3, 4]], "bbox_type": "real"},
        }],
    }, "train.jsonl", "tiny"),
}
IMAGES = {"yolo": "images/train/a.png", "voc": "JPEGImages/a.png"}


# ---------------------------------------------------------------- writing a case to disk
def _json_text(value: object) -> str:
    raws: list[str] = []

    def encode(item):
        if isinstance(item, Raw):
            raws.append(item.text)
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(item, dict):
            return {key: encode(v) for key, v in item.items()}
        if isinstance(item, list):
            return [encode(v) for v in item]
        return item

    if isinstance(value, Raw):
        return value.text
    text = json.dumps(encode(value))
    return re.sub(r'"\\u0000RAW(\d+)\\u0000"', lambda m: raws[int(m.group(1))], text)


def _xml_text(tag: str, value: object) -> str:
    if isinstance(value, list):
        return "".join(_xml_text(tag, item) for item in value)
    if isinstance(value, dict):
        inner = "".join(_xml_text(str(key), item) for key, item in value.items())
    else:
        inner = value.text if isinstance(value, Raw) else escape("" if value is None else str(value))
    return f"<{tag}>{inner}</{tag}>"


def _lines(value: object) -> str:
    """Text-file lines from a list of token lists (YOLO labels, VOC split lists)."""
    rows = value if isinstance(value, list) else [value]
    out = []
    for row in rows:
        tokens = row if isinstance(row, list) else [row]
        out.append(" ".join(t if isinstance(t, str) else _json_text(t) for t in tokens))
    return "\n".join(out) + "\n"


def serialise(name: str, value: object) -> bytes:
    kind = _kind_of(name)
    if kind == "jsonl":
        rows = value if isinstance(value, list) else [value]
        text = "".join(_json_text(row) + "\n" for row in rows)
    elif kind in ("json", "yaml"):  # YAML reads JSON
        text = _json_text(value)
    elif kind == "xml":
        text = "".join(_xml_text(str(k), v) for k, v in value.items()) if isinstance(value, dict) else _lines(value)
    else:
        text = _lines(value)
    return text.encode("utf-8", "surrogatepass")


def write_case(case: Case, root: Path, contents: dict[str, bytes]) -> None:
    make_png(root / IMAGES.get(case.fmt, "a.png"), 20, 10)  # replaced below when the image is mutated
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


# ---------------------------------------------------------------- mutations
SPECIAL_NUMBERS = [
    0, -1, 0.5, -0.0, 1e308, -1e308, 1.7976931348623157e308, 5e-324, float("inf"), float("-inf"), float("nan"),
    2**63, -(2**63) - 1, 2**64, 10**400, -(10**400),
]
SPECIAL_TEXT = [
    "", " ", "\ud800", "a\x00.png", "x" * 300 + ".png", "é.png", "<image>", "<bbox>", "<ref-object>", "sharegpt",
    "[{\"bbox_2d\": [1e308, 0, 1e308, 1], \"label\": \"a\"}]", "[" * 3000, "1e999", "9" * 5000,
]
RAWS = [Raw("9" * 5000), Raw("-" + "9" * 4400 + ".5"), Raw("1e999"), Raw("NaN"), Raw("-Infinity"),
        Raw("[" * 60 + "]" * 60), Raw("[" * 100_000 + "]" * 100_000), Raw('{"a":' * 5000 + "1" + "}" * 5000)]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.sampled_from(SPECIAL_NUMBERS),
    st.text(max_size=12),
    st.sampled_from(SPECIAL_TEXT),
    st.sampled_from(RAWS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _places(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, (*prefix, index))
    return found


@st.composite
def value_mutations(draw, case: Case) -> dict[str, bytes]:
    """Up to three edits of the files' values: replace (any value), delete a key, wrap a value in a list
    (list for string), unwrap a list, turn a value to text; then write every file."""
    files = copy.deepcopy(case.files)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(files)))
        places = _places(files[name])
        place = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "unwrap", "text"]))
        if not place:
            files[name] = draw(VALUES) if action != "wrap" else [files[name]]
            continue
        parent = files[name]
        for key in place[:-1]:
            parent = parent[key]
        key = place[-1]
        if action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif action == "unwrap":
            old = parent[key]
            parent[key] = old[0] if isinstance(old, list) and old else old
        elif action == "text":
            parent[key] = str(parent[key])[:50] if not isinstance(parent[key], Raw) else parent[key].text[:50]
        else:
            parent[key] = draw(VALUES)
    return {name: serialise(name, value) for name, value in files.items()}


SPECIAL_BYTES = [
    b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00", b"\xc3\x28", b"\xed\xa0\x80", b"\\ud800", b"\x80\x80",
    b'<?xml version="1.0" encoding="foo"?>', b'<?xml version="1.0" encoding="utf-16"?>', b"9" * 5000,
    b"[" * 2000, b"{" * 2000, b"1e308", b"1e999", b"-", b"\n", b"\r\n", b'"', b",", b"]", b"}",
]
ENCODINGS = ["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-8-sig"]
BYTE_EDITS = st.tuples(
    st.sampled_from(["flip", "insert", "insert", "delete", "duplicate", "truncate", "encode"]),
    st.integers(0, 2**20),
    st.integers(1, 64),
    st.binary(min_size=1, max_size=8) | st.sampled_from(SPECIAL_BYTES),
    st.sampled_from(ENCODINGS),
)


def _edit(data: bytes, edit: tuple) -> bytes:
    action, at, length, insert, encoding = edit
    at = at % (len(data) + 1)
    if action == "flip" and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (1 << (length % 8))]) + data[at + 1 :]
    if action == "insert":
        return data[:at] + insert + data[at:]
    if action == "delete":
        return data[:at] + data[at + length :]
    if action == "duplicate":
        return data[:at] + data[at : at + length] * (1 + length % 4) + data[at:]
    if action == "truncate":
        return data[:at]
    if action == "encode":
        return data.decode("utf-8", "replace").encode(encoding, "replace")
    return data


@st.composite
def byte_mutations(draw, case: Case) -> dict[str, bytes]:
    """The valid files, with one or two of them (the image too) edited byte by byte."""
    contents = {name: serialise(name, value) for name, value in case.files.items()}
    image = IMAGES.get(case.fmt, "a.png")
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from([*sorted(contents), image]))
        data = contents.get(name) or _png_bytes()
        for edit in draw(st.lists(BYTE_EDITS, min_size=1, max_size=4)):
            data = _edit(data, edit)
        contents[name] = data
    return contents


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------- the check
def tables(project) -> dict[str, list]:
    """Every row of every table of the project, for comparing before and after a refused import."""
    names = [r[0] for r in project.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: sorted(project.conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def check_import(project, case: Case, contents: dict[str, bytes], level: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_case(case, root, contents)
        before = tables(project)
        try:
            import_dataset(project, case.fmt, root / case.target, model=case.model)
        except FormatError as exc:
            assert exc.file.startswith(str(root)), f"the error names no file of the dataset: {exc}"
            assert tables(project) == before, f"a refused import changed the store: {exc}"
            outcome = "refused"
        else:
            for image in project.images():
                for box in project.boxes(image.id):
                    assert all(math.isfinite(v) for v in box.xyxy), f"stored a non-finite box {box}"
            outcome = "accepted"
    TALLY[(case.fmt, level, outcome)] += 1
    return outcome


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    target = os.environ.get("FUZZ_REPORT")
    if target and TALLY:
        counts: dict[str, dict[str, int]] = {}
        for (fmt, level, outcome), n in sorted(TALLY.items()):
            counts.setdefault(fmt, {}).setdefault(f"{level} {outcome}", n)
        Path(target).write_text(json.dumps({"examples_per_level": EXAMPLES, "counts": counts}, indent=1))


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_valid_case_imports(project, fmt):
    case = CASES[fmt]
    contents = {name: serialise(name, value) for name, value in case.files.items()}
    assert check_import(project, case, contents, "valid") == "accepted"
    assert project.counts()["boxes"] >= 1


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_mutated_values(project, fmt):
    case = CASES[fmt]

    @SETTINGS
    @given(contents=value_mutations(case))
    def run(contents):
        check_import(project, case, contents, "values")

    run()


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_mutated_bytes(project, fmt):
    case = CASES[fmt]

    @SETTINGS
    @given(contents=byte_mutations(case))
    def run(contents):
        check_import(project, case, contents, "bytes")

    run()


def test_image_lists_with_non_text_entries_name_no_single_image():
    from studio.dataset.formats.conversations import single_image

    assert single_image([["a.png"]]) is None
    assert single_image(["a.png", {"path": "a.png"}]) is None
    assert single_image(["a.png", "a.png"]) == "a.png"
    assert single_image([]) is None

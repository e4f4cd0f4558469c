"""The model catalog: one TOML file per architecture and size in ``studio/models/`` (facts, not behaviour).

`load_catalog()` reads and validates every file; `get_entry(model_id)` returns one entry. A malformed file
raises `CatalogError` naming the file and the problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from studio.shipped import MODELS_DIR, PACKAGE_DIR

FAMILIES = ("qwen3_vl", "qwen2_5_vl", "internvl", "nvila", "llava_next", "deepseek_ocr2")
BOX_CONVENTIONS = ("qwen_json_rel1000", "qwen_json_abs_resized", "internvl_ref_box_rel1000", "deepseek_ref_det_rel999")
STATUSES = ("available", "coming_soon")
VISION_KINDS = ("dynamic_resolution", "tiles", "anyres")


class CatalogError(ValueError):
    """A catalog file is missing, unreadable or malformed; the message names the file."""


@dataclass(frozen=True)
class VisionSpec:
    """How images become visual tokens. Qwen-style models use patch/merge/pixels; tiled models use tiles."""

    kind: str  # "dynamic_resolution" (Qwen), "tiles" (InternVL, NVILA, DeepSeek-OCR) or "anyres" (LLaVA-NeXT)
    patch_size: int
    merge_size: int = 1
    temporal_patch_size: int = 1
    min_pixels: int = 0
    max_pixels: int = 0
    tile_size: int = 0
    min_tiles: int = 1
    max_tiles: int = 1
    use_thumbnail: bool = False
    tokens_per_tile: int = 0
    base_tokens: int = 0  # tokens of the global view (DeepSeek-OCR, LLaVA-NeXT), besides the tiles
    square: bool = False  # every image stretched to one square of max_pixels first (the tiny model: one grid)
    grid_pinpoints: tuple[tuple[int, int], ...] = ()  # LLaVA-NeXT's (height, width) canvases
    image_mean: tuple[float, ...] = (0.48145466, 0.4578275, 0.40821073)
    image_std: tuple[float, ...] = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class LoraSpec:
    supported: bool
    reason: str = ""
    target_modules: tuple[str, ...] = ()
    vision_target_modules: tuple[str, ...] = ()
    language_prefix: str = ""
    vision_prefix: str = ""


@dataclass(frozen=True)
class MemorySpec:
    """Inputs of the memory estimate (studio/adapters/memory.py)."""

    params_total: float  # parameters, all towers
    params_vision: float
    hidden_size: int
    num_layers: int
    vocab_size: int
    intermediate_size: int = 0
    num_kv_heads: int = 0
    head_dim: int = 0
    vision_hidden_size: int = 0
    vision_layers: int = 0
    tied_embeddings: bool = False
    experts: int = 0  # a mixture of experts' routed experts per layer (intermediate_size is then per expert)

    @property
    def fused_expert_params(self) -> float:
        """Parameters of the experts' fused 3-D gate/up and down tensors: bitsandbytes quantises nn.Linear layers
        only, so QLoRA keeps these in half precision, and LoRA cannot target them."""
        return float(self.num_layers * self.experts * 3 * self.hidden_size * self.intermediate_size)


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    family: str
    hf_id: str
    transformers_class: str
    params_b: float
    context_length: int
    licence: str
    box_convention: str
    vision: VisionSpec
    lora: LoraSpec
    memory: MemorySpec
    status: str = "available"
    remote_code: bool = False
    local_path: str = ""  # relative to the studio package folder (the tiny model), else empty
    adapter: str = ""  # an adapter other than the family's (the tiny model's builds missing weights)
    notes: str = ""
    sources: tuple[str, ...] = ()
    path: Path = field(default=Path(), compare=False)

    @property
    def available(self) -> bool:
        return self.status == "available"

    def local_folder(self) -> Path | None:
        return PACKAGE_DIR / self.local_path if self.local_path else None


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise CatalogError(f"{path}: missing section [{name}]")
    return value


def _build(cls: type, values: dict[str, Any], path: Path, where: str) -> Any:
    try:
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**converted)
    except TypeError as exc:
        raise CatalogError(f"{path}: [{where}] {exc}") from None


def parse_entry(path: Path) -> CatalogEntry:
    """Read and validate one catalog file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    entry = _build(
        CatalogEntry,
        {
            **top,
            "vision": _build(VisionSpec, _section(data, "vision", path), path, "vision"),
            "lora": _build(LoraSpec, _section(data, "lora", path), path, "lora"),
            "memory": _build(MemorySpec, _section(data, "memory", path), path, "memory"),
            "path": path,
        },
        path,
        "top level",
    )
    problems = []
    if entry.id != path.stem:
        problems.append(f"id {entry.id!r} differs from the file name {path.stem!r}")
    if entry.family not in FAMILIES:
        problems.append(f"family {entry.family!r} is not one of {', '.join(FAMILIES)}")
    if entry.box_convention not in BOX_CONVENTIONS:
        problems.append(f"box_convention {entry.box_convention!r} is not one of {', '.join(BOX_CONVENTIONS)}")
    if entry.status not in STATUSES:
        problems.append(f"status {entry.status!r} is not one of {', '.join(STATUSES)}")
    if not entry.hf_id and not entry.local_path:
        problems.append("needs hf_id or local_path")
    if entry.vision.kind not in VISION_KINDS:
        problems.append(f"vision.kind {entry.vision.kind!r} is not one of {', '.join(VISION_KINDS)}")
    if entry.lora.supported and not entry.lora.target_modules:
        problems.append("lora.supported needs lora.target_modules")
    if not entry.lora.supported and not entry.lora.reason:
        problems.append("lora.supported = false needs lora.reason")
    if problems:
        raise CatalogError(f"{path}: " + "; ".join(problems))
    return entry


@lru_cache(maxsize=4)
def _load(folder: Path) -> dict[str, CatalogEntry]:
    if not folder.is_dir():
        raise CatalogError(f"{folder}: the model catalog folder does not exist")
    entries = {}
    for path in sorted(folder.glob("*.toml")):
        entry = parse_entry(path)
        entries[entry.id] = entry
    return entries


def load_catalog(folder: str | Path | None = None) -> dict[str, CatalogEntry]:
    """Every catalog entry by id, in file-name order."""
    return dict(_load(Path(folder) if folder else MODELS_DIR))


def get_entry(model_id: str, folder: str | Path | None = None) -> CatalogEntry:
    """One entry; a `KeyError` with the known ids when ``model_id`` is not in the catalog."""
    entries = _load(Path(folder) if folder else MODELS_DIR)
    if model_id not in entries:
        raise KeyError(f"unknown model {model_id!r}; the catalog has: {', '.join(entries)}")
    return entries[model_id]

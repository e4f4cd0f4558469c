"""A model folder with a planted module: NVILA's Hugging Face cache snapshot whose config names ``planted.py``,
which writes a marker file when imported (for the tests that no model folder's code runs before consent)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

MODEL = "nvila-lite-2b"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
PLANTED = '''from pathlib import Path
Path({marker!r}).write_text("ran")
from transformers import PretrainedConfig


class PlantedConfig(PretrainedConfig):
    model_type = "planted"
'''


def plant_nvila(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Point the Hugging Face cache at ``tmp_path/hub`` holding NVILA with a planted module; returns (snapshot
    folder, marker file). Call `forget_planted_modules` afterwards."""
    import huggingface_hub.constants
    import transformers.dynamic_module_utils as dynamic

    cache = tmp_path / "hub"
    repo = cache / "models--Efficient-Large-Model--NVILA-Lite-2B"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    marker = tmp_path / "marker"
    (snapshot / "planted.py").write_text(PLANTED.format(marker=str(marker)))
    auto = {name: f"planted.Planted{kind}" for name, kind in
            (("AutoConfig", "Config"), ("AutoModel", "Model"), ("AutoProcessor", "Processor"))}
    (snapshot / "config.json").write_text(json.dumps({"model_type": "planted", "auto_map": auto}))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "modules"))
    return snapshot, marker


def forget_planted_modules() -> None:
    for name in [n for n in sys.modules if n.startswith("transformers_modules")]:
        del sys.modules[name]

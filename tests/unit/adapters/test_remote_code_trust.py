"""No code from a model folder runs before the user trusted that model's code (issue 17.1): a module planted in
NVILA's folder (the Hugging Face cache snapshot) writes a marker file when imported; every command and the
training-text path refuse with the sentence naming the model and how to consent, and run it only after consent."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from studio.adapters import get_adapter, trust
from studio.adapters.trust import RemoteCodeNotTrusted
from studio.cli import run as cli
from studio.dataset.importer import import_images
from studio.dataset.store import Project
from studio.training.config import default_workflow
from studio.training.workflows import save_workflow
from tests.unit.adapters.planted_model import COMMIT, MODEL, PLANTED, forget_planted_modules, plant_nvila


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """NVILA's cache snapshot with a planted module; returns (snapshot folder, marker file)."""
    yield plant_nvila(tmp_path, monkeypatch)
    forget_planted_modules()


@pytest.fixture
def nvila_project(tmp_path, shapes_image):
    folder = tmp_path / "project"
    with Project.create(folder) as project:
        import_images(project, [shapes_image])
        image_id = project.images()[0].id
        save_workflow(project, "nvila", replace(default_workflow(MODEL), mode="full"))
    return folder, image_id


def _commands(project: Path, image_id: int, image: Path) -> dict[str, list[str]]:
    return {
        "preview": ["preview", str(project), "--model", MODEL, "--image", str(image_id)],
        "train --check": ["train", str(project), "--workflow", "nvila", "--check"],
        "train": ["train", str(project), "--workflow", "nvila", "--max-steps", "1"],
        "predict": ["predict", str(image), "--model", MODEL, "--prompt", "what is this?"],
    }


@pytest.mark.parametrize("command", ["preview", "train --check", "train", "predict"])
def test_no_command_runs_a_model_folders_code_before_consent(command, planted, nvila_project, shapes_image, capsys):
    _snapshot, marker = planted
    argv = _commands(*nvila_project, shapes_image)[command]
    assert cli(argv) == 2
    assert not marker.exists()
    said = capsys.readouterr().err
    assert "NVIDIA NVILA-Lite 2B (nvila-lite-2b) runs Python code shipped with its checkpoint" in said
    assert "planted.py" in said and "--trust-remote-code" in said and "Model > Trust code of this model" in said
    assert "Traceback" not in said

    with contextlib.suppress(Exception):  # the planted code is no model: what follows its import fails
        cli([*argv, "--trust-remote-code"])
    assert marker.read_text() == "ran"
    assert trust.is_trusted(get_adapter(MODEL).code_revision())


def test_the_training_text_path_refuses_until_trusted(planted, nvila_project):
    from studio.budget.preview import load_preview

    _snapshot, marker = planted
    folder, image_id = nvila_project
    with pytest.raises(RemoteCodeNotTrusted, match="you have not trusted this model's code"):
        load_preview(folder, image_id, MODEL)
    assert not marker.exists()
    get_adapter(MODEL).trust_code()
    with contextlib.suppress(Exception):  # the planted module is no processor
        load_preview(folder, image_id, MODEL)
    assert marker.exists()


def test_consent_is_per_revision_and_revocable(planted, user_config_dir):
    snapshot, marker = planted
    adapter = get_adapter(MODEL)
    code = adapter.trust_code()
    assert code.commit == COMMIT and code.files == ("planted.py",)
    stored = json.loads((user_config_dir / trust.CONSENT_FILE).read_text())
    assert stored[MODEL][code.revision]["folder"] == str(snapshot)
    assert trust.is_trusted(adapter.code_revision())

    (snapshot / "helpers.py").write_text("print('also planted')\n")  # the folder changed: consent again
    with pytest.raises(RemoteCodeNotTrusted, match="its code changed since you trusted it"):
        adapter.load_processor()
    assert not marker.exists()

    adapter.trust_code()
    assert trust.revoke(MODEL) == 2
    with pytest.raises(RemoteCodeNotTrusted, match="you have not trusted"):
        adapter.load_model()
    assert not marker.exists()


def test_a_model_without_code_of_its_own_never_runs_a_planted_module(tmp_path):
    """A Qwen-family folder with an ``auto_map`` is loaded with its library classes (trust_remote_code=False)."""
    from studio.adapters.tiny import build_tiny_checkpoint

    folder = build_tiny_checkpoint(tmp_path / "tiny", weights=False)
    marker = tmp_path / "marker"
    (folder / "planted.py").write_text(PLANTED.format(marker=str(marker)))
    config = json.loads((folder / "processor_config.json").read_text())
    config["auto_map"] = {"AutoProcessor": "planted.PlantedProcessor"}
    (folder / "processor_config.json").write_text(json.dumps(config))
    get_adapter("tiny").load_processor(folder=folder)
    assert not marker.exists()
    assert get_adapter("tiny").trust_code(folder) is None


def test_training_refuses_with_the_sentence_as_a_training_error(planted, nvila_project):
    """The Train page shows a `TrainingError` as it is (other errors get their type name and a log traceback)."""
    from studio.training.trainer import RunConfig, TrainingError, train

    _snapshot, marker = planted
    with pytest.raises(TrainingError, match=r"^NVIDIA NVILA-Lite 2B \(nvila-lite-2b\) runs Python code"):
        train(RunConfig(nvila_project[0], "nvila", max_steps=1))
    assert not marker.exists()

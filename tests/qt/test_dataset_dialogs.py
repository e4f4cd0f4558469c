"""The Import dataset and Export dialogs: preview (dry run), import in a worker, export, errors shown."""

from __future__ import annotations

from studio.dataset.formats.exporting import export_dataset
from studio.dataset.imaging import read_image_info
from studio.dataset.store import Project
from studio.ui.dataset_dialogs import ExportDatasetDialog, ImportDatasetDialog
from tests.unit.formats.formats_helpers import make_png


def _source(tmp_path):
    """A COCO export of a small annotated project."""
    with Project.create(tmp_path / "source") as source:
        ids = source.add_images([read_image_info(make_png(tmp_path / "img" / f"{n}.png", 32, 24)) for n in "ab"])
        label = source.ensure_label("dog").id
        source.add_box(ids[0], label, 1, 2, 10, 20)
        source.add_box(ids[1], label, 3, 4, 30, 22.5)
        source.set_caption(ids[0], "a dog")
        source.add_phrase(ids[0], 0, 5, [source.boxes(ids[0])[0].id])
        source.add_vqa(ids[1], "What is it?", "A dog.")
        export_dataset(source, "coco", tmp_path / "coco")
    return tmp_path / "coco"


def _choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def test_preview_then_import(qtbot, project, tmp_path):
    dialog = ImportDatasetDialog(project)
    qtbot.addWidget(dialog)
    _choose(dialog.format_combo, "coco")
    dialog.path_edit.setText(str(_source(tmp_path)))
    assert not dialog.import_button.isEnabled()
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and not dialog.busy, timeout=10000)
    assert "Would import 2 new images" in dialog.report.toPlainText()
    assert "New labels (1): dog" in dialog.report.toPlainText()
    assert project.image_count() == 0
    assert dialog.import_button.isEnabled()
    with qtbot.waitSignal(dialog.imported, timeout=10000) as signal:
        dialog.import_button.click()
    assert signal.args[0].images_new == 2
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    assert "Imported 2 new images" in dialog.report.toPlainText()
    assert project.counts()["boxes"] == 2 and project.counts()["captions"] == 1


def test_bad_dataset_shows_the_error_and_changes_nothing(qtbot, project, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [{"id": 1}]}')
    dialog = ImportDatasetDialog(project)
    qtbot.addWidget(dialog)
    _choose(dialog.format_combo, "coco")
    dialog.path_edit.setText(str(bad))
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: "file_name" in dialog.report.toPlainText(), timeout=10000)
    assert "bad.json: $.images[0].file_name: missing" in dialog.report.toPlainText()
    assert not dialog.import_button.isEnabled()
    assert project.image_count() == 0


def test_export_dialog_writes_the_dataset_and_asks_for_a_model(qtbot, tmp_path):
    _source(tmp_path)
    with Project.open(tmp_path / "source") as source:
        dialog = ExportDatasetDialog(source)
        qtbot.addWidget(dialog)
        _choose(dialog.format_combo, "msswift")
        assert dialog.model_combo.isEnabled()
        dialog.folder_edit.setText(str(tmp_path / "swift"))
        dialog.export_button.click()
        assert "needs a model" in dialog.report.toPlainText()
        _choose(dialog.model_combo, "tiny")
        _choose(dialog.split_combo, "")
        with qtbot.waitSignal(dialog.exported, timeout=10000) as signal:
            dialog.export_button.click()
        assert signal.args[0].images == 2
        qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
        assert (tmp_path / "swift" / "train.jsonl").is_file()
        _choose(dialog.format_combo, "yolo")
        assert not dialog.model_combo.isEnabled()


def test_images_outside_the_dataset_folder_need_the_dialogs_permission(qtbot, project, tmp_path):
    import json

    image = make_png(tmp_path / "elsewhere" / "a.png", 32, 24)
    (tmp_path / "coco").mkdir()
    (tmp_path / "coco" / "coco.json").write_text(json.dumps(
        {"images": [{"id": 1, "file_name": str(image)}], "annotations": [], "categories": []}))
    dialog = ImportDatasetDialog(project)
    qtbot.addWidget(dialog)
    _choose(dialog.format_combo, "coco")
    dialog.path_edit.setText(str(tmp_path / "coco" / "coco.json"))
    dialog.preview_button.click()
    # generous waits: a worker left by an earlier test may hold the import lock while it imports the ML stack
    qtbot.waitUntil(lambda: "outside the dataset folder" in dialog.report.toPlainText(), timeout=60000)
    assert "nothing was imported" in dialog.report.toPlainText()  # its only image lies outside: none found
    assert not dialog.import_button.isEnabled()
    dialog.outside_check.setChecked(True)
    assert dialog.plan is None  # a new preview is needed
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.plan is not None and not dialog.busy, timeout=60000)
    assert "Would import 1 new images" in dialog.report.toPlainText() and dialog.import_button.isEnabled()


def test_export_options_follow_the_workflow_and_the_format(qtbot, tmp_path):
    import yaml

    from studio.training.config import WorkflowConfig
    from studio.training.workflows import save_workflow

    _source(tmp_path)
    with Project.open(tmp_path / "source") as source:
        save_workflow(source, "big", WorkflowConfig(model_id="qwen2.5-vl-3b", max_pixels=1003520))
        dialog = ExportDatasetDialog(source)
        qtbot.addWidget(dialog)
        _choose(dialog.format_combo, "voc")
        assert dialog.whole_check.isEnabled() and not dialog.pixels_spin.isEnabled()
        _choose(dialog.format_combo, "llamafactory")
        assert not dialog.whole_check.isEnabled() and dialog.workflow_combo.isEnabled()
        _choose(dialog.workflow_combo, "big")
        assert dialog.model_combo.currentData() == "qwen2.5-vl-3b" and dialog.pixels_spin.value() == 1003520
        dialog.folder_edit.setText(str(tmp_path / "lf"))
        with qtbot.waitSignal(dialog.exported, timeout=10000):
            dialog.export_button.click()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
        config = yaml.safe_load((tmp_path / "lf" / "vlm_studio_sft.yaml").read_text())
        assert config["image_max_pixels"] == 1003520


def test_a_dataset_whose_images_are_all_missing_shows_where_it_looked(qtbot, project, tmp_path):
    folder = _source(tmp_path)
    for image in (folder / "images").iterdir():
        image.unlink()
    dialog = ImportDatasetDialog(project)
    qtbot.addWidget(dialog)
    _choose(dialog.format_combo, "coco")
    dialog.path_edit.setText(str(folder))
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: "looked in" in dialog.report.toPlainText(), timeout=10000)
    text = dialog.report.toPlainText()
    assert "none of the 2 images it names was found" in text and "nothing was imported" in text
    assert not dialog.import_button.isEnabled()
    assert project.image_count() == 0 and project.labels() == []

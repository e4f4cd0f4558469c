"""Model > Trust code of this model…: the dialog shows the folder and files that would run and gives or withdraws
consent; until then the training-text dock shows the sentence saying how to consent, not a traceback."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter, trust
from studio.dataset.importer import import_images
from studio.ui.training_preview import TrainingPreview
from studio.ui.trust_dialog import TrustCodeDialog
from tests.screenshots import save_shot
from tests.unit.adapters.planted_model import COMMIT, MODEL, forget_planted_modules, plant_nvila


@pytest.fixture
def planted(tmp_path, monkeypatch):
    yield plant_nvila(tmp_path, monkeypatch)
    forget_planted_modules()


def test_the_dialog_shows_the_code_and_trusts_or_revokes_it(qtbot, planted):
    snapshot, marker = planted
    dialog = TrustCodeDialog("tiny")  # the current model ships no code: the first one that does is shown
    qtbot.addWidget(dialog)
    assert dialog.model_id == MODEL and dialog.folder_label.text() == str(snapshot)
    assert dialog.files.count() == 1 and dialog.files.item(0).text().startswith("planted.py  (")
    assert COMMIT[:12] in dialog.revision.text() and "Not trusted" in dialog.status.text()
    assert "runs it with your permissions" in dialog.warning.text()
    assert dialog.trust_button.isEnabled() and not dialog.revoke_button.isEnabled()
    dialog.show()
    save_shot(dialog, "trust_dialog.png")

    dialog.trust_button.click()
    assert trust.is_trusted(get_adapter(MODEL).code_revision()) and "Trusted on" in dialog.status.text()
    assert not dialog.trust_button.isEnabled() and dialog.revoke_button.isEnabled()
    dialog.revoke_button.click()
    assert not trust.is_trusted(get_adapter(MODEL).code_revision()) and "Not trusted" in dialog.status.text()
    assert not marker.exists()  # looking at the code runs none of it


def test_the_training_text_dock_says_how_to_consent(qtbot, planted, project, shapes_image):
    _snapshot, marker = planted
    import_images(project, [shapes_image])
    widget = TrainingPreview()
    qtbot.addWidget(widget)
    widget.set_project(project)
    widget.set_model(MODEL)
    widget.show_image(project.images()[0].id)
    qtbot.waitUntil(lambda: "trust" in widget.status.text().lower(), timeout=60000)
    text = widget.status.text()
    assert "NVIDIA NVILA-Lite 2B (nvila-lite-2b) runs Python code shipped with its checkpoint" in text
    assert "Model > Trust code of this model" in text and "Traceback" not in text
    assert not marker.exists()
    widget.set_project(None)


def test_the_model_menu_opens_the_dialog_for_the_current_model(window, monkeypatch):
    shown = []
    monkeypatch.setattr(TrustCodeDialog, "exec", lambda dialog: shown.append(dialog.model_id) or 0)
    window.models.set_model(MODEL)
    window.models.menu.aboutToShow.emit()
    action = next(a for a in window.models.menu.actions() if a.text() == "Trust code of this model…")
    assert action.isEnabled()
    action.trigger()
    assert shown == [MODEL]

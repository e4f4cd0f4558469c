"""Model > Trust code of this model…: what trusting a model's own code means (the folder and the Python files that
would run) and the consent itself, given or withdrawn (`studio.adapters.trust`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.adapters import get_adapter, load_catalog, trust
from studio.adapters.loading import ModelNotAvailable
from studio.humanize import size_bytes

WARNING = ("{name} ships Python code with its checkpoint, and loading the model runs it with your permissions: it "
           "can read, change or send anything you can. Trust it only if you trust where this checkpoint came from"
           "{source}. Your consent holds for this model and this exact code; if the folder's code changes, VLM "
           "Studio asks again.")


class TrustCodeDialog(QDialog):
    """Choose a model that ships code (and, optionally, another checkpoint folder of it), see its files, then
    trust or revoke."""

    def __init__(self, model_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trust code of a model")
        self.folder: Path | None = None  # None: the model's own folder (bundled or in the Hugging Face cache)
        self.code: trust.CodeRevision | None = None
        self.model_combo = QComboBox()
        for entry in load_catalog().values():
            if entry.remote_code and entry.available:
                self.model_combo.addItem(entry.name, entry.id)
        index = self.model_combo.findData(model_id)
        self.model_combo.setCurrentIndex(max(index, 0))
        self.warning = QLabel(wordWrap=True)
        self.folder_label = QLineEdit(readOnly=True)
        other = QPushButton("Other folder…")
        other.setToolTip("A local checkpoint folder of this model (the one a workflow uses)")
        other.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(other)
        self.files = QListWidget()
        self.files.setMinimumHeight(100)
        self.revision = QLabel(textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel(wordWrap=True)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Folder", folder_row)
        form.addRow("Code that would run", self.files)
        form.addRow("Revision", self.revision)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.trust_button = self.buttons.addButton("Trust this code", QDialogButtonBox.ButtonRole.ActionRole)
        self.revoke_button = self.buttons.addButton("Revoke trust", QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.trust_button.clicked.connect(self.trust_code)
        self.revoke_button.clicked.connect(self.revoke_trust)
        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.resize(640, 440)
        self._refresh()

    @property
    def model_id(self) -> str:
        return self.model_combo.currentData() or ""

    def _model_changed(self) -> None:
        self.folder = None
        self._refresh()

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Checkpoint folder")
        if path:
            self.folder = Path(path)
            self._refresh()

    def _refresh(self) -> None:
        """Show the chosen model's folder, files, revision and whether it is trusted."""
        self.code = None
        self.files.clear()
        self.revision.clear()
        if not self.model_id:
            self.warning.setText("No model in the catalog ships code of its own: there is nothing to trust.")
            self.folder_label.clear()
            self.status.clear()
            self._enable()
            return
        adapter = get_adapter(self.model_id)
        entry = adapter.entry
        self.warning.setText(WARNING.format(name=entry.name, source=f" ({entry.hf_id})" if entry.hf_id else ""))
        try:
            self.code = adapter.code_revision(self.folder)
        except (ModelNotAvailable, OSError) as exc:
            self.folder_label.clear()
            self.status.setText(f"{exc}\n\nDownload the model (or choose its folder) to see its code before "
                                "trusting it.")
            self._enable()
            return
        self.folder_label.setText(str(self.code.folder))
        self.folder_label.setCursorPosition(0)
        self.folder_label.setToolTip(str(self.code.folder))
        for name in self.code.files:
            self.files.addItem(f"{name}  ({size_bytes((self.code.folder / name).stat().st_size)})")
        if not self.code.files:
            self.files.addItem("(no Python files in this folder)")
        commit = f"  (Hugging Face commit {self.code.commit[:12]})" if self.code.commit else ""
        self.revision.setText(self.code.revision[:23] + "…" + commit)
        given = trust.trusted_revisions().get(self.model_id, {})
        if self.code.revision in given:
            self.status.setText(f"Trusted on {given[self.code.revision]['trusted_at'][:10]}: VLM Studio loads it.")
        elif given:
            self.status.setText("You trusted another version of this code; this one differs and is not loaded "
                                "until you trust it.")
        else:
            self.status.setText("Not trusted: VLM Studio refuses to load this model.")
        self._enable()

    def _enable(self) -> None:
        self.trust_button.setEnabled(self.code is not None and not trust.is_trusted(self.code))
        self.revoke_button.setEnabled(bool(self.model_id) and self.model_id in trust.trusted_revisions())

    def trust_code(self) -> None:
        if self.code is not None:
            trust.trust(self.code)
            self._refresh()

    def revoke_trust(self) -> None:
        """Withdraw every consent for this model; code already loaded in this session is dropped from caches."""
        from studio.budget.preview import cached_processor

        trust.revoke(self.model_id)
        cached_processor.cache_clear()
        self._refresh()

"""Project > Split project…: train / val / test ratios and a seed, the split run in a worker (the core of
``vlm-studio split``), then the result per split and per label. The result comes back as one undoable edit."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from studio.dataset.model import SPLITS
from studio.dataset.splits import SplitReport, assign_splits_at, ratios_from
from studio.dataset.store import Project
from studio.humanize import count
from studio.ui.annotate.commands import SetSplits, SplitChoice
from studio.ui.dataset_dialogs import _JobDialog
from studio.workers.job import Job

DEFAULT_PERCENT = {"train": 80, "val": 10, "test": 10}  # the CLI's defaults


class SplitDialog(_JobDialog):
    """``split_done(SetSplits)``: the images whose split changed, before and after, for the undo stack (its first
    redo writes what the worker already wrote)."""

    split_done = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None, *, only_unsplit: bool | None = None) -> None:
        super().__init__(project, "Split project", parent)
        self._before: dict[int, SplitChoice] = {}
        intro = QLabel("Deal the images out to train, val and test: seeded, so the same seed gives the same split, "
                       "and stratified by label, so that rare labels reach every split. Images pinned by hand "
                       "(right-click in the image list) keep their split.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.current = QLabel()
        self.current.setWordWrap(True)
        self.form.addRow("Now", self.current)
        self.percent: dict[str, QSpinBox] = {}
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        for split in SPLITS:
            spin = QSpinBox()
            spin.setRange(0, 100)
            spin.setSuffix(" %")
            spin.setValue(DEFAULT_PERCENT[split])
            spin.valueChanged.connect(self._check_ratios)
            self.percent[split] = spin
            box.addWidget(QLabel(split.capitalize()))
            box.addWidget(spin)
        box.addStretch(1)
        self.form.addRow("Ratios", row)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed and ratios give the same split")
        self.seed.setMaximumWidth(140)
        self.form.addRow("Seed", self.seed)
        self.only_unsplit = QCheckBox()
        self.form.addRow("", self.only_unsplit)
        self.split_button = self.buttons.addButton("Split", QDialogButtonBox.ButtonRole.AcceptRole)
        self.split_button.setDefault(True)
        self.split_button.clicked.connect(self.start_split)
        self.report.setPlaceholderText("The images per split and per label appear here.")
        self._show_current(only_unsplit)
        self.resize(560, 440)

    def _show_current(self, only_unsplit: bool | None = None) -> None:
        images = self.project.images()
        self._before = {image.id: (image.split, image.split_pinned) for image in images}
        per = {split: sum(1 for image in images if image.split == split) for split in (*SPLITS, "")}
        pinned = sum(1 for image in images if image.split_pinned)
        self.current.setText(
            f"{count(len(images), 'image')}: " + " · ".join(f"{s} {per[s]:,}" for s in SPLITS)
            + f" · no split {per['']:,}" + (f" ({pinned:,} pinned)" if pinned else ""))
        unsplit = sum(1 for image in images if not image.split and not image.split_pinned)
        self.only_unsplit.setText(f"Only the {count(unsplit, 'image')} in no split (the others keep theirs)"
                                  if unsplit else "Every image has a split (or is pinned out of the splits)")
        self.only_unsplit.setEnabled(0 < unsplit < len(images))
        if only_unsplit is None:
            only_unsplit = 0 < unsplit < len(images)  # new images join; earlier runs keep their val images
        self.only_unsplit.setChecked(only_unsplit and self.only_unsplit.isEnabled())
        self.split_button.setEnabled(bool(images) and not self.project.read_only)

    def _ratios(self) -> tuple[float, float, float]:
        return tuple(self.percent[split].value() / 100 for split in SPLITS)  # type: ignore[return-value]

    def _check_ratios(self) -> bool:
        try:
            ratios_from(*self._ratios())
        except ValueError:
            self.report.setPlainText("Give at least one split a share above 0 %.")
            self.split_button.setEnabled(False)
            return False
        total = sum(spin.value() for spin in self.percent.values())
        self.report.setPlainText("" if total == 100 else f"The shares add up to {total} %; they are scaled to 100 %.")
        self.split_button.setEnabled(not self.busy and not self.project.read_only)
        return True

    def start_split(self) -> None:
        if not self._check_ratios():
            return
        self._show_current(self.only_unsplit.isChecked())
        self.report.setPlainText("Splitting…")
        train, val, test = self._ratios()
        job = Job("Splitting the project", assign_splits_at, self.project.folder, train, val, test,
                  seed=self.seed.value(), only_unsplit=self.only_unsplit.isChecked())
        self._run(job, self._split)

    def _split(self, report: SplitReport) -> None:
        after = {image.id: (image.split, image.split_pinned) for image in self.project.images()}
        changed = [image_id for image_id, choice in after.items() if self._before.get(image_id, choice) != choice]
        self.report.setPlainText(split_text(report, len(changed)))
        self.cancel_button.setText("Close")
        if changed:
            parts = ", ".join(f"{split} {n:,}" for split, n in report.counts.items())
            self.split_done.emit(SetSplits(self.project, {i: self._before[i] for i in changed},
                                           {i: after[i] for i in changed}, f"Split the project ({parts})"))
        self._show_current(self.only_unsplit.isChecked())

    def _set_busy(self, busy: bool) -> None:
        for widget in (*self.percent.values(), self.seed, self.only_unsplit, self.split_button):
            widget.setEnabled(not busy)
        if not busy:
            self._show_current(self.only_unsplit.isChecked())


def split_text(report: SplitReport, moved: int) -> str:
    """The report's summary, how many images moved, and each label's images per split."""
    lines = [report.summary(), f"{count(moved, 'image')} changed split (Edit > Undo takes it back)."
             if moved else "No image changed split."]
    if report.labels:
        lines += ["", "Images with each label per split:"]
        for name, per in sorted(report.labels.items()):
            lines.append(f"  {name}: " + " · ".join(f"{split} {n:,}" for split, n in per.items()
                                                    if split in report.counts))
    return "\n".join(lines)

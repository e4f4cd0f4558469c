"""The window's actions on the project's data: import images and datasets (menus and drag and drop), export,
split, re-link moved files, and edits chosen outside the canvas. A mixin of `MainWindow`, which supplies
``project``, ``images``, ``annotate``, ``start_job`` and ``reload_images``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.dataset.importer import ImportReport, import_into_folder
from studio.humanize import count
from studio.workers.job import Job


class DataActions:
    """File > Import… / Export…, Project > Split / Re-link, drops of files and folders."""

    def _check_missing_images(self) -> None:
        """Look for moved or deleted image files in a worker; offer Project > Re-link when some are gone."""

        def report(result: tuple[int, str | None]) -> None:
            missing, folder = result
            if missing:
                self.statusBar().showMessage(
                    f"{count(missing, 'image')} not found (were in {folder}) — Project > Re-link moved images…", 15000)

        self._check_image_files(report)

    def _check_image_files(self, report) -> None:
        """Count the missing image files in a worker (a large project's files take seconds to stat), then call
        ``report((missing, folder they were in))`` if the same project is still open."""
        from studio.dataset.relink import missing_folder_at

        project = self.project
        job = Job("Checking image files", missing_folder_at, project.folder)
        job.finished.connect(lambda result: report(result) if self.project is project else None)
        self.start_job(job)

    def relink_dialog(self) -> None:
        """Project > Re-link moved images…: find the folder the missing files were in, ask where it is now and
        point the project there; the files are checked in workers."""
        if self.project is None or self.project.read_only:
            return
        self._check_image_files(self._ask_where_moved)

    def _ask_where_moved(self, result: tuple[int, str | None]) -> None:
        from studio.dataset.relink import relink_folder_at

        _missing, old = result
        if old is None:
            QMessageBox.information(self, "Re-link moved images", "Every image file is where the project expects it.")
            return
        new = QFileDialog.getExistingDirectory(self, f"Where is the folder that was at {old} now?")
        if not new:
            return
        if not Path(new).is_dir():
            QMessageBox.warning(self, "Re-link moved images", f"{new} is not a folder")
            return
        project = self.project
        job = Job("Re-linking images", relink_folder_at, project.folder, old, new)
        job.finished.connect(lambda report: self._relinked(report) if self.project is project else None)
        self.start_job(job)

    def _relinked(self, report) -> None:
        self.reload_images()
        self.statusBar().showMessage(
            f"Re-linked {count(report.relinked, 'image')}, {report.found:,} found; "
            f"{report.still_missing:,} still missing", 10000)

    def split_dialog(self, *, only_unsplit: bool | None = None) -> None:
        """Project > Split project…: the result is one undoable edit."""
        if self.project is None or self.project.read_only:
            self.statusBar().showMessage("Open a writable project first", 5000)
            return
        from studio.ui.split_dialog import SplitDialog

        dialog = SplitDialog(self.project, self, only_unsplit=only_unsplit)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.split_done.connect(self.push_edit)
        dialog.open()

    def push_edit(self, command) -> None:
        """Apply an undoable edit chosen outside the canvas (the image list's menu, the split dialog)."""
        if self.annotate.workspace is not None:
            text = command.text()  # the stack deletes a command that failed
            self.annotate.workspace.push(command)
            if command.error is None and not self.project.read_only:
                self.statusBar().showMessage(text, 5000)

    def import_images_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import images", "", "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif)")
        if files:
            self.import_paths(files)

    def import_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import every image in a folder (and its sub-folders)")
        if folder:
            self.import_paths([folder])

    def import_paths(self, paths: list[str]) -> Job | None:
        """Import files and folders in a worker; the list refreshes when it ends."""
        if self.project is None or self.project.read_only:
            self.statusBar().showMessage("Open a writable project first (File > New project…)", 5000)
            return None
        job = Job("Importing images", import_into_folder, self.project.folder, paths)
        job.finished.connect(self._import_finished)
        return self.start_job(job)

    def _import_finished(self, report: ImportReport) -> None:
        """The import's summary in the status bar; skipped files get a "Details…" button listing them all."""
        from studio.ui.skipped_files import SkippedFilesButton

        self.reload_images()
        message = report.summary()
        if report.skipped:
            first_path, first_reason = report.skipped[0]
            message += f" ({Path(first_path).name}: {first_reason}"
            message += f"; {len(report.skipped) - 1:,} more in Details…)" if len(report.skipped) > 1 else ")"
        self.statusBar().showMessage(message, 30000 if report.skipped else 10000)
        button = self.statusBar().findChild(SkippedFilesButton)
        if button is None:
            button = SkippedFilesButton(self.statusBar())
            self.statusBar().addPermanentWidget(button)
        button.show_for(report.skipped, message)

    def import_dataset_dialog(self) -> None:
        """COCO, YOLO, VOC, labelme, ODVG, LLaVA, LLaMA-Factory or ms-swift: preview, then import in one go."""
        if self.project is None or self.project.read_only:
            self.statusBar().showMessage("Open a writable project first (File > New project…)", 5000)
            return
        from studio.ui.dataset_dialogs import ImportDatasetDialog

        dialog = ImportDatasetDialog(self.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(lambda _report: self.reload_images())
        dialog.open()  # window-modal without a nested event loop

    def export_dataset_dialog(self) -> None:
        if self.project is None:
            self.statusBar().showMessage("Open a project first", 5000)
            return
        from studio.ui.dataset_dialogs import ExportDatasetDialog

        dialog = ExportDatasetDialog(self.project, self)
        dialog.exported.connect(
            lambda report: self.statusBar().showMessage(f"Exported {report.images:,} images to {report.target}", 10000))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.import_paths(paths)
            event.acceptProposedAction()

"""The Review queue in the main window: the dock beside Annotate's docks, the review job (progress and cancel in
the status bar), and what the dock's keys do: show a suspect on its image (the annotation selected, the model's
box dashed over the image), accept the model's fix as one undo step, dismiss it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt

from studio.dataset.store import Project
from studio.humanize import count
from studio.review.items import ReviewItem
from studio.ui.annotate.box_item import BoxStyle
from studio.ui.overlay import LabelColours
from studio.ui.review.commands import SetReviewState, accept_command
from studio.ui.review.dock import ReviewDock
from studio.ui.review.queue_model import kind_title
from studio.workers.generation import in_project
from studio.workers.job import Job

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def suggestion_tag(item: ReviewItem) -> str:
    """The text on the model's dashed box: its label and confidence ("red ball 92 %")."""
    evidence = item.evidence or {}
    label = evidence.get("label") or kind_title(item.kind).lower()
    confidence = evidence.get("confidence")
    return f"{label} {confidence:.0%}" if isinstance(confidence, float | int) else label


class ReviewQueue(QObject):
    """Owns the Review queue dock in ``window`` (a `MainWindow`); the window tells it the project."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.project: Project | None = None
        self.job: Job | None = None
        self.dock = ReviewDock(window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.show_requested.connect(self.show_item)
        self.dock.accept_requested.connect(self.accept)
        self.dock.dismiss_requested.connect(self.dismiss)
        self.dock.find_requested.connect(self.find_mistakes)
        self.dock.again_requested.connect(lambda run_id: self.find_mistakes(run_id, restart=True))
        self.dock.stop_requested.connect(self.stop)

    def set_project(self, project: Project | None) -> None:
        self.stop()
        self.project = project
        self.dock.set_project(project)

    # ------------------------------------------------------------ the review job
    def find_mistakes(self, run_id: int, *, restart: bool = False) -> None:
        """Review the project with run ``run_id`` in a worker, leaving a core to the window; suspects appear in the
        dock as they are written. A review stopped before the end resumes where it stopped; ``restart`` reviews
        every image again (decisions on the same suspects are kept)."""
        if self.project is None or self.job is not None:
            return
        from studio.review.run_review import review_project

        name = self.dock.run_box.currentText().removesuffix(" · reviewed")
        job = Job(f"Finding mistakes with {name}", in_project, str(self.project.folder), review_project, run_id,
                  restart=restart, threads=0)  # fmt: skip
        job.home = "annotate"
        job.cancel_hint = "Stop looking for mistakes (what was found stays)"
        job.finished.connect(self._reviewed)
        job.done.connect(self._job_done)
        self.job = job
        self.dock.set_busy(True)
        self.window.start_job(job)

    def _reviewed(self, summary) -> None:
        found = sum(summary.items_by_kind.values())
        if summary.cancelled:
            checked = count(summary.images, "image")
            text = f"Review with {summary.run_name} stopped after {checked}; Find mistakes goes on from there"
        elif not summary.images:
            text = (
                f"{summary.run_name} has reviewed every image already; “Review again” (⟳) reviews them anew, "
                "keeping what you decided"
            )
        else:
            text = (
                f"Review with {summary.run_name} done: {count(summary.images, 'image')} checked, "
                f"{count(found, 'suspect')} found"
            )
        self._say(text)

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _job_done(self) -> None:
        self.job = None
        self.dock.set_busy(False)
        self.dock.refresh_runs()  # the worker's last batch may not have been announced yet

    # ------------------------------------------------------------ the keys
    def show_item(self, item: ReviewItem) -> None:
        """Go to the suspect's image in Annotate with the annotation selected and the model's box dashed over it;
        the queue keeps the keyboard."""
        workspace = self.window.annotate.workspace
        if workspace is None:
            return
        self.window.images.reveal(item.image_id)  # shows it (clearing filters that hide it)
        self.window.annotate_image(item.image_id, note=f"{kind_title(item.kind)}: {item.message}")
        if workspace.image_id != item.image_id:
            self._say("That image is no longer in the project; dismiss the suspect (N)")
            return
        box = (item.evidence or {}).get("box")
        if box:
            colour = LabelColours(self.project.labels()).colour((item.evidence or {}).get("label") or "")
            workspace.canvas.set_overlays([(suggestion_tag(item), colour, tuple(box))], BoxStyle.SUGGESTION)
        else:
            workspace.canvas.set_overlays([])
        workspace.canvas.select_boxes([item.box_id] if item.box_id is not None else [])
        if item.vqa_id is not None:
            workspace.vqa_panel.select_pair(item.vqa_id)
        if item.phrase_id is not None:
            workspace.caption_panel.select_phrase(item.phrase_id)
            if item.box_id is not None:
                workspace.canvas.select_boxes([item.box_id])
        self.dock.view.setFocus()

    def accept(self, item: ReviewItem) -> None:
        """Apply the model's fix and mark the suspect accepted (one undo step); then show the next."""
        workspace = self.window.annotate.workspace
        if workspace is None or self.project is None:
            return
        what = self._describe(item)
        try:
            command = accept_command(self.project, item, what)
        except ValueError as exc:
            self._say(f"Cannot accept the fix for the {what}: {exc}; dismiss it (N) instead")
            return
        workspace.push(command)
        if command.error is None:
            self._say(f"Accepted the model's fix for the {what} (Ctrl+Z undoes it)")
            self._show_next(item)

    def dismiss(self, item: ReviewItem) -> None:
        """Mark the suspect dismissed (remembered; Ctrl+Z brings it back), then show the next."""
        workspace = self.window.annotate.workspace
        if workspace is None or self.project is None:
            return
        command = SetReviewState(self.project, item, "dismissed", f"Dismiss the {self._describe(item)}")
        workspace.push(command)
        if command.error is None:
            self._show_next(item)

    def _show_next(self, handled: ReviewItem) -> None:
        """The list dropped ``handled`` (it is no longer open): show the suspect now current, if any."""
        current = self.dock.current_item()
        if current is None and self.dock.filtered.rowCount():
            self.dock.select_row(0)
            current = self.dock.current_item()
        if current is not None and current.id != handled.id:
            self.show_item(current)
        elif current is None:
            self.window.annotate.workspace.canvas.set_overlays([])

    def _describe(self, item: ReviewItem) -> str:
        return f"{kind_title(item.kind).lower()} on {self.dock.model.image_name(item.image_id)}"

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

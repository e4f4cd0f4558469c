"""The image list: the view over `ImageListModel` (rows read from SQL on demand) with its filters, and its context
menu, which sets the split (pinned or not), the status and the box labels of the selected images."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QFontMetrics, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.dataset import changes
from studio.dataset.model import SPLITS, STATUSES, Image
from studio.dataset.queries import ImageFilter
from studio.dataset.store import Change, Project
from studio.dataset.thumbnails import THUMB_SIZE
from studio.humanize import count
from studio.ui import theme
from studio.ui.annotate import commands as cmd
from studio.ui.annotate.filter_bar import FilterBar
from studio.ui.image_list_model import ImageIdRole, ImageListModel, ImageRole

STATUS_COLOURS = {"todo": "#9aa0a6", "in-progress": "#f2a900", "done": "#34a853", "review": "#a142f4"}
SPLIT_COLOURS = {"train": "#3a7bd5", "val": "#e07b00", "test": "#8e44ad"}
ROW_HEIGHT = 56
COLUMNS_OF = {changes.STATUS_CHANGED: "status", changes.SPLIT_CHANGED: "split", changes.IMAGES_RELINKED: "path"}


class ImageDelegate(QStyledItemDelegate):
    """A row: thumbnail, file name, size, status dot and split chip."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex):
        image: Image | None = index.data(ImageRole)
        if image is None:
            return  # deleted by another process: the list is read again shortly
        colours = theme.colours()
        painter.save()
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(theme.ACCENT).lighter(170) if not theme.is_dark() else QColor("#27406b"))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor(colours["alt"]))
        thumb_rect = QRect(rect.left() + 6, rect.top() + 4, ROW_HEIGHT - 8, ROW_HEIGHT - 8)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            scaled = pixmap.scaled(
                thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            offset_x = (thumb_rect.width() - scaled.width()) // 2
            offset_y = (thumb_rect.height() - scaled.height()) // 2
            painter.drawPixmap(thumb_rect.left() + offset_x, thumb_rect.top() + offset_y, scaled)
        else:
            painter.fillRect(thumb_rect, QColor(colours["border"]))
        text_left = thumb_rect.right() + 10
        metrics = QFontMetrics(option.font)
        painter.setPen(QColor(colours["text"]))
        name = metrics.elidedText(image.name, Qt.TextElideMode.ElideMiddle, rect.right() - text_left - 24)
        painter.drawText(text_left, rect.top() + 22, name)
        painter.setPen(QColor(colours["muted"]))
        size = f"{image.width}×{image.height}"
        painter.drawText(text_left, rect.top() + 40, size)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _draw_split_chip(painter, metrics, image, text_left + metrics.horizontalAdvance(size) + 8, rect.top() + 29)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLOURS.get(image.status, "#9aa0a6")))
        painter.drawEllipse(rect.right() - 18, rect.center().y() - 5, 10, 10)
        painter.restore()


def _draw_split_chip(painter: QPainter, metrics: QFontMetrics, image: Image, left: int, top: int) -> None:
    """The image's split as a tinted chip (a pin after the name when re-splitting keeps it); "no split" muted."""
    if not image.split:
        painter.setPen(QColor(theme.colours()["muted"]))
        painter.drawText(left, top + 11, "no split · pinned" if image.split_pinned else "no split")
        return
    colour = QColor(SPLIT_COLOURS[image.split])
    text = image.split + (" · pinned" if image.split_pinned else "")
    chip = QRect(left, top, metrics.horizontalAdvance(text) + 12, 15)
    fill = QColor(colour)
    fill.setAlpha(48 if not theme.is_dark() else 90)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(chip, 7, 7)
    painter.setPen(colour.lighter(150) if theme.is_dark() else colour.darker(130))
    painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)


def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class ImageTable(QTableView):
    """The list as a one-column table: its rows have a fixed height, so a layout costs nothing per row (a
    QListView lays out every row, calling the Python model twice per row: a second at 100,000 images)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setMinimumSectionSize(ROW_HEIGHT)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))

    def keyboardSearch(self, search: str) -> None:
        """No type-ahead: it would read every row's name (the search field finds names)."""


class ImageListPanel(QWidget):
    """The image list with its filters: names, captions and answers, status, label, unannotated, split.

    ``edit_requested(StoreCommand)``: an undoable edit chosen in the context menu, for the window to push;
    ``split_requested()``: open Project > Split project…."""

    image_activated = Signal(int)
    edit_requested = Signal(object)
    split_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.model = ImageListModel(self)
        self.filter_bar = FilterBar()
        self.split_box = QComboBox()
        self.split_box.addItem("All splits", "")
        for split in (*SPLITS, "unassigned"):
            self.split_box.addItem(split.capitalize(), split)
        self.filter_bar.row.insertWidget(0, self.split_box)
        self.hint = QLabel("filtering…")
        self.hint.setStyleSheet(f"color: {theme.colours()['muted']}")
        self.hint.hide()
        self.filter_bar.row.addWidget(self.hint)
        self.view = ImageTable()
        self.view.setModel(self.model)
        self.view.setItemDelegate(ImageDelegate(self.view))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_context_menu)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.view)

        self._shown_before_reset: int | None = None
        self._reveal: int | None = None  # to select once the rows of a cleared filter arrive
        self._loading = False
        self.model.modelAboutToBeReset.connect(self._remember_current)
        self.model.modelReset.connect(self._restore_current)
        self.model.filtering.connect(self._show_filtering)
        self.model.filter_failed.connect(self._filter_failed)
        self.filter_bar.filter_changed.connect(self.apply_filter)
        self.split_box.currentIndexChanged.connect(self.apply_filter)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self._loading = True
        try:
            self.model.load(project, self.image_filter())
        finally:
            self._loading = False
        self.refresh_labels()

    def refresh_labels(self) -> None:
        self.filter_bar.set_labels([label.name for label in self.project.labels()] if self.project else [])

    def reload(self) -> None:
        """Read the labels and the images again (another connection changed them); the current image stays."""
        self.refresh_labels()
        self.model.reload()

    def apply_change(self, change: Change) -> None:
        """Update the rows a committed change of the images table touched."""
        if change.is_reload or not change.image_ids:
            self.model.reload()
        elif changes.IMAGES_ADDED in change.kinds:
            self.model.add_images(change.image_ids)
        else:
            columns = {COLUMNS_OF[k] for k in change.kinds if k in COLUMNS_OF} if change.kinds else {"status", "split"}
            self.model.refresh_images(change.image_ids, columns, keep=self.current_image_id())

    def image_filter(self) -> ImageFilter:
        """What the filter bar and the split box ask for."""
        return replace(self.filter_bar.image_filter(), split=self.split_box.currentData() or "")

    def apply_filter(self, *_: object, only: set[int] | None = None) -> None:
        """Apply the filter bar and split; ``only`` further narrows to some images (e.g. over the token budget).
        The rows change when the query has run (in a worker for a large project); the current image stays."""
        self.model.set_filter(self.image_filter(), only)

    def _remember_current(self) -> None:
        self._shown_before_reset = None if self._loading else self.current_image_id()

    def _restore_current(self) -> None:
        if self._reveal is not None:
            image_id, self._reveal = self._reveal, None
            if self.select_image(image_id):
                return
        if self._shown_before_reset is not None:
            self.select_image(self._shown_before_reset, emit=False)

    def _show_filtering(self, running: bool) -> None:
        self.hint.setText("filtering…")
        self.hint.setVisible(running)

    def _filter_failed(self, message: str) -> None:
        self.hint.setText(message)
        self.hint.show()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.image_activated.emit(current.data(ImageIdRole))

    def current_image_id(self) -> int | None:
        index = self.view.currentIndex()
        return index.data(ImageIdRole) if index.isValid() else None

    def selected_image_ids(self) -> list[int]:
        """The selected images in list order."""
        indexes = sorted(self.view.selectionModel().selectedIndexes(), key=lambda index: index.row())
        return [index.data(ImageIdRole) for index in indexes]

    def reveal(self, image_id: int) -> None:
        """Select ``image_id`` (which shows it); when a filter hides it, clear the filters first (in a large project
        it is selected once the list has been read again)."""
        if self.select_image(image_id) or self.project is None:
            return
        for widget in (self.split_box, self.filter_bar.status, self.filter_bar.label):
            widget.blockSignals(True)
            widget.setCurrentIndex(0)
            widget.blockSignals(False)
        for widget in (self.filter_bar.search, self.filter_bar.unannotated):
            widget.blockSignals(True)
        self.filter_bar.search.clear()
        self.filter_bar.unannotated.setChecked(False)
        for widget in (self.filter_bar.search, self.filter_bar.unannotated):
            widget.blockSignals(False)
        self._reveal = image_id
        self.apply_filter()

    # ------------------------------------------------------------ context menu
    def _show_context_menu(self, pos) -> None:
        menu = self.context_menu()
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def context_menu(self) -> QMenu | None:
        """Split, pin, status and box labels of the selected images, each one undoable edit."""
        ids = self.selected_image_ids()
        project = self.project
        if project is None or not ids:
            return None
        images = [
            image
            for start in range(0, len(ids), 500)
            for image in project.images_by_id(ids[start : start + 500]).values()
        ]
        editable = not project.read_only
        menu = QMenu(self)
        title = project.image(ids[0]).name if len(ids) == 1 else f"{count(len(ids), 'image')} selected"
        menu.addSection(title)

        split_menu = menu.addMenu(theme.icon("mdi6.call-split"), "Split")
        split_menu.setToolTipsVisible(True)
        group = QActionGroup(split_menu)
        splits = {image.split for image in images}
        for split in (*SPLITS, ""):
            action = QAction(split.capitalize() or "No split", split_menu, checkable=True)
            action.setChecked(splits == {split})
            action.setEnabled(editable)
            action.setToolTip(
                "Pinned: re-splitting the project keeps this choice"
                if split
                else "Left out of training and evaluation; pinned, so re-splitting keeps them out"
            )
            action.triggered.connect(
                lambda _checked=False, s=split: self._request(cmd.SetSplits.choose(project, ids, split=s, pinned=True))
            )
            group.addAction(action)
            split_menu.addAction(action)
        split_menu.addSeparator()
        pinned = all(image.split_pinned for image in images)
        pin = split_menu.addAction("Pinned: keep when re-splitting")
        pin.setCheckable(True)
        pin.setChecked(pinned)
        pin.setToolTip("Unpinned images are dealt out again by Split the project…")
        pin.setEnabled(editable)
        pin.triggered.connect(
            lambda _checked=False: self._request(cmd.SetSplits.choose(project, ids, pinned=not pinned))
        )
        split_menu.addSeparator()
        split_menu.addAction(
            theme.icon("mdi6.shuffle-variant"), "Split the project…", self.split_requested.emit
        ).setEnabled(editable)

        status_menu = menu.addMenu(theme.icon("mdi6.progress-check"), "Status")
        group = QActionGroup(status_menu)
        statuses = {image.status for image in images}
        for status in STATUSES:
            action = QAction(status.capitalize().replace("-", " "), status_menu, checkable=True)
            action.setChecked(statuses == {status})
            action.setEnabled(editable)
            action.triggered.connect(lambda _checked=False, s=status: self._request(cmd.SetStatuses(project, ids, s)))
            group.addAction(action)
            status_menu.addAction(action)

        boxes = [box for image_id in ids for box in project.boxes(image_id)]
        label_menu = menu.addMenu(theme.icon("mdi6.tag-outline"), f"Relabel every box ({len(boxes):,}) as")
        label_menu.setEnabled(editable and bool(boxes))
        for label in project.labels():
            label_menu.addAction(_dot(label.color), label.name).triggered.connect(
                lambda _checked=False, name=label.name: self._request(cmd.RelabelBoxes(project, boxes, name))
            )
        return menu

    def _request(self, command: cmd.StoreCommand) -> None:
        self.edit_requested.emit(command)

    def select_image(self, image_id: int, *, emit: bool = True) -> bool:
        row = self.model.row_of(image_id)
        if row is None:
            return False
        self.view.blockSignals(not emit)
        self.view.selectionModel().blockSignals(not emit)
        self.view.setCurrentIndex(self.model.index(row))
        self.view.selectionModel().blockSignals(False)
        self.view.blockSignals(False)
        self.view.scrollTo(self.model.index(row))
        return True

    def step(self, delta: int) -> None:
        """Move the current image by ``delta`` rows (D / A)."""
        row = self.view.currentIndex().row() if self.view.currentIndex().isValid() else -1
        target = max(0, min(self.model.rowCount() - 1, row + delta))
        if self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(target))

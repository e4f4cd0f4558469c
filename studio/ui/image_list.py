"""The image list: a virtualised Qt model over the project's images with lazy, disk-cached thumbnails, and its
context menu, which sets the split (pinned or not), the status and the box labels of the selected images."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QAction, QActionGroup, QColor, QFontMetrics, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from studio.dataset.model import SPLITS, STATUSES, Image
from studio.dataset.queries import filter_images
from studio.dataset.store import Project
from studio.dataset.thumbnails import THUMB_SIZE, ensure_thumbnail
from studio.humanize import count
from studio.ui import theme
from studio.ui.annotate import commands as cmd
from studio.ui.annotate.filter_bar import FilterBar

ImageIdRole = Qt.ItemDataRole.UserRole + 1
ImageRole = Qt.ItemDataRole.UserRole + 2
STATUS_COLOURS = {"todo": "#9aa0a6", "in-progress": "#f2a900", "done": "#34a853", "review": "#a142f4"}
SPLIT_COLOURS = {"train": "#3a7bd5", "val": "#e07b00", "test": "#8e44ad"}
ROW_HEIGHT = 56
BULK_REFRESH = 64  # more changed images than this are re-read in one query


class _ThumbSignals(QObject):
    ready = Signal(int, QImage)


class _ThumbJob(QRunnable):
    """Load (or make and cache) one thumbnail off the GUI thread."""

    def __init__(self, cache_dir: Path, image: Image, signals: _ThumbSignals) -> None:
        super().__init__()
        self.cache_dir, self.image, self.signals = cache_dir, image, signals

    def run(self) -> None:
        try:
            path = ensure_thumbnail(self.cache_dir, self.image.id, self.image.path)
            picture = QImage(str(path))
        except Exception:  # a missing or broken file shows the placeholder, never an error dialog
            picture = QImage()
        self.signals.ready.emit(self.image.id, picture)


class ImageListModel(QAbstractListModel):
    """Rows are images; thumbnails are requested only for rows that get painted."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: list[Image] = []
        self._rows: list[Image] = []
        self._row_of: dict[int, int] = {}
        self._thumbs: dict[int, QPixmap] = {}
        self._pending: set[int] = set()
        self._cache_dir: Path | None = None
        self._split = ""
        self._id_filter: set[int] | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _ThumbSignals()
        self._signals.ready.connect(self._thumbnail_ready)

    # ------------------------------------------------------------ content
    def load(self, project: Project | None) -> None:
        """Show the images of ``project`` (or nothing)."""
        self._pool.clear()
        self.beginResetModel()
        self._all = project.images() if project else []
        self._cache_dir = project.cache_dir if project else None
        self._thumbs.clear()
        self._pending.clear()
        self._apply_filter()
        self.endResetModel()

    def refresh_images(self, project: Project, image_ids: set[int]) -> None:
        """Re-read some images (status or split changed) without resetting the view."""
        if len(image_ids) > BULK_REFRESH:
            fresh = {image.id: image for image in project.images() if image.id in image_ids}
        else:
            fresh = {}
            for image_id in image_ids:
                try:
                    fresh[image_id] = project.image(image_id)
                except KeyError:
                    continue
        if not fresh:
            return
        self._all = [fresh.get(image.id, image) for image in self._all]
        rows = [self._row_of[image_id] for image_id in fresh if image_id in self._row_of]
        for row in rows:
            self._rows[row] = fresh[self._rows[row].id]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def set_filter(self, *, split: str = "", ids: set[int] | None = None) -> None:
        """Show one split ("unassigned" for none, "" for all) and, when given, only the images in ``ids``."""
        self.beginResetModel()
        self._split, self._id_filter = split, ids
        self._apply_filter()
        self.endResetModel()

    def _apply_filter(self) -> None:
        split = self._split
        self._rows = [
            image for image in self._all
            if (not split or image.split == split or (split == "unassigned" and not image.split))
            and (self._id_filter is None or image.id in self._id_filter)
        ]
        self._row_of = {image.id: row for row, image in enumerate(self._rows)}

    def total(self) -> int:
        return len(self._all)

    def image_at(self, row: int) -> Image | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, image_id: int) -> int | None:
        return self._row_of.get(image_id)

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        image = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return image.name
        if role == ImageIdRole:
            return image.id
        if role == ImageRole:
            return image
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(image)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{image.path}\n{image.width} × {image.height} px · {image.status} · {image.split or 'no split'}"
        return None

    def _thumbnail(self, image: Image) -> QPixmap | None:
        pixmap = self._thumbs.get(image.id)
        if pixmap is None and image.id not in self._pending and self._cache_dir is not None:
            self._pending.add(image.id)
            self._pool.start(_ThumbJob(self._cache_dir, image, self._signals))
        return pixmap

    def _thumbnail_ready(self, image_id: int, picture: QImage) -> None:
        self._pending.discard(image_id)
        self._thumbs[image_id] = QPixmap.fromImage(picture) if not picture.isNull() else QPixmap()
        row = self._row_of.get(image_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 10000) -> bool:
        return self._pool.waitForDone(msecs)


class ImageDelegate(QStyledItemDelegate):
    """A row: thumbnail, file name, size, status dot and split chip."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex):
        image: Image = index.data(ImageRole)
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
            scaled = pixmap.scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
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
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(ImageDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setMouseTracking(True)
        self.view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.view.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_context_menu)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.view)

        self.filter_bar.filter_changed.connect(self.apply_filter)
        self.split_box.currentIndexChanged.connect(self.apply_filter)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.model.load(project)
        self.refresh_labels()
        self.apply_filter()

    def refresh_labels(self) -> None:
        self.filter_bar.set_labels([label.name for label in self.project.labels()] if self.project else [])

    def apply_filter(self, *_: object, only: set[int] | None = None) -> None:
        """Apply the filter bar and split; ``only`` further narrows to some images (e.g. over the token budget)."""
        current = self.current_image_id()
        image_filter = self.filter_bar.image_filter()
        ids = None if image_filter.is_empty or self.project is None else set(filter_images(self.project, image_filter))
        if only is not None:
            ids = only if ids is None else ids & only
        self.model.set_filter(split=self.split_box.currentData(), ids=ids)
        if current is not None:
            self.select_image(current, emit=False)

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

    def reveal(self, image_id: int) -> bool:
        """Select ``image_id`` (which shows it); when a filter hides it, clear the filters first."""
        if self.select_image(image_id):
            return True
        if self.project is None:
            return False
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
        self.apply_filter()
        return self.select_image(image_id)

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
        images = [project.image(image_id) for image_id in ids]
        editable = not project.read_only
        menu = QMenu(self)
        title = images[0].name if len(images) == 1 else f"{count(len(images), 'image')} selected"
        menu.addSection(title)

        split_menu = menu.addMenu(theme.icon("mdi6.call-split"), "Split")
        split_menu.setToolTipsVisible(True)
        group = QActionGroup(split_menu)
        splits = {image.split for image in images}
        for split in (*SPLITS, ""):
            action = QAction(split.capitalize() or "No split", split_menu, checkable=True)
            action.setChecked(splits == {split})
            action.setEnabled(editable)
            action.setToolTip("Pinned: re-splitting the project keeps this choice" if split else
                              "Left out of training and evaluation; pinned, so re-splitting keeps them out")
            action.triggered.connect(lambda _checked=False, s=split: self._request(
                cmd.SetSplits.choose(project, ids, split=s, pinned=True)))
            group.addAction(action)
            split_menu.addAction(action)
        split_menu.addSeparator()
        pinned = all(image.split_pinned for image in images)
        pin = split_menu.addAction("Pinned: keep when re-splitting")
        pin.setCheckable(True)
        pin.setChecked(pinned)
        pin.setToolTip("Unpinned images are dealt out again by Split the project…")
        pin.setEnabled(editable)
        pin.triggered.connect(lambda _checked=False: self._request(
            cmd.SetSplits.choose(project, ids, pinned=not pinned)))
        split_menu.addSeparator()
        split_menu.addAction(theme.icon("mdi6.shuffle-variant"), "Split the project…",
                             self.split_requested.emit).setEnabled(editable)

        status_menu = menu.addMenu(theme.icon("mdi6.progress-check"), "Status")
        group = QActionGroup(status_menu)
        statuses = {image.status for image in images}
        for status in STATUSES:
            action = QAction(status.capitalize().replace("-", " "), status_menu, checkable=True)
            action.setChecked(statuses == {status})
            action.setEnabled(editable)
            action.triggered.connect(lambda _checked=False, s=status: self._request(
                cmd.SetStatuses(project, ids, s)))
            group.addAction(action)
            status_menu.addAction(action)

        boxes = [box for image_id in ids for box in project.boxes(image_id)]
        label_menu = menu.addMenu(theme.icon("mdi6.tag-outline"), f"Relabel every box ({len(boxes):,}) as")
        label_menu.setEnabled(editable and bool(boxes))
        for label in project.labels():
            label_menu.addAction(_dot(label.color), label.name).triggered.connect(
                lambda _checked=False, name=label.name: self._request(cmd.RelabelBoxes(project, boxes, name)))
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

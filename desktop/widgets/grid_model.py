"""The thumbnail grid's Qt item model: a flat list of items with lazily loaded thumbnails.

Rows are plain `GridEntry` dataclasses (browsing an archive or search results). Only rows the view
paints ask for their thumbnail; the JPEG is read from the index's thumbnail cache by a TaskRunner job
and the rows that asked are repainted when it arrives. An LRU of pixmaps bounded in bytes keeps memory
flat however long the curator browses (a 160 px thumbnail is 100 KiB as a pixmap: the former bound of
3000 of them let the window grow by 300 MB while scrolling a large archive); it holds several screens
full, so scrolling back is instant. Nothing is done per row when the rows are set, so showing 100k
items does not stall.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from desktop.widgets.match_reasons import shown_reason
from desktop.workers.tasks import TaskRunner
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

ICON_SIZE = 160
PIXMAP_BUDGET = 48 * 1024 * 1024  # bytes of thumbnail pixmaps kept (about 490 of 160x160 px)
EntryRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class GridEntry:
    """One thumbnail: an item (file or region), with a score and reasons when it is a search hit.

    `place`: a region's (n, of how many regions of its file). A search hit's `match` is "exact" (the
    same content as the query), "strong" or "possible" (below the relevance cut-off); `strength` is
    its score relative to the best shown (0..1), drawn as a bar."""

    item_id: int
    path: str
    hash: str | None
    region: tuple[int, int, int, int] | None = None
    score: float | None = None
    why: list[str] = field(default_factory=list)
    place: tuple[int, int] | None = None
    match: str | None = None
    strength: float | None = None

    @property
    def thumb_key(self) -> tuple[str, tuple[int, int, int, int] | None] | None:
        return None if self.hash is None else (self.hash, self.region)

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def name(self) -> str:
        """The file name, and which photo on it a region is."""
        name = self.path.rsplit("/", 1)[-1]
        if self.region is None:
            return name
        if self.place is None:
            return QCoreApplication.translate("GridModel", "{name} [region]").format(name=name)
        return QCoreApplication.translate("GridModel", "{name}, photo {number} of {count}").format(
            name=name, number=self.place[0], count=self.place[1]
        )


def _read_thumbnail(path: Path, size: int) -> QImage:
    """The thumbnail at `path` boxed to `size` (a null image when unreadable); run in the pool."""
    image = QImage(str(path))  # QImage (unlike QPixmap) may be built off the GUI thread
    return _boxed(image, size) if not image.isNull() else image


def _boxed(image: QImage, size: int) -> QImage:
    """`image` fitted into a transparent size x size square, centred, so captions line up in the grid."""
    if max(image.width(), image.height()) > size:
        image = image.scaled(
            size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    boxed = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    boxed.fill(Qt.GlobalColor.transparent)
    painter = QPainter(boxed)
    painter.drawImage((size - image.width()) // 2, (size - image.height()) // 2, image)
    painter.end()
    return boxed


def _placeholder(size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setPen(QColor(170, 170, 170))
    painter.setBrush(QColor(230, 230, 230))
    margin = size // 8
    painter.drawRoundedRect(margin, margin, size - 2 * margin, size - 2 * margin, 8, 8)
    painter.end()
    return pixmap


class GridModel(QAbstractListModel):
    """Items for a QListView in IconMode; thumbnails come from `set_thumbnails(cache)`."""

    thumbnail_loaded = Signal(int)  # row, for tests and repaint accounting

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[GridEntry] = []
        self._pixmaps: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._pixmap_bytes = 0
        self._waiting: dict[tuple, set[int]] = {}  # thumbnail being read -> rows to repaint
        self._missing: set[tuple] = set()
        self._cache: ThumbnailCache | None = None
        self._tasks = TaskRunner(self)
        self.icon_size = ICON_SIZE
        self._placeholder = _placeholder(ICON_SIZE)
        self._missing_icon = self._placeholder

    # -- content ----------------------------------------------------------------------------------

    def set_thumbnails(self, cache: ThumbnailCache | None) -> None:
        self._cache = cache
        self._pixmaps.clear()
        self._pixmap_bytes = 0
        self._waiting.clear()
        self._missing.clear()

    def set_icon_size(self, size: int) -> None:
        """Show thumbnails `size` pixels square: those loaded are read again at that size."""
        if size == self.icon_size:
            return
        self.icon_size = size
        self._placeholder = self._missing_icon = _placeholder(size)
        self.set_thumbnails(self._cache)
        if self._entries:
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1))

    def set_entries(self, entries: list[GridEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        for rows in self._waiting.values():  # reads under way repaint whatever rows ask again
            rows.clear()
        self._missing.clear()  # thumbnails may have been written since (indexing goes on)
        self.endResetModel()

    def entries(self) -> list[GridEntry]:
        return list(self._entries)

    def entry(self, row: int) -> GridEntry:
        return self._entries[row]

    def loaded_count(self) -> int:
        """Distinct thumbnails of the current rows that are loaded (a full pass over the rows)."""
        return len({e.thumb_key for e in self._entries if e.thumb_key is not None} & self._pixmaps.keys())

    # -- Qt model ---------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(entry, index.row())
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(entry)
        if role == EntryRole:
            return entry
        return None

    def _thumbnail(self, entry: GridEntry, row: int) -> QPixmap:
        key = entry.thumb_key
        if key is None or self._cache is None:
            return self._missing_icon
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key in self._missing:
            return self._missing_icon
        if key not in self._waiting:
            self._waiting[key] = set()
            path, size = self._cache.path(key[0], key[1]), self.icon_size
            self._tasks.submit(
                lambda: _read_thumbnail(path, size), lambda image: self._on_loaded(key, size, image)
            )
        self._waiting[key].add(row)
        return self._placeholder

    def _on_loaded(self, key: tuple, size: int, image: QImage) -> None:
        if size != self.icon_size:
            return  # read for the former size (the new size's read is asked for again)
        rows = self._waiting.pop(key, set())
        if image.isNull():
            self._missing.add(key)
        else:
            pixmap = QPixmap.fromImage(image)
            replaced = self._pixmaps.pop(key, None)  # a second read of it (sizes A -> B -> A)
            if replaced is not None:
                self._pixmap_bytes -= _bytes(replaced)
            self._pixmaps[key] = pixmap
            self._pixmap_bytes += _bytes(pixmap)
            while self._pixmap_bytes > PIXMAP_BUDGET and len(self._pixmaps) > 1:
                _, oldest = self._pixmaps.popitem(last=False)
                self._pixmap_bytes -= _bytes(oldest)
        for row in sorted(rows):
            if row >= len(self._entries) or self._entries[row].thumb_key != key:
                continue  # the rows changed meanwhile
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
            self.thumbnail_loaded.emit(row)


def _bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * max(pixmap.depth(), 8) // 8


MATCHES = {
    "exact": QT_TRANSLATE_NOOP("GridModel", "Exact copy of the query"),
    "strong": QT_TRANSLATE_NOOP("GridModel", "Strong match"),
    "possible": QT_TRANSLATE_NOOP("GridModel", "Possible match"),
}


def _tooltip(entry: GridEntry) -> str:
    lines = [entry.path]
    if entry.region:
        lines.append(entry.name)
    if entry.match is not None:
        match = QCoreApplication.translate("GridModel", MATCHES[entry.match])
        lines.append(
            QCoreApplication.translate("GridModel", "{match} (score {score:.3f})").format(
                match=match, score=entry.score
            )
        )
    lines += [shown_reason(reason) for reason in entry.why]
    return "\n".join(lines)

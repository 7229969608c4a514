"""The details panel follows the grid's current item: its details and dates read from the catalog and
its preview decoded, both in the pool; the archive's label names (which adding a label offers) are read
there once per opened archive, with the first item shown."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QImage, QImageReader

from desktop.controllers.session import ArchiveSession
from desktop.widgets.details_panel import PREVIEW_SIZE, DetailsPanel, ItemDates
from desktop.widgets.grid_model import EntryRole
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from models.label_names import HEADS
from store.services.browse import ItemDetails, item_details
from store.services.curation import CurationService
from store.storage.health import open_catalog
from store.storage.views import item_rows

logger = logging.getLogger(__name__)


def read_details(catalog_path: Path, item_id: int) -> tuple[ItemDetails | None, ItemDates | None]:
    """An item's details and its file's dates (None for an item that is not visible)."""
    with open_catalog(catalog_path) as catalog:
        details = item_details(catalog, item_id)
        row = item_rows(catalog, [item_id]).get(item_id) if details is not None else None
    return details, ItemDates(row.taken_at, row.mtime_ns / 1e9) if row is not None else None


def read_label_names(catalog_path: Path) -> dict[str, list[str]]:
    """The labels the archive uses, by head."""
    with open_catalog(catalog_path) as catalog:
        curation = CurationService(catalog)
        return {head: curation.label_names(head) for head in HEADS}


def read_preview(path: Path, size: int) -> QImage:
    """The image at `path` scaled to fit `size` (QImage, unlike QPixmap, may be made off the GUI thread)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # regions are in EXIF-transposed pixels
    image = reader.read()
    if image.isNull():
        logger.info("no preview for %s: %s", path, reader.errorString())
        return image
    return image.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class DetailsController(QObject):
    """Shows the grid's current item in `panel` once its details (then its preview) are read."""

    details_shown = Signal(int)  # item id
    job_failed = Signal(object)

    def __init__(self, session: ArchiveSession, grid: ThumbnailGrid, panel: DetailsPanel) -> None:
        super().__init__(session)
        self.session, self.grid, self.panel = session, grid, panel
        grid.selectionModel().currentChanged.connect(lambda current, _: self.show(current))
        self._labels_read = False  # the open archive's label names were read (or are being read)
        for signal in (session.opened, session.lost):
            signal.connect(self.clear)
        session.opened.connect(self._forget_label_names)

    def show(self, index: QModelIndex) -> None:
        entry = index.data(EntryRole) if index.isValid() else None
        path = self.session.catalog_path
        if entry is None or path is None:
            self.panel.show_item(None)
            return
        self.session.tasks.submit(lambda: read_details(path, entry.item_id), self._show, self.job_failed.emit)

    def reload_current(self, item_ids: object = None) -> None:
        """Read the current item again (when `item_ids` is given, only if it is among them)."""
        current = self.grid.current_entry()
        if current is not None and (item_ids is None or current.item_id in item_ids):
            self.show(self.grid.currentIndex())

    def clear(self) -> None:
        self.panel.show_item(None)  # saves a description still being edited

    def _forget_label_names(self) -> None:
        self._labels_read = False
        self.panel.set_archive_labels({})

    def _show_label_names(self, catalog_path: Path, names: dict[str, list[str]]) -> None:
        if catalog_path == self.session.catalog_path:  # not read for an archive closed meanwhile
            self.panel.set_archive_labels(names)

    def _show(self, read: tuple[ItemDetails | None, ItemDates | None]) -> None:
        details, dates = read
        current = self.grid.current_entry()
        if details is None or current is None or current.item_id != details.item_id:
            return
        self.panel.show_item(details, dates)
        if not self._labels_read:  # an item was read: the catalog is there now
            self._labels_read = True
            path = self.session.catalog_path
            self.session.tasks.submit(lambda: read_label_names(path),
                                      lambda names: self._show_label_names(path, names),
                                      self.job_failed.emit)  # fmt: skip
        full, item_id = self.session.full_path(details.path), details.item_id
        self.session.tasks.submit(
            lambda: read_preview(full, PREVIEW_SIZE),
            lambda image: self.panel.show_preview(item_id, image),
            self.job_failed.emit,
        )
        self.details_shown.emit(item_id)

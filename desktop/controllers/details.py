"""The details panel follows the grid's current item: its details read from the catalog and its preview
decoded, both in the pool."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QImage, QImageReader

from desktop.controllers.session import ArchiveSession
from desktop.widgets.details_panel import PREVIEW_SIZE, DetailsPanel
from desktop.widgets.grid_model import EntryRole
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from store.services.browse import ItemDetails, item_details
from store.storage.health import open_catalog

logger = logging.getLogger(__name__)


def read_details(catalog_path: Path, item_id: int) -> ItemDetails | None:
    with open_catalog(catalog_path) as catalog:
        return item_details(catalog, item_id)


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
        for signal in (session.opened, session.lost):
            signal.connect(self.clear)

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

    def _show(self, details: ItemDetails | None) -> None:
        current = self.grid.current_entry()
        if details is None or current is None or current.item_id != details.item_id:
            return
        self.panel.show_item(details)
        full, item_id = self.session.full_path(details.path), details.item_id
        self.session.tasks.submit(
            lambda: read_preview(full, PREVIEW_SIZE),
            lambda image: self.panel.show_preview(item_id, image),
            self.job_failed.emit,
        )
        self.details_shown.emit(item_id)

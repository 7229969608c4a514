"""Browsing: the list of indexed items in the grid (kept in place while indexing refreshes it), in the
order and date range the browse controls choose, and the folder and category facets that restrict it."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Signal
from PySide6.QtWidgets import QLabel

from desktop.controllers.session import ArchiveSession
from desktop.widgets.browse_controls import BrowseControls
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import GridEntry, GridModel
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from store.services.browse import visible_items
from store.services.facets import Facets, read_facets
from store.services.search import SearchFilter
from store.storage.health import open_catalog
from store.storage.thumbnails import ThumbnailCache

REFRESH_FIRST_S = 2.0
REFRESH_MAX_S = 30.0


def read_browse(catalog_path: Path, filters: SearchFilter, order: str = "path") -> list[GridEntry]:
    with open_catalog(catalog_path) as catalog:
        items = visible_items(catalog, filters=filters, order=order)
    return [GridEntry(i.item_id, i.path, i.hash, i.region, place=i.place) for i in items]


def read_facets_of(catalog_path: Path, folder: str | None, category: str | None) -> Facets | None:
    if not catalog_path.is_file():  # nothing indexed yet (open_catalog would raise CatalogError)
        return None
    with open_catalog(catalog_path) as catalog:
        return read_facets(catalog, folder, category)


class BrowseController(QObject):
    """Reads the browse list and the facet counts in the pool and shows them, if still wanted."""

    items_loaded = Signal(int)  # browse list shown: number of items
    facets_shown = Signal(object)  # Facets, or None
    job_failed = Signal(object)  # an exception of a catalog read
    check_wanted = Signal()  # the catalog was there and is not now
    current_gone = Signal()  # the item shown in the details is not in the reloaded list
    shown = Signal()  # the grid's heading or contents changed: panels follow

    def __init__(
        self, session: ArchiveSession, grid: ThumbnailGrid, facets: FacetsPanel, heading: QLabel,
        controls: BrowseControls | None = None,
    ):  # fmt: skip
        super().__init__(session)
        self.session, self.grid, self.facets, self.heading = session, grid, facets, heading
        self.controls = controls or BrowseControls()
        self.model: GridModel = grid.model()
        self._loading = False
        self._last = 0.0
        self._interval = REFRESH_FIRST_S
        session.opened.connect(self._opened)
        session.lost.connect(self.clear)
        session.back.connect(self._back)

    def _opened(self) -> None:
        self.model.set_thumbnails(ThumbnailCache(self.session.location.thumbnails_dir))
        self.model.set_entries([])
        self.facets.set_restriction(None, None)
        self.facets.show_facets(None)

    def _back(self) -> None:
        self.model.set_thumbnails(ThumbnailCache(self.session.location.thumbnails_dir))  # none were readable
        self.load()
        self.load_facets()

    def load(self) -> None:
        """Reload the list of indexed items (in the pool) when browsing."""
        session = self.session
        path = session.catalog_path
        if path is None or not path.is_file():
            if session.mode == "browse":
                self.model.set_entries([])  # no list of what is no longer there
            if session.catalog_seen:
                self.check_wanted.emit()  # it was there: deleted, or the archive went away
            self.heading.setText(self.tr("Nothing indexed yet"))
            self.items_loaded.emit(0)
            return
        filters, order = self._choice()
        self._loading = True
        self._last = time.monotonic()

        def failed(exc: Exception) -> None:
            self._loading = False
            self.job_failed.emit(exc)

        session.tasks.submit(
            lambda: read_browse(path, filters, order),
            lambda entries: self._show(path, (filters, order), entries),
            failed,
        )

    def _choice(self) -> tuple[SearchFilter, str]:
        """What to browse: the facets' folder and category and the date range; in which order."""
        return self.controls.restrict(self.facets.filters()), self.controls.order

    def _show(self, catalog_path: Path, choice: tuple[SearchFilter, str], entries: list[GridEntry]) -> None:
        self._loading = False
        session = self.session
        session.catalog_seen = session.catalog_seen or catalog_path == session.catalog_path
        wanted = session.mode == "browse" and choice == self._choice()
        if catalog_path != session.catalog_path or not wanted:
            return
        if session.problem is not None:  # read before the index went away: it is not shown now
            return
        current = self.grid.current_entry()
        selected = {e.item_id for e in self.grid.selected_entries()}
        scroll = self.grid.verticalScrollBar().value()
        self.model.set_entries(entries)
        if current is not None:  # a refresh while indexing keeps the curator's place and selection
            rows = {e.item_id: i for i, e in enumerate(entries)}
            if current.item_id in rows:
                self.grid.setCurrentIndex(self.model.index(rows[current.item_id]))
            else:
                self.current_gone.emit()  # e.g. a facet left it out
            keep = QItemSelection()
            for item_id in selected & rows.keys():
                index = self.model.index(rows[item_id])
                keep.select(index, index)
            self.grid.selectionModel().select(keep, QItemSelectionModel.SelectionFlag.Select)
            self.grid.verticalScrollBar().setValue(scroll)
        self.heading.setText(
            self.tr("Indexed images and regions: {count}").format(count=len(entries))
            + self.facets.restriction_note()
            + self.controls.restriction_note()
        )
        self.shown.emit()
        self.items_loaded.emit(len(entries))

    def load_facets(self) -> None:
        """Recount the folder and category facets for the current choice (in the pool)."""
        session = self.session
        path = session.catalog_path
        if path is None:
            return
        name, filters = session.archive.name, self.facets.filters()
        session.tasks.submit(
            lambda: read_facets_of(path, filters.folder, filters.category),
            lambda facets: self._show_facets(path, filters, name, facets),
            self.job_failed.emit,
        )

    def _show_facets(
        self, catalog_path: Path, filters: SearchFilter, name: str, facets: Facets | None
    ) -> None:
        session = self.session
        wanted = filters == self.facets.filters() and session.problem is None
        if catalog_path != session.catalog_path or not wanted:
            return  # another archive or choice (its counts are on their way), or the index went away
        self.facets.show_facets(facets, name)
        self.facets_shown.emit(facets)

    def refresh_due(self) -> bool:
        """Whether the list should be reloaded now while the indexer adds items: at growing intervals
        (a reload costs more as the archive grows), when browsing and no reload is under way."""
        due = time.monotonic() - self._last > self._interval
        if self.session.mode != "browse" or self._loading or not due:
            return False
        self._interval = min(2 * self._interval, REFRESH_MAX_S)
        return True

    def restart_refreshes(self) -> None:
        """A new indexing run: refresh soon again."""
        self._interval = REFRESH_FIRST_S

    def reload(self) -> None:
        """The list (when browsing) and the facets catch up with the catalog."""
        if self.session.mode == "browse":
            self.load()
        self.load_facets()

    def clear(self) -> None:
        """Show nothing that was read from the index (it went away, or another archive opens)."""
        self.model.set_entries([])
        self.facets.show_facets(None)
        self.heading.clear()

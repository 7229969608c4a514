"""What the curator can do with thumbnails (right-click on the grid or on the details preview): find
similar, open, show in the file manager, copy the path, export, re-caption; and the duplicates window."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from desktop.controllers.session import ArchiveSession
from desktop.dialogs.duplicates_window import DuplicatesWindow
from desktop.widgets.details_panel import DetailsPanel
from desktop.widgets.grid_model import EntryRole, GridEntry
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from desktop.workers.item_jobs import ItemJobs, export_target
from models.bundle import has_bundle
from store.ingestion.recaption import RecaptionResult

logger = logging.getLogger(__name__)


class ItemActions(QObject):
    """The thumbnail menu and the jobs it starts; searches it asks for go out as signals."""

    find_similar = Signal(int)  # item id
    find_similar_in_folder = Signal(object)  # GridEntry: restricted to its folder
    recaptioned = Signal(object)  # the ids of the items with new captions

    def __init__(self, session: ArchiveSession, grid: ThumbnailGrid, details: DetailsPanel,
                 window_state: QSettings, parent: QWidget) -> None:  # fmt: skip
        super().__init__(session)
        self.session, self.grid, self.details = session, grid, details
        self.window_state, self.parent_widget = window_state, parent
        self.duplicates_window: DuplicatesWindow | None = None
        self.jobs = ItemJobs(session.long_tasks, session.models_dir, self)
        self.jobs.exported.connect(self._on_exported)
        self.jobs.recaptioned.connect(self._on_recaptioned)
        self.jobs.failed.connect(self._job_failed)
        grid.customContextMenuRequested.connect(self._show_context_menu)
        grid.activated.connect(lambda index: self.open_entry(index.data(EntryRole)))
        details.preview.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        details.preview.customContextMenuRequested.connect(self._show_preview_menu)
        session.opened.connect(self.close_duplicates)  # it showed another archive

    def has_caption_bundle(self) -> bool:
        return has_bundle(self.session.models_dir, "git")

    def chosen_entries(self, entry: GridEntry) -> list[GridEntry]:
        """The selected thumbnails when `entry` (the one right-clicked) is among them, else `entry`."""
        entries = self.grid.selected_entries()
        return entries if any(e.item_id == entry.item_id for e in entries) else [entry]

    def context_menu(self, entry: GridEntry) -> QMenu:
        """The right-click menu for a thumbnail (built separately so tests can trigger its actions)."""
        chosen = self.chosen_entries(entry)
        archive = self.session.archive
        menu = QMenu(self.parent_widget)
        menu.setToolTipsVisible(True)
        menu.addAction(self.tr("Find similar"), lambda: self.find_similar.emit(entry.item_id))
        in_folder = menu.addAction(
            self.tr("Find similar in this folder"), lambda: self.find_similar_in_folder.emit(entry)
        )
        folder = entry.path.rpartition("/")[0] or (archive.name if archive else "")
        in_folder.setToolTip(self.tr("Only images in {folder} and its subfolders").format(folder=folder))
        menu.addSeparator()
        menu.addAction(self.tr("Open"), lambda: self.open_entry(entry))
        menu.addAction(self.tr("Show in file manager"), lambda: self.show_in_file_manager(entry))
        menu.addAction(
            self.tr("Copy path"),
            lambda: QGuiApplication.clipboard().setText(str(self.session.full_path(entry.path))),
        )
        menu.addSeparator()
        export = menu.addAction(self.tr("Export selection…"), lambda: self.export_selection(chosen))
        export.setToolTip(
            self.tr("Save the selected items ({count}) as JSON or CSV").format(count=len(chosen))
        )
        recaption = menu.addAction(self.tr("Re-caption"), lambda: self.recaption(chosen))
        if self.has_caption_bundle():
            recaption.setToolTip(
                self.tr("Generate the captions of the selected items ({count}) again").format(
                    count=len(chosen)
                )
            )
        else:
            recaption.setEnabled(False)
            recaption.setToolTip(
                self.tr("No caption model is installed: install a GIT model bundle (File › Install model "
                        "bundle) to generate captions")
            )  # fmt: skip
        return menu

    def _show_context_menu(self, pos) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid():
            self.context_menu(index.data(EntryRole)).exec(self.grid.viewport().mapToGlobal(pos))

    def preview_menu(self) -> QMenu | None:
        """The thumbnail menu for the item the details panel shows (right-click on its preview)."""
        entry = self.grid.current_entry()
        shown = self.details.details
        if entry is None or shown is None or entry.item_id != shown.item_id:
            return None
        return self.context_menu(entry)

    def _show_preview_menu(self, pos) -> None:
        menu = self.preview_menu()
        if menu is not None:
            menu.exec(self.details.preview.mapToGlobal(pos))

    def open_entry(self, entry: GridEntry | None) -> None:
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.session.full_path(entry.path))))

    def show_in_file_manager(self, entry: GridEntry) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.session.full_path(entry.path).parent)))

    def export_selection(self, entries: list[GridEntry]) -> None:
        """Ask where to save `entries` (JSON or CSV, by the dialog's file type) and export them."""
        location = self.session.location
        if location is None or not entries:
            return
        folder = self.window_state.value("export_dir") or str(Path.home())
        json_filter, csv_filter = self.tr("JSON files (*.json)"), self.tr("CSV files (*.csv)")
        suggested = Path(folder) / f"{location.archive.name}-export.json"
        name, chosen = QFileDialog.getSaveFileName(
            self.parent_widget, self.tr("Export selection"), str(suggested), f"{json_filter};;{csv_filter}"
        )
        if not name:
            return
        out, fmt = export_target(Path(name), chosen == csv_filter)
        self.window_state.setValue("export_dir", str(out.parent))
        self.session.say(self.tr("Exporting {count} items to {path}…").format(count=len(entries), path=out))
        self.jobs.export(location, [e.item_id for e in entries], out, fmt)

    def _on_exported(self, out: Path, count: int) -> None:
        self.session.say(self.tr("Exported {count} items to {path}").format(count=count, path=out), 15_000)

    def recaption(self, entries: list[GridEntry]) -> None:
        """Generate the captions of `entries` again (long-job pool); the details follow."""
        if self.session.location is None or not entries:
            return
        self.session.say(self.tr("Generating captions for {count} items…").format(count=len(entries)))
        self.jobs.recaption(self.session.location, [e.item_id for e in entries], self.session.settings_copy())

    def _on_recaptioned(self, result: RecaptionResult) -> None:
        message = self.tr("New captions: {done}").format(done=len(result.captioned))
        if result.failed:
            message += self.tr("; failed: {failed} ({why})").format(
                failed=len(result.failed), why=result.failed[0][1]
            )
        self.session.say(message, 15_000)
        self.recaptioned.emit(result.captioned)

    def _job_failed(self, what: str, exc: Exception) -> None:
        logger.error("%s failed: %s", what, exc)
        QMessageBox.warning(
            self.parent_widget,
            self.tr("Not done"),
            self.tr("{what} failed: {error}").format(what=what, error=exc),
        )

    def open_duplicates(self) -> DuplicatesWindow | None:
        """Show the duplicates window for the open archive, looking for duplicates afresh."""
        if self.session.location is None:
            return None
        if self.duplicates_window is None:
            self.duplicates_window = DuplicatesWindow(
                self.session.long_tasks, self.session.writes, self.parent_widget
            )
        self.duplicates_window.search(self.session.location)
        self.duplicates_window.show()
        self.duplicates_window.raise_()
        self.duplicates_window.activateWindow()
        return self.duplicates_window

    def close_duplicates(self) -> None:
        """The window closes (or another archive opens): the duplicates window goes with it."""
        if self.duplicates_window is not None:
            self.duplicates_window.close()

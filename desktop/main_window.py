"""The curator's main window: search field, facets, thumbnail grid, details panel, indexing status.

The window builds the widgets and assembles the controllers (desktop/controllers/: browse, search,
indexing, details, curation, item actions, models, archive health); they share the open archive
(`ArchiveSession`) and talk only through the signals connected here. All slow work runs on TaskRunners
(desktop/workers/); the window only reacts to what they send back. It opens archives, applies settings,
takes dropped and pasted images, answers requests from later launches and remembers its layout.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from desktop.controllers.browse import BrowseController
from desktop.controllers.curation import CurationController
from desktop.controllers.details import DetailsController
from desktop.controllers.health import HealthController
from desktop.controllers.indexing import IndexingController
from desktop.controllers.item_actions import ItemActions
from desktop.controllers.models import ModelsController
from desktop.controllers.query_images import QueryImages
from desktop.controllers.search import SearchController
from desktop.controllers.session import ArchiveSession
from desktop.dialogs.settings_dialog import SettingsDialog
from desktop.widgets.grid_model import GridEntry
from desktop.widgets.index_status import IndexStatus
from desktop.widgets.main_view import PARTS, MainView
from desktop.widgets.recent_menu import RecentMenu
from models.errors import ImagoError
from store import config
from store.config import Settings
from store.storage.archive import locate_index

logger = logging.getLogger(__name__)

MAX_RECENT = 8
CLIP_NOTICE_KEY = "notices/no-clip-dismissed"


def load_settings() -> Settings:
    """The user's settings, or the defaults when the file is unreadable (which is logged)."""
    try:
        return Settings.load()
    except ImagoError as exc:
        logger.warning("using default settings: %s", exc)
        return Settings()


class MainWindow(QMainWindow):
    """The main window. Its signals (those of its controllers) report finished background work."""

    def __init__(
        self, models_dir: Path, archive: Path | None = None, settings: Settings | None = None
    ) -> None:
        super().__init__()
        self.models_dir = Path(models_dir)
        self.settings = settings or load_settings()
        self.session = ArchiveSession(self.models_dir, self.settings, self)
        self.session.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.tasks, self.writes, self.pending = self.session.tasks, self.session.writes, self.session.pending
        self.window_state = QSettings(str(config.user_data_dir() / "window.ini"), QSettings.Format.IniFormat)
        self.query_images = QueryImages(config.user_data_dir() / "pasted", self)
        self.setWindowTitle("Imago")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_controllers()
        self._connect_controllers()
        self._build_menus()
        for key, restore in (("geometry", self.restoreGeometry), ("panes", self.splitter.restoreState)):
            if self.window_state.value(key) is not None:  # Qt moves and shrinks it onto a screen
                restore(self.window_state.value(key))
        self._update_panels()
        if archive is not None:
            self.open_archive(archive)

    # -- construction -----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        view = MainView(self.models_dir, self)
        self.setCentralWidget(view)
        for name in PARTS:
            setattr(self, name, getattr(view, name))
        self.models_text = self.models_panel.text
        panel = self.problem_panel
        self.problem_text, self.kept_label = panel.text, panel.kept_label
        self.rebuild_button = panel.rebuild_button
        self.search_field.returnPressed.connect(self.run_text_search)
        self.search_field.installEventFilter(self)
        self.show_all_button.clicked.connect(self.show_browse)
        self.browse_controls.remember_in(self.window_state)
        self.status = IndexStatus(self.statusBar())
        self.index_label, self.progress_bar = self.status.label, self.status.progress_bar
        self.errors_label, self.pause_button = self.status.errors_label, self.status.pause_button
        self.read_only_label = self.status.read_only_label

    def _build_controllers(self) -> None:
        session = self.session
        self.health = HealthController(session, self.problem_panel, self.status)
        grid, facets, heading, controls = self.grid, self.facets, self.results_label, self.browse_controls
        self.browse = BrowseController(session, grid, facets, heading, controls)
        self.search = SearchController(session, grid, facets, heading, self.query_chip, controls)
        self.indexing = IndexingController(session, self.status, self)
        self.details_view = DetailsController(session, self.grid, self.details)
        self.curation = CurationController(session, self.details, self.grid_model, self)
        self.actions = ItemActions(session, self.grid, self.details, self.window_state, self)
        self.models = ModelsController(session, self)
        self.item_jobs = self.actions.jobs
        # What the window reports (tests and the benchmarks wait on these).
        self.index_finished, self.failures_shown = self.indexing.index_finished, self.indexing.failures_shown
        self.items_loaded, self.facets_shown = self.browse.items_loaded, self.browse.facets_shown
        self.results_shown, self.details_shown = self.search.results_shown, self.details_view.details_shown
        curation = self.curation
        self.description_saved, self.labels_saved = curation.description_saved, curation.labels_saved
        self.edit_kept, self.kept_edits_written = curation.edit_kept, curation.kept_edits_written
        self.archive_state_changed = self.health.state_changed

    def _connect_controllers(self) -> None:
        health, browse, search, indexing = self.health, self.browse, self.search, self.indexing
        curation, details, actions = self.curation, self.details_view, self.actions
        for controller in (browse, indexing, details):
            controller.job_failed.connect(health.job_failed)
        for controller in (browse, search, indexing, curation):
            controller.check_wanted.connect(health.check)
        for signal in (browse.shown, search.shown, indexing.shown, health.state_changed):
            signal.connect(self._update_panels)
        health.all_well.connect(curation.retry)
        for signal in (health.read_only_found, curation.read_only_found):
            signal.connect(lambda: self._set_read_only(True))
        self.problem_panel.other_button.clicked.connect(self._choose_archive)
        self.facets.changed.connect(self._on_facets_changed)
        self.browse_controls.changed.connect(self._reload_shown)  # order or dates: the facet counts stay
        self.query_chip.cleared.connect(self.show_browse)
        self.session.opened.connect(self.search_field.clear)  # another archive: the last search goes
        search.similar_requested.connect(self.search_field.clear)  # the chip shows that query
        browse.current_gone.connect(details.clear)
        indexing.started.connect(browse.restart_refreshes)
        indexing.growing.connect(lambda: browse.refresh_due() and self._refresh_after_index())
        indexing.committed.connect(self._refresh_after_index)
        indexing.run_ended.connect(curation.write_kept_edits)
        curation.labels_changed.connect(browse.load_facets)
        curation.kept_count.connect(self.problem_panel.show_kept)
        curation.written_back.connect(lambda: (self.session.mode == "browse" and browse.load(),
                                               details.reload_current()))  # fmt: skip
        actions.find_similar.connect(search.find_similar_item)
        actions.find_similar_in_folder.connect(self.find_similar_in_folder)
        actions.recaptioned.connect(details.reload_current)
        self.more_button.clicked.connect(search.show_more)
        self.models_panel.install_requested.connect(self.models.show_install)
        self.welcome.open_requested.connect(self._choose_archive)
        self.welcome.recent_chosen.connect(self.open_archive)
        self.models_panel.dismissed.connect(self._dismiss_clip_notice)
        self.models.installed.connect(self._on_installed)
        self.query_images.chosen.connect(search.find_similar_file)
        self.query_images.unstorable.connect(lambda folder: self.statusBar().showMessage(
            self.tr("Cannot store the pasted image in {path}").format(path=folder), 10_000))  # fmt: skip

    def _build_menus(self) -> None:
        def action(menu, text: str, slot, shortcut=None) -> QAction:
            made = QAction(text, self, shortcut=shortcut) if shortcut is not None else QAction(text, self)
            made.triggered.connect(slot)
            if menu is not None:
                menu.addAction(made)
            return made

        keys = QKeySequence.StandardKey
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        action(file_menu, self.tr("&Open archive…"), self._choose_archive, keys.Open)
        self.recent_menu = RecentMenu(self.tr("Open &recent"), self)
        file_menu.addMenu(self.recent_menu)
        self._show_recent(self.settings.recent_archives)
        self.recent_menu.chosen.connect(self.open_archive)
        file_menu.addSeparator()
        action(file_menu, self.tr("Install model bundle from &folder…"), self.models.choose_folder)
        action(file_menu, self.tr("Install model bundle from &zip…"), self.models.choose_zip)
        file_menu.addSeparator()
        action(file_menu, self.tr("&Settings…"), self.open_settings, keys.Preferences)
        file_menu.addSeparator()
        action(file_menu, self.tr("&Quit"), self.close, keys.Quit)
        field = self.search_field
        find = action(None, self.tr("Find"), lambda: (field.setFocus(), field.selectAll()), keys.Find)
        self.addAction(find)
        paste = action(self.menuBar().addMenu(self.tr("&Edit")), self.tr("Find similar to the &pasted image"),
                       self.paste_image, keys.Paste)  # fmt: skip
        paste.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.grid.addAction(paste)  # Ctrl+V on the grid; the search field handles its own (eventFilter)
        tools_menu = self.menuBar().addMenu(self.tr("&Tools"))
        self.duplicates_action = action(tools_menu, self.tr("Find &duplicates…"), self.open_duplicates)
        self.failures_action = action(tools_menu, self.tr("&Files that could not be indexed…"),
                                      self.indexing.show_failures)  # fmt: skip
        self.status.failures_clicked.connect(self.indexing.show_failures)

    # -- state (the session's, as tests and tools read it) ---------------------------------------

    archive = property(lambda win: win.session.archive, lambda win, to: setattr(win.session, "archive", to))
    location = property(lambda self: self.session.location)
    catalog_path = property(lambda self: self.session.catalog_path)
    problem = property(lambda self: self.session.problem)
    mode = property(lambda self: self.session.mode)
    read_only = property(lambda self: self.session.read_only)
    index_worker = property(lambda self: self.indexing.worker)
    last_index = property(lambda self: self.indexing.last)
    last_request = property(lambda self: self.search.last_request)
    failures_dialog = property(lambda self: self.indexing.failures_dialog)
    duplicates_window = property(lambda self: self.actions.duplicates_window)

    # Controller operations offered as the window's own (app.py, tests and tools call them).
    save_description = property(lambda self: self.curation.save_description)
    context_menu = property(lambda self: self.actions.context_menu)
    chosen_entries = property(lambda self: self.actions.chosen_entries)
    preview_menu = property(lambda self: self.actions.preview_menu)
    open_duplicates = property(lambda self: self.actions.open_duplicates)
    show_failures = property(lambda self: self.indexing.show_failures)
    find_similar_item = property(lambda self: self.search.find_similar_item)
    find_similar_file = property(lambda self: self.search.find_similar_file)
    install_bundle_from = property(lambda self: self.models.install_from)
    load_browse = property(lambda self: self.browse.load)

    def _update_panels(self) -> None:
        session, usable = self.session, self.session.usable
        dismissed = self.window_state.value(CLIP_NOTICE_KEY, False, type=bool)
        self.models_panel.setVisible(not dismissed and not self.models.has_clip_bundle())
        self.search_field.setEnabled(usable)
        self.welcome.setVisible(session.archive is None)
        self.problem_panel.setVisible(session.problem is not None)
        for widget in (self.duplicates_action, self.failures_action):
            widget.setEnabled(usable)
        self.splitter.setVisible(usable)  # scanning, thumbnails and the built-in model need no bundle
        self.results_label.setVisible(usable)
        self.show_all_button.setVisible(usable and session.mode == "results")
        self.more_button.setVisible(usable and self.search.more_available)

    def _dismiss_clip_notice(self) -> None:
        self.window_state.setValue(CLIP_NOTICE_KEY, True)
        self.models_panel.hide()

    def _set_read_only(self, read_only: bool) -> None:
        """Say that the open archive's index is read-only (or not) and let no edit be made in it."""
        self.session.read_only = read_only
        self.details.set_read_only(read_only, self.status.set_read_only(read_only))

    # -- archives ---------------------------------------------------------------------------------

    def _choose_archive(self) -> None:
        start = self.settings.recent_archives[0] if self.settings.recent_archives else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open archive folder"), start)
        if folder:
            self.open_archive(Path(folder))

    def _show_recent(self, recent: list[str]) -> None:
        self.recent_menu.show_paths(recent)
        self.welcome.show_recent(recent)

    def open_archive(self, archive: Path) -> bool:
        """Show `archive`'s indexed items and start indexing it (when a CLIP bundle is installed)."""
        archive = Path(archive).expanduser()
        if not archive.is_dir():
            self.statusBar().showMessage(self.tr("Not a folder: {path}").format(path=archive), 10_000)
            return False
        self.indexing.stop()
        archive = archive.resolve()
        try:
            location = locate_index(archive, create=False)
        except ImagoError as exc:
            self.statusBar().showMessage(str(exc), 10_000)
            return False
        self.session.open(archive, location)  # the controllers let go of the last one
        self._set_read_only(location.read_only)
        self.setWindowTitle(f"Imago — {archive.name}")
        self._show_recent(self.session.remember(archive, MAX_RECENT))
        if location.fallback:
            self.statusBar().showMessage(
                self.tr("The archive is read-only; its index is kept in {path}").format(path=location.path),
                10_000,
            )
        self.browse.load()
        self.browse.load_facets()
        self.health.load_catalog_info()
        self.indexing.start()
        self.curation.write_kept_edits()  # edits kept while it was unavailable (perhaps in an earlier run)
        self.health.timer.start()
        self._update_panels()
        return True

    def _refresh_after_index(self) -> None:
        """Searches, the browse list and the facets catch up with what the indexer committed."""
        self.search.worker.index_changed()
        self.browse.reload()

    def _on_installed(self, _bundle) -> None:
        self.search.worker.models_changed(self.session.settings_copy())
        self._update_panels()
        if self.session.archive is not None:
            self.indexing.restart()  # a running (watching) indexer still has the old models

    # -- search -----------------------------------------------------------------------------------

    def run_text_search(self) -> None:
        text = self.search_field.text().strip()
        if text:
            self.search.search_text(text)
        else:
            self.show_browse()

    def show_browse(self) -> None:
        self.search.reset()
        self.search_field.clear()
        self.browse.load()
        self._update_panels()

    def find_similar_in_folder(self, entry: GridEntry) -> None:
        """Find similar restricted to the item's folder (and its subfolders), shown as the folder facet."""
        self.facets.set_restriction(entry.path.rpartition("/")[0], self.facets.category)
        self.search.find_similar_item(entry.item_id)
        self.browse.load_facets()

    def _on_facets_changed(self) -> None:
        """The curator picked a folder or category: repeat the search (or reload the browse list), and
        recount the facets within the new choice."""
        self._reload_shown()
        self.browse.load_facets()

    def _reload_shown(self) -> None:
        """Repeat the search shown, or reload the browse list, with the current choices."""
        if self.search.active:
            self.search.repeat()
        else:
            self.browse.load()

    # -- drops and pastes (image files the scanner would index; see QueryImages) ---------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.query_images.accept_drag(event)

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event: QDropEvent) -> None:
        self.query_images.drop(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        handled = self.query_images.filter(self.search_field, watched, event)
        return super().eventFilter(watched, event) if handled is None else handled

    def paste_image(self) -> bool:
        return self.query_images.paste()

    # -- settings ---------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.tasks, self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings()))
        dialog.open()
        return dialog

    def apply_settings(self, new: Settings) -> None:
        """Save `new` as the window's settings; workers get copies of them when they (re)load models. A
        running indexer restarts when a setting it uses changed."""
        fields = dataclasses.fields(Settings)
        changed = {f.name for f in fields if getattr(self.settings, f.name) != getattr(new, f.name)}
        for item in fields:
            setattr(self.settings, item.name, getattr(new, item.name))
        try:
            self.settings.save()
        except (ImagoError, OSError) as exc:
            QMessageBox.warning(self, self.tr("Settings not saved"), str(exc))
            return
        self.search.apply_settings(changed)
        self.indexing.apply_settings(changed)

    # -- requests from other launches, closing ----------------------------------------------------

    def handle_request(self, request: dict) -> None:
        """A later `imago [ARCHIVE] [--find-similar FILE]` forwarded through the single-instance server."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
        archive = request.get("archive")
        if archive and (self.archive is None or Path(archive).resolve() != self.archive):
            self.open_archive(Path(archive))
        similar = request.get("find_similar")
        if similar:
            self.search.find_similar_file(Path(similar))

    def closeEvent(self, event) -> None:
        self.health.timer.stop()
        self.details_view.clear()  # saves a description still being edited
        self.window_state.setValue("geometry", self.saveGeometry())
        self.window_state.setValue("panes", self.splitter.saveState())
        self.window_state.sync()
        self.indexing.stop()
        self.search.worker.shutdown()
        self.item_jobs.cancel()
        self.actions.close_duplicates()
        self.session.wait()  # curator edits are written (or kept) before the exit
        self.query_images.discard()  # query images pasted from the clipboard are not kept
        super().closeEvent(event)

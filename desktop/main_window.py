"""The curator's main window: search field, facets, thumbnail grid, details panel, indexing status.

Everything slow runs elsewhere: indexing (and watching) in `IndexWorker` (a QThread), searches in the
`SearchController`'s thread, catalog reads/writes, facet counts, previews and bundle installs in the
TaskRunner's pool, long jobs (export, re-caption, duplicates) in a pool of their own, and curator edits
in a one-thread writer pool (so they land in the order made). The window only reacts to the
dataclasses they send back.

The archive and its index are checked every HEALTH_CHECK_MS, after any failed catalog open and by the
watching thread (`store.storage.health`); when the folder is gone or the catalog deleted or garbled,
the window stops showing, searching and indexing it and says so with what to do, keeps curator edits
for later (`desktop.pending_edits`), and carries on by itself once a check finds all well again.
An index that cannot be written (`IndexLocation.read_only`, a read-only catalog, ReadOnlyIndexError)
is said to be read-only in the status bar; it is browsed and searched, not indexed, its description
and label editors are read-only, and no edit is kept for it.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QObject,
    QSettings,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QImageReader,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.details_panel import PREVIEW_SIZE, DetailsPanel
from desktop.duplicates_window import DuplicatesWindow
from desktop.elided_label import ElidedLabel
from desktop.facets_panel import FacetsPanel
from desktop.failures_dialog import FailuresDialog
from desktop.grid_model import ICON_SIZE, EntryRole, GridEntry, GridModel
from desktop.index_worker import IndexOutcome, IndexTotals, IndexWorker
from desktop.item_jobs import ItemJobs, export_target
from desktop.pending_edits import FILE_NAME as PENDING_FILE
from desktop.pending_edits import CuratorEdit, ItemGoneError, PendingEdits, catalog_id_of
from desktop.search_worker import SearchController, SearchOutcome, SearchRequest
from desktop.settings_dialog import SettingsDialog
from desktop.tasks import TaskRunner
from models.bundle import install_bundle, list_bundles
from models.errors import ImagoError
from store import config
from store.config import Settings
from store.errors import CatalogError, NotACatalogError, ReadOnlyIndexError
from store.ingestion.indexer import Progress
from store.ingestion.recaption import RecaptionResult
from store.services.browse import item_details, visible_items
from store.services.facets import Facets, read_facets
from store.services.search import SearchFilter
from store.storage.archive import IndexLocation, locate_index
from store.storage.health import (
    INDEX_DAMAGED,
    INDEX_MISSING,
    UNAVAILABLE,
    ArchiveHealth,
    archive_device,
    check_archive,
    open_catalog,
    set_damaged_aside,
)
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

MAX_RECENT = 8
BROWSE_REFRESH_FIRST_S = 2.0
BROWSE_REFRESH_MAX_S = 30.0
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
# Settings whose change restarts a running indexer (models, threads, watching).
RESTART_SETTINGS = {"device", "intra_op_threads", "caption_model", "caption_beams", "watch_archive",
                    "rescan_minutes"}  # fmt: skip
# Settings the search models are loaded with (models.loading.session_options).
SEARCH_MODEL_SETTINGS = {"device", "intra_op_threads"}
HEALTH_CHECK_MS = 2000  # how often the open archive and its index are checked while open
# A curator edit failing so is kept for later, except for ReadOnlyIndexError (a CatalogError): a
# read-only index will not take it later either, so the curator is told plainly instead.
STORAGE_ERRORS = (CatalogError, sqlite3.Error, OSError)
READ_ONLY_TEXT = QT_TRANSLATE_NOOP("MainWindow", "Read-only index: edits cannot be saved in it")
READ_ONLY_NOT_SAVED = QT_TRANSLATE_NOOP(
    "MainWindow",
    "The archive's index is read-only (read-only folder or medium): edits cannot be saved in it. "
    "Your edit was not saved.",
)

NO_CLIP_TEXT = QT_TRANSLATE_NOOP(
    "MainWindow",
    "Find similar and object names use the built-in image model. Text search by meaning needs a CLIP "
    "model bundle; until then text search matches file names, tags and descriptions.",
)
NO_CLIP_HOW = QT_TRANSLATE_NOOP(
    "MainWindow",
    """<p>On a computer with internet access (Imago's <code>[export]</code> extra: torch, transformers):</p>
<pre>python main.py models export clip openai/clip-vit-base-patch32 --out clip-b32 \\
    --text-model sentence-transformers/clip-ViT-B-32-multilingual-v1 --quantize int8
python main.py models export git microsoft/git-base-coco --out git-base</pre>
<p>Copy the folders (or zips of them) here and install them with File › Install model bundle, or
<code>imago models install clip-b32</code>. Bundles are installed in <code>{models_dir}</code>.</p>""",
)
CLIP_NOTICE_KEY = "notices/no-clip-dismissed"


WELCOME_TEXT = QT_TRANSLATE_NOOP(
    "MainWindow",
    """<h2>Open an archive folder</h2>
<p>Choose the folder holding your images (<b>File › Open archive…</b>, Ctrl+O).
Imago indexes it in the background; its index is kept in a <code>.imago</code> folder inside it
(or in your user data folder when the archive is read-only).</p>""",
)


PROBLEM_TEXTS = {
    UNAVAILABLE: QT_TRANSLATE_NOOP(
        "MainWindow",
        """<h2>The archive folder is not available</h2>
<p><code>{archive}</code> cannot be reached: it was renamed, moved or deleted, or the drive or
network share holding it is not connected. Browsing, searching and indexing are stopped.</p>
<p><b>What to do:</b> connect the drive or share again, or give the folder back its name and place.
Imago checks every few seconds and carries on by itself when the folder is back. Descriptions and
labels you edit meanwhile are kept and written then.</p>""",
    ),
    INDEX_DAMAGED: QT_TRANSLATE_NOOP(
        "MainWindow",
        """<h2>The archive's index is damaged</h2>
<p>The index file <code>{catalog}</code> cannot be read: it is not a valid database any more.
Browsing, searching and indexing are stopped so that nothing wrong is shown.</p>
<p><b>What to do:</b> restore the file from a backup (Imago carries on by itself once it can read it),
or index the archive again from scratch. The damaged file is then kept beside the new one, but the
descriptions and labels stored only in it are not carried over.</p>""",
    ),
    INDEX_MISSING: QT_TRANSLATE_NOOP(
        "MainWindow",
        """<h2>The archive's index was deleted</h2>
<p>The index file <code>{catalog}</code> is gone. Browsing, searching and indexing are stopped.</p>
<p><b>What to do:</b> restore the file from a backup (Imago carries on by itself once it is back),
or index the archive again from scratch; descriptions and labels stored only in the deleted file
are lost.</p>""",
    ),
}
PROBLEM_STATUS = {
    UNAVAILABLE: QT_TRANSLATE_NOOP("MainWindow", "Archive not available — not watching"),
    INDEX_DAMAGED: QT_TRANSLATE_NOOP("MainWindow", "Index damaged — not indexing"),
    INDEX_MISSING: QT_TRANSLATE_NOOP("MainWindow", "Index deleted — not indexing"),
}


@dataclass(frozen=True)
class EditResult:
    """A curator edit written (`details`: the item as it is now) or kept for later (`kept`: how many
    edits of the archive wait, `error`: why it could not be written), or refused by a read-only index
    (`read_only`: not kept, it never will be written)."""

    edit: CuratorEdit
    written: bool
    details: object | None = None
    kept: int = 0
    error: str = ""
    read_only: bool = False


def load_settings() -> Settings:
    """The user's settings, or the defaults when the file is unreadable (which is logged)."""
    try:
        return Settings.load()
    except ImagoError as exc:
        logger.warning("using default settings: %s", exc)
        return Settings()


def _read_browse(catalog_path: Path, filters: SearchFilter) -> list[GridEntry]:
    with open_catalog(catalog_path) as catalog:
        items = visible_items(catalog, filters=filters)
    return [GridEntry(i.item_id, i.path, i.hash, i.region) for i in items]


def _read_facets(catalog_path: Path, folder: str | None, category: str | None) -> Facets | None:
    if not catalog_path.is_file():  # opening a Catalog would create it
        return None
    with open_catalog(catalog_path) as catalog:
        return read_facets(catalog, folder, category)


def _read_failures(catalog_path: Path) -> list[tuple[str, str, str]]:
    if not catalog_path.is_file():
        return []
    with open_catalog(catalog_path) as catalog:
        return catalog.failures()


def _read_details(catalog_path: Path, item_id: int):
    with open_catalog(catalog_path) as catalog:
        return item_details(catalog, item_id)


def _write_edit(catalog_path: Path, edit: CuratorEdit, pending: PendingEdits, try_now: bool) -> EditResult:
    """Write a curator edit (older kept edits of its archive first), or keep it when the catalog
    cannot take it (storage errors only: anything else is raised, as a rejected label is), or when
    the catalog at the path is another one than the edit was made in. A read-only index refuses it
    (not kept: it would wait for ever)."""
    error = ""
    if try_now:
        try:
            with open_catalog(catalog_path) as catalog:
                if not edit.catalog_id:  # made before the window knew its catalog: it is this one
                    edit = dataclasses.replace(edit, catalog_id=catalog_id_of(catalog))
                pending.write(edit.archive, catalog)
                fits = edit.fits(catalog)
                item_id = edit.apply(catalog) if fits else None
                details = item_details(catalog, item_id) if item_id is not None else None
        except ReadOnlyIndexError as exc:
            return EditResult(edit, False, error=str(exc), read_only=True)
        except STORAGE_ERRORS as exc:
            error = str(exc)
        else:
            if not fits:
                error = f"the index at {catalog_path} is another catalog than the edit was made in"
            elif item_id is None:
                raise ItemGoneError(f"item #{edit.item_id} ({edit.path}) is no longer in the catalog")
            else:
                return EditResult(edit, True, details)
    return EditResult(edit, False, kept=pending.add(edit), error=error)


@dataclass(frozen=True)
class CatalogInfo:
    """What the window keeps of an open catalog: its id (kept edits name it), whether it is read-only
    (a read-only catalog file in a writable folder), and how many files failed to index."""

    path: Path
    catalog_id: str
    read_only: bool
    failed: int


def _read_catalog_info(catalog_path: Path) -> CatalogInfo | None:
    """The catalog's CatalogInfo; None when there is no catalog yet (opening a Catalog would create it)."""
    if not catalog_path.is_file():
        return None
    with open_catalog(catalog_path) as catalog:
        failed = catalog.counts().get("failed", 0)
        return CatalogInfo(catalog_path, catalog_id_of(catalog), catalog.read_only, failed)


def _set_index_aside(path: Path, stamp: str, pending: PendingEdits, archive: str) -> Path | None:
    """Keep the damaged catalog aside for a new one; the archive's kept edits go into the new one."""
    pending.release(archive)
    return set_damaged_aside(path, stamp)


def _write_kept(catalog_path: Path, archive: str, pending: PendingEdits) -> tuple[int, int]:
    """Write the kept edits of `archive`; (written, dropped). Nothing is opened when none are kept."""
    if not pending.count(archive):
        return 0, 0
    with open_catalog(catalog_path) as catalog:
        return pending.write(archive, catalog)


def _read_preview(path: Path, size: int) -> QImage:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # regions are in EXIF-transposed pixels
    image = reader.read()
    if image.isNull():
        logger.info("no preview for %s: %s", path, reader.errorString())
        return image
    return image.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class MainWindow(QMainWindow):
    """The main window. Signals report finished background work (used by tests and the status bar)."""

    index_finished = Signal(object)  # IndexOutcome
    items_loaded = Signal(int)  # browse list shown: number of items
    results_shown = Signal(object)  # SearchOutcome
    details_shown = Signal(int)  # item id
    description_saved = Signal(int)  # item id
    labels_saved = Signal(int)  # item id
    facets_shown = Signal(object)  # Facets, or None
    failures_shown = Signal(int)  # number of failed files listed
    edit_kept = Signal(int)  # item id of a curator edit kept for later (the archive is unavailable)
    kept_edits_written = Signal(int)  # number of kept curator edits written to the catalog
    archive_state_changed = Signal(object)  # ArchiveHealth: a problem found, or all well again

    def __init__(
        self, models_dir: Path, archive: Path | None = None, settings: Settings | None = None
    ) -> None:
        super().__init__()
        self.models_dir = Path(models_dir)
        self.settings = settings or load_settings()
        self.archive: Path | None = None
        self.location: IndexLocation | None = None
        self.index_worker: IndexWorker | None = None
        self.last_index: IndexOutcome | None = None
        self.last_results: SearchOutcome | None = None
        self.last_request: SearchRequest | None = None
        self.mode = "browse"  # or "results"
        self._request_id = 0
        self.duplicates_window: DuplicatesWindow | None = None
        self.failures_dialog: FailuresDialog | None = None
        self._workers: set[IndexWorker] = set()
        self._pasted: list[Path] = []
        self._browse_loading = False
        self._last_browse = 0.0
        self._browse_interval = BROWSE_REFRESH_FIRST_S
        self._phase: str | None = None
        self.tasks = TaskRunner(self)
        self.long_tasks = TaskRunner(self, QThreadPool(self))  # export, re-caption, duplicates
        # Curator edits are written by one thread, so edits of an item land in the order made.
        writer_pool = QThreadPool(self)
        writer_pool.setMaxThreadCount(1)
        self.writes = TaskRunner(self, writer_pool)
        self.pending = PendingEdits(config.user_data_dir() / PENDING_FILE)
        self.problem: ArchiveHealth | None = None  # the archive or its index went away
        self.catalog_id: str | None = None  # the open archive's catalog, once read
        self.read_only = False  # its index cannot be written: no edits, no indexing
        self._device: int | None = None  # the archive folder's st_dev when last seen well
        self._catalog_seen = False  # its catalog existed (so its absence is a problem)
        self._checking = False
        self._retry_kept = False  # an edit failed while all looked well: write it after the next check
        self.health_timer = QTimer(self, interval=HEALTH_CHECK_MS)
        self.health_timer.timeout.connect(self.check_health)
        self._carried = IndexTotals()  # what ended indexing threads did since the archive was opened
        self.item_jobs = ItemJobs(self.long_tasks, self.models_dir, self.settings, self)
        self.item_jobs.exported.connect(self._on_exported)
        self.item_jobs.recaptioned.connect(self._on_recaptioned)
        self.item_jobs.failed.connect(self._job_failed)
        self.search = SearchController(self.models_dir, self.settings, self)
        self.search.answered.connect(self._on_search_answer)
        self.window_state = QSettings(str(config.user_data_dir() / "window.ini"), QSettings.Format.IniFormat)

        self.setWindowTitle("Imago")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_menus()
        self._build_status_bar()
        self._restore_state()
        self._update_panels()
        if archive is not None:
            self.open_archive(archive)

    # -- construction -----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.search_field = QLineEdit(
            placeholderText=self.tr("Search by text (Enter), or drop an image to find similar ones")
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.returnPressed.connect(self.run_text_search)
        self.search_field.installEventFilter(self)

        # One dismissible line while no CLIP bundle is installed (the built-in image model does the rest).
        self.models_panel = QFrame(frameShape=QFrame.Shape.StyledPanel)
        self.models_panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        models_layout = QHBoxLayout(self.models_panel)
        models_layout.setContentsMargins(6, 2, 6, 2)
        self.models_text = QLabel(self.tr(NO_CLIP_TEXT), wordWrap=True)
        self.models_text.setToolTip(self.tr(NO_CLIP_HOW).format(models_dir=self.models_dir))
        models_layout.addWidget(self.models_text, 1)
        install_folder = QPushButton(self.tr("Install model…"))
        install_folder.setToolTip(self.models_text.toolTip())
        install_folder.clicked.connect(self._choose_bundle_folder)
        install_zip = QPushButton(self.tr("From zip…"))
        install_zip.clicked.connect(self._choose_bundle_zip)
        dismiss = QToolButton(text="✕", autoRaise=True, toolTip=self.tr("Hide this notice"))
        dismiss.clicked.connect(self._dismiss_clip_notice)
        for widget in (install_folder, install_zip, dismiss):
            models_layout.addWidget(widget)

        self.welcome = QLabel(self.tr(WELCOME_TEXT), wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.welcome.setTextFormat(Qt.TextFormat.RichText)

        self.problem_panel = QFrame(frameShape=QFrame.Shape.StyledPanel)
        self.problem_panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.problem_panel.setObjectName("problem-panel")
        self.problem_panel.setStyleSheet("#problem-panel { background: #fff4e5; border: 1px solid #e0a040; }")
        problem_layout = QVBoxLayout(self.problem_panel)
        self.problem_text = QLabel(wordWrap=True)
        self.problem_text.setTextFormat(Qt.TextFormat.RichText)
        self.problem_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kept_label = QLabel(wordWrap=True)
        self.kept_label.setStyleSheet("font-weight: bold")
        problem_layout.addWidget(self.problem_text)
        problem_layout.addWidget(self.kept_label)
        problem_buttons = QHBoxLayout()
        self.check_button = QPushButton(self.tr("Check again"))
        self.check_button.clicked.connect(self.check_health)
        self.rebuild_button = QPushButton(self.tr("Index again from scratch"))
        self.rebuild_button.setToolTip(
            self.tr("Keep the damaged index file aside and index the archive anew")
        )
        self.rebuild_button.clicked.connect(self.rebuild_index)
        other = QPushButton(self.tr("Open another archive…"))
        other.clicked.connect(self._choose_archive)
        for button in (self.check_button, self.rebuild_button, other):
            problem_buttons.addWidget(button)
        problem_buttons.addStretch(1)
        problem_layout.addLayout(problem_buttons)

        self.results_label = ElidedLabel()
        self.more_button = QPushButton(self.tr("More results"))
        self.more_button.setToolTip(self.tr("Show the results below the relevance cut-off too"))
        self.more_button.clicked.connect(self.show_more)
        self.show_all_button = QPushButton(self.tr("Show all files"))
        self.show_all_button.clicked.connect(self.show_browse)
        header = QHBoxLayout()
        header.addWidget(self.results_label, stretch=1)
        header.addWidget(self.more_button)
        header.addWidget(self.show_all_button)

        self.grid_model = GridModel(self)
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(500)
        self.grid.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.grid.setGridSize(QSize(ICON_SIZE + 24, ICON_SIZE + 40))
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._show_context_menu)
        self.grid.setModel(self.grid_model)
        self.grid.selectionModel().currentChanged.connect(lambda current, _: self._on_current(current))
        self.grid.activated.connect(lambda index: self.open_entry(index.data(EntryRole)))

        self.details = DetailsPanel()
        self.details.description_edited.connect(self.save_description)
        self.details.preview.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.details.preview.customContextMenuRequested.connect(self._show_preview_menu)
        self.details.label_confirmed.connect(lambda i, head, label: self.edit_label(i, head, label, False))
        self.details.label_rejected.connect(lambda i, head, label: self.edit_label(i, head, label, True))

        self.facets = FacetsPanel()
        self.facets.changed.connect(self._on_facets_changed)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.facets)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([240, 640, 400])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.search_field)
        layout.addWidget(self.models_panel)
        layout.addWidget(self.welcome, stretch=1)
        layout.addWidget(self.problem_panel)
        layout.addLayout(header)
        layout.addWidget(self.splitter, stretch=1)
        layout.addStretch(0)  # keeps the models panel at the top when nothing else is shown
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        open_action = QAction(self.tr("&Open archive…"), self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._choose_archive)
        file_menu.addAction(open_action)
        self.recent_menu = file_menu.addMenu(self.tr("Open &recent"))
        self._fill_recent_menu()
        file_menu.addSeparator()
        folder = QAction(self.tr("Install model bundle from &folder…"), self)
        folder.triggered.connect(self._choose_bundle_folder)
        archive_zip = QAction(self.tr("Install model bundle from &zip…"), self)
        archive_zip.triggered.connect(self._choose_bundle_zip)
        file_menu.addAction(folder)
        file_menu.addAction(archive_zip)
        file_menu.addSeparator()
        settings_action = QAction(self.tr("&Settings…"), self, shortcut=QKeySequence.StandardKey.Preferences)
        settings_action.triggered.connect(self.open_settings)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        quit_action = QAction(self.tr("&Quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        find = QAction(self.tr("Find"), self, shortcut=QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.search_field.setFocus(), self.search_field.selectAll()))
        self.addAction(find)
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        paste = QAction(self.tr("Find similar to the &pasted image"), self)
        paste.setShortcut(QKeySequence.StandardKey.Paste)
        paste.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.triggered.connect(self.paste_image)
        edit_menu.addAction(paste)
        self.grid.addAction(paste)  # Ctrl+V on the grid; the search field handles its own (eventFilter)
        tools_menu = self.menuBar().addMenu(self.tr("&Tools"))
        self.duplicates_action = QAction(self.tr("Find &duplicates…"), self)
        self.duplicates_action.triggered.connect(self.open_duplicates)
        self.failures_action = QAction(self.tr("&Files that could not be indexed…"), self)
        self.failures_action.triggered.connect(self.show_failures)
        tools_menu.addAction(self.duplicates_action)
        tools_menu.addAction(self.failures_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.index_label = ElidedLabel(max_chars=130)
        self.progress_bar = QProgressBar(maximumWidth=220, textVisible=True)
        self.errors_label = QLabel()
        self.errors_label.setTextFormat(Qt.TextFormat.RichText)
        self.errors_label.linkActivated.connect(lambda _: self.show_failures())
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._toggle_pause)
        self.read_only_label = QLabel()
        self.read_only_label.setStyleSheet("font-weight: bold")
        self.read_only_label.hide()
        for widget in (self.read_only_label, self.index_label, self.progress_bar, self.errors_label,
                       self.pause_button):  # fmt: skip
            bar.addPermanentWidget(widget)
        self._show_indexing(False)

    def _set_read_only(self, read_only: bool) -> None:
        """Say that the open archive's index is read-only (or not) and let no edit be made in it."""
        self.read_only = read_only
        text = self.tr(READ_ONLY_TEXT) if read_only else ""
        self.read_only_label.setText(text)
        self.read_only_label.setVisible(read_only)
        self.details.description.setReadOnly(read_only)
        self.details.description.setToolTip(text)
        self.details.labels.setEnabled(not read_only)
        self.details.labels.setToolTip(text)

    def _restore_state(self) -> None:
        geometry = self.window_state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # Qt moves and shrinks it onto an available screen
        panes = self.window_state.value("panes")
        if panes is not None:
            self.splitter.restoreState(panes)

    # -- state ------------------------------------------------------------------------------------

    @property
    def catalog_path(self) -> Path | None:
        return self.location.catalog_path if self.location is not None else None

    def has_clip_bundle(self) -> bool:
        return any(b.kind == "clip" for b in list_bundles(self.models_dir))

    def _dismiss_clip_notice(self) -> None:
        self.window_state.setValue(CLIP_NOTICE_KEY, True)
        self.models_panel.hide()

    def _update_panels(self) -> None:
        usable = self.archive is not None and self.problem is None
        dismissed = self.window_state.value(CLIP_NOTICE_KEY, False, type=bool)
        self.models_panel.setVisible(not dismissed and not self.has_clip_bundle())
        self.search_field.setEnabled(usable)
        show_grid = usable  # scanning, thumbnails and the built-in image model need no installed bundle
        self.welcome.setVisible(self.archive is None)
        self.problem_panel.setVisible(self.problem is not None)
        self.duplicates_action.setEnabled(usable)
        self.failures_action.setEnabled(usable)
        self.splitter.setVisible(show_grid)
        self.results_label.setVisible(show_grid)
        self.show_all_button.setVisible(show_grid and self.mode == "results")
        last = self.last_results
        self.more_button.setVisible(
            show_grid and self.mode == "results" and last is not None and last.more and not last.request.all
        )

    def _show_indexing(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.pause_button.setVisible(running)

    # -- archives ---------------------------------------------------------------------------------

    def _choose_archive(self) -> None:
        start = self.settings.recent_archives[0] if self.settings.recent_archives else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open archive folder"), start)
        if folder:
            self.open_archive(Path(folder))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_archives:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_archive(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_archives))

    def _remember(self, archive: Path) -> None:
        recent = [str(archive)] + [p for p in self.settings.recent_archives if p != str(archive)]
        self.settings.recent_archives = recent[:MAX_RECENT]
        try:
            self.settings.save()
        except (ImagoError, OSError) as exc:
            logger.warning("cannot save the recent archives: %s", exc)
        self._fill_recent_menu()

    def open_archive(self, archive: Path) -> bool:
        """Show `archive`'s indexed items and start indexing it (when a CLIP bundle is installed)."""
        archive = Path(archive).expanduser()
        if not archive.is_dir():
            self.statusBar().showMessage(self.tr("Not a folder: {path}").format(path=archive), 10_000)
            return False
        self.stop_indexing()
        archive = archive.resolve()
        try:
            location = locate_index(archive, create=False)
        except ImagoError as exc:
            self.statusBar().showMessage(str(exc), 10_000)
            return False
        self.archive = archive
        self.location = location
        self.problem = None
        self.catalog_id = None
        self._set_read_only(location.read_only)
        self._carried = IndexTotals()
        self._device = archive_device(archive)
        self._catalog_seen = location.catalog_path.is_file()
        self.setWindowTitle(f"Imago — {archive.name}")
        self._remember(archive)
        self.grid_model.set_thumbnails(ThumbnailCache(location.thumbnails_dir))
        self.grid_model.set_entries([])
        self.details.show_item(None)
        self.mode = "browse"
        self._request_id = 0
        self.search.index_changed()
        self.facets.set_restriction(None, None)
        self.facets.show_facets(None)
        self._set_errors(0)
        for other in (self.duplicates_window, self.failures_dialog):  # they showed another archive
            if other is not None:
                other.close()
        if location.fallback:
            self.statusBar().showMessage(
                self.tr("The archive is read-only; its index is kept in {path}").format(path=location.path),
                10_000,
            )
        self.load_browse()
        self.load_facets()
        self._load_catalog_info()
        self.start_indexing()
        self._write_kept_edits()  # edits kept while it was unavailable (perhaps in an earlier session)
        self.health_timer.start()
        self._update_panels()
        return True

    def _load_catalog_info(self) -> None:
        """Read the open catalog's CatalogInfo in the pool (one open: each open of a catalog that may
        be vanishing is one more chance of `Catalog` making an empty one, see `open_catalog`). Until
        it is known (or when the first indexing run makes the catalog) an edit is given its catalog's
        id when it is written or kept by the writer."""
        path = self.catalog_path
        if path is not None:
            self.tasks.submit(
                lambda: _read_catalog_info(path), self._on_catalog_info, self._background_failed
            )

    def _on_catalog_info(self, info: CatalogInfo | None) -> None:
        if info is None or info.path != self.catalog_path:
            return  # no catalog yet, or another archive was opened meanwhile
        self._set_errors(info.failed)
        self.catalog_id = info.catalog_id or None
        if info.read_only and not self.read_only:  # a read-only catalog file in a writable folder
            self._set_read_only(True)

    def load_browse(self) -> None:
        """Reload the list of indexed items (in the pool) when browsing."""
        if self.catalog_path is None or not self.catalog_path.is_file():
            if self.mode == "browse":
                self.grid_model.set_entries([])  # no list of what is no longer there
            if self._catalog_seen:
                self.check_health()  # it was there: deleted, or the archive went away
            self.results_label.setText(self.tr("Nothing indexed yet"))
            self.items_loaded.emit(0)
            return
        path, filters = self.catalog_path, self.facets.filters()
        self._browse_loading = True
        self._last_browse = time.monotonic()

        def failed(exc: Exception) -> None:
            self._browse_loading = False
            self._background_failed(exc)

        self.tasks.submit(
            lambda: _read_browse(path, filters), lambda entries: self._show_browse(path, filters, entries),
            failed,
        )  # fmt: skip

    def _show_browse(self, catalog_path: Path, filters: SearchFilter, entries: list[GridEntry]) -> None:
        self._browse_loading = False
        self._catalog_seen = self._catalog_seen or catalog_path == self.catalog_path
        if catalog_path != self.catalog_path or self.mode != "browse" or filters != self.facets.filters():
            return
        if self.problem is not None:  # read before the index went away: it is not shown now
            return
        current = self.grid.currentIndex().data(EntryRole)
        selected = {i.data(EntryRole).item_id for i in self.grid.selectionModel().selectedIndexes()}
        scroll = self.grid.verticalScrollBar().value()
        self.grid_model.set_entries(entries)
        if current is not None:  # a refresh while indexing keeps the curator's place and selection
            rows = {e.item_id: i for i, e in enumerate(entries)}
            if current.item_id in rows:
                self.grid.setCurrentIndex(self.grid_model.index(rows[current.item_id]))
            else:
                self.details.show_item(None)  # e.g. a facet left it out
            keep = QItemSelection()
            for item_id in selected & rows.keys():
                index = self.grid_model.index(rows[item_id])
                keep.select(index, index)
            self.grid.selectionModel().select(keep, QItemSelectionModel.SelectionFlag.Select)
            self.grid.verticalScrollBar().setValue(scroll)
        self.results_label.setText(
            self.tr("Indexed images and regions: {count}").format(count=len(entries)) + self._restricted()
        )
        self._update_panels()
        self.items_loaded.emit(len(entries))

    def _restricted(self) -> str:
        """The facets' restriction, to append to the grid's heading ("" when there is none)."""
        described = self.facets.describe()
        return self.tr(" — filter: {restriction}").format(restriction=described) if described else ""

    def load_facets(self) -> None:
        """Recount the folder and category facets for the current choice (in the pool)."""
        if self.catalog_path is None:
            return
        path, name, filters = self.catalog_path, self.archive.name, self.facets.filters()
        self.tasks.submit(
            lambda: _read_facets(path, filters.folder, filters.category),
            lambda facets: self._show_facets(path, filters, name, facets),
            self._background_failed,
        )

    def _show_facets(
        self, catalog_path: Path, filters: SearchFilter, name: str, facets: Facets | None
    ) -> None:
        if catalog_path != self.catalog_path or filters != self.facets.filters() or self.problem is not None:
            return  # another archive or choice (its counts are on their way), or the index went away
        self.facets.show_facets(facets, name)
        self.facets_shown.emit(facets)

    def _on_facets_changed(self) -> None:
        """The curator picked a folder or category: repeat the search (or reload the browse list),
        and recount the facets within the new choice."""
        request = self.last_request
        if self._request_id and request is not None:
            self._submit(text=request.text, item_id=request.item_id, image=request.image, all=request.all)
        else:
            self.load_browse()
        self.load_facets()

    def show_browse(self) -> None:
        self.mode = "browse"
        self.last_results = None
        self.last_request = None
        self._request_id = 0
        self.search_field.clear()
        self.load_browse()
        self._update_panels()

    # -- indexing ---------------------------------------------------------------------------------

    def restart_indexing(self) -> None:
        """Index the open archive with the current models and settings (stopping a running indexer)."""
        self.stop_indexing()
        self.start_indexing()

    def start_indexing(self) -> None:
        if self.archive is None or (self.index_worker is not None and self.index_worker.isRunning()):
            return
        if self.location is not None and self.location.read_only:
            self.index_label.setText(self.tr("Not indexing: the index is read-only"))
            return  # the indexer would refuse it (ReadOnlyIndexError); searching and browsing work
        worker = IndexWorker(self.archive, self.models_dir, self.settings)
        # Kept referenced until the thread has really ended (a QThread destroyed while running aborts).
        self._workers.add(worker)
        worker.finished.connect(lambda: (self._carry(worker), self._workers.discard(worker)))
        worker.progress.connect(self._on_progress)
        worker.outcome.connect(self._on_index_outcome)
        self.index_worker = worker
        self._phase = None
        self._browse_interval = BROWSE_REFRESH_FIRST_S
        self.pause_button.setChecked(False)
        self.index_label.setText(self.tr("Loading models…"))
        self._show_indexing(True)
        self.progress_bar.setRange(0, 0)
        worker.start()

    def stop_indexing(self) -> None:
        """Cancel the running indexer and wait for every indexing thread to end."""
        if self.index_worker is not None:
            self.index_worker.cancel()
            self.index_worker = None
            self._show_indexing(False)
        for worker in list(self._workers):
            worker.wait()
            self._carry(worker)
        self._workers.clear()

    def _carry(self, worker: IndexWorker) -> None:
        """Add an ended indexing thread's totals to what indexing did since the archive was opened."""
        if not worker.carried and worker.archive == self.archive:
            worker.carried = True
            self._carried = self._carried + worker.totals

    def _toggle_pause(self, paused: bool) -> None:
        if self.index_worker is None:
            return
        if paused:
            self.index_worker.pause()
            self.pause_button.setText(self.tr("Resume"))
            self.index_label.setText(self.index_label.text() + self.tr(" (paused)"))
        else:
            self.index_worker.resume()
            self.pause_button.setText(self.tr("Pause"))

    def _on_progress(self, progress: Progress) -> None:
        if self.sender() is not self.index_worker:
            return
        if progress.phase != "done":
            self._show_indexing(True)  # a watched archive's next run
        names = {"scan": self.tr("Scanning"), "index": self.tr("Indexing"), "dates": self.tr("Reading dates"),
                 "caption": self.tr("Describing")}  # fmt: skip
        phase = names.get(progress.phase, progress.phase)
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(progress.done)
            rate = self.tr(", {rate:.1f}/s").format(rate=progress.rate) if progress.rate else ""
            self.index_label.setText(f"{phase} {progress.done}/{progress.total}{rate}")
        else:
            self.progress_bar.setRange(0, 0)
            self.index_label.setText(f"{phase}… {progress.done or ''}".rstrip())
        if self.pause_button.isChecked():
            self.index_label.setText(self.index_label.text() + self.tr(" (paused)"))
        self._set_errors(progress.errors)
        # New items become visible while indexing, at growing intervals (a reload costs more as the
        # archive grows).
        due = time.monotonic() - self._last_browse > self._browse_interval
        if progress.phase == "index" and self.mode == "browse" and not self._browse_loading and due:
            self._browse_interval = min(2 * self._browse_interval, BROWSE_REFRESH_MAX_S)
            self._refresh_after_index()
        if self._phase == "index" and progress.phase != "index":
            self._refresh_after_index()  # vectors are committed: searches see the new items
        self._phase = progress.phase

    def _refresh_after_index(self) -> None:
        """Searches, the browse list and the facets catch up with what the indexer committed."""
        self.search.index_changed()
        if self.mode == "browse":
            self.load_browse()
        self.load_facets()

    def _set_errors(self, count: int) -> None:
        self.errors_label.setText(
            self.tr("<a href='#'>Failed: {count}</a>").format(count=count) if count else ""
        )

    def _on_index_outcome(self, outcome: IndexOutcome) -> None:
        worker = self.sender()
        if worker is not self.index_worker:
            return
        if not outcome.watching:
            self.index_worker = None
            self._carry(worker)  # the thread is ending; its runs count with the earlier ones
        self.last_index = outcome
        self._show_indexing(False)
        if outcome.problem is not None:
            self.index_label.setText(self.tr(PROBLEM_STATUS[outcome.problem]))
            self.check_health()  # the window's state follows
        elif outcome.missing_models:
            self.index_label.setText(self.tr("Not indexing: no image model could be loaded"))
        elif outcome.error:
            self.check_health()  # e.g. a catalog that cannot be opened
            self.index_label.setText(self.tr("Indexing failed"))
            self.statusBar().showMessage(
                self.tr("Indexing failed: {error}").format(error=outcome.error), 15_000
            )
        elif outcome.summary is not None:
            s = outcome.summary
            self._catalog_seen = True  # the indexer made it: from now on its absence is a problem
            self._set_errors(s.failed)
            # Counted over every run since the archive was opened: a run started again (settings,
            # models) or a watched run after the first finds little new, which is no news.
            totals = self._carried if worker.carried else self._carried + outcome.totals
            state = self.tr("Indexing cancelled") if s.cancelled else self.tr("Index up to date")
            self.index_label.setText(
                self.tr("{state}: searchable {items}; since opening: new {new}, moved {moved}").format(
                    state=state, items=s.items, new=totals.new, moved=totals.moved
                )
                + (self._watch_note() if outcome.watching else "")
            )
            self._refresh_after_index()
            self._write_kept_edits()
        self._update_panels()
        self.index_finished.emit(outcome)

    def _watch_note(self) -> str:
        if self.settings.watch_archive:
            return self.tr(" — watching for changes")
        return self.tr(" — rescan every {minutes} min").format(minutes=self.settings.rescan_minutes)

    def show_failures(self) -> None:
        """List the open archive's files that could not be indexed (read from its catalog)."""
        if self.catalog_path is None:
            return
        path = self.catalog_path
        self.tasks.submit(lambda: _read_failures(path), self._show_failures, self._background_failed)

    def _show_failures(self, failures: list[tuple[str, str, str]]) -> None:
        if self.failures_dialog is not None:
            self.failures_dialog.close()
            self.failures_dialog.deleteLater()
        self.failures_dialog = FailuresDialog(failures, self)
        self.failures_dialog.open()
        self.failures_shown.emit(len(failures))

    # -- models -----------------------------------------------------------------------------------

    def _choose_bundle_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Model bundle folder"))
        if folder:
            self.install_bundle_from(Path(folder))

    def _choose_bundle_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Model bundle zip"), "", self.tr("Zip archives (*.zip)")
        )
        if path:
            self.install_bundle_from(Path(path))

    def install_bundle_from(self, source: Path) -> None:
        """Install a bundle (folder or zip) in the pool, then start indexing the open archive."""
        self.statusBar().showMessage(self.tr("Installing model bundle from {path}…").format(path=source))
        models_dir = self.models_dir
        self.tasks.submit(
            lambda: install_bundle(source, models_dir), self._on_installed, self._install_failed
        )

    def _on_installed(self, bundle) -> None:
        self.statusBar().showMessage(
            self.tr("Installed model bundle {name}").format(name=bundle.model_id), 10_000
        )
        self.search.models_changed()
        self._update_panels()
        if self.archive is not None:
            self.restart_indexing()  # a running (watching) indexer still has the old models

    def _install_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(
            self.tr("Could not install the bundle: {error}").format(error=exc), 15_000
        )
        QMessageBox.warning(self, self.tr("Model bundle not installed"), str(exc))

    # -- search -----------------------------------------------------------------------------------

    def run_text_search(self) -> None:
        text = self.search_field.text().strip()
        if not text:
            self.show_browse()
            return
        self._submit(text=text)

    def find_similar_item(self, item_id: int) -> None:
        self._submit(item_id=item_id)

    def find_similar_file(self, path: Path) -> None:
        self._submit(image=Path(path))

    def find_similar_in_folder(self, entry: GridEntry) -> None:
        """Find similar restricted to the item's folder (and its subfolders), shown as the folder facet."""
        self.facets.set_restriction(entry.path.rpartition("/")[0], self.facets.category)
        self.find_similar_item(entry.item_id)
        self.load_facets()

    def query_title(self, request) -> str:
        """How a search request is named in the window (translated)."""
        if request.text is not None:
            return f"“{request.text}”"
        if request.item_id is not None:
            return self.tr("similar to item #{id}").format(id=request.item_id)
        return self.tr("similar to {name}").format(name=request.image.name if request.image else "?")

    def show_more(self) -> None:
        """Repeat the last search without the relevance cut-off."""
        last = self.last_results
        if last is not None and not last.request.all:
            request = last.request
            self._submit(text=request.text, item_id=request.item_id, image=request.image, all=True)

    def _submit(self, **query) -> None:
        if self.archive is None:
            self.statusBar().showMessage(self.tr("Open an archive first (File › Open archive…)"), 10_000)
            return
        if self.problem is not None:
            self.statusBar().showMessage(self.tr(PROBLEM_STATUS[self.problem.problem]), 10_000)
            return
        filters = self.facets.filters()
        request = self.search.submit(self.archive, filters=filters if filters.restricts else None, **query)
        self._request_id = request.request_id
        self.last_request = request
        self.statusBar().showMessage(self.tr("Searching {query}…").format(query=self.query_title(request)))

    def _on_search_answer(self, outcome: SearchOutcome) -> None:
        if outcome.request.request_id != self._request_id:
            return  # an older query the curator has replaced
        self.statusBar().clearMessage()
        self.mode = "results"
        self.last_results = outcome
        if outcome.error:
            self.check_health()  # the search may have failed on a vanished index
            self.grid_model.set_entries([])
            self.results_label.setText(f"{self.query_title(outcome.request)}: {outcome.error}")
        else:
            entries = [
                GridEntry(r.item_id, r.path, r.hash, r.region, r.score, list(r.why)) for r in outcome.results
            ]
            self.grid_model.set_entries(entries)
            more = self.tr(" — more exist below the relevance cut-off") if outcome.more else ""
            found = self.tr("{query} — found: {count}").format(
                query=self.query_title(outcome.request), count=len(entries)
            )
            self.results_label.setText(found + more + self._restricted())
            if entries:
                self.grid.setCurrentIndex(self.grid_model.index(0))
        self._update_panels()
        self.results_shown.emit(outcome)

    # -- drops ------------------------------------------------------------------------------------

    @staticmethod
    def _dropped_image(event: QDragEnterEvent | QDropEvent) -> Path | None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_image(event) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if self._dropped_image(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_image(event)
        if path is not None:
            event.acceptProposedAction()
            self.find_similar_file(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Image files dropped on the search field search by image instead of inserting a URL."""
        kind = event.type()
        if (
            watched is self.search_field
            and kind == QEvent.Type.KeyPress
            and event.matches(QKeySequence.StandardKey.Paste)
        ):
            return self.paste_image()  # an image on the clipboard searches; text pastes as usual
        if watched is self.search_field and kind in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            if not event.mimeData().hasUrls():
                return False
            if kind == QEvent.Type.DragEnter:
                self.dragEnterEvent(event)
            else:
                self.dropEvent(event)
            return True
        return super().eventFilter(watched, event)

    def paste_image(self) -> bool:
        """Find images similar to the clipboard's image (or image file); False when it holds neither."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return False
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                self.find_similar_file(Path(url.toLocalFile()))
                return True
        if not mime.hasImage():
            return False
        image = QImage(mime.imageData())
        if image.isNull():
            return False
        folder = config.user_data_dir() / "pasted"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="pasted-", suffix=".png", dir=folder)
        os.close(fd)
        if not image.save(name, "PNG"):
            self.statusBar().showMessage(
                self.tr("Cannot store the pasted image in {path}").format(path=folder), 10_000
            )
            return True
        self._pasted.append(Path(name))
        self.find_similar_file(Path(name))
        return True

    # -- settings ---------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings()))
        dialog.open()
        return dialog

    def apply_settings(self, new: Settings) -> None:
        """Save `new`; the workers share this Settings object, so the next model load uses it. A
        running indexer restarts when a setting it uses changed."""
        changed = {
            f.name
            for f in dataclasses.fields(Settings)
            if getattr(self.settings, f.name) != getattr(new, f.name)
        }
        for item in dataclasses.fields(Settings):
            setattr(self.settings, item.name, getattr(new, item.name))
        try:
            self.settings.save()
        except (ImagoError, OSError) as exc:
            QMessageBox.warning(self, self.tr("Settings not saved"), str(exc))
            return
        if changed & SEARCH_MODEL_SETTINGS:
            self.search.models_changed()
        if changed & RESTART_SETTINGS and self.index_worker is not None:
            self.restart_indexing()
            self.statusBar().showMessage(self.tr("Settings saved; indexing started again with them"), 10_000)
        else:
            self.statusBar().showMessage(
                self.tr("Settings saved; they apply to the next indexing run"), 10_000
            )

    # -- items ------------------------------------------------------------------------------------

    def full_path(self, entry: GridEntry) -> Path:
        return (self.archive or Path()) / entry.path

    def has_caption_bundle(self) -> bool:
        return any(b.kind == "git" for b in list_bundles(self.models_dir))

    def chosen_entries(self, entry: GridEntry) -> list[GridEntry]:
        """The selected thumbnails when `entry` (the one right-clicked) is among them, else `entry`."""
        selected = sorted(self.grid.selectionModel().selectedIndexes(), key=lambda i: i.row())
        entries = [i.data(EntryRole) for i in selected]
        return entries if any(e.item_id == entry.item_id for e in entries) else [entry]

    def context_menu(self, entry: GridEntry) -> QMenu:
        """The right-click menu for a thumbnail (built separately so tests can trigger its actions)."""
        chosen = self.chosen_entries(entry)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.addAction(self.tr("Find similar"), lambda: self.find_similar_item(entry.item_id))
        in_folder = menu.addAction(
            self.tr("Find similar in this folder"), lambda: self.find_similar_in_folder(entry)
        )
        folder = entry.path.rpartition("/")[0] or (self.archive.name if self.archive else "")
        in_folder.setToolTip(self.tr("Only images in {folder} and its subfolders").format(folder=folder))
        menu.addSeparator()
        menu.addAction(self.tr("Open"), lambda: self.open_entry(entry))
        menu.addAction(self.tr("Show in file manager"), lambda: self.show_in_file_manager(entry))
        menu.addAction(
            self.tr("Copy path"), lambda: QGuiApplication.clipboard().setText(str(self.full_path(entry)))
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
        if not index.isValid():
            return
        self.context_menu(index.data(EntryRole)).exec(self.grid.viewport().mapToGlobal(pos))

    def preview_menu(self) -> QMenu | None:
        """The thumbnail menu for the item the details panel shows (right-click on its preview)."""
        entry = self.grid.currentIndex().data(EntryRole)
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
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.full_path(entry))))

    def show_in_file_manager(self, entry: GridEntry) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.full_path(entry).parent)))

    def export_selection(self, entries: list[GridEntry]) -> None:
        """Ask where to save `entries` (JSON or CSV, by the dialog's file type) and export them."""
        if self.location is None or not entries:
            return
        folder = self.window_state.value("export_dir") or str(Path.home())
        json_filter, csv_filter = self.tr("JSON files (*.json)"), self.tr("CSV files (*.csv)")
        suggested = Path(folder) / f"{self.location.archive.name}-export.json"
        name, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export selection"), str(suggested), f"{json_filter};;{csv_filter}"
        )
        if not name:
            return
        out, fmt = export_target(Path(name), chosen == csv_filter)
        self.window_state.setValue("export_dir", str(out.parent))
        self.statusBar().showMessage(
            self.tr("Exporting {count} items to {path}…").format(count=len(entries), path=out)
        )
        self.item_jobs.export(self.location, [e.item_id for e in entries], out, fmt)

    def _on_exported(self, out: Path, count: int) -> None:
        self.statusBar().showMessage(
            self.tr("Exported {count} items to {path}").format(count=count, path=out), 15_000
        )

    def recaption(self, entries: list[GridEntry]) -> None:
        """Generate the captions of `entries` again (long-job pool); the details follow."""
        if self.location is None or not entries:
            return
        self.statusBar().showMessage(
            self.tr("Generating captions for {count} items…").format(count=len(entries))
        )
        self.item_jobs.recaption(self.location, [e.item_id for e in entries])

    def _on_recaptioned(self, result: RecaptionResult) -> None:
        message = self.tr("New captions: {done}").format(done=len(result.captioned))
        if result.failed:
            message += self.tr("; failed: {failed} ({why})").format(
                failed=len(result.failed), why=result.failed[0][1]
            )
        self.statusBar().showMessage(message, 15_000)
        current = self.grid.currentIndex().data(EntryRole)
        if current is not None and current.item_id in result.captioned:
            self._on_current(self.grid.currentIndex())

    def _job_failed(self, what: str, exc: Exception) -> None:
        logger.error("%s failed: %s", what, exc)
        QMessageBox.warning(
            self, self.tr("Not done"), self.tr("{what} failed: {error}").format(what=what, error=exc)
        )

    def open_duplicates(self) -> DuplicatesWindow | None:
        """Show the duplicates window for the open archive, looking for duplicates afresh."""
        if self.location is None:
            return None
        if self.duplicates_window is None:
            self.duplicates_window = DuplicatesWindow(self.long_tasks, self)
        self.duplicates_window.search(self.location)
        self.duplicates_window.show()
        self.duplicates_window.raise_()
        self.duplicates_window.activateWindow()
        return self.duplicates_window

    def _on_current(self, index) -> None:
        entry = index.data(EntryRole) if index.isValid() else None
        if entry is None or self.catalog_path is None:
            self.details.show_item(None)
            return
        path = self.catalog_path
        self.tasks.submit(
            lambda: _read_details(path, entry.item_id), self._show_details, self._background_failed
        )

    def _show_details(self, details) -> None:
        current = self.grid.currentIndex().data(EntryRole)
        if details is None or current is None or current.item_id != details.item_id:
            return
        self.details.show_item(details)
        full = self.full_path(GridEntry(details.item_id, details.path, details.hash))
        item_id = details.item_id
        self.tasks.submit(
            lambda: _read_preview(full, PREVIEW_SIZE),
            lambda image: self.details.show_preview(item_id, image),
            self._background_failed,
        )
        self.details_shown.emit(details.item_id)

    def _edit(self, item_id: int, kind: str, **values) -> CuratorEdit | None:
        """A curator edit of `item_id` in the open archive (naming its file, should its id change)."""
        if self.archive is None:
            return None
        shown = self.details.details
        entry = shown if shown is not None and shown.item_id == item_id else None
        if entry is None:
            entry = next((e for e in self.grid_model.entries() if e.item_id == item_id), None)
        return CuratorEdit(
            str(self.archive), item_id, entry.path if entry else "", kind,
            region=entry.region if entry else None, catalog_id=self.catalog_id or "", **values,
        )  # fmt: skip

    def _write(self, edit: CuratorEdit | None, on_failed) -> None:
        """Write a curator edit in the writer thread, or keep it (on disk) while the archive or its
        index is unavailable, to be written when it is back."""
        if edit is None or self.catalog_path is None:
            return
        if self.read_only:
            logger.warning("curator edit not saved, the index is read-only: %s", edit)
            self.statusBar().showMessage(self.tr(READ_ONLY_NOT_SAVED), 15_000)
            return
        path, pending, try_now = self.catalog_path, self.pending, self.problem is None
        self.writes.submit(lambda: _write_edit(path, edit, pending, try_now), self._on_written, on_failed)

    def save_description(self, item_id: int, text: str) -> None:
        """Write the description (called about a second after the last key, and on leaving it)."""
        self._write(self._edit(item_id, "description", text=text), self._save_failed)

    def edit_label(self, item_id: int, head: str, label: str, reject: bool) -> None:
        """Confirm (or reject) a label of an item as the curator's, then refresh the shown labels."""
        kind = "reject" if reject else "confirm"
        self._write(self._edit(item_id, kind, head=head, label=label), self._label_failed)

    def _on_written(self, result: EditResult) -> None:
        edit = result.edit
        if result.read_only:  # never kept: a read-only index will not take it later either
            logger.warning("curator edit not saved (%s): %s", result.error, edit)
            self._set_read_only(True)
            self.statusBar().showMessage(self.tr(READ_ONLY_NOT_SAVED), 15_000)
        elif not result.written:
            why = result.error or "archive unavailable"
            logger.warning("curator edit kept for later (%s): %s", why, edit)
            if self.problem is None:  # it failed while all looked well: checked now, retried after
                self._retry_kept = True
                message = self.tr(
                    "The edit could not be written now ({error}); it is kept and will be "
                    "written later ({count} waiting)"
                ).format(error=why, count=result.kept)
            else:
                message = self.tr(
                    "The archive is not available: your edit is kept and will be written when "
                    "it is back ({count} waiting)"
                ).format(count=result.kept)
            self.statusBar().showMessage(message, 15_000)  # fmt: skip
            self._show_kept(result.kept)
            self.check_health()
            self.edit_kept.emit(edit.item_id)
        elif edit.kind == "description":
            self.statusBar().showMessage(self.tr("Description saved"), 5_000)
            self.description_saved.emit(result.details.item_id)
        else:
            self._on_labels_saved(result.details)

    def _on_labels_saved(self, details) -> None:
        self.details.update_labels(details)
        self.statusBar().showMessage(self.tr("Labels saved"), 5_000)
        self.load_facets()  # category counts follow the curator's labels
        self.labels_saved.emit(details.item_id)

    def _label_failed(self, exc: Exception) -> None:
        logger.error("saving a label failed: %s", exc)
        QMessageBox.warning(
            self,
            self.tr("Label not saved"),
            self.tr("The label could not be saved: {error}").format(error=exc),
        )

    def _save_failed(self, exc: Exception) -> None:
        logger.error("saving a description failed: %s", exc)
        QMessageBox.warning(
            self,
            self.tr("Description not saved"),
            self.tr("The description could not be saved: {error}").format(error=exc),
        )

    def _write_kept_edits(self) -> None:
        """Write the curator edits kept while the open archive was unavailable (if any)."""
        if self.catalog_path is None or self.problem is not None or self.read_only:
            return  # a read-only index takes none: they stay kept (for when it can be written)
        path, archive, pending = self.catalog_path, str(self.archive), self.pending
        self.writes.submit(lambda: _write_kept(path, archive, pending), self._on_kept_written,
                           self._kept_failed)  # fmt: skip

    def _on_kept_written(self, counts: tuple[int, int]) -> None:
        written, dropped = counts
        if written or dropped:
            message = self.tr("Edits kept while the archive was unavailable are written: {count}").format(
                count=written
            )
            if dropped:
                message += self.tr("; {count} were for items no longer indexed").format(count=dropped)
            self.statusBar().showMessage(message, 15_000)
            self._show_kept(0)
            if self.mode == "browse":
                self.load_browse()
            current = self.grid.currentIndex()
            if current.isValid():
                self._on_current(current)  # the details show what was written
            self.kept_edits_written.emit(written)

    def _kept_failed(self, exc: Exception) -> None:
        logger.warning("kept curator edits not written yet: %s", exc)
        self.check_health()

    def _show_kept(self, count: int) -> None:
        self.kept_label.setText(
            self.tr("Edits waiting to be written: {count}").format(count=count) if count else ""
        )
        self.kept_label.setVisible(bool(count))

    # -- archive and index health -------------------------------------------------------------------

    def check_health(self) -> None:
        """Check in the pool that the archive and its index are there; the window's state follows."""
        if self.location is None or self._checking:
            return
        self._checking = True
        location, device, seen = self.location, self._device, self._catalog_seen
        self.tasks.submit(
            lambda: (location, check_archive(location, device, seen)), self._on_health, self._health_failed
        )

    def _health_failed(self, exc: Exception) -> None:
        self._checking = False
        logger.error("checking the archive failed: %s", exc)

    def _on_health(self, checked: tuple[IndexLocation, ArchiveHealth]) -> None:
        self._checking = False
        location, health = checked
        if location != self.location:
            return  # another archive was opened meanwhile
        if health.ok:
            self._device = health.device
            self._catalog_seen = self._catalog_seen or health.catalog_exists
            if self.problem is not None:
                self._resume(health)
            elif self._retry_kept:
                self._retry_kept = False
                self._write_kept_edits()
        elif self.problem is None or self.problem.problem != health.problem:
            self._enter_problem(health)

    def _enter_problem(self, health: ArchiveHealth) -> None:
        """Stop showing, searching and indexing what is no longer there; say what happened and what to do."""
        logger.warning("archive %s: %s", self.archive, health.detail)
        first = self.problem is None
        self.problem = health  # before the panels hide: an edit being typed is kept, not written
        if first:
            # Cancelled without waiting: a thread stuck on a vanished share must not freeze the window.
            if self.index_worker is not None:
                self.index_worker.cancel()
                self.index_worker = None
            self._show_indexing(False)
            self.search.index_changed()  # its catalog connection goes
            # Nothing that was read from the index stays on show (it comes back with the index).
            self.mode, self.last_results, self.last_request, self._request_id = "browse", None, None, 0
            self.grid_model.set_entries([])
            self.details.show_item(None)
            self.facets.show_facets(None)
            self.results_label.clear()
        self.problem_text.setText(
            self.tr(PROBLEM_TEXTS[health.problem]).format(
                archive=html.escape(str(self.archive)), catalog=html.escape(str(self.catalog_path))
            )
        )
        self.rebuild_button.setVisible(health.problem != UNAVAILABLE)
        self._show_kept(self.pending.count(str(self.archive)))
        self.index_label.setText(self.tr(PROBLEM_STATUS[health.problem]))
        self._set_errors(0)  # counted in an index that is not there now
        self.statusBar().clearMessage()
        self._update_panels()
        self.archive_state_changed.emit(health)

    def _resume(self, health: ArchiveHealth) -> None:
        """The archive and its index are back: show, search and index them again; write kept edits."""
        logger.info("archive %s is available again", self.archive)
        was, self.problem = self.problem.problem, None
        self.grid_model.set_thumbnails(ThumbnailCache(self.location.thumbnails_dir))  # none were readable
        self.search.index_changed()
        self.load_browse()
        self.load_facets()
        self._load_catalog_info()  # another medium at the same path has another catalog
        self._write_kept_edits()
        self.start_indexing()
        back = (
            self.tr("The archive is available again")
            if was == UNAVAILABLE
            else self.tr("The index can be read again")
        )
        self.statusBar().showMessage(back, 10_000)
        self._update_panels()
        self.archive_state_changed.emit(health)

    def rebuild_index(self) -> None:
        """Keep the damaged (or deleted) index aside and index the archive anew."""
        if self.catalog_path is None:
            return
        path, stamp = self.catalog_path, time.strftime("%Y%m%d-%H%M%S")
        pending, archive = self.pending, str(self.archive)
        self.catalog_id = None  # the new catalog has a new id: edits kept now are for it
        self.tasks.submit(
            lambda: _set_index_aside(path, stamp, pending, archive),
            self._on_set_aside,
            self._background_failed,
        )

    def _on_set_aside(self, kept: Path | None) -> None:
        self._catalog_seen = False  # no catalog until the new run creates one
        if kept is not None:
            self.statusBar().showMessage(
                self.tr("The damaged index is kept as {path}; indexing the archive anew").format(path=kept),
                15_000,
            )
        self.check_health()

    def _background_failed(self, exc: Exception) -> None:
        logger.warning("background job failed: %s", exc)
        if (
            isinstance(exc, NotACatalogError)
            and self.catalog_path is not None
            and str(self.catalog_path) in str(exc)  # not a job of an archive open before
            and (self.problem is None or self.problem.problem != INDEX_DAMAGED)
        ):  # the catalog every job opens is no catalog: the damaged-index state at once
            self._enter_problem(ArchiveHealth(INDEX_DAMAGED, str(exc), self._device, True))
        if isinstance(exc, STORAGE_ERRORS):
            self.check_health()  # a catalog that cannot be opened: the archive or its index went away
        if self.problem is None:
            self.statusBar().showMessage(str(exc), 10_000)

    # -- requests from other launches -------------------------------------------------------------

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
            self.find_similar_file(Path(similar))

    # -- closing ----------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        self.health_timer.stop()
        self.details.show_item(None)  # saves a description still being edited
        self.window_state.setValue("geometry", self.saveGeometry())
        self.window_state.setValue("panes", self.splitter.saveState())
        self.window_state.sync()
        self.stop_indexing()
        self.search.shutdown()
        self.item_jobs.cancel()
        if self.duplicates_window is not None:
            self.duplicates_window.close()
        self.long_tasks.pool.waitForDone(30_000)
        self.writes.pool.waitForDone(30_000)  # curator edits are written (or kept) before the exit
        self.tasks.pool.waitForDone(10_000)
        for pasted in self._pasted:  # query images pasted from the clipboard are not kept
            pasted.unlink(missing_ok=True)
        super().closeEvent(event)

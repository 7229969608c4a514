"""The open archive as the window's controllers share it, and the runners they do their work with.

The window opens archives (`open`: `opened`); the health controller says when the archive or its index
went away (`lose`: `lost`) and came back (`recover`: `back`) and sets `catalog_id`; the search
controller sets `mode`. Controllers follow those signals and otherwise only read. `message(text, ms)`
goes to the status bar, so controllers need no window. GUI thread only; jobs get copies of what they need.
"""

from __future__ import annotations

import copy
import logging
import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from desktop.pending_edits import FILE_NAME as PENDING_FILE
from desktop.pending_edits import PendingEdits
from desktop.workers.tasks import TaskRunner
from models.errors import ImagoError
from store import config
from store.config import Settings
from store.errors import CatalogError
from store.storage.archive import IndexLocation
from store.storage.health import ArchiveHealth, archive_device

logger = logging.getLogger(__name__)

# Failures of a catalog job that mean the catalog cannot be reached now (the archive or its index may
# have gone away): a curator edit failing so is kept for later, except for ReadOnlyIndexError (a
# CatalogError, refused at once: a read-only index will not take it later either).
STORAGE_ERRORS = (CatalogError, sqlite3.Error, OSError)


class ArchiveSession(QObject):
    """What is open (`archive`, `location`), in what state (`problem`, `read_only`, `mode`), and the
    TaskRunners: `tasks` for short jobs, `long_tasks` for export, re-caption and duplicates, `writes`
    (one thread) for curator edits, so edits of an item land in the order made."""

    message = Signal(str, int)  # status-bar text, how long it shows in ms (0: until replaced)
    opened = Signal()  # another archive is open: nothing of the last one stays on show
    lost = Signal()  # the archive or its index went away: stop showing, searching and indexing it
    back = Signal()  # it is back: show, search and index it again

    def __init__(self, models_dir: Path, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir = Path(models_dir)
        self.settings = settings
        self.archive: Path | None = None
        self.location: IndexLocation | None = None
        self.problem: ArchiveHealth | None = None  # the archive or its index went away
        self.catalog_id: str | None = None  # the open archive's catalog, once read
        self.read_only = False  # its index cannot be written: no edits, no indexing
        self.device: int | None = None  # the archive folder's st_dev when last seen well
        self.catalog_seen = False  # its catalog existed (so its absence is a problem)
        self.mode = "browse"  # or "results"
        self.tasks = TaskRunner(self)
        self.long_tasks = TaskRunner(self, threads=QThread.idealThreadCount())
        self.writes = TaskRunner(self, threads=1)
        self.pending = PendingEdits(config.user_data_dir() / PENDING_FILE)

    @property
    def catalog_path(self) -> Path | None:
        return self.location.catalog_path if self.location is not None else None

    @property
    def usable(self) -> bool:
        """An archive is open and it and its index are there."""
        return self.archive is not None and self.problem is None

    def open(self, archive: Path, location: IndexLocation) -> None:
        """Take `archive` (resolved) with its index `location` as the open one; nothing is read yet."""
        self.archive, self.location = archive, location
        self.problem, self.catalog_id, self.mode = None, None, "browse"
        self.read_only = location.read_only
        self.device = archive_device(archive)
        self.catalog_seen = location.catalog_path.is_file()
        self.opened.emit()

    def lose(self, health: ArchiveHealth) -> None:
        """Record a problem (`lost` the first time: a problem may change while it lasts)."""
        first = self.problem is None
        self.problem = health  # before the panels hide: an edit being typed is kept, not written
        if first:
            self.lost.emit()

    def recover(self) -> None:
        self.problem = None
        self.back.emit()

    def full_path(self, relative: str) -> Path:
        """The file at `relative` (an item's path) in the open archive."""
        return (self.archive or Path()) / relative

    def remember(self, archive: Path, most: int) -> list[str]:
        """Put `archive` first in the settings' recent archives (at most `most`), saved; the list."""
        recent = [str(archive)] + [p for p in self.settings.recent_archives if p != str(archive)]
        self.settings.recent_archives = recent[:most]
        try:
            self.settings.save()
        except (ImagoError, OSError) as exc:
            logger.warning("cannot save the recent archives: %s", exc)
        return self.settings.recent_archives

    def settings_copy(self) -> Settings:
        """A copy of the settings for a worker thread (the window's object may change meanwhile)."""
        return copy.deepcopy(self.settings)

    def say(self, text: str, ms: int = 0) -> None:
        self.message.emit(text, ms)

    def wait(self) -> None:
        """Let running jobs end before the window closes (curator edits are written or kept first)."""
        self.long_tasks.wait(30_000)
        self.writes.wait(30_000)
        self.tasks.wait(10_000)

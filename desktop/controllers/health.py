"""The open archive's health: checked every CHECK_MS, after failed catalog jobs and by the indexing
thread (`store.storage.health`). When the folder is gone or its catalog deleted or garbled, the window
stops showing, searching and indexing it and says so with what to do; it carries on by itself once a
check finds all well again. Also reads what the window keeps of the catalog (`CatalogInfo`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.controllers.session import STORAGE_ERRORS, ArchiveSession
from desktop.pending_edits import PendingEdits, catalog_id_of
from desktop.widgets.index_status import IndexStatus
from desktop.widgets.problem_panel import ProblemPanel, problem_status
from store.errors import NotACatalogError
from store.storage.archive import IndexLocation
from store.storage.health import (
    INDEX_DAMAGED,
    UNAVAILABLE,
    ArchiveHealth,
    check_archive,
    open_catalog,
    set_damaged_aside,
)

logger = logging.getLogger(__name__)

CHECK_MS = 2000  # how often the open archive and its index are checked while open


@dataclass(frozen=True)
class CatalogInfo:
    """What the window keeps of an open catalog: its id (kept edits name it), whether it is read-only
    (a read-only catalog file in a writable folder), and how many files failed to index."""

    path: Path
    catalog_id: str
    read_only: bool
    failed: int


def read_catalog_info(catalog_path: Path) -> CatalogInfo | None:
    """The catalog's CatalogInfo; None when there is no catalog yet."""
    if not catalog_path.is_file():
        return None
    with open_catalog(catalog_path) as catalog:
        failed = catalog.counts().get("failed", 0)
        return CatalogInfo(catalog_path, catalog_id_of(catalog), catalog.read_only, failed)


def set_index_aside(path: Path, stamp: str, pending: PendingEdits, archive: str) -> Path | None:
    """Keep the damaged catalog aside for a new one; the archive's kept edits go into the new one."""
    pending.release(archive)
    return set_damaged_aside(path, stamp)


class HealthController(QObject):
    """Sets `session.problem`; says what happened in `panel` and `status`."""

    all_well = Signal()  # a check found all well while nothing was wrong
    read_only_found = Signal()  # the catalog file is read-only
    state_changed = Signal(object)  # ArchiveHealth: a problem found, or all well again

    def __init__(self, session: ArchiveSession, panel: ProblemPanel, status: IndexStatus) -> None:
        super().__init__(session)
        self.session, self.panel, self.status = session, panel, status
        self._checking = False
        self.timer = QTimer(self, interval=CHECK_MS)
        self.timer.timeout.connect(self.check)
        panel.check_button.clicked.connect(self.check)
        panel.rebuild_button.clicked.connect(self.rebuild_index)

    def check(self) -> None:
        """Check in the pool that the archive and its index are there; the window's state follows."""
        session = self.session
        if session.location is None or self._checking:
            return
        self._checking = True
        location, device, seen = session.location, session.device, session.catalog_seen
        session.tasks.submit(
            lambda: (location, check_archive(location, device, seen)), self._on_checked, self._check_failed
        )

    def _check_failed(self, exc: Exception) -> None:
        self._checking = False
        logger.error("checking the archive failed: %s", exc)

    def _on_checked(self, checked: tuple[IndexLocation, ArchiveHealth]) -> None:
        self._checking = False
        location, health = checked
        session = self.session
        if location != session.location:
            return  # another archive was opened meanwhile
        if health.ok:
            session.device = health.device
            session.catalog_seen = session.catalog_seen or health.catalog_exists
            if session.problem is not None:
                self._resume(health)
            else:
                self.all_well.emit()
        elif session.problem is None or session.problem.problem != health.problem:
            self.enter_problem(health)

    def enter_problem(self, health: ArchiveHealth) -> None:
        """Stop showing, searching and indexing what is no longer there; say what happened and what to do."""
        session = self.session
        logger.warning("archive %s: %s", session.archive, health.detail)
        session.lose(health)
        self.panel.show_problem(health.problem, session.archive, session.catalog_path)
        self.panel.show_kept(session.pending.count(str(session.archive)))
        self.status.label.setText(problem_status(health.problem))
        self.status.set_errors(0)  # counted in an index that is not there now
        session.say("")
        self.state_changed.emit(health)

    def _resume(self, health: ArchiveHealth) -> None:
        """The archive and its index are back: show, search and index them again."""
        session = self.session
        logger.info("archive %s is available again", session.archive)
        was = session.problem.problem
        session.recover()
        self.load_catalog_info()  # another medium at the same path has another catalog
        back = (
            self.tr("The archive is available again")
            if was == UNAVAILABLE
            else self.tr("The index can be read again")
        )
        session.say(back, 10_000)
        self.state_changed.emit(health)

    def rebuild_index(self) -> None:
        """Keep the damaged (or deleted) index aside and index the archive anew."""
        session = self.session
        if session.catalog_path is None:
            return
        path, stamp = session.catalog_path, time.strftime("%Y%m%d-%H%M%S")
        pending, archive = session.pending, str(session.archive)
        session.catalog_id = None  # the new catalog has a new id: edits kept now are for it
        session.tasks.submit(
            lambda: set_index_aside(path, stamp, pending, archive), self._on_set_aside, self.job_failed
        )

    def _on_set_aside(self, kept: Path | None) -> None:
        self.session.catalog_seen = False  # no catalog until the new run creates one
        if kept is not None:
            self.session.say(
                self.tr("The damaged index is kept as {path}; indexing the archive anew").format(path=kept),
                15_000,
            )
        self.check()

    def job_failed(self, exc: Exception) -> None:
        """A background job failed: a catalog that is no catalog is a damaged index at once; one that
        cannot be opened may mean the archive or its index went away (checked); else it is said."""
        session = self.session
        logger.warning("background job failed: %s", exc)
        if (
            isinstance(exc, NotACatalogError)
            and session.catalog_path is not None
            and str(session.catalog_path) in str(exc)  # not a job of an archive open before
            and (session.problem is None or session.problem.problem != INDEX_DAMAGED)
        ):
            self.enter_problem(ArchiveHealth(INDEX_DAMAGED, str(exc), session.device, True))
        if isinstance(exc, STORAGE_ERRORS):
            self.check()
        if session.problem is None:
            session.say(str(exc), 10_000)

    def load_catalog_info(self) -> None:
        """Read the open catalog's CatalogInfo in the pool (one open: each open of a catalog that may
        be vanishing is one more chance of `Catalog` making an empty one, see `open_catalog`). Until
        it is known (or when the first indexing run makes the catalog) an edit is given its catalog's
        id when it is written or kept by the writer."""
        path = self.session.catalog_path
        if path is not None:
            self.session.tasks.submit(lambda: read_catalog_info(path), self._on_catalog_info, self.job_failed)

    def _on_catalog_info(self, info: CatalogInfo | None) -> None:
        session = self.session
        if info is None or info.path != session.catalog_path:
            return  # no catalog yet, or another archive was opened meanwhile
        self.status.set_errors(info.failed)
        session.catalog_id = info.catalog_id or None
        if info.read_only and not session.read_only:  # a read-only catalog file in a writable folder
            self.read_only_found.emit()

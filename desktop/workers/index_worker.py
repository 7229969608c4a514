"""Background indexing: a worker that drives `store.ingestion.indexer.Indexer.run()` and emits its progress.

It runs as one long job on the indexing TaskRunner (its own pool, so watching never holds a thread of
the shared pools; it has room for a cancelled run still ending, e.g. on a vanished share, beside the
next one). The job loads the models, opens its own (writer) Catalog and iterates the
indexer's generator;
each `Progress` dataclass is emitted as is. With the settings `watch_archive` or `rescan_minutes`,
the thread then keeps the index in step with the archive (`store.ingestion.watcher.watch`) until cancelled,
emitting an `IndexOutcome` after every run. pause()/resume()/cancel() are called from the GUI thread
and forwarded to the Indexer (and the watcher), which are safe to control from any thread.

Before each watched run the thread checks that the archive and its catalog are still there
(`store.storage.health`): a change seen because the folder was renamed away, unmounted or had its
index deleted or garbled ends the thread with an outcome naming the problem, instead of indexing a
vanished folder as "everything deleted". `totals` adds up what all of the thread's runs did.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.workers.tasks import TaskRunner
from models.errors import BundleError
from models.loading import load_ensemble_encoder, load_index_models
from store.config import Settings, user_data_dir
from store.ingestion.indexer import Indexer, IndexSummary
from store.ingestion.subphotos import detect_subphotos
from store.ingestion.watcher import ArchiveWatcher, index_and_watch
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.health import archive_device, check_archive

logger = logging.getLogger(__name__)

SECONDS_PER_MINUTE = 60.0  # the unit of the rescan setting (tests shorten it)
MAX_RUNNING = 16  # indexing threads at once (cancelled ones that have not ended yet count)
_runner: TaskRunner | None = None


def _index_runner() -> TaskRunner:
    """The runner of every indexing job, made on first use and kept for the process's lifetime (a
    worker may go while its job still ends; the pool must not go with it)."""
    global _runner
    if _runner is None:
        _runner = TaskRunner(threads=MAX_RUNNING)
    return _runner


@dataclass(frozen=True)
class IndexTotals:
    """What several indexing runs did together (files new, moved, removed)."""

    new: int = 0
    moved: int = 0
    removed: int = 0

    def __add__(self, other: IndexTotals) -> IndexTotals:
        return IndexTotals(self.new + other.new, self.moved + other.moved, self.removed + other.removed)

    @classmethod
    def of(cls, summary: IndexSummary) -> IndexTotals:
        return cls(summary.indexed, summary.moved, summary.removed)


@dataclass(frozen=True)
class IndexOutcome:
    """How a run ended: `summary` is the indexer's IndexSummary (None when it never started);
    `watching`: the thread goes on watching the archive and will run again on changes; `totals`:
    what all runs of this thread did so far; `problem`: the archive or its index went away (an
    `archive_health` constant; `error` says what) and the thread ended."""

    archive: Path
    summary: object | None
    error: str | None = None
    missing_models: bool = False
    watching: bool = False
    totals: IndexTotals = IndexTotals()
    problem: str | None = None


class IndexWorker(QObject):
    """Indexes one archive in the background; emits `progress(Progress)` and `outcome(IndexOutcome)`
    (once, or after every run while watching), then `finished()` once its thread is done.
    `settings` is the worker's own copy (the window's may change while it runs)."""

    progress = Signal(object)
    outcome = Signal(object)
    finished = Signal()

    def __init__(self, archive: Path, models_dir: Path, settings: Settings, captions: bool = True) -> None:
        super().__init__()
        self.archive = Path(archive)
        self.models_dir = Path(models_dir)
        self.settings = settings
        self._running = False
        self._ended = threading.Event()
        self.captions = captions
        self._lock = threading.Lock()
        self._indexer: Indexer | None = None
        self._watcher: ArchiveWatcher | None = None
        self._paused = False
        self._cancelled = False
        self.totals = IndexTotals()  # written by the thread only; read by the GUI once it has ended
        self.carried = False  # the window has added `totals` to its own (see MainWindow)

    # -- control from the GUI thread --------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._indexer is not None:
                self._indexer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._indexer is not None:
                self._indexer.resume()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._indexer is not None:
                self._indexer.cancel()
            if self._watcher is not None:
                self._watcher.stop()

    def start(self) -> None:
        """Start indexing (once)."""
        self._running = True
        _index_runner().submit(self._run, lambda _: self.finished.emit())

    def isRunning(self) -> bool:  # the QThread name its callers know
        return self._running

    def wait(self) -> None:
        """Block until the worker's thread is done (after `cancel()`, it ends at the next checkpoint)."""
        self._ended.wait()

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.outcome.emit(self._index())
        except Exception as exc:  # shown in the status bar; the traceback goes to the log
            logger.exception("indexing %s failed", self.archive)
            self.outcome.emit(IndexOutcome(self.archive, None, error=str(exc)))
        finally:
            self._running = False
            self._ended.set()

    def _make_watcher(self, archive: Path) -> ArchiveWatcher | None:
        """The watcher the settings ask for, or None for a single run."""
        minutes = self.settings.rescan_minutes
        if not self.settings.watch_archive and not minutes:
            return None
        return ArchiveWatcher(
            archive,
            observe=self.settings.watch_archive,
            rescan_interval_s=minutes * SECONDS_PER_MINUTE if minutes else None,
        )

    def _index(self) -> IndexOutcome:
        location = locate_index(self.archive)
        try:
            encoder, classifiers, captioner = load_index_models(
                self.models_dir, self.settings, self.captions, cache_dir=user_data_dir() / "cache"
            )
        except BundleError as exc:
            logger.warning("not indexing %s: %s", self.archive, exc)
            return IndexOutcome(self.archive, None, error=str(exc), missing_models=True)
        # A second model the settings name but that cannot be found is an error, not "no models".
        ensemble = load_ensemble_encoder(self.models_dir, self.settings, encoder.model_id)
        watcher = self._make_watcher(location.archive)
        captions = captioner is not None
        with Catalog(location.catalog_path) as catalog:
            indexer = Indexer(
                location, catalog, encoder, classifiers=classifiers, captioner=captioner,
                region_detector=detect_subphotos, ensemble_encoder=ensemble,
            )  # fmt: skip
            with self._lock:
                if self._cancelled:
                    return IndexOutcome(self.archive, None)
                self._indexer = indexer
                self._watcher = watcher
                if self._paused:
                    indexer.pause()
            device = archive_device(location.archive)
            problems = []

            def still_there() -> bool:
                health = check_archive(location, device)
                if not health.ok:
                    logger.warning("stopped watching %s: %s", self.archive, health.detail)
                    problems.append(health)
                return health.ok

            def run_done(summary: IndexSummary) -> None:
                self.totals += IndexTotals.of(summary)
                if watcher is not None and not indexer.cancelled:
                    self.outcome.emit(self._outcome(summary, watching=True))

            try:
                steps = index_and_watch(
                    indexer, watcher, captions=captions, on_run_done=run_done, still_there=still_there
                )
                for step in steps:
                    self.progress.emit(step)
            finally:
                with self._lock:
                    self._indexer = None
                    self._watcher = None
            if problems:
                health = problems[0]
                return IndexOutcome(
                    self.archive, None, error=health.detail, totals=self.totals, problem=health.problem
                )
            return self._outcome(indexer.summary)

    def _outcome(self, summary: IndexSummary | None, watching: bool = False) -> IndexOutcome:
        return IndexOutcome(self.archive, summary, watching=watching, totals=self.totals)

"""Background indexing: a QThread that drives `store.indexer.Indexer.run()` and emits its progress.

The thread loads the models, opens its own (writer) Catalog and iterates the indexer's generator;
each `Progress` dataclass is emitted as is. pause()/resume()/cancel() are called from the GUI thread
and forwarded to the Indexer, which is safe to control from any thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from models.errors import BundleError
from store.archive import locate_index
from store.catalog import Catalog
from store.config import Settings
from store.engine import load_index_models, region_detector
from store.indexer import Indexer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexOutcome:
    """How a run ended: `summary` is the indexer's IndexSummary (None when it never started)."""

    archive: Path
    summary: object | None
    error: str | None = None
    missing_models: bool = False


class IndexWorker(QThread):
    """Indexes one archive in the background; emits `progress(Progress)` then `outcome(IndexOutcome)`."""

    progress = Signal(object)
    outcome = Signal(object)

    def __init__(self, archive: Path, models_dir: Path, settings: Settings, captions: bool = True) -> None:
        super().__init__()
        self.archive = Path(archive)
        self.models_dir = Path(models_dir)
        self.settings = settings
        self.captions = captions
        self._lock = threading.Lock()
        self._indexer: Indexer | None = None
        self._paused = False
        self._cancelled = False

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

    # -- the thread -------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.outcome.emit(self._index())
        except Exception as exc:  # shown in the status bar; the traceback goes to the log
            logger.exception("indexing %s failed", self.archive)
            self.outcome.emit(IndexOutcome(self.archive, None, error=str(exc)))

    def _index(self) -> IndexOutcome:
        location = locate_index(self.archive)
        try:
            encoder, classifiers, captioner = load_index_models(self.models_dir, self.settings, self.captions)
        except BundleError as exc:
            logger.warning("not indexing %s: %s", self.archive, exc)
            return IndexOutcome(self.archive, None, error=str(exc), missing_models=True)
        with Catalog(location.catalog_path) as catalog:
            indexer = Indexer(
                location, catalog, encoder, classifiers=classifiers, captioner=captioner,
                region_detector=region_detector(),
            )  # fmt: skip
            with self._lock:
                if self._cancelled:
                    return IndexOutcome(self.archive, None)
                self._indexer = indexer
                if self._paused:
                    indexer.pause()
            for step in indexer.run(captions=captioner is not None):
                self.progress.emit(step)
            with self._lock:
                self._indexer = None
            return IndexOutcome(self.archive, indexer.summary)

"""Long jobs on the items the curator chose in the grid: export them (JSON/CSV), caption them again.

They run on the window's long-job pool, so a slow re-caption never holds up thumbnails and details
(the short jobs), and open their own Catalog there. A re-caption stops at the next file once
`cancel()` is called (the window closing).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.workers.tasks import TaskRunner
from models.loading import load_captioner
from store.config import Settings
from store.ingestion.recaption import RecaptionResult, recaption
from store.services.export import export_items, open_vector_index, write_csv, write_json
from store.storage.archive import IndexLocation
from store.storage.health import open_catalog

logger = logging.getLogger(__name__)

SUFFIXES = {"json": ".json", "csv": ".csv"}


def export_target(path: Path, csv_chosen: bool) -> tuple[Path, str]:
    """The file and format ("json" or "csv") to export to: a .json or .csv suffix typed by the
    curator wins; otherwise the save dialog's file type decides, and its suffix is added."""
    for fmt, suffix in SUFFIXES.items():
        if path.suffix.lower() == suffix:
            return path, fmt
    fmt = "csv" if csv_chosen else "json"
    return path.with_name(path.name + SUFFIXES[fmt]), fmt


def export_to_file(location: IndexLocation, item_ids: Sequence[int], out: Path, fmt: str) -> int:
    """Write the export rows of `item_ids` to `out`; the number of rows written."""
    with open_catalog(location.catalog_path) as catalog:
        rows = export_items(catalog, open_vector_index(catalog, location.path), item_ids=item_ids)
        if fmt == "csv":
            return write_csv(rows, out)
        return write_json(rows, out, location.archive.name)


def recaption_items(
    location: IndexLocation, models_dir: Path, settings: Settings, item_ids: Sequence[int],
    cancel: threading.Event,
) -> RecaptionResult:  # fmt: skip
    captioner = load_captioner(models_dir, settings)
    with open_catalog(location.catalog_path) as catalog:
        return recaption(catalog, location.archive, captioner, item_ids, should_stop=cancel.is_set)


class ItemJobs(QObject):
    """Starts export and re-caption jobs; their ends come back as signals on the GUI thread."""

    exported = Signal(object, int)  # (file, rows written)
    recaptioned = Signal(object)  # RecaptionResult
    failed = Signal(str, object)  # (what failed, in words; the exception)

    def __init__(self, tasks: TaskRunner, models_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.models_dir = models_dir
        self._cancel = threading.Event()

    def export(self, location: IndexLocation, item_ids: Sequence[int], out: Path, fmt: str) -> None:
        ids = list(item_ids)
        self.tasks.submit(
            lambda: export_to_file(location, ids, out, fmt),
            lambda count: self.exported.emit(out, count),
            lambda exc: self.failed.emit(self.tr("Export to {path}").format(path=out), exc),
        )

    def recaption(self, location: IndexLocation, item_ids: Sequence[int], settings: Settings) -> None:
        """Caption `item_ids` again with the caption model `settings` (the job's own copy) name."""
        ids, cancel = list(item_ids), self._cancel
        self.tasks.submit(
            lambda: recaption_items(location, self.models_dir, settings, ids, cancel),
            self.recaptioned.emit,
            lambda exc: self.failed.emit(self.tr("Re-caption"), exc),
        )

    def cancel(self) -> None:
        """Stop running re-captions at their next file (the window is closing)."""
        self._cancel.set()

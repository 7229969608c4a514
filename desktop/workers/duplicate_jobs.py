"""The duplicates window's pool jobs: look for the groups (cancellable), save marks, load thumbnails.

Each runs in a pool thread and opens its own Catalog; none touches widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from store.services.duplicates import DuplicateGroup, find_duplicates
from store.services.export import open_vector_index
from store.services.keep_suggestion import KeepSuggestion, suggest_keep
from store.storage.archive import IndexLocation
from store.storage.health import open_catalog
from store.storage.marks import read_marks, write_marks
from store.storage.thumbnails import ThumbnailCache


@dataclass(frozen=True)
class DuplicatesFound:
    """What `find` found: the groups, their keep suggestions and the marks of their files."""

    groups: list[DuplicateGroup]
    suggestions: list[KeepSuggestion]  # one per group
    marks: dict[int, str]  # item id -> the curator's mark


class Cancelled(Exception):
    """The window was closed or the search restarted while duplicates were being looked for."""


def find(location: IndexLocation, cancel: threading.Event, step: Callable[[object], None]) -> DuplicatesFound:
    """The duplicate groups of `location`'s archive; raises Cancelled at a progress report once
    `cancel` is set."""

    def report(done: int, total: int) -> None:
        if cancel.is_set():
            raise Cancelled
        step((done, total))  # representatives compared, all of them

    with open_catalog(location.catalog_path) as catalog:
        groups = find_duplicates(
            catalog, open_vector_index(catalog, location.path), location.archive,
            thumbnails=ThumbnailCache(location.thumbnails_dir), progress=report,
        )  # fmt: skip
        marks = read_marks(catalog, {m.item_id for g in groups for m in g.members})
    return DuplicatesFound(groups, [suggest_keep([m.copy for m in g.members]) for g in groups], marks)


def save_marks(catalog_path: Path, marks: dict[int, str | None]) -> None:
    """Write the curator's marks (None removes one) in one transaction."""
    with open_catalog(catalog_path) as catalog:
        write_marks(catalog, marks)


def load_thumbnails(paths: list[tuple[int, Path]], size: int) -> list[tuple[int, QImage]]:
    """The thumbnails at `paths` scaled to fit `size`, by item id (unreadable ones left out)."""
    out = []
    for item_id, path in paths:
        image = QImage(str(path))  # QImage (unlike QPixmap) may be built off the GUI thread
        if not image.isNull():
            out.append((item_id, image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation)))  # fmt: skip
    return out

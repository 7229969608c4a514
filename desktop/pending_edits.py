"""Curator edits that could not be written yet, kept on disk until their archive's catalog takes them.

A description or label edited while the archive is unavailable (or its index damaged) is not lost:
it goes to `<user data dir>/pending-edits.json` and is written when the window finds the archive
usable again (or when the archive is next opened, even after a crash or restart).

Thread-safety: the window runs every method in its single-thread writer pool, so edits of one item
are written (or kept) in the order they were made; a lock still guards the list for `count()` from
the GUI thread.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from models.errors import ImagoError
from store.browse import item_details, visible_items
from store.catalog import Catalog
from store.curation import CurationService

logger = logging.getLogger(__name__)

FILE_NAME = "pending-edits.json"


class ItemGoneError(ImagoError):
    """The item a curator edit is for is no longer in the catalog."""


@dataclass(frozen=True)
class CuratorEdit:
    """One edit of one item: `kind` is "description" (with `text`), "confirm" or "reject" (with
    `head` and `label`). `path` and `region` name the item should its id change (index rebuilt)."""

    archive: str
    item_id: int
    path: str
    kind: str
    text: str = ""
    head: str = ""
    label: str = ""
    region: tuple[int, int, int, int] | None = None

    def apply(self, catalog: Catalog) -> int | None:
        """Write the edit; the item id it was written to, or None when the item is gone."""
        item_id = self._find(catalog)
        if item_id is None:
            return None
        if self.kind == "description":
            catalog.set_description(item_id, self.text)
        else:
            curation = CurationService(catalog)
            (curation.reject_label if self.kind == "reject" else curation.confirm_label)(
                item_id, self.head, self.label
            )
        return item_id

    def _find(self, catalog: Catalog) -> int | None:
        details = item_details(catalog, self.item_id)
        if details is not None and (
            not self.path or (details.path, details.region) == (self.path, self.region)
        ):
            return self.item_id  # the same item (or one named by its id only)
        for item in visible_items(catalog):  # the index was rebuilt: the same file (and region)
            if item.path == self.path and item.region == self.region:
                return item.item_id
        return None


class PendingEdits:
    """The kept edits of all archives, in the order they were made, mirrored in `file`."""

    def __init__(self, file: Path) -> None:
        self.file = Path(file)
        self._lock = threading.Lock()
        self._edits: list[CuratorEdit] | None = None  # read on first use

    def _loaded(self) -> list[CuratorEdit]:
        if self._edits is None:
            self._edits = []
            try:
                rows = json.loads(self.file.read_text("utf-8"))
                for row in rows:
                    region = row.get("region")
                    self._edits.append(CuratorEdit(**(row | {"region": tuple(region) if region else None})))
            except FileNotFoundError:
                pass
            except (OSError, ValueError, TypeError) as exc:
                logger.error("cannot read the kept curator edits in %s: %s", self.file, exc)
        return self._edits

    def _save(self) -> None:
        edits = self._loaded()
        if not edits:
            self.file.unlink(missing_ok=True)
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".pending-", dir=self.file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump([asdict(e) for e in edits], out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, self.file)

    def add(self, edit: CuratorEdit) -> int:
        """Keep `edit` (on disk at once); the number kept for its archive."""
        with self._lock:
            self._loaded().append(edit)
            self._save()
            return sum(e.archive == edit.archive for e in self._edits)

    def count(self, archive: str) -> int:
        with self._lock:
            return sum(e.archive == archive for e in self._loaded())

    def write(self, archive: str, catalog: Catalog) -> tuple[int, int]:
        """Write the kept edits of `archive` in order, stopping at the first failure (which is raised,
        the edits left kept); (written, dropped because their item is gone)."""
        written = dropped = 0
        with self._lock:
            edits = self._loaded()
            try:
                while True:
                    edit = next((e for e in edits if e.archive == archive), None)
                    if edit is None:
                        break
                    if edit.apply(catalog) is None:
                        logger.warning("item of a kept edit is gone; dropped: %s", edit)
                        dropped += 1
                    else:
                        written += 1
                    edits.remove(edit)
            finally:
                if written or dropped:
                    self._save()
        return written, dropped

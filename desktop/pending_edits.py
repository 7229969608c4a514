"""Curator edits that could not be written yet, kept on disk until their archive's catalog takes them.

A description or label edited while the archive is unavailable (or its index damaged) is not lost:
it goes to `<user data dir>/pending-edits.json` (written atomically: a temporary file, then
os.replace) and is written when the window finds the archive usable again (or when the archive is
next opened, even after a crash or restart).

An edit names its archive by path and, when it was known, its catalog by `catalog_id`: removable
media and shares reuse mount paths, so an edit is written only into the catalog it was made in (one
for another catalog stays kept, and is logged; an index the curator has built anew takes the archive's
kept edits: `release`). A file that cannot be read is moved aside
(`pending-edits.json.unreadable-<time>`) before anything is written again; a row that cannot be read
is skipped, the file it came from copied aside the same way.

Thread-safety: the window runs `add` and `write` in its single-thread writer pool, so edits of one
item are written (or kept) in the order they were made. `_lock` guards only the list in memory (never
held during catalog I/O or a write of the file; only the first read of the small local file happens
under it), so `count()` from the GUI thread never waits on a slow catalog; `_file_lock` keeps writes
of the file in order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from models.errors import ImagoError
from store.errors import CatalogError
from store.services.browse import item_details, visible_items
from store.services.curation import CurationService
from store.storage.atomic import atomic_replace
from store.storage.catalog import Catalog

logger = logging.getLogger(__name__)

FILE_NAME = "pending-edits.json"


class ItemGoneError(ImagoError):
    """The item a curator edit is for is no longer in the catalog."""


@dataclass(frozen=True)
class CuratorEdit:
    """One edit of one item: `kind` is "description" (with `text`), "confirm" or "reject" (with
    `head` and `label`). `path` and `region` name the item should its id change (index rebuilt).
    `catalog_id`: the catalog it was made in (`Catalog.catalog_id`); "" when not known (any catalog
    of the archive takes it)."""

    archive: str
    item_id: int
    path: str
    kind: str
    text: str = ""
    head: str = ""
    label: str = ""
    region: tuple[int, int, int, int] | None = None
    catalog_id: str = ""

    def fits(self, catalog: Catalog) -> bool:
        """Whether `catalog` is the one this edit was made in (or the edit names none)."""
        return not self.catalog_id or self.catalog_id == catalog_id_of(catalog)

    def apply(self, catalog: Catalog) -> int | None:
        """Write the edit; the item id it was written to, or None when the item is gone."""
        item_id = self._find(catalog)
        if item_id is None:
            return None
        curation = CurationService(catalog)
        if self.kind == "description":
            curation.set_description(item_id, self.text)
        else:
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


def catalog_id_of(catalog: Catalog) -> str:
    """The catalog's id, or "" when it has none (an older catalog read as it is)."""
    try:
        return catalog.catalog_id
    except CatalogError as exc:
        logger.info("%s", exc)
        return ""


_FIELDS = {f.name for f in fields(CuratorEdit)}


def _edit_from_row(row: object) -> CuratorEdit:
    """A kept edit from one row of the file; TypeError/ValueError when the row is not one."""
    if not isinstance(row, dict) or set(row) - _FIELDS:
        raise TypeError(f"not a kept edit: {row!r:.200}")
    region = row.get("region")
    return CuratorEdit(**(row | {"region": tuple(int(v) for v in region) if region else None}))


class PendingEdits:
    """The kept edits of all archives, in the order they were made, mirrored in `file`."""

    def __init__(self, file: Path) -> None:
        self.file = Path(file)
        self._lock = threading.Lock()  # the list only: never held during catalog I/O or file writes
        self._file_lock = threading.Lock()  # one writer of the file at a time, the newest list last
        self._edits: list[CuratorEdit] | None = None  # read on first use
        self._keep_file = False  # an unreadable file could not be set aside: never overwrite it

    def _set_aside(self, copy: bool) -> None:
        """Keep the file as `<name>.unreadable-<time>` (moved, or copied when `copy`), so that what
        could not be read is not overwritten by the next save; when that fails, the file is never
        overwritten (`_save` raises)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.file.with_name(f"{self.file.name}.unreadable-{stamp}")
        number = 1
        while target.exists():  # one set aside earlier in the same second stays
            number += 1
            target = self.file.with_name(f"{self.file.name}.unreadable-{stamp}-{number}")
        try:
            if copy:
                target.write_bytes(self.file.read_bytes())
            else:
                os.replace(self.file, target)
        except OSError as exc:
            logger.error("cannot keep the unreadable kept-edits file %s aside: %s", self.file, exc)
            self._keep_file = True
            return
        logger.error("the kept curator edits that could not be read are in %s", target)

    def _read(self) -> list[CuratorEdit]:
        try:
            rows = json.loads(self.file.read_text("utf-8"))
            if not isinstance(rows, list):
                raise ValueError("not a list of edits")
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            logger.error("cannot read the kept curator edits in %s: %s", self.file, exc)
            self._set_aside(copy=False)
            return []
        edits = []
        for number, row in enumerate(rows):
            try:
                edits.append(_edit_from_row(row))
            except (TypeError, ValueError) as exc:
                logger.error("kept curator edit %d in %s skipped: %s", number, self.file, exc)
        if len(edits) < len(rows):
            self._set_aside(copy=True)
        return edits

    def _loaded(self) -> list[CuratorEdit]:
        """The list (read from the file on first use); call with `_lock` held."""
        if self._edits is None:
            self._edits = self._read()
        return self._edits

    def _save(self) -> None:
        """Write the list as it is now (atomically); never called with `_lock` held."""
        with self._file_lock:
            with self._lock:
                edits = list(self._loaded())
            if self._keep_file:
                raise OSError(f"the unreadable kept curator edits in {self.file} are not overwritten")
            if not edits:
                self.file.unlink(missing_ok=True)
                return
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with atomic_replace(self.file, prefix=".pending-") as tmp, tmp.open("w", encoding="utf-8") as out:
                json.dump([asdict(e) for e in edits], out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())

    def add(self, edit: CuratorEdit) -> int:
        """Keep `edit` (on disk at once); the number kept for its archive."""
        with self._lock:
            edits = self._loaded()
            edits.append(edit)
            count = sum(e.archive == edit.archive for e in edits)
        self._save()
        return count

    def count(self, archive: str) -> int:
        """How many edits of `archive` are kept (cheap: the list in memory, after its first read)."""
        with self._lock:
            return sum(e.archive == archive for e in self._loaded())

    def release(self, archive: str) -> None:
        """Let the kept edits of `archive` go into any catalog of it (its index is being built anew,
        with a new catalog id, by the curator's choice)."""
        with self._lock:
            edits = self._loaded()
            changed = [e for e in edits if e.archive == archive and e.catalog_id]
            edits[:] = [dataclasses.replace(e, catalog_id="") if e.archive == archive else e for e in edits]
        if changed:
            self._save()

    def write(self, archive: str, catalog: Catalog) -> tuple[int, int]:
        """Write the kept edits of `archive` in order, stopping at the first failure (which is raised,
        the edits left kept); (written, dropped because their item is gone). An edit made in another
        catalog (another medium mounted at the same path) is not written: it stays kept."""
        written = dropped = 0
        passed: list[CuratorEdit] = []  # kept for another catalog (ids compared: equal edits may repeat)
        try:
            while True:
                with self._lock:
                    skip = {id(e) for e in passed}
                    edit = next(
                        (e for e in self._loaded() if e.archive == archive and id(e) not in skip), None
                    )
                if edit is None:
                    break
                if not edit.fits(catalog):
                    logger.warning(
                        "kept edit not written: made in catalog %s, %s is catalog %s (another medium at the "
                        "same path?); it stays kept: %s", edit.catalog_id, catalog.path,
                        catalog_id_of(catalog), edit,
                    )  # fmt: skip
                    passed.append(edit)
                    continue
                if edit.apply(catalog) is None:  # catalog I/O, outside the lock
                    logger.warning("item of a kept edit is gone; dropped: %s", edit)
                    dropped += 1
                else:
                    written += 1
                with self._lock:
                    edits = self._loaded()
                    edits[:] = [e for e in edits if e is not edit]
        finally:
            if written or dropped:
                self._save()
        return written, dropped

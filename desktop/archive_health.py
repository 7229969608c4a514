"""Whether the open archive and its index are still there: one check, fed by every source of doubt.

The window runs `check_archive` in its pool every few seconds, at once after a failed catalog open
or write, and the indexing thread runs it before each watched run (`desktop.index_worker`). A problem
puts the window in one "archive unavailable / index damaged" state; a later check that finds all
well ends it. Nothing here needs Qt; it only looks at the file system (a few stat calls and the
first 16 bytes of the catalog), so it is cheap enough to run often.

`open_catalog` is how the window's background jobs open an existing catalog: unlike `Catalog(path)`,
it never creates an empty database in place of a deleted one, and it refuses a file whose header is
not SQLite's (SQLite itself may go on reading a garbled file's first page from its write-ahead log).
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from store.archive import IndexLocation
from store.catalog import Catalog
from store.errors import CatalogError

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
UNAVAILABLE = "unavailable"  # the archive folder is gone: renamed, moved, deleted, unmounted
INDEX_MISSING = "index-missing"  # the catalog file was deleted
INDEX_DAMAGED = "index-damaged"  # the catalog file is not a readable SQLite database


@dataclass(frozen=True)
class ArchiveHealth:
    """The outcome of one check: `problem` is None when all is well, else one of the constants above,
    with `detail` in words (for the log and the window). `device` is the archive folder's st_dev when
    it could be read; `catalog_exists` whether the catalog file is there."""

    problem: str | None = None
    detail: str = ""
    device: int | None = None
    catalog_exists: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


def catalog_problem(path: Path) -> str | None:
    """INDEX_MISSING, INDEX_DAMAGED or None, from the catalog file's first bytes."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return INDEX_MISSING
    except OSError as exc:
        logger.warning("cannot read catalog %s: %s", path, exc)
        return INDEX_DAMAGED
    if head and head != SQLITE_HEADER:  # an empty file is a database being created
        return INDEX_DAMAGED
    return None


def _is_empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def check_archive(
    location: IndexLocation, device: int | None = None, catalog_seen: bool = True
) -> ArchiveHealth:
    """Check the archive folder and its catalog.

    `device`: the folder's st_dev when it was opened; a folder that is now on another device and
    empty is an unmounted share's mount point. `catalog_seen`: whether the catalog existed before
    (until the first indexing run creates it, its absence is no problem)."""
    archive = location.archive
    try:
        info = os.stat(archive)
        if not stat.S_ISDIR(info.st_mode):
            return ArchiveHealth(UNAVAILABLE, f"not a folder any more: {archive}")
        empty = _is_empty(archive)
    except OSError as exc:
        return ArchiveHealth(UNAVAILABLE, f"archive folder not reachable: {archive} ({exc.strerror or exc})")
    if device is not None and info.st_dev != device and empty:
        return ArchiveHealth(UNAVAILABLE, f"archive folder empty, on another device (unmounted?): {archive}")
    problem = catalog_problem(location.catalog_path)
    if problem == INDEX_MISSING:
        if not catalog_seen:
            return ArchiveHealth(device=info.st_dev)
        if empty:  # a mount point without its share, or a folder emptied under us
            return ArchiveHealth(UNAVAILABLE, f"archive folder is empty (unmounted?): {archive}")
        return ArchiveHealth(INDEX_MISSING, f"index file deleted: {location.catalog_path}", info.st_dev)
    if problem == INDEX_DAMAGED:
        return ArchiveHealth(
            INDEX_DAMAGED, f"index file is not a database: {location.catalog_path}", info.st_dev, True
        )
    return ArchiveHealth(device=info.st_dev, catalog_exists=True)


def open_catalog(path: Path) -> Catalog:
    """Open an existing catalog; CatalogError when it is missing or its header is not SQLite's."""
    problem = catalog_problem(path)
    if problem == INDEX_MISSING:
        raise CatalogError(f"catalog not found: {path}")
    if problem == INDEX_DAMAGED:
        raise CatalogError(f"catalog is damaged (not an SQLite database): {path}")
    return Catalog(path)


def set_damaged_aside(path: Path, stamp: str) -> Path | None:
    """Rename a damaged catalog (and its WAL/SHM files) to `<name>.damaged-<stamp>` so a new one can
    be built; the new name of the catalog, or None when there was none."""
    kept = None
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            target = path.with_name(f"{path.name}{suffix}.damaged-{stamp}")
            os.replace(source, target)
            kept = target if not suffix else kept
    return kept

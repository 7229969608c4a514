"""Whether the open archive and its index are still there: one check, fed by every source of doubt.

The window runs `check_archive` in its pool every few seconds, at once after a failed catalog open
or write, and the indexing thread runs it before each watched run (`desktop.workers.index_worker`). A problem
puts the window in one "archive unavailable / index damaged" state; a later check that finds all
well ends it. Nothing here needs Qt; it only looks at the file system (a few stat calls, the
first 16 bytes of the catalog and, through a query-only connection, its list of tables), so it is
cheap enough to run often, and it calls damaged every catalog `Catalog()` would refuse
(NotACatalogError): an empty file, another program's database, one with tables missing.

`open_catalog` is how the window's background jobs open an existing catalog: unlike `Catalog(path)`,
it refuses a missing catalog, and one deleted while it is being opened is not created anew (SQLite
opens it `mode=rw`). Like `Catalog`, it refuses one that is not an Imago catalog
(`store.storage.database.check_catalog_file`, `check_catalog_schema`: SQLite itself may go on reading
a garbled file's first page from its write-ahead log).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from store.errors import CatalogError, NotACatalogError
from store.storage.archive import IndexLocation
from store.storage.catalog import Catalog
from store.storage.database import check_catalog_file, check_catalog_schema, sqlite_uri

logger = logging.getLogger(__name__)

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
    """INDEX_MISSING, INDEX_DAMAGED or None: the same tests `Catalog(path)` makes before it opens a file
    (its header: an empty file or other bytes are no catalog; its tables: another program's database or
    one with tables missing is none either), so a catalog every job would refuse is never called well.
    Reads the first 16 bytes and the table list (a query-only connection, no write)."""
    try:
        check_catalog_file(path)
    except NotACatalogError as exc:
        logger.debug("%s", exc)  # checked every few seconds: the window logs the state once
        return INDEX_DAMAGED
    except CatalogError as exc:
        if isinstance(exc.__cause__, FileNotFoundError) or not os.path.lexists(path):
            return INDEX_MISSING
        logger.warning("%s", exc)
        return INDEX_DAMAGED
    return _schema_problem(path)


def _schema_problem(path: Path) -> str | None:
    """INDEX_DAMAGED when the SQLite file at `path` is no Imago catalog (`check_catalog_schema`) or
    SQLite finds it malformed; None when it is one, or when SQLite cannot say now (busy, cannot open
    here: e.g. a read-only medium without its -shm file; the jobs' own open reports that)."""
    try:
        conn = sqlite3.connect(sqlite_uri(path.resolve(), "mode=ro"), uri=True, timeout=1.0)
    except sqlite3.Error as exc:
        logger.debug("no schema check of %s: %s", path, exc)
        return None
    try:
        check_catalog_schema(conn, path)
    except NotACatalogError as exc:
        logger.debug("%s", exc)
        return INDEX_DAMAGED
    except sqlite3.OperationalError as exc:  # locked, or no -shm on a read-only medium: no verdict
        logger.debug("no schema check of %s: %s", path, exc)
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        logger.debug("catalog %s cannot be read: %s", path, exc)
        return INDEX_DAMAGED
    finally:
        conn.close()
    return None


def archive_device(archive: Path) -> int | None:
    """The archive folder's st_dev (what `check_archive` takes as `device`), or None when it cannot be
    read now (gone already: the first check says so)."""
    try:
        return os.stat(archive).st_dev
    except OSError:
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
            INDEX_DAMAGED,
            f"index file is not a database (of Imago): {location.catalog_path}",
            info.st_dev,
            True,
        )
    return ArchiveHealth(device=info.st_dev, catalog_exists=True)


def open_catalog(path: Path) -> Catalog:
    """Open an existing catalog. CatalogError when it is missing (also when it is deleted while being
    opened: nothing is created in its place), NotACatalogError when it is no Imago catalog (empty, not
    SQLite, foreign or missing tables: `Catalog` checks)."""
    return Catalog(path, create=False)


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

"""Rolling backups of the catalog (SQLite's online backup API) and restoring one of them.

The catalog is the only copy of the curators' work (descriptions, labels, regions, marks), so it is
copied to `<index folder>/backups/catalog-<UTC time>-<kind>.db`:

- kind `migration`: before each schema migration (by `Catalog`);
- kind `daily`: when an indexing run starts and the newest daily copy is a day old or more;
- kind `restore`: the catalog as it was just before `restore()` replaced it, so a restore can be undone.

KEEP copies of each kind are kept. Each is made with the backup API (a consistent snapshot while others
read and write), written under a temporary name and renamed into place, so a backup file is whole.

Restoring (`restore()`, the CLI's `imago restore ARCHIVE [--list] [--from NAME]`): the chosen backup is
checked (`PRAGMA integrity_check`), the current catalog is backed up (or, when it is not a valid catalog,
moved aside as `catalog.db.broken-<time>`, never deleted), the backup's content replaces it, and the
vector index files are removed (they are rebuilt from the restored catalog). It refuses while an
indexer runs on the archive; other Imago windows on the archive should be closed first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from store.errors import BackupError, CatalogError, NotACatalogError
from store.storage.database import check_catalog_file, check_catalog_schema, sqlite_uri
from store.storage.schema import schema_version

logger = logging.getLogger(__name__)

BACKUPS_DIR = "backups"
KEEP = 3  # copies kept of each kind
DAILY_S = 24 * 3600
KINDS = ("daily", "migration", "restore")
_NAME = re.compile(r"^catalog-(\d{8}T\d{6}Z)(?:-(\d+))?-(daily|migration|restore)\.db$")


@dataclass(frozen=True)
class Backup:
    """One backup file of a catalog."""

    path: Path
    kind: str
    created: float  # epoch seconds (UTC time in the name)
    serial: int = 0  # several backups in one second

    @property
    def name(self) -> str:
        return self.path.name

    def describe(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))
        size = self.path.stat().st_size if self.path.exists() else 0
        return f"{self.name}  {stamp}  {self.kind}  {size / 1e6:.1f} MB"


@dataclass(frozen=True)
class RestoreResult:
    restored: Backup
    catalog: Path
    previous: Path | None  # the backup of the replaced catalog, or where a broken one was moved


def backups_dir(catalog_path: Path) -> Path:
    return Path(catalog_path).parent / BACKUPS_DIR


def list_backups(catalog_path: Path) -> list[Backup]:
    """The catalog's backups, newest first."""
    folder = backups_dir(catalog_path)
    found = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackupError(f"cannot list backups in {folder}: {exc.strerror or exc}") from exc
    for name in names:
        match = _NAME.match(name)
        if match is None:
            continue
        created = _parse_stamp(match.group(1))
        found.append(Backup(folder / name, match.group(3), created, int(match.group(2) or 0)))
    found.sort(key=lambda b: (b.created, b.serial), reverse=True)
    return found


def _parse_stamp(stamp: str) -> float:
    import calendar

    return float(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))


def backup_catalog(
    conn: sqlite3.Connection, catalog_path: Path, kind: str, *, keep: int = KEEP, now: float | None = None
) -> Path:
    """Copy the database open on `conn` to a new backup file of `kind`; keep the newest `keep` of
    that kind. Returns the new file's path."""
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    folder = backups_dir(catalog_path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    target = folder / f"catalog-{stamp}-{kind}.db"
    serial = 1
    while target.exists():
        serial += 1
        target = folder / f"catalog-{stamp}-{serial}-{kind}.db"
    _copy_database(conn, target)
    logger.info("catalog %s backed up to %s", catalog_path, target)
    for old in [b for b in list_backups(catalog_path) if b.kind == kind][keep:]:
        with contextlib.suppress(OSError):
            old.path.unlink()
    return target


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """`source`'s database into a new single file at `target` (temp file, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(prefix=".catalog-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        dest = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            dest.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise


def daily_backup(conn: sqlite3.Connection, catalog_path: Path, *, now: float | None = None) -> Path | None:
    """A `daily` backup unless the newest one is less than a day old; the new path or None.

    Never raises for a failed backup (disk full, read-only folder): that is logged, indexing goes on."""
    now = time.time() if now is None else now
    try:
        daily = [b for b in list_backups(catalog_path) if b.kind == "daily"]
        if daily and now - daily[0].created < DAILY_S:
            return None
        return backup_catalog(conn, catalog_path, "daily", now=now)
    except (OSError, sqlite3.Error, CatalogError) as exc:
        logger.warning("could not back up catalog %s: %s", catalog_path, exc)
        return None


def _check_backup(path: Path) -> None:
    """Raise BackupError unless `path` is a whole, valid catalog."""
    try:
        check_catalog_file(path)
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
        try:
            check_catalog_schema(conn, path)
            if schema_version(conn) == 0:
                raise BackupError(f"backup {path} is an empty database, not a catalog")
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except (sqlite3.Error, CatalogError) as exc:
        raise BackupError(f"backup {path} is not a usable catalog: {exc}") from exc
    if result != "ok":
        raise BackupError(f"backup {path} is damaged: {result}")


def find_backup(catalog_path: Path, name: str | None = None) -> Backup:
    """The newest backup, or the one called `name` (with or without `.db`)."""
    backups = list_backups(catalog_path)
    if not backups:
        raise BackupError(f"no backups of {catalog_path} in {backups_dir(catalog_path)}")
    if name is None:
        return backups[0]
    wanted = Path(name).name
    for backup in backups:
        if wanted in (backup.name, backup.path.stem):
            return backup
    raise BackupError(f"no backup called {name!r} in {backups_dir(catalog_path)} (see restore --list)")


def restore(
    catalog_path: Path, name: str | None = None, *, archive: Path | str | None = None
) -> RestoreResult:
    """Replace the catalog at `catalog_path` with a backup (the newest, or `name`).

    The backup is first copied next to the catalog; then the current catalog is backed up (kind
    `restore`), or moved aside when it is not a valid catalog, and the copy takes its place in one
    rename. If anything fails before that rename, the current catalog is left as it was. Vector
    index files beside it are removed so they are rebuilt from the restored catalog.
    Raises BackupError (no such backup, damaged backup, the current catalog cannot be backed up or
    is in use) or IndexerBusyError (an indexer is running)."""
    from store.storage.index_lock import IndexLock

    catalog_path = Path(catalog_path)
    folder = catalog_path.parent
    chosen = find_backup(catalog_path, name)
    _check_backup(chosen.path)
    with IndexLock(folder, archive):
        staged = folder / f".restore-{os.getpid()}-{catalog_path.name}"
        source = sqlite3.connect(_read_only_uri(chosen.path), uri=True)
        try:
            _copy_database(source, staged)
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(f"cannot restore {chosen.path} to {catalog_path}: {exc}") from exc
        finally:
            source.close()
        try:
            previous = _set_aside(catalog_path)
            os.replace(staged, catalog_path)
        except BaseException:
            with contextlib.suppress(OSError):
                staged.unlink()
            raise
        for pattern in ("vectors-*.usearch", "vectors-*.json"):
            for stale in folder.glob(pattern):
                with contextlib.suppress(OSError):
                    stale.unlink()
    logger.warning("catalog %s restored from %s", catalog_path, chosen.path)
    return RestoreResult(chosen, catalog_path, previous)


def _read_only_uri(path: Path) -> str:
    """An SQLite URI opening `path` read-only."""
    return sqlite_uri(Path(path).resolve(), "mode=ro")


def _set_aside(catalog_path: Path) -> Path | None:
    """Back up a valid current catalog (its WAL checkpointed away), or move one that is not a catalog
    (with its -wal/-shm) aside, so the path can be replaced. Returns the backup or the moved file.

    A valid catalog that cannot be backed up, or that another process has open, raises BackupError
    and is left untouched: only a file that is not a catalog is ever moved."""
    if not os.path.lexists(catalog_path):
        return None
    try:
        check_catalog_file(catalog_path)
        conn = sqlite3.connect(catalog_path, isolation_level=None)
    except (NotACatalogError, sqlite3.DatabaseError) as exc:
        return _move_aside(catalog_path, exc)
    try:
        try:
            check_catalog_schema(conn, catalog_path)
        except (NotACatalogError, sqlite3.DatabaseError) as exc:
            conn.close()
            return _move_aside(catalog_path, exc)
        try:
            saved = backup_catalog(conn, catalog_path, "restore")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except (OSError, sqlite3.Error, CatalogError) as exc:
            raise BackupError(f"cannot back up the current catalog before restoring: {exc}") from exc
        if busy:
            raise BackupError(
                f"{catalog_path} is in use (is Imago open on this archive?); close it and restore again"
            )
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):  # empty after the checkpoint
        with contextlib.suppress(FileNotFoundError):
            Path(f"{catalog_path}{suffix}").unlink()
    return saved


def _move_aside(catalog_path: Path, why: Exception) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved = catalog_path.with_name(f"{catalog_path.name}.broken-{stamp}")
    logger.warning("catalog %s is not usable (%s); moved to %s", catalog_path, why, moved)
    for suffix in ("", "-wal", "-shm"):
        if os.path.lexists(f"{catalog_path}{suffix}"):
            os.replace(f"{catalog_path}{suffix}", f"{moved}{suffix}")
    return moved

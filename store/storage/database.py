"""The catalog's SQLite file: telling a catalog from other files, creating one, and opening it for
writing (WAL, busy timeout, migrations) or for reading only (read-only media).

A file that exists but is not a valid catalog raises NotACatalogError and is left as it is: a damaged
catalog is never silently replaced by a new, empty one (see store.storage.backup).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path

from store.errors import CatalogError, NotACatalogError
from store.storage.schema import SCHEMA_VERSION, migrate, schema_version

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every catalog of schema version >= 1 has (a later version's own tables are checked by it).
_CORE_TABLES = ("files", "items", "embeddings", "labels", "captions", "descriptions")
_RESTORE_HINT = "restore a backup with `imago restore ARCHIVE` or move the file away to start a new index"


def check_catalog_file(path: Path) -> None:
    """Raise NotACatalogError when the file at `path` cannot be an SQLite database (empty, other
    bytes). Reads only its first 16 bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except IsADirectoryError as exc:
        raise NotACatalogError(f"catalog {path} is a folder, not a catalog file") from exc
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from exc
    if not head:
        raise NotACatalogError(f"catalog {path} is an empty file, not an Imago catalog; {_RESTORE_HINT}")
    if head != SQLITE_HEADER:
        raise NotACatalogError(f"catalog {path} is not an SQLite database; {_RESTORE_HINT}")


def check_catalog_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Raise NotACatalogError unless `conn` is an Imago catalog (any schema version) or an SQLite
    database with nothing in it (which a crash of an older Imago while creating it could leave).
    Only reads."""
    version = schema_version(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables:
        raise NotACatalogError(
            f"catalog {path} is an SQLite database but not an Imago catalog "
            f"(tables {', '.join(sorted(tables)[:5])}); {_RESTORE_HINT}"
        )
    if version > SCHEMA_VERSION:
        return  # a newer Imago's catalog: `migrate` says so
    missing = [t for t in _CORE_TABLES if t not in tables]
    if version > 0 and missing:
        raise NotACatalogError(
            f"catalog {path} is damaged: table {', '.join(missing)} missing; {_RESTORE_HINT}"
        )
    if version >= 4 and "catalog_meta" not in tables:
        raise NotACatalogError(f"catalog {path} is damaged: table catalog_meta missing; {_RESTORE_HINT}")


def create_catalog_file(path: Path) -> None:
    """Make a new, empty catalog at `path` atomically: built under a temporary name, then linked into
    place, so a crash never leaves a half-made (e.g. 0-byte) catalog.db, and a catalog another process
    created meanwhile is kept."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.new-", dir=path.parent)
    except OSError as exc:
        raise CatalogError(f"cannot create catalog {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    os.unlink(tmp)  # sqlite creates it; an empty file would be taken for a database
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            migrate(conn, path)
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: theirs is used
        except OSError:  # no hard links here (e.g. FAT): a rename, unless one appeared meanwhile
            if not os.path.lexists(path):
                os.replace(tmp, path)
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"cannot create catalog {path}: {exc}") from exc
    except OSError as exc:
        raise CatalogError(f"cannot create catalog {path}: {exc.strerror or exc}") from exc
    finally:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def sqlite_uri(path: Path | str, query: str, platform: str = os.name) -> str:
    """An SQLite `file:` URI for the absolute `path`, with `query` (e.g. "mode=ro"), percent-encoded
    (an archive may be called 'Box #1?'). Windows paths keep an empty authority, which SQLite requires:
    `C:\\a\\b.db` -> `file:///C:/a/b.db`, a share's `\\\\server\\x\\b.db` -> `file:////server/x/b.db`
    (`Path.as_uri()` gives `file://server/...`, which SQLite refuses)."""
    text = str(path).replace("\\", "/") if platform == "nt" else str(path)
    if platform == "nt" and not text.startswith("//"):
        text = "/" + text  # a drive letter: file:///C:/...
    return f"file://{urllib.parse.quote(text, safe='/:')}?{query}"


def open_writable(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """A read-write connection to the catalog at `path` (WAL, foreign keys), migrated to
    SCHEMA_VERSION after a `migration` backup of an older schema."""
    try:
        # check_same_thread=False lets a Catalog be created in one thread and handed to a worker;
        # it must still be used by one thread at a time.
        # mode=rw: never create the file (it is made whole by create_catalog_file); one deleted since
        # the caller looked is an error, not a new empty database.
        conn = sqlite3.connect(
            sqlite_uri(Path(path).resolve(), "mode=rw"), uri=True, timeout=busy_timeout_ms / 1000,
            isolation_level=None, check_same_thread=False,
        )  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"cannot open catalog {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        check_catalog_schema(conn, path)  # before anything is written to the file
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        version = schema_version(conn)
        if 0 < version < SCHEMA_VERSION:
            from store.storage.backup import backup_catalog  # store.storage.backup imports this module

            try:
                backup_catalog(conn, path, "migration")
            except (OSError, sqlite3.Error, CatalogError) as exc:
                logger.warning("no backup of %s before its schema migration: %s", path, exc)
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CatalogError(f"cannot open catalog {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def open_read_only(path: Path, busy_timeout_ms: int) -> tuple[sqlite3.Connection, str | None]:
    """A query-only connection to a catalog that cannot be written (read-only medium or folder), and
    the private temporary folder it reads from (None when it reads the file in place; the caller
    removes the folder when it closes the connection).

    `mode=ro` reads it as it is, write-ahead log included, where SQLite can use the -shm file;
    on a read-only medium without one, `immutable=1` reads the database file alone, which holds
    everything when there is no write-ahead log (a cleanly closed catalog). One with a log that
    cannot be read in place is copied to a private temporary folder and read there. A catalog of
    an older schema is upgraded in a copy in memory; the file itself is never written."""
    resolved = path.resolve()
    scratch: str | None = None

    def connect(target: str, *, as_uri: bool = True) -> sqlite3.Connection:
        conn = sqlite3.connect(target, uri=as_uri, timeout=busy_timeout_ms / 1000,
                               isolation_level=None, check_same_thread=False)  # fmt: skip
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def drop_scratch() -> None:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    wal = path.with_name(path.name + "-wal")
    try:
        try:
            conn = connect(sqlite_uri(resolved, "mode=ro"))
        except sqlite3.OperationalError as exc:
            if os.path.isfile(wal) and os.path.getsize(wal) > 0:
                logger.info("reading catalog %s from a private copy (%s)", path, exc)
                scratch = tempfile.mkdtemp(prefix="imago-read-only-catalog-")
                copy = os.path.join(scratch, path.name)
                shutil.copyfile(path, copy)
                shutil.copyfile(wal, copy + "-wal")
                conn = connect(copy, as_uri=False)
            else:
                conn = connect(sqlite_uri(resolved, "immutable=1"))
    except (OSError, sqlite3.DatabaseError) as exc:
        drop_scratch()
        raise CatalogError(f"cannot open read-only catalog {path}: {exc}") from exc
    try:
        check_catalog_schema(conn, path)
        version = schema_version(conn)
        if 0 < version < SCHEMA_VERSION:
            logger.warning("read-only catalog %s has schema version %d: reading an upgraded copy in "
                           "memory", path, version)  # fmt: skip
            memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            conn.backup(memory)
            conn.close()
            conn = memory
        migrate(conn, path)  # nothing to do, or the copy's upgrade; a newer schema is refused
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        drop_scratch()
        raise CatalogError(f"cannot open catalog {path}: {exc}") from exc
    except BaseException:
        conn.close()
        drop_scratch()
        raise
    logger.info("catalog %s opened read-only", path)
    return conn, scratch

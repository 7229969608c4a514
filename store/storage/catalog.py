"""The catalog: an archive's SQLite database (WAL), the source of truth for everything indexed.

Thread-safety: a Catalog (one sqlite3 connection) is used by one thread at a time (it may be created
in one thread and handed to a worker). The indexer owns the writer;
readers (search, GUI) open their own Catalog on the same file. WAL lets them read while the indexer
writes; writes take the lock up front (BEGIN IMMEDIATE) and wait up to `busy_timeout` for another
writer (e.g. the GUI saving a curator edit) instead of failing with "database is locked".

Every AI value carries its provenance (model id, score, time). Curator values (descriptions,
labels with source 'curator', curator regions) are never touched by re-indexing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from models.label_names import searchable_text
from store.boxes import iou
from store.errors import CatalogError, NotACatalogError, ReadOnlyIndexError
from store.storage.archive import index_writable
from store.storage.schema import SCHEMA_VERSION, migrate, schema_version

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
MISSING_GRACE_S = 30 * 24 * 3600  # how long a vanished file's curator edits are kept

VISIBLE = "files.status = 'indexed' AND items.hidden = 0"
_EXIF_UNREAD = "status = 'indexed' AND exif_read = 0"
IN_CHUNK = 500  # ids per "IN (...)" list, well below SQLite's limit on bound variables


def id_chunks(ids: Iterable[int]) -> Iterator[tuple[list[int], str]]:
    """`ids` as ints in slices of IN_CHUNK, each with its "?,?,..." placeholder list."""
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        yield chunk, ",".join("?" * len(chunk))


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


def _create(path: Path) -> None:
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


def is_under(raw_path: bytes, folder: bytes) -> bool:
    """Whether the relative path `raw_path` is `folder` or inside it (b"" is the whole archive)."""
    return not folder or raw_path == folder or raw_path.startswith(folder + b"/")


def display_path(raw_path: bytes) -> str:
    """A relative path as text; bytes that are not UTF-8 appear as \\xNN escapes."""
    return raw_path.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class FileState:
    """What the scanner needs to know about a file already in the catalog."""

    id: int
    raw_path: bytes
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    error_kind: str | None = None  # why a 'failed' file failed (store.errors kinds)


@dataclass(frozen=True)
class ItemRef:
    """An item and, for regions, its box in pixels of the EXIF-transposed image."""

    id: int
    file_id: int
    kind: str
    bbox: tuple[int, int, int, int] | None
    source: str
    hidden: bool


def _label_text(labels: str | None) -> str:
    """Labels for the full-text index, each with its names in every language (a Russian word finds
    an image labelled in English)."""
    return " ; ".join(searchable_text(label) for label in labels.split(" ; ")) if labels else ""


class Catalog:
    """One connection to an archive's catalog database; see the module docstring for threading."""

    def __init__(
        self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, read_only: bool | None = None
    ) -> None:
        """Open the catalog at `path`, creating it when no file is there.

        A file that exists but is not a valid catalog raises NotACatalogError and is left as it is:
        a damaged catalog is never silently replaced by a new, empty one (see store.storage.backup).
        `read_only` (default: when `store.storage.archive.index_writable` says its folder cannot be written)
        opens it for reading only: every write transaction raises ReadOnlyIndexError."""
        self.path = Path(path)
        if not os.path.lexists(self.path):
            _create(self.path)
        check_catalog_file(self.path)
        self.read_only = not index_writable(self.path.parent) if read_only is None else read_only
        self._scratch: str | None = None  # a private copy's folder (see _open_read_only)
        self._depth = 0
        self._catalog_id: str | None = None
        if self.read_only:
            self.conn = self._open_read_only(busy_timeout_ms)
            self.db = sqlite_utils.Database(self.conn)
            return
        try:
            # check_same_thread=False lets a Catalog be created in one thread and handed to a worker;
            # it must still be used by one thread at a time.
            conn = sqlite3.connect(
                os.fspath(self.path),
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open catalog {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            check_catalog_schema(conn, self.path)  # before anything is written to the file
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self.db = sqlite_utils.Database(conn)
            version = schema_version(conn)
            if 0 < version < SCHEMA_VERSION:
                from store.storage.backup import backup_catalog  # store.storage.backup imports this module

                try:
                    backup_catalog(conn, self.path, "migration")
                except (OSError, sqlite3.Error, CatalogError) as exc:
                    logger.warning("no backup of %s before its schema migration: %s", self.path, exc)
            migrate(conn, self.path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CatalogError(f"cannot open catalog {self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def _open_read_only(self, busy_timeout_ms: int) -> sqlite3.Connection:
        """A query-only connection to a catalog that cannot be written (read-only medium or folder).

        `mode=ro` reads it as it is, write-ahead log included, where SQLite can use the -shm file;
        on a read-only medium without one, `immutable=1` reads the database file alone, which holds
        everything when there is no write-ahead log (a cleanly closed catalog). One with a log that
        cannot be read in place is copied to a private temporary folder and read there. A catalog of
        an older schema is upgraded in a copy in memory; the file itself is never written."""
        uri = self.path.resolve().as_uri()

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

        wal = self.path.with_name(self.path.name + "-wal")
        try:
            try:
                conn = connect(uri + "?mode=ro")
            except sqlite3.OperationalError as exc:
                if os.path.isfile(wal) and os.path.getsize(wal) > 0:
                    logger.info("reading catalog %s from a private copy (%s)", self.path, exc)
                    self._scratch = tempfile.mkdtemp(prefix="imago-read-only-catalog-")
                    copy = os.path.join(self._scratch, self.path.name)
                    shutil.copyfile(self.path, copy)
                    shutil.copyfile(wal, copy + "-wal")
                    conn = connect(copy, as_uri=False)
                else:
                    conn = connect(uri + "?immutable=1")
        except (OSError, sqlite3.DatabaseError) as exc:
            self._drop_scratch()
            raise CatalogError(f"cannot open read-only catalog {self.path}: {exc}") from exc
        try:
            check_catalog_schema(conn, self.path)
            version = schema_version(conn)
            if 0 < version < SCHEMA_VERSION:
                logger.warning("read-only catalog %s has schema version %d: reading an upgraded copy in "
                               "memory", self.path, version)  # fmt: skip
                memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                conn.backup(memory)
                conn.close()
                conn = memory
            migrate(conn, self.path)  # nothing to do, or the copy's upgrade; a newer schema is refused
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.DatabaseError as exc:
            conn.close()
            self._drop_scratch()
            raise CatalogError(f"cannot open catalog {self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            self._drop_scratch()
            raise
        logger.info("catalog %s opened read-only", self.path)
        return conn

    def _drop_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def close(self) -> None:
        self.conn.close()
        self._drop_scratch()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); nested calls join the outer one.
        ReadOnlyIndexError when the catalog was opened read-only."""
        if self.read_only:
            raise ReadOnlyIndexError(
                f"the index in {self.path.parent} is read-only (read-only folder or medium): edits "
                "cannot be saved in it and indexing cannot update it"
            )
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    @property
    def catalog_id(self) -> str:
        """A random id made when the catalog was created (schema v4); a vector index file records it."""
        if self._catalog_id is None:
            value = self._meta("catalog_id")
            if value is None:
                raise CatalogError(f"catalog {self.path} has no catalog_id")
            self._catalog_id = str(value)
        return self._catalog_id

    def _meta(self, key: str):
        """A value of the catalog_meta table; None when the key is absent."""
        row = self.conn.execute("SELECT value FROM catalog_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def vector_generation(self) -> int:
        """The newest vector generation: every stored vector has a generation <= this."""
        return int(self._meta("vector_generation") or 0)

    def _next_vector_generation(self) -> int:
        row = self.conn.execute(
            "UPDATE catalog_meta SET value = value + 1 WHERE key = 'vector_generation' RETURNING value"
        ).fetchone()
        if row is None:
            raise CatalogError(f"catalog {self.path} has no vector_generation")
        return int(row[0])

    def mount_points(self) -> set[bytes]:
        """The archive's folders (relative; b"" for the archive itself) that were mount points at the
        last full walk: one found empty and unmounted later is a disk or share not mounted, not a
        folder emptied (store.ingestion.scanner)."""
        value = self._meta("mount_points")
        try:
            return {bytes.fromhex(h) for h in json.loads(value)} if value is not None else set()
        except (ValueError, TypeError):
            logger.warning("catalog %s: unreadable list of mount points, ignored", self.path)
            return set()

    def set_mount_points(self, folders: Iterable[bytes]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO catalog_meta (key, value) VALUES ('mount_points', ?)",
            (json.dumps(sorted(bytes(f).hex() for f in folders)),),
        )

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- files ------------------------------------------------------------------------------------

    def file_states(self) -> dict[bytes, FileState]:
        rows = self.conn.execute("SELECT id, raw_path, size, mtime_ns, hash, status, error_kind FROM files")
        return {bytes(r[1]): FileState(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows}

    def file_id(self, raw_path: bytes) -> int | None:
        row = self.conn.execute("SELECT id FROM files WHERE raw_path = ?", (raw_path,)).fetchone()
        return row[0] if row else None

    def file_raw_paths(self, file_ids: Iterable[int]) -> dict[int, bytes]:
        """Raw paths of the given file rows, by id (ids without a row are left out)."""
        out: dict[int, bytes] = {}
        for chunk, marks in id_chunks(file_ids):
            rows = self.conn.execute(f"SELECT id, raw_path FROM files WHERE id IN ({marks})", chunk)
            out.update((int(i), bytes(raw)) for i, raw in rows)
        return out

    def file_raw_path(self, file_id: int) -> bytes:
        row = self.conn.execute("SELECT raw_path FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None:
            raise CatalogError(f"no file with id {file_id} in {self.path}")
        return bytes(row[0])

    def upsert_file(
        self,
        raw_path: bytes,
        *,
        size: int,
        mtime_ns: int,
        hash: str | None,
        status: str,
        width: int | None = None,
        height: int | None = None,
        format: str | None = None,
        frames: int | None = None,
        taken_at: float | None = None,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> int:
        """Insert or update the file at `raw_path` (keeping its id); return the id.

        `taken_at` is the EXIF date (see schema v2); an indexed file's EXIF counts as read."""
        path = display_path(raw_path)
        folder, _, name = path.rpartition("/")
        values = dict(
            raw_path=raw_path, path=path, name=name, folder=folder, size=size, mtime_ns=mtime_ns,
            hash=hash, width=width, height=height, format=format, frames=frames, status=status,
            error_kind=error_kind, error=error, missing_since=None, indexed_at=time.time(),
            taken_at=taken_at, exif_read=int(status == "indexed"),
        )  # fmt: skip
        columns = ", ".join(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values if c != "raw_path")
        row = self.conn.execute(
            f"INSERT INTO files ({columns}) VALUES ({', '.join('?' * len(values))}) "
            f"ON CONFLICT(raw_path) DO UPDATE SET {updates} RETURNING id",
            tuple(values.values()),
        ).fetchone()
        return int(row[0])

    def files_without_exif(self, limit: int = 1000) -> list[tuple[int, bytes]]:
        """(id, raw path) of indexed files whose EXIF date was never read (indexed before schema v2)."""
        rows = self.conn.execute(f"SELECT id, raw_path FROM files WHERE {_EXIF_UNREAD} LIMIT ?", (limit,))
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def count_files_without_exif(self) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM files WHERE {_EXIF_UNREAD}").fetchone()[0])

    def set_taken_at(self, file_id: int, taken_at: float | None) -> None:
        self.conn.execute("UPDATE files SET taken_at = ?, exif_read = 1 WHERE id = ?", (taken_at, file_id))

    def touch_file(self, file_id: int, *, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content (hash) did not change."""
        self.conn.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id))

    def move_file(self, file_id: int, raw_path: bytes, *, size: int, mtime_ns: int) -> None:
        """Give a file row a new path (a move or rename), keeping its items and everything on them."""
        path = display_path(raw_path)
        folder, _, name = path.rpartition("/")
        self.conn.execute(
            "UPDATE files SET raw_path = ?, path = ?, name = ?, folder = ?, size = ?, mtime_ns = ?, "
            "status = CASE WHEN status = 'missing' THEN 'indexed' ELSE status END, missing_since = NULL "
            "WHERE id = ?",
            (raw_path, path, name, folder, size, mtime_ns, file_id),
        )
        self.refresh_fts(self.item_ids(file_id))

    def mark_missing(self, file_ids: Iterable[int], now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.conn.executemany(
            "UPDATE files SET status = 'missing', missing_since = ? WHERE id = ? AND status != 'missing'",
            [(now, i) for i in file_ids],
        )

    def set_aside(self, file_id: int, now: float | None = None) -> None:
        """A file another file was moved over (`mv B A`): its row gives up the path but is kept as
        missing, with its items and curator data, for the same grace period as a deleted file's
        (`purge_missing`). Its raw path gets a suffix no real path can have (a NUL byte), so the path
        is free; `path`, `name` and `folder` still say where it was. Its content found again under
        some name takes the row back, as for any missing file."""
        row = self.conn.execute("SELECT raw_path FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None:
            return
        raw_path = bytes(row[0]).split(b"\x00", 1)[0] + b"\x00replaced-%d" % file_id
        self.conn.execute(
            "UPDATE files SET raw_path = ?, status = 'missing', missing_since = coalesce(missing_since, ?) "
            "WHERE id = ?",
            (raw_path, time.time() if now is None else now, file_id),
        )

    def delete_file(self, file_id: int) -> None:
        """Forget a file row with its items and everything on them."""
        items = self.item_ids(file_id, include_hidden=True)
        self.conn.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i in items])
        self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def missing_by_hash(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT hash, id FROM files WHERE status = 'missing' AND hash IS NOT NULL")
        return {h: i for h, i in rows}

    def purge_missing(
        self,
        older_than_s: float = MISSING_GRACE_S,
        now: float | None = None,
        *,
        keep_under: Iterable[bytes] = (),
    ) -> int:
        """Forget files missing for longer than the grace period (with their items and edits), except
        those under the relative folders `keep_under` (unavailable folders: not known to be gone)."""
        now = time.time() if now is None else now
        keep = list(keep_under)
        rows = self.conn.execute(
            "SELECT id, raw_path FROM files WHERE status = 'missing' AND missing_since < ?",
            (now - older_than_s,),
        )
        ids = [i for i, raw in rows if not any(is_under(bytes(raw), folder) for folder in keep)]
        for file_id in ids:
            self.delete_file(file_id)
        return len(ids)

    def failures(self) -> list[tuple[str, str, str]]:
        """(display path, error kind, message) of every file that could not be indexed."""
        rows = self.conn.execute(
            "SELECT path, error_kind, error FROM files WHERE status = 'failed' ORDER BY path"
        )
        return [(p, k or "error", e or "") for p, k, e in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, count(*) FROM files GROUP BY status")
        return {status: n for status, n in rows}

    # -- items ------------------------------------------------------------------------------------

    def ensure_file_item(self, file_id: int) -> int:
        row = self.conn.execute(
            "SELECT id FROM items WHERE file_id = ? AND kind = 'file'", (file_id,)
        ).fetchone()
        if row:
            return int(row[0])
        cur = self.conn.execute(
            "INSERT INTO items (file_id, kind, source, created_at) VALUES (?, 'file', 'model', ?)",
            (file_id, time.time()),
        )
        return int(cur.lastrowid)

    def add_region(
        self,
        file_id: int,
        bbox: tuple[int, int, int, int],
        *,
        source: str = "model",
        score: float | None = None,
        model_id: str | None = None,
        hidden: bool = False,
    ) -> int:
        x, y, w, h = (int(v) for v in bbox)
        cur = self.conn.execute(
            "INSERT INTO items (file_id, kind, x, y, w, h, source, model_id, score, hidden, created_at) "
            "VALUES (?, 'region', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (file_id, x, y, w, h, source, model_id, score, int(hidden), time.time()),
        )
        return int(cur.lastrowid)

    def items(self, file_id: int) -> list[ItemRef]:
        rows = self.conn.execute(
            "SELECT id, file_id, kind, x, y, w, h, source, hidden FROM items WHERE file_id = ? ORDER BY id",
            (file_id,),
        )
        return [_item_ref(r) for r in rows]

    def item_ids(self, file_id: int, *, include_hidden: bool = False) -> list[int]:
        return [i.id for i in self.items(file_id) if include_hidden or not i.hidden]

    def reset_model_data(self, file_id: int) -> list[int]:
        """Drop what models made for a file whose content changed; keep curator data. Returns the
        ids of the items removed (model regions), whose vectors must leave the vector index."""
        items = self.items(file_id)
        removed = self._drop_model_regions(items)
        kept = [i.id for i in items if i.id not in removed]
        for item_id in kept:
            self.conn.execute("DELETE FROM embeddings WHERE item_id = ?", (item_id,))
            self.conn.execute("DELETE FROM labels WHERE item_id = ? AND source = 'model'", (item_id,))
            self.conn.execute("DELETE FROM captions WHERE item_id = ?", (item_id,))
        return removed + kept

    def _drop_model_regions(self, items: Sequence[ItemRef]) -> list[int]:
        """Delete the model-made regions among a file's `items`; return their ids."""
        removed = [i.id for i in items if i.kind == "region" and i.source == "model"]
        self.conn.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i in removed])
        self.conn.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in removed])
        return removed

    def replace_model_regions(
        self, file_id: int, regions: Sequence[tuple[tuple[int, int, int, int], float]], model_id: str | None
    ) -> tuple[list[int], list[int | None]]:
        """Replace a file's model-made regions with `regions` ((bbox, score) pairs), skipping any
        that match a region the curator deleted. Returns (removed ids, new ids aligned with
        `regions`, None where skipped)."""
        items = self.items(file_id)
        removed = self._drop_model_regions(items)
        vetoed = [
            i.bbox for i in items if i.kind == "region" and i.source == "curator" and i.hidden and i.bbox
        ]
        added: list[int | None] = []
        for bbox, score in regions:
            if any(iou(bbox, v) > 0.7 for v in vetoed):
                added.append(None)
            else:
                added.append(self.add_region(file_id, bbox, score=score, model_id=model_id))
        return removed, added

    # -- model outputs ----------------------------------------------------------------------------

    def put_embeddings(self, model_id: str, item_ids: Sequence[int], vectors: np.ndarray) -> int:
        """Store (replace) the items' vectors under a new vector generation, which is returned."""
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        now = time.time()
        with self.transaction():
            generation = self._next_vector_generation()
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (item_id, model_id, dim, vector, created_at, generation) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (int(i), model_id, vectors.shape[1], vectors[n].tobytes(), now, generation)
                    for n, i in enumerate(item_ids)
                ],
            )
        return generation

    def put_labels(self, item_id: int, head: str, model_id: str, labels: Sequence[tuple[str, float]]) -> None:
        """Replace the model's labels of `head` for an item, leaving out those the curator rejected;
        curator labels stay. Ranks keep the model's order."""
        self.conn.execute(
            "DELETE FROM labels WHERE item_id = ? AND head = ? AND source = 'model'", (item_id, head)
        )
        rejected = set(self.rejected_labels(item_id, head))
        labels = [(label, score) for label, score in labels if label not in rejected]
        now = time.time()
        self.conn.executemany(
            "INSERT INTO labels (item_id, head, label, score, rank, source, model_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'model', ?, ?)",
            [
                (item_id, head, label, float(score), rank, model_id, now)
                for rank, (label, score) in enumerate(labels)
            ],
        )

    def put_caption(self, item_id: int, model_id: str, text: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO captions (item_id, model_id, text, created_at) VALUES (?, ?, ?, ?)",
            (item_id, model_id, text, time.time()),
        )

    # -- curator edits ----------------------------------------------------------------------------

    def set_description(self, item_id: int, text: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO descriptions (item_id, text, edited_at) VALUES (?, ?, ?)",
                (item_id, text, time.time()),
            )
            self.refresh_fts([item_id])

    def description(self, item_id: int) -> str | None:
        row = self.conn.execute("SELECT text FROM descriptions WHERE item_id = ?", (item_id,)).fetchone()
        return row[0] if row else None

    def set_curator_labels(self, item_id: int, head: str, labels: Sequence[str]) -> None:
        """The curator's confirmed labels of `head` for an item (replacing earlier curator ones)."""
        with self.transaction():
            self.conn.execute("DELETE FROM labels WHERE item_id = ? AND head = ? AND source = 'curator'",
                              (item_id, head))  # fmt: skip
            now = time.time()
            self.conn.executemany(
                "INSERT INTO labels (item_id, head, label, score, rank, source, model_id, created_at) "
                "VALUES (?, ?, ?, NULL, ?, 'curator', NULL, ?)",
                [(item_id, head, label, rank, now) for rank, label in enumerate(labels)],
            )
            # Confirming a label takes back an earlier rejection of it.
            self.conn.executemany(
                "DELETE FROM rejected_labels WHERE item_id = ? AND head = ? AND label = ?",
                [(item_id, head, label) for label in labels],
            )
            self.refresh_fts([item_id])

    def reject_label(self, item_id: int, head: str, label: str) -> None:
        """The curator says `label` is wrong for the item: drop it (model or curator row) and remember
        the rejection so re-indexing does not bring it back."""
        with self.transaction():
            self.conn.execute("DELETE FROM labels WHERE item_id = ? AND head = ? AND label = ?",
                              (item_id, head, label))  # fmt: skip
            self.conn.execute(
                "INSERT OR REPLACE INTO rejected_labels (item_id, head, label, created_at) "
                "VALUES (?, ?, ?, ?)",
                (item_id, head, label, time.time()),
            )
            self.refresh_fts([item_id])

    def rejected_labels(self, item_id: int, head: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT label FROM rejected_labels WHERE item_id = ? AND head = ? ORDER BY created_at, label",
            (item_id, head),
        )
        return [r[0] for r in rows]

    def add_curator_region(self, file_id: int, bbox: tuple[int, int, int, int]) -> int:
        """A region the curator drew; the indexer embeds it on its next run."""
        with self.transaction():
            item_id = self.add_region(file_id, bbox, source="curator")
            self.refresh_fts([item_id])
        return item_id

    def hide_region(self, item_id: int) -> None:
        """The curator deleted a region: it stays as a hidden curator row so re-indexing does not
        bring it back."""
        with self.transaction():
            self.conn.execute(
                "UPDATE items SET hidden = 1, source = 'curator' WHERE id = ? AND kind = 'region'", (item_id,)
            )

    def labels(self, item_id: int, head: str | None = None) -> list[dict]:
        sql = "SELECT head, label, score, rank, source, model_id, created_at FROM labels WHERE item_id = ?"
        args: tuple = (item_id,)
        if head is not None:
            sql += " AND head = ?"
            args += (head,)
        return list(self.db.query(sql + " ORDER BY head, source DESC, rank", args))

    def captions(self, item_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT model_id, text, created_at FROM captions WHERE item_id = ? ORDER BY created_at DESC",
            (item_id,),
        ))  # fmt: skip

    # -- full-text search -------------------------------------------------------------------------

    def refresh_fts(self, item_ids: Iterable[int]) -> None:
        """Rebuild the FTS rows of `item_ids` from files, captions, descriptions and labels."""
        for item_id in item_ids:
            row = self.conn.execute(
                "SELECT files.name, files.folder, "
                " (SELECT text FROM captions WHERE item_id = items.id ORDER BY created_at DESC LIMIT 1), "
                " (SELECT text FROM descriptions WHERE item_id = items.id), "
                " (SELECT group_concat(label, ' ; ') FROM labels WHERE item_id = items.id) "
                "FROM items JOIN files ON files.id = items.file_id WHERE items.id = ?",
                (item_id,),
            ).fetchone()
            self.conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
            if row is not None:
                self.conn.execute(
                    "INSERT INTO items_fts (rowid, name, folder, caption, description, labels) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        item_id,
                        row[0],
                        row[1].replace("/", " "),
                        row[2] or "",
                        row[3] or "",
                        _label_text(row[4]),
                    ),
                )

    def search_text(self, query: str, limit: int = 100) -> list[tuple[int, float]]:
        """Visible items matching an FTS5 query, best first, as (item id, bm25 rank; lower is better).

        Plain words are quoted, so user input cannot inject FTS syntax."""
        terms = [t for t in query.split() if t]
        if not terms:
            return []
        match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = self.conn.execute(
            "SELECT items_fts.rowid, bm25(items_fts) AS rank FROM items_fts "
            "JOIN items ON items.id = items_fts.rowid JOIN files ON files.id = items.file_id "
            f"WHERE items_fts MATCH ? AND {VISIBLE} ORDER BY rank LIMIT ?",
            (match, limit),
        )
        return [(int(i), float(r)) for i, r in rows]

    # -- what the indexer still has to do ---------------------------------------------------------

    def items_without_embedding(self, model_id: str) -> dict[int, list[ItemRef]]:
        """Visible items lacking a `model_id` vector, grouped by file id (e.g. curator-drawn regions,
        or every item after the image model changed)."""
        rows = self.conn.execute(
            "SELECT items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, items.source, "
            "items.hidden FROM items JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE} AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.item_id = items.id AND e.model_id = ?) "
            "ORDER BY items.file_id",
            (model_id,),
        )
        grouped: dict[int, list[ItemRef]] = {}
        for r in rows:
            grouped.setdefault(r[1], []).append(_item_ref(r))
        return grouped

    def thumbnail_names(self) -> list[tuple[str, int]]:
        """(thumbnail file name, file id) of every visible file item and model-made region of an
        indexed file: the thumbnails the indexer writes (names as `ThumbnailCache.name` makes them)."""
        rows = self.conn.execute(
            "SELECT files.hash || CASE WHEN items.kind = 'file' THEN '' ELSE "
            "'-' || items.x || '-' || items.y || '-' || items.w || '-' || items.h END || '.jpg', files.id "
            "FROM items JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE} AND files.hash IS NOT NULL AND (items.kind = 'file' OR items.source = 'model')"
        )
        return rows.fetchall()

    def items_without_caption(self, model_id: str) -> dict[int, list[ItemRef]]:
        sql = (
            "SELECT items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, items.source, "
            "items.hidden FROM items JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE} AND NOT EXISTS "
            "(SELECT 1 FROM captions c WHERE c.item_id = items.id AND c.model_id = ?) ORDER BY items.file_id"
        )
        grouped: dict[int, list[ItemRef]] = {}
        for r in self.conn.execute(sql, (model_id,)):
            grouped.setdefault(r[1], []).append(_item_ref(r))
        return grouped

    # -- vectors ----------------------------------------------------------------------------------

    def visible_keys(self, model_id: str) -> np.ndarray:
        rows = self.conn.execute(
            "SELECT items.id FROM embeddings JOIN items ON items.id = embeddings.item_id "
            f"JOIN files ON files.id = items.file_id WHERE embeddings.model_id = ? AND {VISIBLE}",
            (model_id,),
        )
        return np.fromiter((r[0] for r in rows), dtype=np.uint64)

    def changed_keys(self, model_id: str, since: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose `model_id` vector was written after vector generation `since`, as (item ids,
        whether each is visible)."""
        rows = self.conn.execute(
            f"SELECT items.id, {VISIBLE} FROM embeddings JOIN items ON items.id = embeddings.item_id "
            "JOIN files ON files.id = items.file_id "
            "WHERE embeddings.model_id = ? AND embeddings.generation > ?",
            (model_id, int(since)),
        ).fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
        visible = np.fromiter((bool(r[1]) for r in rows), dtype=bool, count=len(rows))
        return keys, visible

    def vectors(
        self, model_id: str, item_ids: Sequence[int] | None = None, *, max_generation: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(keys, float32 matrix) of the visible items' vectors, optionally only `item_ids`, and only
        those of vector generation <= `max_generation` when given."""
        sql = (
            "SELECT items.id, embeddings.dim, embeddings.vector FROM embeddings "
            "JOIN items ON items.id = embeddings.item_id JOIN files ON files.id = items.file_id "
            f"WHERE embeddings.model_id = ? AND {VISIBLE}"
        )
        if max_generation is not None:
            sql += f" AND embeddings.generation <= {int(max_generation)}"
        if item_ids is None:
            rows = self.conn.execute(sql, (model_id,)).fetchall()
        else:
            rows = []
            for chunk, marks in id_chunks(item_ids):
                rows += self.conn.execute(sql + f" AND items.id IN ({marks})", (model_id, *chunk)).fetchall()
        if not rows:
            return np.zeros(0, np.uint64), np.zeros((0, 0), np.float32)
        keys = np.array([r[0] for r in rows], dtype=np.uint64)
        matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), rows[0][1])
        return keys, matrix.astype(np.float32)

    def searchable_count(self, model_id: str) -> int:
        return int(self.conn.execute(
            "SELECT count(*) FROM embeddings JOIN items ON items.id = embeddings.item_id "
            f"JOIN files ON files.id = items.file_id WHERE embeddings.model_id = ? AND {VISIBLE}",
            (model_id,),
        ).fetchone()[0])  # fmt: skip


def _item_ref(r: Sequence) -> ItemRef:
    bbox = None if r[3] is None else (int(r[3]), int(r[4]), int(r[5]), int(r[6]))
    return ItemRef(id=int(r[0]), file_id=int(r[1]), kind=r[2], bbox=bbox, source=r[7], hidden=bool(r[8]))

"""The catalog: an archive's SQLite database (WAL), the source of truth for everything indexed.

Thread-safety: a Catalog (one sqlite3 connection) is used by one thread at a time (it may be created
in one thread and handed to a worker). The indexer owns the writer;
readers (search, GUI) open their own Catalog on the same file. WAL lets them read while the indexer
writes; writes take the lock up front (BEGIN IMMEDIATE) and wait up to `busy_timeout` for another
writer (e.g. the GUI saving a curator edit) instead of failing with "database is locked".

Every AI value carries its provenance (model id, score, time). Curator values (descriptions,
labels with source 'curator', curator regions) are never touched by re-indexing.

The tables' reads and writes are grouped by table in the parts Catalog is made of: FileRows
(store.storage.files), ItemRows (items), Annotations (labels, captions, descriptions), Embeddings
(vectors) and FullText (the FTS index); read views over several tables are in store.storage.views
and store.storage.records.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from store.errors import CatalogError, ReadOnlyIndexError
from store.storage.annotations import Annotations
from store.storage.archive import index_writable
from store.storage.database import check_catalog_file, create_catalog_file, open_read_only, open_writable
from store.storage.embeddings import Embeddings
from store.storage.files import FileRows
from store.storage.fulltext import FullText
from store.storage.items import ItemRows

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


class Catalog(FileRows, ItemRows, Annotations, Embeddings, FullText):
    """One connection to an archive's catalog database; see the module docstring for threading."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        read_only: bool | None = None,
        create: bool = True,
    ) -> None:
        """Open the catalog at `path`, creating it when no file is there (with `create` false: raising
        CatalogError; SQLite is never let create a file, so a catalog deleted meanwhile stays deleted).

        A file that exists but is not a valid catalog raises NotACatalogError and is left as it is:
        a damaged catalog is never silently replaced by a new, empty one (see store.storage.backup).
        `read_only` (default: when `store.storage.archive.index_writable` says its folder cannot be written)
        opens it for reading only: every write transaction raises ReadOnlyIndexError."""
        self.path = Path(path)
        if not os.path.lexists(self.path):
            if not create:
                raise CatalogError(f"catalog not found: {self.path}")
            create_catalog_file(self.path)
        check_catalog_file(self.path)
        self.read_only = not index_writable(self.path.parent) if read_only is None else read_only
        self._scratch: str | None = None  # a private copy's folder (see database.open_read_only)
        self._depth = 0
        self._catalog_id: str | None = None
        if self.read_only:
            self.conn, self._scratch = open_read_only(self.path, busy_timeout_ms)
        else:
            self.conn = open_writable(self.path, busy_timeout_ms)
        self.db = sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

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

    def backup_daily(self) -> Path | None:
        """A `daily` backup of the catalog when the last one is a day old (store.storage.backup)."""
        from store.storage.backup import daily_backup  # store.storage.backup imports this package

        return daily_backup(self.conn, self.path)

    # -- facts about the catalog ------------------------------------------------------------------

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

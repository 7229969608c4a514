"""Catalog schema: a version number (`PRAGMA user_version`) and step-by-step migrations.

Each migration moves the database from version N-1 to N inside one transaction, so a crash during an
upgrade leaves the previous version intact. Add a function to MIGRATIONS to change the schema; never
edit a released one.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable

from store.errors import CatalogError

logger = logging.getLogger(__name__)

_V1 = [
    # One row per file seen in the archive. raw_path is the relative path as bytes (names need not be
    # UTF-8); path is its display form. status: indexed | failed | missing.
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        raw_path BLOB NOT NULL UNIQUE,
        path TEXT NOT NULL,
        name TEXT NOT NULL,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT,
        width INTEGER,
        height INTEGER,
        format TEXT,
        frames INTEGER,
        status TEXT NOT NULL,
        error_kind TEXT,
        error TEXT,
        missing_since REAL,
        indexed_at REAL NOT NULL
    )""",
    "CREATE INDEX files_hash ON files(hash)",
    "CREATE INDEX files_status ON files(status)",
    # An item is what search returns: a whole file (kind 'file') or a region of it (kind 'region',
    # bbox in pixels of the EXIF-transposed image). source 'model' regions are replaced on
    # re-indexing; 'curator' ones (drawn, or a model region the curator deleted: hidden=1) are kept.
    """CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('file', 'region')),
        x INTEGER, y INTEGER, w INTEGER, h INTEGER,
        source TEXT NOT NULL CHECK (source IN ('model', 'curator')),
        model_id TEXT,
        score REAL,
        hidden INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    "CREATE UNIQUE INDEX items_one_file_item ON items(file_id) WHERE kind = 'file'",
    "CREATE INDEX items_file ON items(file_id)",
    """CREATE TABLE embeddings (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (item_id, model_id)
    )""",
    "CREATE INDEX embeddings_model ON embeddings(model_id)",
    """CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        head TEXT NOT NULL,
        label TEXT NOT NULL,
        score REAL,
        rank INTEGER,
        source TEXT NOT NULL CHECK (source IN ('model', 'curator')),
        model_id TEXT,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX labels_item ON labels(item_id, head)",
    """CREATE TABLE captions (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (item_id, model_id)
    )""",
    """CREATE TABLE descriptions (
        item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        edited_at REAL NOT NULL
    )""",
    # Full-text search, maintained by the catalog in the same transaction as the rows it mirrors.
    """CREATE VIRTUAL TABLE items_fts USING fts5(
        name, folder, caption, description, labels,
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
]


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _V1:
        conn.execute(statement)


_V2 = [
    # Model labels the curator rejected: the model row is deleted and this row keeps re-indexing
    # (and re-running a head) from bringing the label back.
    """CREATE TABLE rejected_labels (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        head TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (item_id, head, label)
    )""",
    # When the picture was taken (EXIF DateTimeOriginal, else DateTimeDigitized), as epoch seconds of
    # the camera's wall-clock time read as UTC, so whole-day filters match the day on the photo.
    # exif_read = 0 marks rows indexed before this column existed; the indexer fills them in.
    "ALTER TABLE files ADD COLUMN taken_at REAL",
    "ALTER TABLE files ADD COLUMN exif_read INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX files_taken ON files(taken_at)",
]


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    for statement in _V2:
        conn.execute(statement)


_V3 = [
    # The curator's marks from the duplicates view. A mark follows its file row through moves and
    # renames; `hash` is the content it was made on (a changed file's mark no longer applies).
    """CREATE TABLE duplicate_marks (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        mark TEXT NOT NULL CHECK (mark IN ('keep', 'duplicate')),
        hash TEXT,
        marked_at REAL NOT NULL
    )""",
]


def _migrate_to_3(conn: sqlite3.Connection) -> None:
    for statement in _V3:
        conn.execute(statement)


_V4 = [
    # Facts about the catalog itself: `catalog_id` (random, made once: a vector index file records
    # which catalog it was built from, so one from another archive is never used) and
    # `vector_generation` (a counter bumped by every write of embeddings, never lowered).
    "CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value NOT NULL)",
    # Which vector generation each embedding belongs to. The vector index saves the generation it
    # is complete up to; rows written later (e.g. re-indexed after a crash that lost the index's
    # save) are re-added by `VectorIndex.sync`. Rows from before this version are generation 0.
    "ALTER TABLE embeddings ADD COLUMN generation INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX embeddings_generation ON embeddings(model_id, generation)",
]


def _migrate_to_4(conn: sqlite3.Connection) -> None:
    for statement in _V4:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO catalog_meta (key, value) VALUES (?, ?)",
        [("catalog_id", uuid.uuid4().hex), ("vector_generation", 0)],
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_to_1, _migrate_to_2, _migrate_to_3, _migrate_to_4,
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: object = "catalog") -> int:
    """Bring the database up to SCHEMA_VERSION one step at a time; return the final version.

    `conn` must be in autocommit mode (isolation_level None); each step runs in BEGIN IMMEDIATE.
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise CatalogError(
            f"{path} has schema version {version}, newer than this Imago supports ({SCHEMA_VERSION}); "
            "update Imago"
        )
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = schema_version(conn)
            if version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        logger.info("catalog %s migrated to schema version %d", path, version)
    return version

"""File rows of the catalog: one per file seen in the archive, with its state (indexed, failed,
missing), and what the scanner and the importer look up by path or content hash.

`FileRows` is a part of `Catalog` (see store.storage.catalog); its methods run on the catalog's
connection and its caller's transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from store.errors import CatalogError
from store.storage.sql import id_chunks

MISSING_GRACE_S = 30 * 24 * 3600  # how long a vanished file's curator edits are kept

_EXIF_UNREAD = "status = 'indexed' AND exif_read = 0"


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


class FileRows:
    """The `files` table's reads and writes (a part of Catalog)."""

    conn: sqlite3.Connection
    path: Path

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

    def indexed_files(self) -> list[tuple[int, str, str | None]]:
        """(id, display path, content hash) of every indexed file, by path."""
        return self.conn.execute(
            "SELECT id, path, hash FROM files WHERE status = 'indexed' ORDER BY path"
        ).fetchall()

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

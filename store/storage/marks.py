"""The curator's marks on duplicate files ("keep" or "duplicate"), kept in the catalog.

Marks only: Imago never deletes or moves the curator's files. A mark belongs to a file row, so it
follows the file through moves and renames, and it records the content hash the file had when it
was marked: once the content changes the mark no longer applies. Marks are addressed by the file's
whole-file item id, as the duplicate groups list them.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from models.errors import InputError
from store.storage.catalog import Catalog
from store.storage.sql import id_chunks

KEEP = "keep"
DUPLICATE = "duplicate"
MARKS = (KEEP, DUPLICATE)


def read_marks(catalog: Catalog, item_ids: Iterable[int]) -> dict[int, str]:
    """Item id -> mark, for those of `item_ids` whose file is marked and unchanged since."""
    out: dict[int, str] = {}
    for chunk, marks in id_chunks(item_ids):
        rows = catalog.conn.execute(
            "SELECT items.id, duplicate_marks.mark FROM items JOIN files ON files.id = items.file_id "
            "JOIN duplicate_marks ON duplicate_marks.file_id = files.id "
            f"WHERE items.id IN ({marks}) "
            "AND duplicate_marks.hash IS files.hash",
            chunk,
        )
        out.update((int(item_id), mark) for item_id, mark in rows)
    return out


def write_marks(catalog: Catalog, marks: Mapping[int, str | None]) -> None:
    """Give the file of each item id its mark (None removes it), on its current content; one
    transaction, so accepting a suggestion marks a whole group or nothing."""
    for mark in marks.values():
        if mark is not None and mark not in MARKS:
            raise InputError(f"a duplicate mark is one of {', '.join(MARKS)}, not {mark!r}")
    now = time.time()
    with catalog.transaction():
        for item_id, mark in marks.items():
            row = catalog.conn.execute(
                "SELECT files.id, files.hash FROM items JOIN files ON files.id = items.file_id "
                "WHERE items.id = ?",
                (int(item_id),),
            ).fetchone()
            if row is None:
                raise InputError(f"no item with id {item_id} in {catalog.path}")
            if mark is None:
                catalog.conn.execute("DELETE FROM duplicate_marks WHERE file_id = ?", (row[0],))
            else:
                catalog.conn.execute(
                    "INSERT OR REPLACE INTO duplicate_marks (file_id, mark, hash, marked_at) "
                    "VALUES (?, ?, ?, ?)",
                    (row[0], mark, row[1], now),
                )

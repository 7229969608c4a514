"""The full-text index (FTS5 table `items_fts`): file name, folder, caption, curator description and
labels of each item, kept in step with the rows it mirrors, and the keyword queries over it.

`FullText` is a part of `Catalog` (see store.storage.catalog).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from models.label_names import searchable_text
from store.storage.filters import NO_FILTER, SearchFilter
from store.storage.sql import VISIBLE, id_chunks

FTS_COLUMNS = ("name", "folder", "caption", "description", "labels")
_MATCHES = (
    "SELECT items_fts.rowid FROM items_fts CROSS JOIN items ON items.id = items_fts.rowid "
    "CROSS JOIN files ON files.id = items.file_id WHERE items_fts MATCH ? AND "
)
# Column weights of the ranked matches: name 10, folder 2, caption 1, description 5, labels 3.
_BY_BM25 = " ORDER BY bm25(items_fts, 10.0, 2.0, 1.0, 5.0, 3.0), items_fts.rowid"


def fts_match(terms: Sequence[str], mode: str = "and") -> str:
    """An FTS5 MATCH expression for `terms` (all of them, or any with mode "or"); each is a quoted
    string, so nothing in user input can act as FTS syntax (NEAR, *, -, ^, column filters)."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in terms]
    return (" OR " if mode == "or" else " ").join(quoted)


def _label_text(labels: str | None) -> str:
    """Labels for the full-text index, each with its names in every language (a Russian word finds
    an image labelled in English)."""
    return " ; ".join(searchable_text(label) for label in labels.split(" ; ")) if labels else ""


class FullText:
    """The FTS rows of items and the keyword queries over them (a part of Catalog)."""

    conn: sqlite3.Connection

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
        rows = self.conn.execute(
            "SELECT items_fts.rowid, bm25(items_fts) AS rank FROM items_fts "
            "JOIN items ON items.id = items_fts.rowid JOIN files ON files.id = items.file_id "
            f"WHERE items_fts MATCH ? AND {VISIBLE} ORDER BY rank LIMIT ?",
            (fts_match(terms), limit),
        )
        return [(int(i), float(r)) for i, r in rows]

    def count_fts_matches(self, match: str, limit: int) -> int:
        """How many FTS rows (visible or not) match `match`, counted up to `limit`."""
        sql = "SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?"
        return len(self.conn.execute(sql, (match, limit)).fetchall())

    def fts_matches(
        self, match: str, filters: SearchFilter = NO_FILTER, *, limit: int | None = None, ranked: bool = False
    ) -> list[int]:
        """Ids of the visible items matching `match` and `filters`: best bm25 first when `ranked`
        (costly: per matching row), else in no particular order; at most `limit`."""
        where, params = filters.sql()
        sql = _MATCHES + VISIBLE + where + (_BY_BM25 if ranked else "")
        args = [match, *params]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [int(r[0]) for r in self.conn.execute(sql, args)]

    def fts_texts(self, item_ids: Sequence[int]) -> dict[int, tuple[str | None, ...]]:
        """The FTS column texts (FTS_COLUMNS order) of the items among `item_ids` that have a row."""
        out: dict[int, tuple[str | None, ...]] = {}
        for chunk, marks in id_chunks(item_ids):
            rows = self.conn.execute(
                f"SELECT rowid, {', '.join(FTS_COLUMNS)} FROM items_fts WHERE rowid IN ({marks})", chunk
            )
            out.update((int(row[0]), tuple(row[1:])) for row in rows)
        return out

"""What models and curators say about items: labels per head, captions, curator descriptions and
rejected labels.

`Annotations` is a part of `Catalog` (see store.storage.catalog). Every model value keeps its model
id, score and time; curator rows (labels with source 'curator', descriptions) are never touched by
re-indexing. Curator edits run in their own transaction and keep the FTS rows in step.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence

import sqlite_utils

from store.storage.sql import VISIBLE


class Annotations:
    """The `labels`, `captions`, `descriptions` and `rejected_labels` tables (a part of Catalog)."""

    conn: sqlite3.Connection
    db: sqlite_utils.Database

    # -- model outputs ----------------------------------------------------------------------------

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

    def put_captions(self, model_id: str, captions: Iterable[tuple[int, str]]) -> None:
        """Store (replace) `model_id`'s (item id, caption) pairs and their FTS rows; one transaction."""
        captions = list(captions)
        with self.transaction():
            for item_id, text in captions:
                self.put_caption(item_id, model_id, text)
            self.refresh_fts([item_id for item_id, _ in captions])

    # -- curator edits ----------------------------------------------------------------------------

    def set_description(self, item_id: int, text: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO descriptions (item_id, text, edited_at) VALUES (?, ?, ?)",
                (item_id, text, time.time()),
            )
            self.refresh_fts([item_id])

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

    # -- reads ------------------------------------------------------------------------------------

    def description(self, item_id: int) -> str | None:
        row = self.conn.execute("SELECT text FROM descriptions WHERE item_id = ?", (item_id,)).fetchone()
        return row[0] if row else None

    def rejected_labels(self, item_id: int, head: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT label FROM rejected_labels WHERE item_id = ? AND head = ? ORDER BY created_at, label",
            (item_id, head),
        )
        return [r[0] for r in rows]

    def curator_labels(self, item_id: int, head: str) -> list[str]:
        """The curator's labels of `head` for an item, first = primary."""
        rows = self.conn.execute(
            "SELECT label FROM labels WHERE item_id = ? AND head = ? AND source = 'curator' "
            "ORDER BY rank, id",
            (int(item_id), head),
        )
        return [r[0] for r in rows]

    def curator_labelled(self, head: str) -> list[tuple[int, str]]:
        """(item id, label) of every curator label of `head` on a visible item, by item and rank."""
        return self.conn.execute(
            "SELECT labels.item_id, labels.label FROM labels CROSS JOIN items ON items.id = labels.item_id "
            "CROSS JOIN files ON files.id = items.file_id "
            f"WHERE labels.head = ? AND labels.source = 'curator' AND {VISIBLE} "
            "ORDER BY labels.item_id, labels.rank",
            (head,),
        ).fetchall()

    def label_names(self, head: str) -> list[str]:
        """Every label of `head` that a visible item has (from a model or the curator), sorted."""
        rows = self.conn.execute(
            "SELECT DISTINCT labels.label FROM labels CROSS JOIN items ON items.id = labels.item_id "
            f"CROSS JOIN files ON files.id = items.file_id WHERE labels.head = ? AND {VISIBLE} "
            "ORDER BY labels.label",
            (head,),
        )
        return [r[0] for r in rows]

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

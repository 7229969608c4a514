"""Item rows of the catalog: what search returns, a whole file or a region of it.

`ItemRows` is a part of `Catalog` (see store.storage.catalog): model-made regions are replaced on
re-indexing, curator regions (drawn, or model regions the curator deleted) are kept.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from store.boxes import Box, iou
from store.storage.sql import VISIBLE, box_of

_ITEM_COLUMNS = (
    "items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, items.source, items.hidden"
)


@dataclass(frozen=True)
class ItemRef:
    """An item and, for regions, its box in pixels of the EXIF-transposed image."""

    id: int
    file_id: int
    kind: str
    bbox: Box | None
    source: str
    hidden: bool


def _item_ref(r: Sequence) -> ItemRef:
    return ItemRef(id=int(r[0]), file_id=int(r[1]), kind=r[2], bbox=box_of(*r[2:7]), source=r[7],
                   hidden=bool(r[8]))  # fmt: skip


class ItemRows:
    """The `items` table's reads and writes (a part of Catalog)."""

    conn: sqlite3.Connection

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
        bbox: Box,
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

    def visible_item_at(self, file_id: int, bbox: Box | None) -> int | None:
        """The visible item of a file with box `bbox` (None: its whole-file item), or None."""
        if bbox is None:
            row = self.conn.execute(
                "SELECT id FROM items WHERE file_id = ? AND kind = 'file' AND hidden = 0", (file_id,)
            ).fetchone()
        else:
            x, y, w, h = bbox
            row = self.conn.execute(
                "SELECT id FROM items WHERE file_id = ? AND kind = 'region' AND hidden = 0 "
                "AND x = ? AND y = ? AND w = ? AND h = ?",
                (file_id, x, y, w, h),
            ).fetchone()
        return None if row is None else int(row[0])

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
        self, file_id: int, regions: Sequence[tuple[Box, float]], model_id: str | None
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

    def add_curator_region(self, file_id: int, bbox: Box) -> int:
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

    # -- what the indexer still has to do ---------------------------------------------------------

    def items_without_embedding(self, model_id: str) -> dict[int, list[ItemRef]]:
        """Visible items lacking a `model_id` vector, grouped by file id (e.g. curator-drawn regions,
        or every item after the image model changed)."""
        return self._items_lacking("embeddings", model_id)

    def items_without_caption(self, model_id: str) -> dict[int, list[ItemRef]]:
        """Visible items without a caption by `model_id`, grouped by file id."""
        return self._items_lacking("captions", model_id)

    def _items_lacking(self, table: str, model_id: str) -> dict[int, list[ItemRef]]:
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE} AND NOT EXISTS "
            f"(SELECT 1 FROM {table} t WHERE t.item_id = items.id AND t.model_id = ?) "
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

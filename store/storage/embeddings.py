"""Image vectors in the catalog (the source of truth; the usearch index is a rebuildable cache).

`Embeddings` is a part of `Catalog` (see store.storage.catalog). Every write of vectors takes a new
vector generation, so a vector index knows which rows it may lack after a crash (`VectorIndex.sync`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from store.errors import CatalogError
from store.storage.sql import VISIBLE, id_chunks

_VISIBLE_EMBEDDINGS = (
    "FROM embeddings JOIN items ON items.id = embeddings.item_id JOIN files ON files.id = items.file_id "
    f"WHERE embeddings.model_id = ? AND {VISIBLE}"
)


class Embeddings:
    """The `embeddings` table and the catalog's vector generation (a part of Catalog)."""

    conn: sqlite3.Connection
    path: Path

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

    def embedding_models(self) -> list[tuple[str, int, int]]:
        """(model id, dimension, number of vectors) of every image model with vectors, most first."""
        return self.conn.execute(
            "SELECT model_id, dim, count(*) FROM embeddings GROUP BY model_id, dim ORDER BY count(*) DESC"
        ).fetchall()

    def visible_keys(self, model_id: str) -> np.ndarray:
        rows = self.conn.execute(f"SELECT items.id {_VISIBLE_EMBEDDINGS}", (model_id,))
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
        sql = f"SELECT items.id, embeddings.dim, embeddings.vector {_VISIBLE_EMBEDDINGS}"
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
        return int(self.conn.execute(f"SELECT count(*) {_VISIBLE_EMBEDDINGS}", (model_id,)).fetchone()[0])

"""Storing a batch of decoded files: embed and classify their images in one model run, then write
file rows, items, vectors (also the ensemble model's, when there is one), labels and FTS rows in one
catalog transaction; the vector indexes follow after the commit.

`BatchStore` is a part of `store.ingestion.indexer.Indexer`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from store.errors import FileIndexError
from store.ingestion.decode_work import Prepared, RegionDetector
from store.ingestion.progress import IndexSummary
from store.ingestion.scanner import Entry
from store.protocols import Classifier, ImageEncoder
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

CLASSIFY_TOP = 5


@dataclass
class BatchUnit:
    """A decoded file waiting in the current batch: its images in item order."""

    result: Prepared
    images: list[Image.Image]
    pixels: np.ndarray | None = None  # the encoder's input for `images`, when made in the pool


class BatchStore:
    """Embedding and storing batches (a part of Indexer)."""

    archive: Path
    catalog: Catalog
    encoder: ImageEncoder
    ensemble_encoder: ImageEncoder | None
    classifiers: Sequence[Classifier]
    region_detector: RegionDetector | None
    region_model_id: str
    summary: IndexSummary

    def _encode(
        self, images: list[Image.Image], pixels: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[tuple[str, str, list]]]:
        """Vectors of `images` and their labels as (head, model id, top labels per image): from the
        classifier heads, and from the encoder itself when its model has a classifier of its own
        (image bundles: those encoders are pipelined, so their input comes as `pixels`, made by the
        encoder in the decode pool)."""
        if not images:
            return np.zeros((0, self.encoder.dim), np.float32), []
        own = []
        if pixels is None:
            vectors = self.encoder.encode(images)
        else:
            label_head = getattr(self.encoder, "label_head", None)  # image bundles with class scores
            vectors, per_image = self.encoder.encode_pixels(pixels, CLASSIFY_TOP if label_head else None)
            if label_head:
                own.append((label_head, self.encoder.model_id, per_image))
        vectors = _checked(self.encoder, vectors, len(images))
        heads = [(c.head, c.model_id, c.classify(vectors, top=CLASSIFY_TOP)) for c in self.classifiers]
        return vectors, heads + own

    def _flush(self, batch: list[BatchUnit], vindexes: Sequence[VectorIndex]) -> None:
        images = [img for unit in batch for img in unit.images]
        ready = [unit.pixels for unit in batch if unit.images]
        pixels = np.concatenate(ready) if ready and all(p is not None for p in ready) else None
        vectors, labels = self._encode(images, pixels)
        second, second_vectors = self.ensemble_encoder, None
        if second is not None and images:
            second_vectors = _checked(second, second.encode(images), len(images))
        stale: list[int] = []
        with self.catalog.transaction():
            row = 0
            for unit in batch:
                result = unit.result
                if result.kind == "failed":
                    self._record_failure(result.task.raw_path, result.task.entry, result.error, result.hash)
                    continue
                # One id per image; None where a region was vetoed by the curator (not stored).
                stored = []
                for item_id in self._store_file(result, stale):
                    if item_id is not None:
                        stored.append(item_id)
                        self.catalog.put_embeddings(self.encoder.model_id, [item_id], vectors[row : row + 1])
                        if second_vectors is not None:
                            own = second_vectors[row : row + 1]
                            self.catalog.put_embeddings(second.model_id, [item_id], own)
                        for head, model_id, per_image in labels:
                            self.catalog.put_labels(item_id, head, model_id, per_image[row])
                    row += 1
                self.catalog.refresh_fts(stored)
                self.summary.embedded += len(unit.images)
                if result.task.entry is not None:
                    self.summary.indexed += 1
        for vindex in vindexes:
            vindex.remove(stale)
            # The committed vectors, read back by generation: the index then knows it is complete up
            # to this batch, and a crash before its next save re-adds exactly what it lost (see sync).
            vindex.catch_up(self.catalog)

    def _store_file(self, result: Prepared, stale: list[int]) -> list[int | None]:
        """Write a decoded file's row and items; return one item id per image of `Prepared.images`."""
        task, decoded = result.task, result.decoded
        if task.entry is None:
            return [i.id for i in task.items]
        entry = task.entry
        file_id = self.catalog.upsert_file(
            entry.raw_path, size=entry.size, mtime_ns=entry.mtime_ns, hash=result.hash, status="indexed",
            width=decoded.width, height=decoded.height, format=decoded.format, frames=decoded.frames,
            taken_at=decoded.taken_at,
        )  # fmt: skip
        if task.state is not None:  # content changed: drop what models made from the old content
            stale += self.catalog.reset_model_data(file_id)
        item_ids: list[int | None] = [self.catalog.ensure_file_item(file_id)]
        if self.region_detector is not None:
            removed, added = self.catalog.replace_model_regions(file_id, result.regions, self.region_model_id)
            stale += removed
            item_ids += added
        return item_ids

    def _record_failure(
        self, raw_path: bytes, entry: Entry | None, error: FileIndexError | None, digest: str | None = None
    ) -> None:
        full = os.path.join(os.fsencode(self.archive), raw_path)
        if entry is None:
            try:
                st = os.lstat(full)
                size, mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime_ns = 0, 0
        else:
            size, mtime_ns = entry.size, entry.mtime_ns
        self.catalog.upsert_file(
            raw_path, size=size, mtime_ns=mtime_ns, hash=digest, status="failed",
            error_kind=getattr(error, "kind", "error"), error=str(error),
        )  # fmt: skip


def _checked(encoder: ImageEncoder, vectors: np.ndarray, n: int) -> np.ndarray:
    """`vectors` as float32, or ValueError when the encoder did not give one `dim` vector per image."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (n, encoder.dim):
        raise ValueError(f"encoder {encoder.model_id} returned shape {vectors.shape} for {n} images")
    return vectors

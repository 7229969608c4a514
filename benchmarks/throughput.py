"""End-to-end indexing rate against model-only rate, for the benchmark harness."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.records import Record
from store.errors import FileIndexError
from store.ingestion.decoder import decode_file
from store.ingestion.indexer import Indexer
from store.ingestion.scanner import Entry, walk
from store.protocols import Classifier, ImageEncoder
from store.storage.archive import IndexLocation
from store.storage.catalog import Catalog


def measure_throughput(
    archive: Path,
    encoder: ImageEncoder,
    *,
    classifiers: Sequence[Classifier] = (),
    batch_size: int = 32,
    model_only_images: int = 256,
    decode_workers: int | None = None,
) -> dict[str, float]:
    """End-to-end indexing rate (decode + embed + classify + store, captions off) into a throw-away
    index, and model-only rate on already decoded images at the same batch size (for the bench)."""
    with tempfile.TemporaryDirectory(prefix="imago-throughput-") as folder:
        location = IndexLocation(Path(archive).resolve(), Path(folder), fallback=True)
        with Catalog(location.catalog_path) as catalog:
            indexer = Indexer(
                location, catalog, encoder, classifiers=classifiers, batch_size=batch_size,
                decode_workers=decode_workers, thumbnails=False,
            )  # fmt: skip
            started = time.perf_counter()
            summary = indexer.index(captions=False)
            end_to_end_s = time.perf_counter() - started
    images = []
    for entry in walk(Path(archive)):
        if len(images) >= model_only_images:
            break
        if not isinstance(entry, Entry):
            continue
        try:
            _, decoded = decode_file(
                os.path.join(os.fsencode(archive), entry.raw_path), target_size=encoder.input_size
            )
        except (FileIndexError, OSError):
            continue
        images.append(decoded.image)
    encoder.encode(images[:batch_size])  # warm-up (session creation, allocations)
    started = time.perf_counter()
    for start in range(0, len(images), batch_size):
        encoder.encode(images[start : start + batch_size])
    model_s = time.perf_counter() - started
    end_to_end = summary.embedded / end_to_end_s if end_to_end_s else 0.0
    model_only = len(images) / model_s if model_s else 0.0
    return {
        "end_to_end_images_per_s": end_to_end,
        "model_only_images_per_s": model_only,
        "ratio": end_to_end / model_only if model_only else 0.0,
        "images": float(summary.embedded),
    }


def throughput_record(suite: str, metric: str, rates: dict[str, float], note: str) -> Record:
    """The record of a `measure_throughput` result: end-to-end images/s against model-only, >= 0.85x."""
    return Record.measured(
        suite, metric, rates["end_to_end_images_per_s"], "images/s",
        baseline=rates["model_only_images_per_s"], target=0.85, target_on="ratio", note=note,
    )  # fmt: skip

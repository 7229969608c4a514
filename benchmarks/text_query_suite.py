"""Text query suite: end-to-end `SearchService.search_text` latency on a generated catalog.

End to end means tokenise + encode (the installed CLIP text tower, or a stand-in), vector search,
FTS5 keyword search, fusion, cut-off and fetching the result rows. The catalog has one item per file
with a 512-d clustered vector (see search_suite.clustered_vectors), a file name made of a keyword and
a number, and a caption on every tenth item, so common keywords match thousands of items.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.records import Record
from benchmarks.search_suite import DIM, clustered_vectors
from store.services.search import SearchService
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

SUITE = "query"
MODEL_ID = "bench-image@1"
WORDS = ["icon", "church", "locomotive", "portrait", "map", "letter", "coin", "vase", "bridge", "river",
         "ship", "horse", "soldier", "tower"]  # fmt: skip
TARGET_P95_MS = 100.0


class _StandInTextEncoder:
    """A text 'tower' costing nothing: a fixed vector per text (measures everything but the model)."""

    model_id = "bench-text@1"
    dim = DIM

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def encode(self, texts):
        return self.vectors[[sum(map(ord, t)) % len(self.vectors) for t in texts]]


def build_catalog(folder: Path, n: int) -> tuple[Catalog, VectorIndex]:
    catalog = Catalog(folder / "catalog.db")
    vectors = clustered_vectors(n, seed=5)
    with catalog.transaction():
        ids = []
        for i in range(n):
            word = WORDS[i % len(WORDS)]
            file_id = catalog.upsert_file(
                f"folder{i % 300}/{word}_{i:06d}.jpg".encode(), size=1, mtime_ns=i, hash=f"{i:032x}",
                status="indexed",
            )  # fmt: skip
            ids.append(catalog.ensure_file_item(file_id))
            if i % 10 == 0:
                caption = f"a {WORDS[(i // 10) % len(WORDS)]} near the {WORDS[(i * 7) % len(WORDS)]}"
                catalog.put_caption(ids[-1], "bench-caption@1", caption)
        for start in range(0, n, 5000):
            catalog.put_embeddings(MODEL_ID, ids[start : start + 5000], vectors[start : start + 5000])
        catalog.refresh_fts(ids)
    return catalog, VectorIndex.open(folder, MODEL_ID, DIM, catalog)


def _full_size_text_encoder():
    """A full-size ViT-B/32 text tower: the embed suite's random-weight bundle (timings do not depend
    on weights), else the installed CLIP bundle's; None when neither is at hand."""
    from benchmarks.embed_suite import full_size_clip_bundle
    from benchmarks.harness import SuiteUnavailable
    from models.bundle import find_bundle
    from models.clip import ClipTextEncoder
    from models.errors import ImagoError
    from store import config

    try:
        bundle, _ = full_size_clip_bundle()
    except SuiteUnavailable:
        try:
            bundle = find_bundle(config.models_dir(), "clip")
        except ImagoError:
            return None
    encoder = ClipTextEncoder(bundle, tower="clip")
    return encoder if encoder.dim == DIM else None


def measure(n: int, queries: int = 150) -> list[Record]:
    label = f"{n // 1000}k items"
    texts = [f"{a} {b}" for a in WORDS for b in WORDS][:queries]
    records = []
    with tempfile.TemporaryDirectory(prefix="imago-bench-text-") as folder:
        catalog, index = build_catalog(Path(folder), n)
        try:
            rng = np.random.default_rng(7)
            stand_in = rng.standard_normal((64, DIM)).astype(np.float32)
            stand_in /= np.linalg.norm(stand_in, axis=1, keepdims=True)
            towers = [("stand-in text encoder", _StandInTextEncoder(stand_in), None)]
            real = _full_size_text_encoder()
            if real is not None:
                towers.append((f"text tower {real.model_id}", real, TARGET_P95_MS))
            for name, encoder, target in towers:
                service = SearchService(catalog, index, text_encoder=encoder)
                service.search_text("warm up")
                latencies = []
                for text in texts:
                    start = time.perf_counter()
                    service.search_text(text, top=50)
                    latencies.append((time.perf_counter() - start) * 1000)
                for q in (50, 95):
                    records.append(
                        Record.measured(
                            SUITE,
                            f"text query p{q}, {label}, {name}",
                            float(np.percentile(latencies, q)),
                            "ms",
                            higher_is_better=False,
                            target=target if q == 95 else None,
                        )
                    )
            if real is None:
                why = "no full-size CLIP bundle: needs the [export] extra or an installed bundle"
                records.append(
                    Record(SUITE, f"text query p95, {label}, real text tower", None, "ms", note=why)
                )
        finally:
            catalog.close()
    return records


def run(quick: bool) -> list[Record]:
    return measure(10_000 if quick else 100_000)

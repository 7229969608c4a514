"""Index suite: end-to-end indexing throughput on Caltech-101 vs model-only throughput, same batch size.

End to end = scan + hash + decode + preprocess + embed + classify + store (captions off), with the
full-size random ViT-B/32 bundle of the embed suite. Model-only = the image tower on ready pixel
tensors at the same batch size. The ratio shows whether decoding and storage overlap with inference.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from store.bench.embed_suite import BPE, bench_dir, full_size_clip_bundle
from store.bench.harness import SuiteUnavailable
from store.bench.records import Record

SUITE = "index"
CALTECH = BPE.parents[1] / "caltech101" / "101_ObjectCategories"
BATCH = 32


def _copy_sample(dest: Path, limit: int | None) -> int:
    paths = sorted(CALTECH.glob("*/*.jpg"))
    if limit:
        paths = paths[:: max(1, len(paths) // limit)][:limit]
    for path in paths:
        target = dest / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return len(paths)


def _model_only_rate(encoder, seconds: float) -> float:
    from models.clip import LazySession

    tower = LazySession(encoder.bundle.file("image"), None)
    side = encoder.input_size
    feeds = {
        "pixel_values": np.random.default_rng(0).standard_normal((BATCH, 3, side, side)).astype(np.float32)
    }
    tower.run(feeds)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tower.run(feeds)
        done += BATCH
    return done / (time.perf_counter() - start)


def run(quick: bool) -> list[Record]:
    if not CALTECH.is_dir():
        raise SuiteUnavailable(f"needs the Caltech-101 photographs at {CALTECH}")
    from models.classifier import load_heads
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from store.archive import locate_index
    from store.catalog import Catalog
    from store.indexer import Indexer

    bundle, _ = full_size_clip_bundle()
    encoder = ClipImageEncoder(bundle, quantized=False, batch_size=BATCH)
    heads = load_heads(bench_dir(), bundle, ClipTextEncoder(bundle))
    with tempfile.TemporaryDirectory(prefix="imago-bench-index-") as tmp:
        archive = Path(tmp) / "archive"
        count = _copy_sample(archive, 192 if quick else None)
        location = locate_index(archive)
        with Catalog(location.catalog_path) as catalog:
            indexer = Indexer(location, catalog, encoder, classifiers=heads, batch_size=BATCH)
            start = time.perf_counter()
            summary = indexer.index(captions=False)
            end_to_end = summary.indexed / (time.perf_counter() - start)
            start = time.perf_counter()
            again = indexer.index(captions=False)
            rescan = time.perf_counter() - start
    model_only = _model_only_rate(encoder, 6.0 if quick else 30.0)
    return [
        Record.measured(
            SUITE,
            f"end-to-end indexing, {count} Caltech-101 photos",
            end_to_end,
            "images/s",
            baseline=model_only,
            target=0.85,
            target_on="ratio",
            note="baseline: image tower alone on ready tensors, batch 32",
        ),
        Record.measured(
            SUITE, f"re-index unchanged ({again.unchanged} files)", rescan, "s", higher_is_better=False
        ),
        Record.measured(SUITE, "failed files", float(summary.failed), "files"),
    ]

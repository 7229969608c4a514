"""Index suite: end-to-end indexing throughput on Caltech-101 vs model-only throughput, same batch size.

End to end = scan + hash + decode + preprocess + embed + classify + store (captions off), with the
full-size random ViT-B/32 bundle of the embed suite. Model-only = the image tower on ready pixel
tensors at the same batch size. The ratio shows whether decoding and storage overlap with inference.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.embed_suite import CALTECH, bench_dir, full_size_clip_bundle
from benchmarks.harness import SuiteUnavailable
from benchmarks.records import Record

SUITE = "index"
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


def run(quick: bool) -> list[Record]:
    if not CALTECH.is_dir():
        raise SuiteUnavailable(f"needs the Caltech-101 photographs at {CALTECH}")
    from benchmarks.throughput import measure_throughput, throughput_record
    from models.classifier import load_heads
    from models.clip import ClipImageEncoder, ClipTextEncoder

    bundle, _ = full_size_clip_bundle()
    heads = load_heads(bench_dir(), bundle, ClipTextEncoder(bundle), cache_dir=bench_dir() / "cache")
    records = []
    with tempfile.TemporaryDirectory(prefix="imago-bench-index-") as tmp:
        archive = Path(tmp) / "archive"
        count = _copy_sample(archive, 192 if quick else None)
        # fp32 as before, and the int8 tower that bundles exported with --quantize use by default
        for precision in ("fp32", "int8"):
            encoder = ClipImageEncoder(bundle, quantized=precision == "int8", batch_size=BATCH)
            rates = measure_throughput(archive, encoder, classifiers=heads, batch_size=BATCH,
                                       model_only_images=64 if quick else 256)  # fmt: skip
            records.append(
                throughput_record(
                    SUITE,
                    f"end-to-end indexing, {count} Caltech-101 photos ({precision} image tower)",
                    rates,
                    f"baseline: the {precision} encoder alone on decoded images, same batch size",
                )
            )
    return records

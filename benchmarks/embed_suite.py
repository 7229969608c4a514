"""Embedding suite: CLIP ViT-B/32 image and text towers, fp32 and int8, against transformers/PyTorch.

Timings do not depend on weight values, so the model is a full-size, randomly initialised ViT-B/32
built locally by our own exporter (needs the [export] extra once) and cached in the user data dir.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import SuiteUnavailable
from benchmarks.records import Record
from models.bundle import Bundle, load_bundle
from models.errors import BundleError
from store import config

logger = logging.getLogger(__name__)

SUITE = "embed"
BUNDLE_NAME = "clip-vit-b32-random"
BPE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "clip-bpe"
    / "bpe_simple_vocab_16e6.txt.gz"
)
CALTECH = BPE.parents[1] / "caltech101" / "101_ObjectCategories"  # real photographs, when present


def bench_dir() -> Path:
    return config.user_data_dir() / "bench"


def _import_torch():
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise SuiteUnavailable(f"needs the [export] extra (torch, transformers): {exc}") from exc
    return torch, transformers


def full_size_clip_bundle() -> tuple[Bundle, Path]:
    """The cached full-size random ViT-B/32 bundle and its transformers checkpoint, built on first use."""
    root = bench_dir()
    bundle_dir, checkpoint = root / BUNDLE_NAME, root / f"{BUNDLE_NAME}-checkpoint"
    try:
        return load_bundle(bundle_dir), checkpoint
    except BundleError:
        pass
    torch, transformers = _import_torch()
    from models.export.clip import export_clip_bundle
    from models.export.tiny_clip import write_clip_tokenizer_files

    if not BPE.is_file():
        raise SuiteUnavailable(f"needs CLIP's BPE vocabulary at {BPE} to build the benchmark model")
    logger.info("building a full-size random ViT-B/32 CLIP in %s (once)", root)
    torch.manual_seed(0)
    write_clip_tokenizer_files(BPE, checkpoint)
    transformers.CLIPModel(transformers.CLIPConfig()).eval().save_pretrained(str(checkpoint))
    transformers.CLIPImageProcessor().save_pretrained(str(checkpoint))
    if bundle_dir.exists():
        import shutil

        shutil.rmtree(bundle_dir)
    return export_clip_bundle(str(checkpoint), bundle_dir, quantize="int8", name=BUNDLE_NAME), checkpoint


def _images_per_second(run, batch: int, seconds: float) -> float:
    run()  # warm-up (first run allocates)
    done, start = 0, time.perf_counter()
    while True:
        run()
        done += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def run(quick: bool) -> list[Record]:
    torch, transformers = _import_torch()
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.session import LazySession

    bundle, checkpoint = full_size_clip_bundle()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    reference = transformers.CLIPModel.from_pretrained(str(checkpoint)).eval()
    fp32, int8 = ClipImageEncoder(bundle, quantized=False), ClipImageEncoder(bundle, quantized=True)
    tower32, tower8 = LazySession(bundle.file("image"), None), LazySession(bundle.file("image_int8"), None)
    seconds = 2.0 if quick else 10.0
    rng = np.random.default_rng(0)
    records = []
    for batch in (1, 8, 32):
        pixels = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
        feeds = {"pixel_values": pixels}
        ours32 = _images_per_second(lambda f=feeds: tower32.run(f), batch, seconds)
        ours8 = _images_per_second(lambda f=feeds: tower8.run(f), batch, seconds)
        tensor = torch.from_numpy(pixels)

        def torch_run(t=tensor):
            with torch.inference_mode():
                reference.get_image_features(pixel_values=t)

        base = _images_per_second(torch_run, batch, seconds)
        records += [
            Record.measured(
                SUITE,
                f"image tower fp32, batch {batch}",
                ours32,
                "images/s",
                baseline=base,
                note="baseline: transformers CLIPModel on PyTorch CPU",
            ),
            Record.measured(
                SUITE,
                f"image tower int8 vs fp32, batch {batch}",
                ours8,
                "images/s",
                baseline=ours32,
                target=1.5,
                target_on="ratio",
            ),
        ]
    images = _sample_images(16)
    cosine = float(np.mean(np.sum(fp32.encode(images) * int8.encode(images), axis=1)))
    records.append(Record.measured(SUITE, "int8 vs fp32 embedding cosine (mean)", cosine, "", target=0.99))

    text = ClipTextEncoder(bundle, tower="clip")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(checkpoint))
    queries = ["a steam locomotive at the station", "икона Богоматери", "an old map of the city"] * 11
    for batch in (1, 32):
        chunk = queries[:batch]
        ours = _images_per_second(lambda c=chunk: text.encode(c), batch, seconds)

        def torch_text(c=chunk):
            with torch.inference_mode():
                reference.get_text_features(**tokenizer(c, padding=True, return_tensors="pt"))

        base = _images_per_second(torch_text, batch, seconds)
        records.append(
            Record.measured(
                SUITE, f"text tower (tokenise + encode), batch {batch}", ours, "texts/s", baseline=base
            )
        )
    return records


def _sample_images(n: int):
    """Real photographs from Caltech-101 when present (int8 error depends on the input), else noise."""
    from PIL import Image

    paths = sorted(CALTECH.glob("*/image_0001.jpg"))[:n]
    if paths:
        return [Image.open(p).convert("RGB") for p in paths]
    rng = np.random.default_rng(1)
    return [Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)) for _ in range(n)]

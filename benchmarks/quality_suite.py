"""Quality suite: parity with transformers on the committed tiny fixtures, and retrieval quality on
Caltech-101 when a real CLIP bundle is installed.

Parity figures come from randomly initialised tiny models with reference outputs stored beside them
(computed by transformers), so they run anywhere the source tree is. MAP@10 / P@5 / zero-shot accuracy
mean something only with real weights: without an installed real bundle they are reported as skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.embed_suite import CALTECH
from benchmarks.harness import SuiteUnavailable
from benchmarks.records import Record
from models.bundle import list_bundles, load_bundle
from models.clip import ClipImageEncoder, ClipTextEncoder
from store import config

SUITE = "quality"
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CLIP_TINY = FIXTURES / "models" / "clip-tiny"


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def clip_parity() -> list[Record]:
    """Minimum cosine between our ONNX embeddings and transformers' on the fixture images and texts."""
    if not CLIP_TINY.is_dir():
        raise SuiteUnavailable(f"needs the source tree's test fixtures ({CLIP_TINY})")
    meta = json.loads((FIXTURES / "models" / "clip-tiny-reference.json").read_text(encoding="utf-8"))
    reference = np.load(FIXTURES / "models" / "clip-tiny-reference.npz")
    bundle = load_bundle(CLIP_TINY)
    images = [Image.open(FIXTURES / "images" / name) for name in meta["images"]]
    texts = [i for i, t in enumerate(meta["texts"]) if t.strip()]
    image_cos = _min_cosine(
        ClipImageEncoder(bundle, quantized=False).encode(images), reference["image_embeds"]
    )
    records = [
        Record.measured(SUITE, "CLIP image tower vs transformers (min cosine)", image_cos, "", target=0.9999)
    ]
    for tower, key in (("clip", "text_embeds"), ("multilingual", "multilingual_embeds")):
        vectors = ClipTextEncoder(bundle, tower=tower).encode([meta["texts"][i] for i in texts])
        records.append(
            Record.measured(SUITE, f"{tower} text tower vs reference (min cosine)",
                            _min_cosine(vectors, reference[key][texts]), "", target=0.9999)
        )  # fmt: skip
    return records


def retrieval_quality(quick: bool) -> list[Record]:
    """find-similar MAP@10 / P@5 and zero-shot accuracy on Caltech-101 with an installed real bundle."""
    from store.services.evaluation import evaluate

    real = [
        b
        for b in list_bundles(config.models_dir())
        if b.kind == "clip" and "random" not in str(b.manifest.get("source", "")).lower()
    ]
    if not real:
        return [
            Record(SUITE, "Caltech-101 MAP@10", None, "", note="skipped: needs a real CLIP bundle installed")
        ]
    if not CALTECH.is_dir():
        return [Record(SUITE, "Caltech-101 MAP@10", None, "", note=f"skipped: no Caltech-101 at {CALTECH}")]
    bundle = real[0]
    metrics = evaluate(
        CALTECH.parent, ClipImageEncoder(bundle), ClipTextEncoder(bundle), limit=5 if quick else None
    )
    flat = _flatten(metrics)
    wanted = [k for k in flat if any(s in k for s in ("map@10", "p@5", "top1", "top5", "top-1", "top-5"))]
    return [Record.measured(SUITE, f"{bundle.name}: {k}", float(flat[k]), "") for k in wanted]


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}".lower()
        if isinstance(value, dict):
            out.update(_flatten(value, name + " "))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out


def run(quick: bool) -> list[Record]:
    return clip_parity() + retrieval_quality(quick)

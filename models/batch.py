"""Model runs over lists of files, free of argument parsing: embed images or texts, classify or label
image files, and train a classifier head from labelled images or stored embeddings.

They back the CLI's `models embed`, `classify` and `classify train`; each function takes explicit
bundles, paths and options and returns plain data for the caller to print. Bundles are found with
`models.bundle.find_bundle`.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.bundle import Bundle
from models.classifier import load_heads, save_head_bundle, train_linear_head
from models.clip import ClipImageEncoder, ClipTextEncoder
from models.errors import InputError
from models.label_names import HEADS
from models.preprocess import load_image
from models.session import SessionOptions

logger = logging.getLogger(__name__)


def embed_images(
    bundle: Bundle,
    paths: Sequence[Path],
    options: SessionOptions | None = None,
    quantized: bool | None = None,
) -> tuple[str, np.ndarray]:
    """(model_id, [n, d] vectors) for image files, in input order."""
    encoder = ClipImageEncoder(bundle, options, quantized=quantized)
    images = [load_image(Path(p)) for p in paths]
    try:
        return encoder.model_id, encoder.encode(images)
    finally:
        encoder.close()


def embed_texts(
    bundle: Bundle, texts: Sequence[str], options: SessionOptions | None = None, tower: str = "auto"
) -> tuple[str, np.ndarray]:
    """(model_id, [n, d] vectors) for texts, in input order."""
    encoder = ClipTextEncoder(bundle, options, tower=tower)
    try:
        return encoder.model_id, encoder.encode(list(texts))
    finally:
        encoder.close()


def classify_images(
    models_dir: Path,
    bundle: Bundle,
    paths: Sequence[Path],
    head: str | None = None,
    top: int = 5,
    options: SessionOptions | None = None,
    vocab_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> list[dict]:
    """[{"image": path, "heads": {head: [[label, probability], ...]}}] for each image file."""
    if head is not None and head not in HEADS:
        raise InputError(f"unknown head {head!r} (expected one of {', '.join(HEADS)})")
    model_id, vectors = embed_images(bundle, paths, options)
    text_encoder = ClipTextEncoder(bundle, options)
    heads = [
        h
        for h in load_heads(models_dir, bundle, text_encoder, vocab_dir, options, cache_dir)
        if head in (None, h.head)
    ]
    results = [{"image": str(p), "model": model_id, "heads": {}} for p in paths]
    for classifier in heads:
        for result, ranked in zip(results, classifier.classify(vectors, top), strict=True):
            result["heads"][classifier.head] = {
                "model": classifier.model_id,
                "top": [[label, round(prob, 6)] for label, prob in ranked],
            }
    return results


def label_images(bundle: Bundle, paths: Sequence[Path], top: int = 5,
                 options: SessionOptions | None = None) -> list[dict]:  # fmt: skip
    """`classify_images`' result for an image-model bundle: its own classes as the "name" head."""
    from models.image_model import ImageModelEncoder

    encoder = ImageModelEncoder(bundle, options)
    if encoder.label_head is None:
        raise InputError(f"{bundle.model_id} has no classifier: it gives embeddings only")
    try:
        _, ranked = encoder.encode_and_label([load_image(Path(p)) for p in paths], top)
    finally:
        encoder.close()
    return [
        {"image": str(p), "model": bundle.model_id,
         "heads": {encoder.label_head: {"model": bundle.model_id,
                                        "top": [[label, round(prob, 6)] for label, prob in r]}}}
        for p, r in zip(paths, ranked, strict=True)
    ]  # fmt: skip


def read_label_csv(path: Path) -> list[tuple[Path, str]]:
    """(image path, label) rows from a CSV with columns `path,label`; relative paths from the CSV's folder."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"cannot read labels file {path}: {exc}") from exc
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["path", "label"]:
        rows = rows[1:]
    pairs = []
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{path}: row {number} needs 'path,label', got {row!r}")
        image = Path(row[0].strip())
        pairs.append((image if image.is_absolute() else path.parent / image, row[1].strip()))
    if not pairs:
        raise InputError(f"{path}: no labelled images")
    return pairs


def train_head(
    models_dir: Path,
    bundle: Bundle,
    head: str,
    labels_csv: Path | None = None,
    embeddings_file: Path | None = None,
    name: str | None = None,
    holdout: float = 0.2,
    options: SessionOptions | None = None,
    examples: tuple[np.ndarray, Sequence[str]] | None = None,
) -> Bundle:
    """Fit a linear head from exactly one source: a labels CSV (images embedded now), an .npz of
    stored embeddings (`embeddings` [n, d], `labels` [n]), or `examples` (embeddings, labels) such as
    an archive's curator labels. The head bundle is installed into `models_dir` and used by
    `classify` and the indexer from then on.
    """
    if head not in HEADS:
        raise InputError(f"unknown head {head!r} (expected one of {', '.join(HEADS)})")
    if sum(source is not None for source in (labels_csv, embeddings_file, examples)) != 1:
        raise InputError("give exactly one of a labels CSV, an embeddings .npz file or an archive")
    if not 0.0 <= holdout < 1.0:
        raise InputError(f"holdout must be in [0, 1), not {holdout}")
    if examples is not None:
        vectors, labels = np.asarray(examples[0], dtype=np.float32), [str(x) for x in examples[1]]
        if not labels:
            raise InputError(
                f"no curator labels of the {head!r} head on items with {bundle.model_id} vectors"
            )
    elif embeddings_file is not None:
        try:
            with np.load(embeddings_file, allow_pickle=False) as data:
                vectors, labels = data["embeddings"], [str(x) for x in data["labels"]]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"cannot read embeddings file {embeddings_file}: {exc}") from exc
    else:
        pairs = read_label_csv(labels_csv)
        _, vectors = embed_images(bundle, [p for p, _ in pairs], options, quantized=False)
        labels = [label for _, label in pairs]
    dim = int(bundle.manifest["embedding_dim"])
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise InputError(f"embeddings have shape {vectors.shape}; {bundle.model_id} gives dimension {dim}")
    trained = train_linear_head(vectors, labels, head, holdout=holdout)
    return save_head_bundle(trained, models_dir, bundle, name=name)

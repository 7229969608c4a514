"""Evaluation of search and classification on a folder-per-class dataset (e.g. Caltech-101).

The gallery (train list) plays the archive, the queries (test list) the curator's images:
- find similar: MAP@10 and P@5, relevance = same class (as the seed documents measure). AP@10 is
  sum over ranks i <= 10 of precision@i at each relevant rank, divided by min(10, relevant items in
  the gallery); MAP@10 is its mean over queries;
- zero-shot top-1 / top-5 accuracy of the queries against the class names ("a photo of a {name}.");
- a trained linear head (models.classifier.train_linear_head, fitted on the gallery's labels):
  top-1 / top-5 accuracy on the queries;
- text-to-image recall@1/5/10 when the dataset has `captions.json` ({relative path: caption});
- with a second image model (an ensemble, store.services.fusion): find similar with each model alone
  and with the fused score at a given weight, or at the weight a sweep picks on the gallery (train)
  split alone: part of each class's gallery images query the rest; the queries (test) stay unseen.

Images are decoded exactly as the indexer does (store.ingestion.decoder) and embedded in batches.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.errors import InputError
from store.errors import FileIndexError
from store.ingestion.decoder import decode_file
from store.protocols import ImageEncoder, TextEncoder
from store.services.fusion import fuse, normalise

logger = logging.getLogger(__name__)

WEIGHTS = tuple(n / 10 for n in range(11))  # the weights a sweep tries
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
PROMPT = "a photo of a {}."


@dataclass(frozen=True)
class Sample:
    path: str  # relative to the dataset root
    label: str  # the class folder


def read_list(dataset: Path, list_file: Path) -> list[Sample]:
    """Samples named one per line (relative paths `class/.../file`) in `list_file`."""
    try:
        lines = Path(list_file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the list {list_file}: {exc.strerror or exc}") from exc
    root = _image_root(dataset)
    samples = []
    for n, line in enumerate(lines, 1):
        rel = line.strip()
        if not rel or rel.startswith("#"):
            continue
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or len(parts) < 2:
            raise InputError(f"{list_file}:{n}: expected a relative path class/file, not {rel!r}")
        samples.append(Sample(Path(os.path.relpath(root / rel, dataset)).as_posix(), parts[0]))
    return samples


def _image_root(dataset: Path) -> Path:
    """Caltech-101 keeps its classes in `101_ObjectCategories/`; other datasets at the top."""
    inner = dataset / "101_ObjectCategories"
    return inner if inner.is_dir() else dataset


def default_split(dataset: Path) -> tuple[list[Sample], list[Sample]]:
    """train.txt / test.txt when the dataset has them, else every third image of each class queries."""
    if (dataset / "train.txt").is_file() and (dataset / "test.txt").is_file():
        return read_list(dataset, dataset / "train.txt"), read_list(dataset, dataset / "test.txt")
    root = _image_root(dataset)
    gallery, queries = [], []
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in classes:
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        for n, path in enumerate(files):
            sample = Sample(Path(os.path.relpath(path, dataset)).as_posix(), folder.name)
            (queries if n % 3 == 2 else gallery).append(sample)
    return gallery, queries


def limit_per_class(samples: Sequence[Sample], limit: int | None) -> list[Sample]:
    if limit is None:
        return list(samples)
    counts: dict[str, int] = {}
    out = []
    for sample in samples:
        if counts.get(sample.label, 0) < limit:
            counts[sample.label] = counts.get(sample.label, 0) + 1
            out.append(sample)
    return out


def embed_images(
    dataset: Path, samples: Sequence[Sample], encoder: ImageEncoder, *, batch_size: int = 64,
    workers: int = 2, progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, list[int]]:  # fmt: skip
    """L2-normalised vectors of the samples that decode, and the indices of those that failed."""

    def load(sample: Sample):
        try:
            return decode_file(dataset / sample.path, target_size=encoder.input_size, max_side=512)[1].image
        except (FileNotFoundError, FileIndexError) as exc:
            logger.warning("skipping %s: %s", sample.path, exc)
            return None

    vectors: list[np.ndarray] = []
    failed: list[int] = []
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="imago-eval-decode") as pool:
        for start in range(0, len(samples), batch_size):
            images = list(pool.map(load, samples[start : start + batch_size]))
            failed += [start + i for i, image in enumerate(images) if image is None]
            good = [image for image in images if image is not None]
            if good:
                vectors.append(np.asarray(encoder.encode(good), dtype=np.float32))
            if progress is not None:
                progress(min(start + batch_size, len(samples)), len(samples))
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, encoder.dim), np.float32)
    return normalise(matrix), failed


def retrieval_metrics(
    queries: np.ndarray, query_labels: Sequence[str], gallery: np.ndarray, gallery_labels: Sequence[str],
    k: int = 10, p_at: int = 5,
) -> dict[str, float]:  # fmt: skip
    """MAP@k and P@p_at of cosine retrieval, relevance = same label."""
    return fused_retrieval_metrics(queries, queries, query_labels, gallery, gallery, gallery_labels, 1.0,
                                   k=k, p_at=p_at)  # fmt: skip


def fused_retrieval_metrics(
    queries: np.ndarray, second_queries: np.ndarray, query_labels: Sequence[str], gallery: np.ndarray,
    second_gallery: np.ndarray, gallery_labels: Sequence[str], weight: float, k: int = 10, p_at: int = 5,
) -> dict[str, float]:  # fmt: skip
    """MAP@k and P@p_at of retrieval by two models' fused cosine (`weight` for the first model's)."""
    g_labels = np.asarray(gallery_labels)
    ranked = []
    for start in range(0, len(queries), 512):
        chunk = slice(start, start + 512)
        scores = queries[chunk] @ gallery.T
        if weight < 1.0:
            scores = fuse(scores, second_queries[chunk] @ second_gallery.T, weight)
        ranked += [g_labels[row] for row in np.argsort(-scores, axis=1, kind="stable")[:, :k]]
    return ranked_metrics(ranked, query_labels, gallery_labels, k=k, p_at=p_at)


def ranked_metrics(
    ranked: Sequence[Sequence[str]], query_labels: Sequence[str], gallery_labels: Sequence[str],
    k: int = 10, p_at: int = 5,
) -> dict[str, float]:  # fmt: skip
    """MAP@k and P@p_at of ranked result labels (one list per query, best first), relevance = same
    label; the AP denominator is min(k, the gallery's items of that label)."""
    relevant_total = Counter(gallery_labels)
    aps, precisions = [], []
    for row, label in zip(ranked, query_labels, strict=True):
        hits = np.asarray([r == label for r in row[:k]], dtype=bool)
        denominator = min(k, relevant_total[label])
        if denominator:
            ranks = np.flatnonzero(hits) + 1
            aps.append(float(np.sum(np.arange(1, len(ranks) + 1) / ranks)) / denominator)
        else:
            aps.append(0.0)
        precisions.append(float(hits[:p_at].mean()) if len(hits) else 0.0)
    return {
        f"map@{k}": float(np.mean(aps)) if aps else 0.0,
        f"p@{p_at}": float(np.mean(precisions)) if precisions else 0.0,
    }


def topk_accuracy(scores: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Top-1 and top-5 accuracy of class scores [n, len(classes)] against the true labels."""
    index = {c: i for i, c in enumerate(classes)}
    truth = np.array([index.get(label, -1) for label in labels])
    order = np.argsort(-scores, axis=1, kind="stable")
    return {
        "top1": float((order[:, 0] == truth).mean()) if len(truth) else 0.0,
        "top5": float((order[:, :5] == truth[:, None]).any(axis=1).mean()) if len(truth) else 0.0,
    }


def class_name(label: str) -> str:
    """'Faces_easy' -> 'faces easy', 'water_lilly' -> 'water lilly'."""
    return label.replace("_", " ").replace("-", " ").strip().lower()


def evaluate(
    dataset: Path,
    image_encoder: ImageEncoder,
    text_encoder: TextEncoder | None = None,
    *,
    gallery: Sequence[Sample] | None = None,
    queries: Sequence[Sample] | None = None,
    limit: int | None = None,
    train_head: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    ensemble_encoder: ImageEncoder | None = None,
    ensemble_weight: float | None = None,
) -> dict:
    """All metrics for one dataset and model, as a JSON-ready dict. With `ensemble_encoder`, also find
    similar by each image model alone and fused at `ensemble_weight` (the first model's weight; None:
    the weight a sweep picks on the gallery split, see `pick_weight`)."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise InputError(f"dataset folder not found: {dataset}")
    if gallery is None or queries is None:
        default_gallery, default_queries = default_split(dataset)
        gallery = default_gallery if gallery is None else gallery
        queries = default_queries if queries is None else queries
    gallery, queries = limit_per_class(gallery, limit), limit_per_class(queries, limit)
    if not gallery or not queries:
        raise InputError(f"{dataset}: the gallery has {len(gallery)} and the queries {len(queries)} images")

    def stage(name: str):
        return (lambda done, total: progress(name, done, total)) if progress else None

    g_vec, g_failed = embed_images(dataset, gallery, image_encoder, progress=stage("gallery"))
    q_vec, q_failed = embed_images(dataset, queries, image_encoder, progress=stage("queries"))
    g_labels = [s.label for i, s in enumerate(gallery) if i not in set(g_failed)]
    q_labels = [s.label for i, s in enumerate(queries) if i not in set(q_failed)]
    classes = sorted(set(g_labels) | set(q_labels))
    report: dict = {
        "dataset": str(dataset),
        "image_model": image_encoder.model_id,
        "text_model": text_encoder.model_id if text_encoder is not None else None,
        "gallery": len(g_labels),
        "queries": len(q_labels),
        "classes": len(classes),
        "failed_images": len(g_failed) + len(q_failed),
        "find_similar": retrieval_metrics(q_vec, q_labels, g_vec, g_labels),
        "zero_shot": None,
        "trained_head": None,
        "text_to_image": None,
        "ensemble": None,
    }
    if ensemble_encoder is not None:
        g2_vec, g2_failed = embed_images(dataset, gallery, ensemble_encoder, progress=stage("gallery (2)"))
        q2_vec, q2_failed = embed_images(dataset, queries, ensemble_encoder, progress=stage("queries (2)"))
        g_out, q_out = set(g_failed) | set(g2_failed), set(q_failed) | set(q2_failed)
        first = (_rows_kept(g_vec, g_failed, g_out), _rows_kept(q_vec, q_failed, q_out))
        second = (_rows_kept(g2_vec, g2_failed, g_out), _rows_kept(q2_vec, q2_failed, q_out))
        report["ensemble"] = ensemble_report(
            first, second, [s.label for i, s in enumerate(gallery) if i not in g_out],
            [s.label for i, s in enumerate(queries) if i not in q_out],
            (image_encoder.model_id, ensemble_encoder.model_id), ensemble_weight,
        )  # fmt: skip
    if text_encoder is not None:
        prompts = [PROMPT.format(class_name(c)) for c in classes]
        class_vec = normalise(np.asarray(text_encoder.encode(prompts), dtype=np.float32))
        report["zero_shot"] = topk_accuracy(q_vec @ class_vec.T, q_labels, classes)
        captions = _captions(dataset, queries, q_failed)
        if captions:
            texts, targets = zip(*captions, strict=True)
            t_vec = normalise(np.asarray(text_encoder.encode(list(texts)), dtype=np.float32))
            order = np.argsort(-(t_vec @ q_vec.T), axis=1, kind="stable")
            targets_arr = np.asarray(targets)[:, None]
            report["text_to_image"] = {
                f"recall@{k}": float((order[:, :k] == targets_arr).any(axis=1).mean()) for k in (1, 5, 10)
            }
    if train_head and len(set(g_labels)) >= 2:
        from models.classifier import train_linear_head

        head = train_linear_head(g_vec, g_labels, "category", holdout=0.0)
        report["trained_head"] = topk_accuracy(head.probabilities(q_vec), q_labels, head.labels)
    return report


def _rows_kept(vectors: np.ndarray, failed: list[int], dropped: set[int]) -> np.ndarray:
    """The rows of `vectors` (one per sample, less the `failed` ones) whose sample is not `dropped`."""
    failed_set = set(failed)
    samples = [i for i in range(len(vectors) + len(failed)) if i not in failed_set]
    return vectors[np.array([i not in dropped for i in samples], bool)]


def ensemble_report(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray], gallery_labels: list[str],
    query_labels: list[str], model_ids: tuple[str, str], weight: float | None,
) -> dict:  # fmt: skip
    """Find similar by each model alone and fused; `first` and `second` are each model's (gallery,
    queries) vectors, row-aligned. `weight` None: picked by `pick_weight` on the gallery alone."""
    sweep = measured = None
    if weight is None:
        weight, sweep, measured = pick_weight(first[0], second[0], gallery_labels)
    return {
        "models": list(model_ids),
        "weight": weight,
        "weight_measured_on": measured,
        "sweep": sweep,
        "first": retrieval_metrics(first[1], query_labels, first[0], gallery_labels),
        "second": retrieval_metrics(second[1], query_labels, second[0], gallery_labels),
        "fused": fused_retrieval_metrics(
            first[1], second[1], query_labels, first[0], second[0], gallery_labels, weight
        ),
    }


def pick_weight(first: np.ndarray, second: np.ndarray, labels: list[str]) -> tuple[float, list[dict], str]:
    """The fusion weight (of WEIGHTS) with the best MAP@10 when every third gallery image of each
    class queries the others (of several equal ones, the middle); (weight, the sweep's figures, what
    it was measured on)."""
    seen: Counter = Counter()
    held = np.zeros(len(labels), bool)
    for row, label in enumerate(labels):
        held[row] = seen[label] % 3 == 2
        seen[label] += 1
    if not held.any():
        raise InputError("too few gallery images to pick a fusion weight (at least 3 in a class)")
    q_labels = [label for label, h in zip(labels, held, strict=True) if h]
    g_labels = [label for label, h in zip(labels, held, strict=True) if not h]
    queries, gallery = (first[held], second[held]), (first[~held], second[~held])
    sweep = [
        {"weight": w} | fused_retrieval_metrics(*queries, q_labels, *gallery, g_labels, w) for w in WEIGHTS
    ]
    # Of weights that score alike, the middle one: the farthest from where the figure starts to drop.
    best = max(row["map@10"] for row in sweep)
    tied = [row["weight"] for row in sweep if row["map@10"] >= best - 1e-9]
    where = f"gallery split: {len(q_labels)} held-out queries against {len(g_labels)} images"
    return tied[len(tied) // 2], sweep, where


def _captions(dataset: Path, queries: Sequence[Sample], failed: list[int]) -> list[tuple[str, int]]:
    """(caption, row in the query matrix) for queries that have one in captions.json."""
    path = dataset / "captions.json"
    if not path.is_file():
        return []
    import json

    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if not isinstance(mapping, dict):
        raise InputError(f"{path} must map relative image paths to captions")
    root = _image_root(dataset)
    skip = set(failed)
    out, row = [], 0
    for n, sample in enumerate(queries):
        if n in skip:
            continue
        rel = Path(os.path.relpath(dataset / sample.path, root)).as_posix()
        text = mapping.get(rel) or mapping.get(sample.path)
        if isinstance(text, str) and text.strip():
            out.append((text, row))
        row += 1
    return out


def to_table(report: dict) -> str:
    """A readable Markdown table of a report."""
    lines = [
        f"Dataset {report['dataset']}: {report['gallery']} gallery, {report['queries']} queries, "
        f"{report['classes']} classes; image model {report['image_model']}",
        "",
        "| task | metric | value |",
        "|---|---|---|",
    ]
    for task in ("find_similar", "zero_shot", "trained_head", "text_to_image"):
        values = report.get(task)
        if values is None:
            lines.append(f"| {task} | - | not measured |")
            continue
        for metric, value in values.items():
            lines.append(f"| {task} | {metric} | {value:.4f} |")
    ensemble = report.get("ensemble")
    if ensemble:
        first, second = ensemble["models"]
        w = ensemble["weight"]
        fused = f"{w:.1f} x {first} + {1 - w:.1f} x {second}"
        rows = ((first, "first"), (second, "second"), (fused, "fused"))
        for name, key in rows:
            for metric, value in ensemble[key].items():
                lines.append(f"| find_similar {name} | {metric} | {value:.4f} |")
        for row in ensemble["sweep"] or []:
            lines.append(f"| weight sweep {row['weight']:.1f} | map@10 | {row['map@10']:.4f} |")
    return "\n".join(lines)

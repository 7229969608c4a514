"""Classifier heads over CLIP image embeddings: zero-shot (text prompts) and trained linear heads.

Both satisfy `store.protocols.Classifier`: `head` ("category" or "name"), `model_id`, and
`classify(embeddings, top) -> [[(label, probability), ...], ...]`, probabilities from a softmax.
`classify` is safe to call from several threads (numpy, or an onnxruntime session).

- Zero-shot: each label of a vocabulary (resources/vocabularies/*.json, overridable per archive) is
  embedded as the normalised mean of its prompt embeddings (English templates; Russian ones too when
  the text encoder is multilingual); an image's probabilities are softmax(logit_scale * cosine).
  Label embeddings are cached on disk, keyed by text model and vocabulary content.
- Trained: softmax regression fitted in numpy on stored image embeddings and curator labels, with a
  held-out accuracy report, saved as a small ONNX graph (embeddings -> probabilities) in a "head"
  bundle whose `base_model` is the CLIP bundle it was trained on. A trained head replaces the
  zero-shot head of the same name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.bundle import Bundle, list_bundles, write_manifest
from models.bundle_install import install_bundle
from models.errors import BundleError, ImagoError, InputError, VocabularyError
from models.label_names import HEADS
from models.session import LazySession, SessionOptions
from resources import resource_path

logger = logging.getLogger(__name__)

VOCABULARY_FILES = {"category": "categories.json", "name": "names.json"}
LANGUAGES = ("en", "ru")


def top_k(probabilities: np.ndarray, labels: Sequence[str], top: int) -> list[list[tuple[str, float]]]:
    """Best `top` (label, probability) pairs per row, highest first."""
    if top < 1:
        raise InputError(f"top must be >= 1, not {top}")
    top = min(top, len(labels))
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    return [[(labels[j], float(row[j])) for j in idx] for row, idx in zip(probabilities, order, strict=True)]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _check_embeddings(embeddings: np.ndarray, dim: int, what: str) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim == 1:
        embeddings = embeddings[None, :]
    if embeddings.ndim != 2 or embeddings.shape[1] != dim:
        raise InputError(f"{what} expects embeddings of dimension {dim}, got shape {embeddings.shape}")
    return embeddings


# ---------------------------------------------------------------------------------------------------
# vocabularies and zero-shot heads


@dataclass(frozen=True)
class Vocabulary:
    """Labels with display names and prompts in English and Russian, plus prompt templates."""

    head: str
    version: str
    labels: list[dict]
    templates: dict[str, list[str]]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read and validate a vocabulary JSON file; VocabularyError names the file and field."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VocabularyError(f"cannot read vocabulary {path}: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != 1:
            raise VocabularyError(f"{path}: not a vocabulary of format 1")
        head = raw.get("head")
        if not isinstance(head, str) or not head:
            raise VocabularyError(f"{path}: field 'head' must be a non-empty string")
        templates = raw.get("templates")
        if not isinstance(templates, dict) or not templates.get("en"):
            raise VocabularyError(f"{path}: 'templates' must have a non-empty 'en' list")
        for lang, items in templates.items():
            if not isinstance(items, list) or not all(isinstance(t, str) and "{}" in t for t in items):
                raise VocabularyError(f"{path}: templates.{lang} must be strings containing '{{}}'")
        labels = raw.get("labels")
        if not isinstance(labels, list) or len(labels) < 2:
            raise VocabularyError(f"{path}: 'labels' must list at least two labels")
        seen = set()
        for index, label in enumerate(labels):
            if not isinstance(label, dict) or not isinstance(label.get("en"), str) or not label["en"].strip():
                raise VocabularyError(f"{path}: labels[{index}] needs a non-empty 'en' name")
            if label["en"] in seen:
                raise VocabularyError(f"{path}: label {label['en']!r} appears twice")
            seen.add(label["en"])
        return cls(head, str(raw.get("version", "1")), labels, templates, path)

    @property
    def names(self) -> list[str]:
        return [label["en"] for label in self.labels]

    def prompts(self, label: dict, languages: Sequence[str]) -> list[str]:
        out = []
        for lang in languages:
            subject = label.get("prompt", {}).get(lang) or label.get(lang)
            if subject:
                out += [template.format(subject) for template in self.templates.get(lang, [])]
        return out

    def digest(self, languages: Sequence[str]) -> str:
        payload = [[self.prompts(label, languages) for label in self.labels], list(languages)]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def default_vocabulary(head: str) -> Vocabulary:
    """The vocabulary shipped in resources/vocabularies for `head` ("category" or "name")."""
    if head not in VOCABULARY_FILES:
        raise InputError(f"unknown head {head!r} (expected one of {', '.join(HEADS)})")
    return Vocabulary.load(resource_path("vocabularies", VOCABULARY_FILES[head]))


@dataclass
class ZeroShotHead:
    """Zero-shot classifier: softmax over logit_scale * cosine(image, label embedding)."""

    head: str
    model_id: str
    labels: list[str]
    label_embeddings: np.ndarray  # [k, d], L2-normalised
    logit_scale: float
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # label -> {lang: name}

    def classify(self, embeddings: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]:
        embeddings = _check_embeddings(embeddings, self.label_embeddings.shape[1], f"head {self.model_id}")
        logits = self.logit_scale * (embeddings @ self.label_embeddings.T)
        return top_k(softmax(logits.astype(np.float64)), self.labels, top)

    def display_name(self, label: str, language: str = "en") -> str:
        return self.translations.get(label, {}).get(language, label)


def build_zero_shot_head(
    vocabulary: Vocabulary, text_encoder, logit_scale: float, cache_dir: Path | None = None
) -> ZeroShotHead:
    """Embed the vocabulary's prompts with `text_encoder` (cached in `cache_dir`) into a ZeroShotHead."""
    languages = list(LANGUAGES) if getattr(text_encoder, "multilingual", False) else ["en"]
    digest = hashlib.sha256(f"{text_encoder.model_id}|{vocabulary.digest(languages)}".encode()).hexdigest()[
        :16
    ]
    cache = Path(cache_dir) / f"zeroshot-{vocabulary.head}-{digest}.npy" if cache_dir else None
    embeddings = None
    if cache is not None and cache.is_file():
        try:
            embeddings = np.load(cache)
            if embeddings.shape != (len(vocabulary.labels), text_encoder.dim):
                embeddings = None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable zero-shot cache %s: %s", cache, exc)
            embeddings = None
    if embeddings is None:
        prompts = [vocabulary.prompts(label, languages) for label in vocabulary.labels]
        flat = [p for group in prompts for p in group]
        vectors = text_encoder.encode(flat)
        rows, start = [], 0
        for group in prompts:
            mean = vectors[start : start + len(group)].mean(axis=0)
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            start += len(group)
        embeddings = np.stack(rows).astype(np.float32)
        if cache is not None:
            _save_cache(cache, embeddings)
    translations = {
        label["en"]: {lang: label.get(lang, label["en"]) for lang in LANGUAGES} for label in vocabulary.labels
    }
    return ZeroShotHead(
        head=vocabulary.head,
        model_id=f"zeroshot-{vocabulary.head}-{digest[:8]}@{text_encoder.model_id}",
        labels=vocabulary.names,
        label_embeddings=embeddings,
        logit_scale=float(logit_scale),
        translations=translations,
    )


def _save_cache(path: Path, array: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".zeroshot-", suffix=".npy", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            np.save(out, array)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only models dir only costs recomputation
        logger.info("cannot cache zero-shot embeddings at %s: %s", path, exc)


# ---------------------------------------------------------------------------------------------------
# trained linear heads


@dataclass
class TrainedHead:
    """A fitted softmax regression: probabilities = softmax(embeddings @ weights + bias)."""

    head: str
    labels: list[str]
    weights: np.ndarray  # [d, k]
    bias: np.ndarray  # [k]
    metrics: dict

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return softmax(embeddings.astype(np.float64) @ self.weights + self.bias)


def _fit_softmax(
    x: np.ndarray, y: np.ndarray, k: int, l2: float, steps: int, lr: float
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch Adam on mean cross-entropy + l2/2 |W|^2; deterministic (zero init)."""
    n, d = x.shape
    w, b = np.zeros((d, k)), np.zeros(k)
    onehot = np.eye(k)[y]
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        p = softmax(x @ w + b)
        grad_logits = (p - onehot) / n
        grads = [x.T @ grad_logits + l2 * w, grad_logits.sum(axis=0)]
        for i, (param, grad) in enumerate(zip((w, b), grads, strict=True)):
            m[i] = beta1 * m[i] + (1 - beta1) * grad
            v[i] = beta2 * v[i] + (1 - beta2) * grad**2
            m_hat, v_hat = m[i] / (1 - beta1**step), v[i] / (1 - beta2**step)
            param -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w, b


def _holdout_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: about `fraction` of each class with >= 2 examples is held out."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n_held = round(fraction * len(idx)) if len(idx) >= 2 else 0
        n_held = min(max(n_held, 1 if len(idx) >= 2 and fraction > 0 else 0), len(idx) - 1)
        held += idx[:n_held].tolist()
        train += idx[n_held:].tolist()
    return np.array(sorted(train), dtype=int), np.array(sorted(held), dtype=int)


def train_linear_head(
    embeddings: np.ndarray,
    labels: Sequence[str],
    head: str,
    holdout: float = 0.2,
    l2: float = 1e-4,
    steps: int = 300,
    learning_rate: float = 0.05,
    seed: int = 0,
) -> TrainedHead:
    """Fit a softmax regression on L2-normalised embeddings and curator labels.

    Accuracy is measured on a stratified held-out split (`holdout` of each class); the returned
    head is then refitted on all examples. Needs at least two classes.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(labels):
        raise InputError(f"need one label per embedding row, got {len(labels)} labels for shape {x.shape}")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise InputError(f"training a {head!r} head needs at least two different labels, got {classes}")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    train, held = _holdout_split(y, holdout, seed)
    metrics: dict = {"examples": len(y), "classes": len(classes), "heldout_examples": len(held)}
    if len(held):
        w, b = _fit_softmax(x[train], y[train], len(classes), l2, steps, learning_rate)
        metrics["train_accuracy"] = float((np.argmax(x[train] @ w + b, axis=1) == y[train]).mean())
        metrics["heldout_accuracy"] = float((np.argmax(x[held] @ w + b, axis=1) == y[held]).mean())
    else:
        metrics["heldout_accuracy"] = None
    w, b = _fit_softmax(x, y, len(classes), l2, steps, learning_rate)
    metrics["final_train_accuracy"] = float((np.argmax(x @ w + b, axis=1) == y).mean())
    logger.info("trained %s head on %d examples, %d classes: %s", head, len(y), len(classes), metrics)
    return TrainedHead(head, classes, w.astype(np.float32), b.astype(np.float32), metrics)


def head_onnx_bytes(trained: TrainedHead) -> bytes:
    """The head as an ONNX graph: embeddings float32 [n, d] -> probabilities float32 [n, k]."""
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:  # pragma: no cover - onnx is a runtime dependency
        raise ImagoError("saving a trained head needs the 'onnx' package") from exc
    d, k = trained.weights.shape
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["embeddings", "weights"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        f"imago-{trained.head}-head",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", d])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", k])],
        initializer=[
            numpy_helper.from_array(trained.weights.astype(np.float32), "weights"),
            numpy_helper.from_array(trained.bias.astype(np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="imago")
    model.ir_version = 8
    return model.SerializeToString()


def save_head_bundle(
    trained: TrainedHead,
    models_dir: Path,
    clip_bundle: Bundle,
    name: str | None = None,
    version: str | None = None,
) -> Bundle:
    """Write `trained` as a "head" bundle and install it (replacing one of the same name) in `models_dir`.

    The version defaults to the UTC training time, so every retrained head has its own model_id
    (classifications keep the provenance of the head that produced them).
    """
    name = name or f"head-{trained.head}-{clip_bundle.name}"
    version = version or time.strftime("%Y%m%d%H%M%S", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="imago-head-") as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        (folder / "head.onnx").write_bytes(head_onnx_bytes(trained))
        write_manifest(
            folder,
            {
                "kind": "head",
                "name": name,
                "version": version,
                "source": "trained by Imago on curator labels",
                "license": "user data",
                "files": {"model": "head.onnx"},
                "head": trained.head,
                "labels": trained.labels,
                "base_model": clip_bundle.model_id,
                "embedding_dim": int(trained.weights.shape[0]),
                "metrics": trained.metrics,
            },
        )
        return install_bundle(folder, models_dir, replace=True)


class LinearHead:
    """A trained head bundle run with onnxruntime (lazy session)."""

    def __init__(self, bundle: Bundle, options: SessionOptions | None = None) -> None:
        if bundle.kind != "head":
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not a head")
        labels = bundle.manifest.get("labels")
        if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
            raise BundleError(f"{bundle.path}: field 'labels' must list at least two strings")
        head = bundle.manifest.get("head")
        if not isinstance(head, str) or not head:
            raise BundleError(f"{bundle.path}: field 'head' must be a non-empty string")
        self.bundle = bundle
        self.head = head
        self.model_id = bundle.model_id
        self.labels = labels
        self.dim = int(bundle.manifest["embedding_dim"])
        self.base_model = bundle.manifest.get("base_model")
        self._session = LazySession(bundle.file("model"), options)

    def classify(self, embeddings: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]:
        embeddings = _check_embeddings(embeddings, self.dim, f"head {self.model_id}")
        if not len(embeddings):
            return []
        probabilities = self._session.run({"embeddings": embeddings})
        if probabilities.shape != (len(embeddings), len(self.labels)):
            raise BundleError(
                f"{self._session.path} returned shape {probabilities.shape}, "
                f"expected {len(self.labels)} labels"
            )
        return top_k(probabilities, self.labels, top)

    def close(self) -> None:
        self._session.close()


def load_heads(
    models_dir: Path,
    clip_bundle: Bundle,
    text_encoder,
    vocab_dir: Path | None = None,
    options: SessionOptions | None = None,
    cache_dir: Path | None = None,
) -> list:
    """The category and name heads for `clip_bundle`: zero-shot ones, replaced by trained heads.

    `vocab_dir` may hold per-archive `categories.json` / `names.json` overriding the defaults. Trained
    head bundles in `models_dir` apply when their `base_model` is `clip_bundle.model_id`. Zero-shot
    label embeddings are cached in `cache_dir` when given (the model dir may be read-only or shared).
    """
    dim = int(clip_bundle.manifest["embedding_dim"])
    trained: dict[str, LinearHead] = {}
    for bundle in list_bundles(models_dir, "head"):
        if bundle.manifest.get("base_model") != clip_bundle.model_id:
            continue
        try:
            head = LinearHead(bundle, options)
        except BundleError as exc:
            logger.warning("skipping trained head: %s", exc)
            continue
        if head.dim != dim:
            logger.warning(
                "skipping trained head %s: dimension %d, CLIP gives %d", bundle.path, head.dim, dim
            )
            continue
        trained[head.head] = head
    logit_scale = float(clip_bundle.manifest.get("logit_scale", 100.0))
    heads: list = []
    for name, filename in VOCABULARY_FILES.items():
        if name in trained:  # no need to embed the prompts of a head that is replaced
            heads.append(trained.pop(name))
            continue
        custom = Path(vocab_dir) / filename if vocab_dir else None
        vocabulary = Vocabulary.load(custom) if custom and custom.is_file() else default_vocabulary(name)
        heads.append(build_zero_shot_head(vocabulary, text_encoder, logit_scale, cache_dir))
    return heads + list(trained.values())

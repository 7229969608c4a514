"""Classifier heads: vocabularies, zero-shot heads, trained linear heads (ONNX), load_heads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.bundle import load_bundle
from models.classifier import (
    LinearHead,
    Vocabulary,
    ZeroShotHead,
    build_zero_shot_head,
    default_vocabulary,
    load_heads,
    save_head_bundle,
    softmax,
    top_k,
    train_linear_head,
)
from models.clip import ClipImageEncoder, ClipTextEncoder
from models.errors import InputError, VocabularyError
from store.protocols import Classifier

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def clip():
    return load_bundle(FIXTURES / "models" / "clip-tiny")


@pytest.fixture(scope="module")
def image_vectors(clip):
    images = [Image.open(p) for p in sorted((FIXTURES / "images").glob("*.*")) if p.suffix != ".md"]
    return ClipImageEncoder(clip).encode(images)


class CountingEncoder:
    """Wraps a text encoder and counts the texts it embeds."""

    def __init__(self, inner):
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self.multilingual = inner.multilingual
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts += list(texts)
        return self.inner.encode(texts)


@pytest.mark.parametrize("head", ["category", "name"])
def test_default_vocabularies_are_bilingual(head):
    vocabulary = default_vocabulary(head)
    assert vocabulary.head == head and len(vocabulary.labels) >= 40
    for label in vocabulary.labels:
        assert label["en"].strip() and label["ru"].strip()
        assert any("\u0400" <= ch <= "\u04ff" for ch in label["ru"])
    assert vocabulary.templates["en"] and vocabulary.templates["ru"]
    if head == "category":
        for needed in ("painting", "icon", "sculpture", "architecture", "archival document", "map", "coin"):
            assert needed in vocabulary.names
    assert vocabulary.prompts(vocabulary.labels[0], ["en"])[0].startswith("a photo of ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "cannot read vocabulary"),
        ({"format": 2}, "format 1"),
        ({"format": 1, "head": "", "templates": {}, "labels": []}, "'head'"),
        ({"format": 1, "head": "x", "templates": {"en": ["no slot"]}, "labels": []}, "containing"),
        ({"format": 1, "head": "x", "templates": {"en": ["{}"]}, "labels": [{"en": "a"}]}, "at least two"),
        (
            {"format": 1, "head": "x", "templates": {"en": ["{}"]}, "labels": [{"en": "a"}, {"en": "a"}]},
            "twice",
        ),
        (
            {"format": 1, "head": "x", "templates": {"en": ["{}"]}, "labels": [{"en": "a"}, {"ru": "б"}]},
            r"labels\[1\]",
        ),
    ],
)
def test_bad_vocabulary_is_named(tmp_path, content, message):
    path = tmp_path / "categories.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(VocabularyError, match=message):
        Vocabulary.load(path)


def test_zero_shot_head_is_softmax_of_scaled_cosines(clip, image_vectors, tmp_path):
    encoder = CountingEncoder(ClipTextEncoder(clip, tower="clip"))
    vocabulary = default_vocabulary("category")
    head = build_zero_shot_head(
        vocabulary, encoder, logit_scale=clip.manifest["logit_scale"], cache_dir=tmp_path
    )
    assert isinstance(head, Classifier) and head.head == "category"
    assert len(encoder.texts) == len(vocabulary.labels) * len(vocabulary.templates["en"])  # English only
    # the label embedding is the normalised mean of its prompt embeddings
    first = encoder.inner.encode(vocabulary.prompts(vocabulary.labels[0], ["en"])).mean(axis=0)
    np.testing.assert_allclose(head.label_embeddings[0], first / np.linalg.norm(first), atol=1e-6)
    ranked = head.classify(image_vectors, top=5)
    assert len(ranked) == len(image_vectors) and all(len(r) == 5 for r in ranked)
    logits = clip.manifest["logit_scale"] * image_vectors.astype(np.float64) @ head.label_embeddings.T
    expected = softmax(logits)
    for row, result in zip(expected, ranked, strict=True):
        best = np.argsort(-row)[:5]
        assert [label for label, _ in result] == [head.labels[i] for i in best]
        np.testing.assert_allclose([p for _, p in result], row[best], rtol=1e-5)
    assert head.display_name("icon", "ru") == "икона"


def test_zero_shot_embeddings_are_cached(clip, tmp_path):
    vocabulary = default_vocabulary("name")
    first = CountingEncoder(ClipTextEncoder(clip))
    head = build_zero_shot_head(vocabulary, first, 14.0, cache_dir=tmp_path)
    assert first.multilingual and len(first.texts) > len(vocabulary.labels) * 3  # English + Russian prompts
    assert len(list(tmp_path.glob("zeroshot-name-*.npy"))) == 1
    second = CountingEncoder(ClipTextEncoder(clip))
    cached = build_zero_shot_head(vocabulary, second, 14.0, cache_dir=tmp_path)
    assert second.texts == []
    np.testing.assert_array_equal(cached.label_embeddings, head.label_embeddings)
    other_tower = CountingEncoder(ClipTextEncoder(clip, tower="clip"))
    build_zero_shot_head(vocabulary, other_tower, 14.0, cache_dir=tmp_path)  # different model: recomputed
    assert other_tower.texts and len(list(tmp_path.glob("zeroshot-name-*.npy"))) == 2


def test_zero_shot_rejects_wrong_dimension(clip):
    head = ZeroShotHead("category", "m", ["a", "b"], np.eye(2, 16, dtype=np.float32), 10.0)
    with pytest.raises(InputError, match="dimension 16"):
        head.classify(np.zeros((1, 8), dtype=np.float32))
    with pytest.raises(InputError, match="top must be"):
        head.classify(np.zeros((1, 16), dtype=np.float32), top=0)
    assert len(head.classify(np.ones(16, dtype=np.float32), top=9)[0]) == 2  # top capped at label count


def clusters(n_per_class=40, dim=16, classes=("icon", "map", "coin"), noise=0.35, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(classes), dim))
    x = np.concatenate([c + noise * rng.normal(size=(n_per_class, dim)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), [c for c in classes for _ in range(n_per_class)]


def test_trained_head_learns_and_reports_heldout_accuracy():
    x, y = clusters()
    trained = train_linear_head(x, y, "category")
    m = trained.metrics
    assert (m["examples"], m["classes"], m["heldout_examples"]) == (120, 3, 24)  # 20 % of each class
    assert m["heldout_accuracy"] >= 0.95 and m["final_train_accuracy"] >= 0.95
    # a harder problem must not report perfection: accuracy is really measured
    noisy_x, noisy_y = clusters(noise=3.0, seed=1)
    assert train_linear_head(noisy_x, noisy_y, "category").metrics["heldout_accuracy"] < 0.95


def test_training_input_errors():
    x, y = clusters()
    with pytest.raises(InputError, match="two different labels"):
        train_linear_head(x, ["same"] * len(x), "category")
    with pytest.raises(InputError, match="one label per embedding"):
        train_linear_head(x, y[:-1], "category")
    single = train_linear_head(x[:2], ["a", "b"], "name")  # one example each: nothing to hold out
    assert single.metrics["heldout_accuracy"] is None


def test_trained_head_bundle_runs_in_onnxruntime_like_numpy(clip, tmp_path):
    x, y = clusters()
    trained = train_linear_head(x, y, "category")
    bundle = save_head_bundle(trained, tmp_path / "models", clip)
    assert bundle.kind == "head" and bundle.manifest["base_model"] == "clip-tiny@1"
    assert bundle.manifest["labels"] == ["coin", "icon", "map"]
    head = LinearHead(bundle)
    assert isinstance(head, Classifier) and head.head == "category" and head.model_id == bundle.model_id
    ranked = head.classify(x[:5], top=3)
    expected = trained.probabilities(x[:5])
    for row, result in zip(expected, ranked, strict=True):
        assert [label for label, _ in result] == [trained.labels[i] for i in np.argsort(-row)]
        np.testing.assert_allclose(
            sorted((p for _, p in result), reverse=True), np.sort(row)[::-1], atol=1e-5
        )
    with pytest.raises(InputError, match="dimension 16"):
        head.classify(np.zeros((1, 4), dtype=np.float32))


def test_load_heads_prefers_trained_heads(clip, image_vectors, tmp_path):
    models = tmp_path / "models"
    encoder = ClipTextEncoder(clip)
    heads = load_heads(models, clip, encoder)
    assert [(h.head, type(h).__name__) for h in heads] == [
        ("category", "ZeroShotHead"),
        ("name", "ZeroShotHead"),
    ]
    x, y = clusters()
    save_head_bundle(train_linear_head(x, y, "name"), models, clip)
    heads = load_heads(models, clip, encoder)
    assert [(h.head, type(h).__name__) for h in heads] == [
        ("category", "ZeroShotHead"),
        ("name", "LinearHead"),
    ]
    for head in heads:
        assert len(head.classify(image_vectors)[0]) in (3, 5)


def test_load_heads_uses_archive_vocabularies(clip, tmp_path):
    vocab_dir = tmp_path / "vocab"
    vocab_dir.mkdir()
    custom = {
        "format": 1,
        "head": "category",
        "templates": {"en": ["a photo of {}."], "ru": ["фото: {}."]},
        "labels": [{"en": "samovar", "ru": "самовар"}, {"en": "balalaika", "ru": "балалайка"}],
    }
    (vocab_dir / "categories.json").write_text(json.dumps(custom, ensure_ascii=False))
    heads = load_heads(tmp_path / "models", clip, ClipTextEncoder(clip), vocab_dir=vocab_dir)
    assert heads[0].labels == ["samovar", "balalaika"]
    assert len(heads[1].labels) > 2  # names: still the default vocabulary


def test_top_k_orders_by_probability():
    probabilities = np.array([[0.1, 0.7, 0.2]])
    assert top_k(probabilities, ["a", "b", "c"], 2) == [[("b", 0.7), ("c", 0.2)]]

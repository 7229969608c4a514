"""CLIP encoders on the tiny fixture bundle vs transformers' reference embeddings (no torch needed)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.bundle import load_bundle, write_manifest
from models.clip import ClipImageEncoder, ClipTextEncoder
from models.errors import BundleError, InferenceError, InputError, ModelLoadError
from store.protocols import ImageEncoder, TextEncoder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUNDLE_DIR = FIXTURES / "models" / "clip-tiny"
REF = np.load(FIXTURES / "models" / "clip-tiny-reference.npz")
META = json.loads((FIXTURES / "models" / "clip-tiny-reference.json").read_text(encoding="utf-8"))
NONEMPTY = [i for i, t in enumerate(META["texts"]) if t.strip()]


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(BUNDLE_DIR)


@pytest.fixture(scope="module")
def images():
    return [Image.open(FIXTURES / "images" / name) for name in META["images"]]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_image_embeddings_match_transformers(bundle, images):
    encoder = ClipImageEncoder(bundle, quantized=False)
    assert isinstance(encoder, ImageEncoder)
    assert (encoder.model_id, encoder.dim, encoder.input_size) == ("clip-tiny@1", 16, 32)
    vectors = encoder.encode(images)
    assert vectors.dtype == np.float32 and vectors.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert cosines(vectors, REF["image_embeds"]).min() >= 0.9999


def test_batching_does_not_change_vectors(bundle, images):
    whole = ClipImageEncoder(bundle, batch_size=32).encode(images)
    one_by_one = ClipImageEncoder(bundle, batch_size=1).encode(images)
    np.testing.assert_allclose(whole, one_by_one, atol=1e-5)
    assert ClipImageEncoder(bundle).encode([]).shape == (0, 16)


def test_int8_tower_is_close_and_has_its_own_id(bundle, images):
    fp32 = ClipImageEncoder(bundle, quantized=False)
    int8 = ClipImageEncoder(bundle, quantized=True)
    assert int8.model_id == "clip-tiny@1-int8" != fp32.model_id
    cos = cosines(fp32.encode(images), int8.encode(images))
    assert cos.mean() >= 0.99, cos  # measured: 0.99993 mean on the tiny model
    assert ClipImageEncoder(bundle).quantized is False  # manifest default is fp32


@pytest.mark.parametrize("tower", ["clip", "multilingual"])
def test_text_embeddings_match_transformers(bundle, tower):
    encoder = ClipTextEncoder(bundle, tower=tower)
    assert isinstance(encoder, TextEncoder)
    texts = [META["texts"][i] for i in NONEMPTY]  # one padded batch: English, Russian, long, emoji
    vectors = encoder.encode(texts)
    expected = REF["text_embeds" if tower == "clip" else "multilingual_embeds"][NONEMPTY]
    assert vectors.shape == (len(texts), 16)
    assert cosines(vectors, expected).min() >= 0.9999


def test_text_tower_choice_and_ids(bundle):
    auto = ClipTextEncoder(bundle)
    assert auto.tower == "multilingual" and auto.multilingual
    assert auto.model_id == "clip-tiny@1-multilingual"
    assert ClipTextEncoder(bundle, tower="clip").model_id == "clip-tiny@1-text"
    with pytest.raises(InputError, match="unknown text tower 'french'"):
        ClipTextEncoder(bundle, tower="french")


def test_bad_texts_raise_input_errors(bundle):
    encoder = ClipTextEncoder(bundle, tower="clip")
    with pytest.raises(InputError, match="text #1 is empty"):
        encoder.encode(["ok", "   "])
    with pytest.raises(InputError, match="text #0 is not a string"):
        encoder.encode([42])
    with pytest.raises(InputError, match="list of texts"):
        encoder.encode("a photo")
    assert encoder.encode([]).shape == (0, 16)
    long = encoder.encode(["museum " * 300])  # longer than the context: truncated, not refused
    assert long.shape == (1, 16)


def test_sessions_are_lazy_thread_safe_and_closable(bundle, images):
    encoder = ClipImageEncoder(bundle)
    assert encoder._session._session is None  # nothing loaded by the constructor
    results = []
    threads = [threading.Thread(target=lambda: results.append(encoder.encode(images[:2]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(np.allclose(r, results[0]) for r in results)
    encoder.close()
    assert encoder._session._session is None
    assert encoder.encode(images[:1]).shape == (1, 16)


def copy_bundle(tmp_path: Path, **manifest_changes) -> Path:
    folder = tmp_path / "clip"
    shutil.copytree(BUNDLE_DIR, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(manifest_changes)
    write_manifest(folder, manifest)
    return folder


def test_wrong_dimension_in_manifest_is_reported(tmp_path, images):
    bundle = load_bundle(copy_bundle(tmp_path, embedding_dim=512))
    with pytest.raises(BundleError, match="manifest says dimension 512"):
        ClipImageEncoder(bundle).encode(images[:1])
    with pytest.raises(BundleError, match="manifest says dimension 512"):
        ClipTextEncoder(bundle).encode(["a photo"])


def test_wrong_input_size_in_manifest_is_reported(tmp_path, images):
    preprocessing = json.loads((BUNDLE_DIR / "manifest.json").read_text())["preprocessing"]
    bundle = load_bundle(copy_bundle(tmp_path, preprocessing={**preprocessing, "size": 64, "crop_size": 64}))
    with pytest.raises(
        BundleError, match=r"expects \[32, 32\] pixels; the manifest preprocessing gives \[64, 64\]"
    ):
        ClipImageEncoder(bundle).encode(images[:1])


def test_corrupt_onnx_file_is_a_load_error(tmp_path, images):
    folder = copy_bundle(tmp_path)
    (folder / "image.onnx").write_bytes(b"\x08\x07garbage")
    manifest = json.loads((folder / "manifest.json").read_text())
    bundle = load_bundle(write_manifest(folder, manifest).path)
    encoder = ClipImageEncoder(bundle)  # lazy: the constructor does not notice
    with pytest.raises(ModelLoadError, match=r"image\.onnx"):
        encoder.encode(images[:1])


def test_bundle_without_int8_or_multilingual(tmp_path):
    manifest = json.loads((BUNDLE_DIR / "manifest.json").read_text())
    files = {k: v for k, v in manifest["files"].items() if k in ("image", "text", "tokenizer")}
    towers = {"clip": manifest["text_towers"]["clip"]}
    bundle = load_bundle(copy_bundle(tmp_path, files=files, text_towers=towers))
    with pytest.raises(BundleError, match="no int8 image tower"):
        ClipImageEncoder(bundle, quantized=True)
    assert ClipTextEncoder(bundle).tower == "clip"
    with pytest.raises(BundleError, match="no multilingual text tower"):
        ClipTextEncoder(bundle, tower="multilingual")


def test_non_clip_bundle_is_refused(tmp_path):
    folder = tmp_path / "head"
    folder.mkdir()
    (folder / "head.onnx").write_bytes(b"x")
    bundle = write_manifest(
        folder,
        {"kind": "head", "name": "h", "version": "1", "files": {"model": "head.onnx"}, "embedding_dim": 16},
    )
    with pytest.raises(BundleError, match="not a CLIP bundle"):
        ClipImageEncoder(bundle)
    with pytest.raises(BundleError, match="not a CLIP bundle"):
        ClipTextEncoder(bundle)


def test_graph_with_unexpected_inputs_is_an_inference_error(tmp_path):
    manifest = json.loads((BUNDLE_DIR / "manifest.json").read_text())
    files = {**manifest["files"], "text_multilingual": manifest["files"]["image"]}
    bundle = load_bundle(copy_bundle(tmp_path, files=files))
    with pytest.raises(InferenceError, match=r"image\.onnx needs inputs \['pixel_values'\]"):
        ClipTextEncoder(bundle).encode(["a photo"])

"""Image-model bundles: importing ONNX backbones, and embeddings/labels equal to the graph's own math.

The tiny graphs (tests/unit/tiny_image_graphs.py) have a numpy twin, so the bundle's whole path
(preprocessing in the manifest's layout and dtype, the intermediate embedding tensor, batching,
label offsets, probabilities) is checked against an independent computation. The real MobileNetV2
shipped with Imago is checked against a plain reference pipeline in tests/integration.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tiny_image_graphs import (
    CLASSES,
    FEATURES,
    LABELS,
    SIZE,
    reference_features,
    reference_probabilities,
    write_float_nchw_dynamic,
    write_text_model,
    write_uint8_nhwc_fixed,
)

from models.bundle import load_bundle, verify_bundle
from models.bundle_install import install_bundle
from models.errors import BundleError
from models.image_model import ImageModelEncoder
from models.onnx_import import ImportOptions, import_onnx


def _images(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(3)
    sizes = [(20, 12), (9, 30), (SIZE, SIZE), (64, 64), (31, 17)]
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes[:n]]


def _resized_cropped(image: Image.Image, short: int) -> np.ndarray:
    """Short side to `short` (bilinear), centre crop SIZE: the reference preprocessing, by hand."""
    w, h = image.size
    scale = short / min(w, h)
    resized = image.resize(
        (max(short, int(w * scale)), max(short, int(h * scale))), Image.Resampling.BILINEAR
    )
    left, top = (resized.width - SIZE) // 2, (resized.height - SIZE) // 2
    return np.asarray(resized.crop((left, top, left + SIZE, top + SIZE)))


@pytest.fixture
def labels_with_background(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("background\n" + "\n".join(LABELS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def labels_file(tmp_path):
    path = tmp_path / "real-labels.txt"
    path.write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    return path


def test_fixed_batch_uint8_nhwc_graph_imports_and_matches_its_math(tmp_path, labels_file):
    source = write_uint8_nhwc_fixed(tmp_path / "tiny.onnx")
    bundle = import_onnx(
        source, tmp_path / "bundle",
        ImportOptions(name="tiny-uint8", embedding="pool", scores="probs", labels=labels_file, resize=10),
    )  # fmt: skip
    section = bundle.manifest["image_model"]
    assert section == {
        "input": "input", "layout": "NHWC", "dtype": "uint8", "batch": "fixed", "embedding": "pool",
        "scores": "probs", "scores_are": "probabilities", "labels_offset": 1,
    }  # fmt: skip
    assert bundle.manifest["embedding_dim"] == FEATURES
    verify_bundle(bundle)

    encoder = ImageModelEncoder(bundle)
    assert encoder.batch_size == 1 and encoder.label_head == "name"
    assert encoder.input_size == 10  # JPEG draft decoding keeps the short side the resize needs
    images = _images(4)
    vectors, labels = encoder.encode_and_label(images, top=3)
    assert np.allclose(encoder.encode(images), vectors)
    for image, vector, top in zip(images, vectors, labels, strict=True):
        features = reference_features(_resized_cropped(image, 10), quantised=True)
        assert np.allclose(vector, features / np.linalg.norm(features), atol=1e-5)
        probabilities = reference_probabilities(features)
        expected = [LABELS[i] for i in np.argsort(-probabilities)[:3]]
        assert [name for name, _ in top] == expected
        assert [score for _, score in top] == pytest.approx(sorted(probabilities)[::-1][:3], abs=1e-5)


def test_dynamic_batch_float_nchw_graph_runs_in_batches(tmp_path, labels_file):
    source = write_float_nchw_dynamic(tmp_path / "tiny.onnx")
    options = ImportOptions(name="tiny-float", embedding="features", scores="logits", scores_are="logits",
                            labels=labels_file, mean=(0, 0, 0), std=(1, 1, 1), resize=SIZE)  # fmt: skip
    bundle = import_onnx(source, tmp_path / "bundle", options)
    section = bundle.manifest["image_model"]
    assert (section["layout"], section["dtype"], section["batch"], section["labels_offset"]) == (
        "NCHW", "float32", "dynamic", 0,
    )  # fmt: skip
    encoder = ImageModelEncoder(bundle, batch_size=3)
    assert encoder.batch_size == 3
    images = _images(5)
    vectors, labels = encoder.encode_and_label(images, top=CLASSES)
    one_by_one = np.concatenate([encoder.encode([image]) for image in images])
    assert np.allclose(vectors, one_by_one, atol=1e-6)
    for image, vector, top in zip(images, vectors, labels, strict=True):
        features = reference_features(_resized_cropped(image, SIZE), quantised=False)
        assert np.allclose(vector, features / np.linalg.norm(features), atol=1e-5)
        assert dict(top) == pytest.approx(dict(zip(LABELS, reference_probabilities(features), strict=True)))


def test_imported_bundle_installs_like_any_other(tmp_path, labels_file):
    bundle = import_onnx(write_float_nchw_dynamic(tmp_path / "m.onnx"), tmp_path / "bundle",
                         ImportOptions(name="tiny", embedding="features"))  # fmt: skip
    installed = install_bundle(bundle.path, tmp_path / "models")
    assert installed.kind == "image" and installed.model_id == "tiny@1"
    assert ImageModelEncoder(installed).label_head is None  # no scores: embeddings only


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(embedding="nope"), "has no tensor named 'nope'"),
        (dict(labels="short"), "the labels file has 3 labels, but 'probs' gives 6 scores"),
        (dict(labels=None), "class scores need a labels file"),
    ],
    ids=["missing-tensor", "label-count", "scores-without-labels"],
)
def test_import_refuses_with_one_line(tmp_path, labels_file, change, message):
    source = write_uint8_nhwc_fixed(tmp_path / "tiny.onnx")
    short = tmp_path / "short.txt"
    short.write_text("a\nb\nc\n")
    values = dict(name="x", embedding="pool", scores="probs", labels=labels_file) | change
    if values["labels"] == "short":
        values["labels"] = short
    with pytest.raises(BundleError) as caught:
        import_onnx(source, tmp_path / "bundle", ImportOptions(**values))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "bundle").exists()


def test_import_refuses_a_model_that_is_not_an_image_model(tmp_path):
    with pytest.raises(BundleError, match="is not an image model: input 'input_ids' has shape"):
        import_onnx(write_text_model(tmp_path / "text.onnx"), tmp_path / "b", ImportOptions("x", "sentence"))
    (tmp_path / "junk.onnx").write_bytes(b"\x00not a protobuf" * 10)
    with pytest.raises(BundleError, match="is not an ONNX model"):
        import_onnx(tmp_path / "junk.onnx", tmp_path / "b", ImportOptions("x", "y"))


def test_manifest_errors_are_reported_on_load(tmp_path, labels_file):
    bundle = import_onnx(write_float_nchw_dynamic(tmp_path / "m.onnx"), tmp_path / "bundle",
                         ImportOptions(name="tiny", embedding="features"))  # fmt: skip
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    manifest["image_model"]["layout"] = "HWCN"
    (bundle.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"image_model\.layout must be one of NCHW, NHWC"):
        load_bundle(bundle.path)

"""Image-model bundles: any ONNX image backbone as an embedding model, optionally with its classifier.

Kind "image" manifests carry an `image_model` section saying what differs between backbones::

    "image_model": {
      "input": "input",                 # the graph input fed with pixels
      "layout": "NHWC",                 # or "NCHW"
      "dtype": "uint8",                 # or "float32"
      "batch": "fixed",                 # or "dynamic" (fixed: images run one at a time)
      "embedding": "MobilenetV2/Logits/AvgPool_prequant",   # output: pooled features (any shape
                                        # [n, ...] flattening to embedding_dim values), L2-normalised
      "scores": "MobilenetV2/Predictions/Softmax",          # optional: class scores [n, k]
      "scores_are": "probabilities",    # or "logits" (softmax applied here)
      "labels_offset": 1                # scores[:, labels_offset + i] belongs to labels[i]
    }

plus the common `preprocessing` section (`models.preprocess.PreprocessSpec`: short side `size`,
centre crop, resample, rescale_factor, mean, std; `do_center_crop: false` squashes to the crop size)
and `embedding_dim`. Files: `model` (the ONNX graph), optional `labels` (UTF-8 text, one label per
line), `license`, `notice`. `models.onnx_import` makes such bundles from ONNX files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from models.bundle import Bundle
from models.classifier import softmax, top_k
from models.errors import BundleError, InferenceError
from models.preprocess import PreprocessSpec, preprocess, resized_pixels
from models.session import LazySession, SessionOptions

logger = logging.getLogger(__name__)

LAYOUTS = ("NCHW", "NHWC")
DTYPES = {"uint8": np.uint8, "float32": np.float32}
LABEL_HEAD = "name"  # ImageNet-style classes name objects and places: the "name" head
MIN_LABEL_PROBABILITY = 0.01  # labels below this are not suggested (except an image's best one)


def validate_section(manifest: dict, where: object) -> None:
    """Raise BundleError naming the first bad field of an image bundle's `image_model` section."""
    section = manifest.get("image_model")
    if not isinstance(section, dict):
        raise BundleError(f"{where}: an image bundle needs an 'image_model' object")
    for key in ("input", "embedding"):
        if not isinstance(section.get(key), str) or not section[key]:
            raise BundleError(f"{where}: image_model.{key} must be a tensor name")
    if section.get("layout") not in LAYOUTS:
        raise BundleError(f"{where}: image_model.layout must be one of {', '.join(LAYOUTS)}")
    if section.get("dtype") not in DTYPES:
        raise BundleError(f"{where}: image_model.dtype must be one of {', '.join(DTYPES)}")
    if section.get("batch") not in ("fixed", "dynamic"):
        raise BundleError(f"{where}: image_model.batch must be 'fixed' or 'dynamic'")
    if "scores" in section:
        if not isinstance(section["scores"], str):
            raise BundleError(f"{where}: image_model.scores must be a tensor name")
        if section.get("scores_are") not in ("probabilities", "logits"):
            raise BundleError(f"{where}: image_model.scores_are must be 'probabilities' or 'logits'")
        if not isinstance(section.get("labels_offset", 0), int) or section.get("labels_offset", 0) < 0:
            raise BundleError(f"{where}: image_model.labels_offset must be a non-negative integer")
    PreprocessSpec.from_manifest(manifest.get("preprocessing"), where=where)


def read_labels(path: Path) -> list[str]:
    """Labels file: one label per line (UTF-8), blank lines kept out."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"cannot read the labels file {path}: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


class ImageModelEncoder:
    """Images -> L2-normalised float32 [n, dim] embeddings from an image bundle (satisfies the store's
    ImageEncoder); `encode_and_label` also gives each image's top labels when the bundle has scores.

    Thread-safety: the session is created once under a lock; `encode` may be called from any thread.
    """

    def __init__(self, bundle: Bundle, options: SessionOptions | None = None, batch_size: int = 32) -> None:
        if bundle.kind != "image":
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not an image-model bundle")
        # load_bundle validated the manifest (validate_section)
        self.bundle = bundle
        self.model_id = bundle.model_id
        self.dim = int(bundle.manifest["embedding_dim"])
        self.section = bundle.manifest["image_model"]
        self.spec = PreprocessSpec.from_manifest(bundle.manifest["preprocessing"], where=bundle.path)
        # Decoders may shrink JPEGs (draft mode) to this side: the short side before the crop, so
        # nothing is upscaled again (the spec's input_size is the crop).
        self.input_size = max(self.spec.size, self.spec.input_size)
        self.batch_size = 1 if self.section["batch"] == "fixed" else max(1, batch_size)
        self.labels = read_labels(bundle.file("labels")) if bundle.has("labels") else []
        self.label_head = LABEL_HEAD if self.labels and "scores" in self.section else None
        self._session = LazySession(bundle.file("model"), options)
        self._raw_uint8 = (
            self.section["dtype"] == "uint8" and self.spec.rescale_factor == 1.0
            and self.spec.mean == (0.0, 0.0, 0.0) and self.spec.std == (1.0, 1.0, 1.0)
        )  # fmt: skip

    def pixels(self, images: Sequence[Image.Image]) -> np.ndarray:
        """The input tensor for `images`, in the bundle's layout and dtype."""
        if self._raw_uint8:  # the graph takes the resized pixels as they are: no float round trip
            pixels = np.stack([resized_pixels(image, self.spec) for image in images])
            return np.ascontiguousarray(
                pixels if self.section["layout"] == "NHWC" else pixels.transpose(0, 3, 1, 2)
            )
        pixels = preprocess(images, self.spec)  # float32 NCHW after rescale/mean/std
        if self.section["layout"] == "NHWC":
            pixels = pixels.transpose(0, 2, 3, 1)
        if self.section["dtype"] == "uint8":
            pixels = np.clip(np.rint(pixels), 0, 255)
        return np.ascontiguousarray(pixels.astype(DTYPES[self.section["dtype"]]))

    def _run(self, pixels: np.ndarray, with_scores: bool) -> tuple[np.ndarray, np.ndarray | None]:
        session = self._session.get()
        names = [self.section["embedding"]] + ([self.section["scores"]] if with_scores else [])
        embeddings, scores = [], []
        for start in range(0, len(pixels), self.batch_size):
            feed = {self.section["input"]: pixels[start : start + self.batch_size]}
            try:
                outputs = session.run(names, feed)
            except Exception as exc:  # onnxruntime's own exception types; report them as ours
                count = len(feed[self.section["input"]])
                raise InferenceError(f"{self._session.path} failed on {count} image(s): {exc}") from exc
            embeddings.append(np.asarray(outputs[0], dtype=np.float32).reshape(len(outputs[0]), -1))
            if with_scores:
                scores.append(np.asarray(outputs[1], dtype=np.float32).reshape(len(outputs[1]), -1))
        vectors = np.concatenate(embeddings)
        if vectors.shape[1] != self.dim:
            raise BundleError(
                f"{self._session.path} gives {vectors.shape[1]} values per embedding; manifest: {self.dim}"
            )
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors, (np.concatenate(scores) if with_scores else None)

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed `images` (any mode; converted with models.preprocess.to_rgb)."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._run(self.pixels(images), with_scores=False)[0]

    def encode_and_label(
        self, images: Sequence[Image.Image], top: int
    ) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Embeddings and each image's `top` (label, probability) pairs, from one run of the graph."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32), []
        vectors, labels = self.encode_pixels(self.pixels(images), top)
        return vectors, labels

    def encode_pixels(self, pixels: np.ndarray, top: int | None = None) -> tuple[np.ndarray, list | None]:
        """Embeddings of ready input tensors (`pixels`, e.g. made in a decode thread), and with `top`
        each image's top (label, probability) pairs (None without `top`)."""
        if top is None:
            return self._run(pixels, with_scores=False)[0], None
        if self.label_head is None:
            raise BundleError(f"bundle {self.bundle.path} has no class scores and labels")
        vectors, scores = self._run(pixels, with_scores=True)
        ranked = top_k(self.probabilities(scores), self.labels, top)
        # A quantised model gives most classes exactly 0 (ties broken by class order): keep only the
        # labels the model actually considered, and always the best one.
        return vectors, [r[:1] + [(n, p) for n, p in r[1:] if p >= MIN_LABEL_PROBABILITY] for r in ranked]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Class probabilities [n, len(labels)] from the graph's raw scores (quantised, logits, offset)."""
        offset = int(self.section.get("labels_offset", 0))
        scores = scores[:, offset : offset + len(self.labels)]
        if scores.shape[1] != len(self.labels):
            raise BundleError(
                f"{self._session.path} gives {scores.shape[1] + offset} scores for {len(self.labels)} labels "
                f"(offset {offset})"
            )
        if self.section["scores_are"] == "logits":
            return softmax(scores)
        total = scores.sum(axis=1, keepdims=True)  # quantised probabilities do not sum to exactly 1
        return scores / np.maximum(total, 1e-12)

    def close(self) -> None:
        """Release the onnxruntime session (it is re-created on the next encode)."""
        self._session.close()

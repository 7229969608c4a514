"""CLIP image and text encoders on onnxruntime, from a "clip" bundle (see models.bundle).

Both encoders load their ONNX session lazily, on first use, behind a lock, so constructing them is
cheap and they can be shared between threads (onnxruntime's `run` is thread-safe). Vectors are
float32 and L2-normalised (the graphs normalise; we normalise again so float16 graphs are exact too).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from models.bundle import INT8_SUFFIX, Bundle
from models.errors import BundleError, InputError
from models.preprocess import PreprocessSpec, preprocess
from models.session import Lazy, LazySession, SessionOptions
from models.tokenizer import TextTokenizer

logger = logging.getLogger(__name__)


def _normalise(vectors: np.ndarray, dim: int, source: Path) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise BundleError(
            f"{source} returned vectors of shape {vectors.shape}; the manifest says dimension {dim}"
        )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class ClipImageEncoder:
    """Images -> L2-normalised float32 [n, dim] CLIP image embeddings (satisfies store ImageEncoder).

    `quantized`: None uses the manifest's default tower, True the int8 tower, False the fp32 one. The
    int8 tower gives (slightly) different vectors, so its `model_id` differs ("...-int8").
    """

    def __init__(
        self,
        bundle: Bundle,
        options: SessionOptions | None = None,
        quantized: bool | None = None,
        batch_size: int = 32,
    ) -> None:
        if bundle.kind != "clip":
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not a CLIP bundle")
        if quantized is None:
            quantized = bundle.manifest.get("image_tower", {}).get("default") == "int8" and bundle.has(
                "image_int8"
            )
        if quantized and not bundle.has("image_int8"):
            raise BundleError(f"bundle {bundle.path} has no int8 image tower (files.image_int8)")
        self.bundle = bundle
        self.quantized = bool(quantized)
        self.model_id = bundle.model_id + (INT8_SUFFIX if quantized else "")
        self.dim = int(bundle.manifest["embedding_dim"])
        self.spec = PreprocessSpec.from_manifest(bundle.manifest.get("preprocessing"), where=bundle.path)
        self.input_size = self.spec.input_size
        self.batch_size = max(1, batch_size)
        self._session = LazySession(bundle.file("image_int8" if quantized else "image"), options)

    def _check_input_shape(self) -> None:
        shape = self._session.input_shapes.get("pixel_values", [])
        fixed = [s for s in shape[2:] if isinstance(s, int)]
        expected = [self.spec.crop_height, self.spec.crop_width]
        if len(fixed) == 2 and fixed != expected:
            raise BundleError(
                f"{self._session.path} expects {fixed} pixels; the manifest preprocessing gives {expected}"
            )

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed `images` (any mode; converted with models.preprocess.to_rgb) in batches."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._session.get()
        self._check_input_shape()
        out = []
        for start in range(0, len(images), self.batch_size):
            pixels = preprocess(images[start : start + self.batch_size], self.spec)
            out.append(self._session.run({"pixel_values": pixels}))
        return _normalise(np.concatenate(out), self.dim, self._session.path)

    def close(self) -> None:
        """Release the onnxruntime session (it is re-created on the next encode)."""
        self._session.close()


class ClipTextEncoder:
    """Texts -> L2-normalised float32 [n, dim] vectors in the image space (satisfies store TextEncoder).

    `tower`: "clip" (CLIP's English text tower), "multilingual" (e.g. Russian too), or "auto" (the
    multilingual tower when the bundle has one). Texts longer than the context are truncated; empty
    texts raise InputError.
    """

    def __init__(
        self, bundle: Bundle, options: SessionOptions | None = None, tower: str = "auto", batch_size: int = 64
    ) -> None:
        if bundle.kind != "clip":
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not a CLIP bundle")
        towers = text_towers(bundle)
        if tower == "auto":
            tower = "multilingual" if "multilingual" in towers else "clip"
        if tower not in ("clip", "multilingual"):
            raise InputError(f"unknown text tower {tower!r} (expected auto, clip or multilingual)")
        if tower not in towers:
            raise BundleError(f"bundle {bundle.path} has no {tower} text tower")
        section = towers[tower]
        self.bundle = bundle
        self.tower = tower
        self.multilingual = tower == "multilingual"
        self.model_id = f"{bundle.model_id}-{'multilingual' if self.multilingual else 'text'}"
        self.dim = int(bundle.manifest["embedding_dim"])
        self.batch_size = max(1, batch_size)
        tokenizer_args = (bundle.file(section["tokenizer"]), section["max_length"], section["pad_id"])
        self._tokenizer = Lazy(lambda: TextTokenizer(*tokenizer_args))
        self._session = LazySession(bundle.file(section["model"]), options)

    @property
    def tokenizer(self) -> TextTokenizer:
        return self._tokenizer.get()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` in batches; InputError names an empty or non-string text."""
        if isinstance(texts, str):
            raise InputError("encode() takes a list of texts, not a single string")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text #{index} is not a string: {text!r}")
            if not text.strip():
                raise InputError(f"text #{index} is empty")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            input_ids, attention_mask = self.tokenizer(texts[start : start + self.batch_size])
            out.append(self._session.run({"input_ids": input_ids, "attention_mask": attention_mask}))
        return _normalise(np.concatenate(out), self.dim, self._session.path)

    def close(self) -> None:
        self._session.close()


def text_towers(bundle: Bundle) -> dict[str, dict]:
    """The manifest's text tower sections (checked by models.bundle when the bundle was loaded):
    {"clip": {...}, "multilingual": {...}}."""
    towers = bundle.manifest.get("text_towers")
    if towers is None:  # minimal manifest: the standard roles and CLIP's context
        towers = {"clip": {"model": "text", "tokenizer": "tokenizer", "max_length": 77, "pad_id": 49407}}
    return towers

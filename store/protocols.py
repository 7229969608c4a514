"""The small interfaces through which `store/` uses models, so tests can pass fakes.

`models/` provides the real implementations (ClipImageEncoder, ClipTextEncoder, classifier heads,
GitCaptioner); nothing here imports onnxruntime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class ImageEncoder(Protocol):
    """Turns RGB images into L2-normalised float32 vectors of shape [n, dim]."""

    model_id: str  # stable id of the model and its version; names the vector index file
    dim: int
    input_size: int  # the side the encoder resizes to; decoders use it for JPEG draft mode

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@runtime_checkable
class TextEncoder(Protocol):
    """Turns texts into L2-normalised float32 vectors in the image encoder's space."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class Classifier(Protocol):
    """A head over image embeddings, e.g. 'category' or 'name'."""

    head: str
    model_id: str

    def classify(self, embeddings: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]: ...


@runtime_checkable
class Captioner(Protocol):
    """Generates a short description for each image."""

    model_id: str

    def caption(self, images: Sequence[Image.Image]) -> list[str]: ...

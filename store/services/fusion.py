"""Find similar with two image models (an ensemble): fused score = w * cos_first + (1 - w) * cos_second.

The candidates are the union of both models' nearest items; each is scored with exact cosines from
the catalog's stored vectors (the vector indexes only find them). An item lacking a vector of either
model (the second model is still catching up) is left out: its fused score cannot be computed. The
weight is the setting `ensemble_weight`; `eval --pick-weight` measures one on a labelled folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.errors import ImagoError, InputError
from store.protocols import ImageEncoder
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

logger = logging.getLogger(__name__)


def fuse(first: np.ndarray | float, second: np.ndarray | float, weight: float) -> np.ndarray | float:
    """The fused similarity of two models' cosines."""
    return weight * first + (1.0 - weight) * second


@dataclass(frozen=True)
class Ensemble:
    """The second model of a find-similar ensemble: its vector index, its encoder (queries by image
    or region need it; None: those use the first model alone) and the weight of the first model."""

    vector_index: VectorIndex
    encoder: ImageEncoder | None
    weight: float

    def __post_init__(self) -> None:
        if isinstance(self.weight, bool) or not 0.0 <= self.weight <= 1.0:
            raise InputError(f"the ensemble weight must be a number from 0 to 1, not {self.weight!r}")
        if self.encoder is not None and self.encoder.dim != self.vector_index.dim:
            raise ImagoError(
                f"model {self.encoder.model_id} gives {self.encoder.dim}-dimensional vectors, but the "
                f"archive's {self.model_id} vectors have {self.vector_index.dim}; re-index it"
            )

    @property
    def model_id(self) -> str:
        return self.vector_index.model_id

    def describe(self, first_model_id: str, first: float, second: float) -> str:
        """How a fused score came about, for a result's reasons."""
        return f" ({first_model_id} {first:.3f}, {self.model_id} {second:.3f}, weight {self.weight:.2f})"


def open_ensemble(
    catalog: Catalog, folder: Path, first_model_id: str, encoder: ImageEncoder, weight: float
) -> Ensemble | None:
    """The ensemble of `encoder`'s model over the archive's index `folder`, or None (logged) when the
    archive has no vectors of that model or it is the first model itself."""
    dims = {model_id: dim for model_id, dim, _ in catalog.embedding_models()}
    if encoder.model_id == first_model_id or encoder.model_id not in dims:
        logger.warning(
            "archive has no %s vectors beside the %s ones (index it with that ensemble model): find "
            "similar uses %s alone", encoder.model_id, first_model_id, first_model_id,
        )  # fmt: skip
        return None
    index = VectorIndex.open(folder, encoder.model_id, dims[encoder.model_id], catalog)
    return Ensemble(index, encoder, weight)


@dataclass(frozen=True)
class FusedHit:
    item_id: int
    score: float  # fused
    first: float  # cosine of the first model
    second: float  # cosine of the second model


def fused_candidates(
    catalog: Catalog, first: VectorIndex, ensemble: Ensemble, query: np.ndarray, second_query: np.ndarray,
    k: int,
) -> list[FusedHit]:  # fmt: skip
    """The union of both models' `k` nearest items, scored and ordered by the fused cosine."""
    ids = {i for i, _ in first.search(query, k)}
    ids |= {i for i, _ in ensemble.vector_index.search(second_query, k)}
    a = _cosines(catalog, first.model_id, ids, query)
    b = _cosines(catalog, ensemble.model_id, ids, second_query)
    hits = [FusedHit(i, float(fuse(a[i], b[i], ensemble.weight)), a[i], b[i]) for i in a.keys() & b.keys()]
    hits.sort(key=lambda h: (-h.score, h.item_id))
    return hits


def _cosines(catalog: Catalog, model_id: str, ids: Iterable[int], query: np.ndarray) -> dict[int, float]:
    keys, matrix = catalog.vectors(model_id, sorted(ids))
    if not len(keys):
        return {}
    return dict(zip(keys.tolist(), (normalise(matrix) @ normalise(query)).tolist(), strict=True))


def paired_sample(
    catalog: Catalog, first: VectorIndex, second: VectorIndex, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised vectors of both models for the same fixed random sample of up to `size` items that
    have both (the background of the fused relevance cut-off), as two row-aligned matrices."""
    keys = np.intersect1d(first.keys(), second.keys())
    if len(keys) > size:
        keys = np.sort(np.random.default_rng(0).choice(keys, size, replace=False))
    found_a, a = catalog.vectors(first.model_id, keys.tolist())
    found_b, b = catalog.vectors(second.model_id, keys.tolist())
    common = np.intersect1d(found_a, found_b)
    if not len(common):
        return np.zeros((0, first.dim), np.float32), np.zeros((0, second.dim), np.float32)
    return normalise(_rows(found_a, a, common)), normalise(_rows(found_b, b, common))


def _rows(keys: np.ndarray, matrix: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    row = {key: n for n, key in enumerate(keys.tolist())}
    return matrix[[row[key] for key in wanted.tolist()]]


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows (or one vector) scaled to unit length."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)

"""Find-similar ensembles (store.services.fusion) behaviours that mutation testing (tools/mutation)
found unchecked: the candidates are each model's own nearest items, scores are cosines whatever the
stored vectors' lengths, the second model's index follows the catalog, and the background sample of
the fused cut-off is a fixed sample of distinct items with both vectors, or empty when none has both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import store.services.search as search_module
from store.services.fusion import Ensemble, fused_candidates, normalise, open_ensemble, paired_sample
from store.services.search import SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

# Per model 2-d vectors with known cosines to the query (1, 0): model a 1.0, 0.6, 0.0; model b 0.0, 0.8, 1.0.
A = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)
B = np.array([[0, 1], [0.8, 0.6], [1, 0]], np.float32)
QUERY = np.array([1, 0], np.float32)


class SecondEncoder:
    """The ensemble's encoder: only its model id and dimension matter here (queries are by vector)."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id, self.dim, self.input_size = model_id, dim, 32

    def encode(self, images):
        raise AssertionError("no image is encoded in these tests")


def _items(catalog: Catalog, n: int) -> list[int]:
    return [
        catalog.ensure_file_item(
            catalog.upsert_file(f"x{i:02d}.png".encode(), size=1, mtime_ns=1, hash=f"h{i}", status="indexed")
        )
        for i in range(n)
    ]


def _archive(tmp_path: Path) -> tuple[Path, Path]:
    archive = tmp_path / "archive"
    archive.mkdir()
    location = locate_index(archive)
    return archive, location.catalog_path


def test_candidates_are_each_model_s_own_nearest_items(tmp_path):
    """With k = 1 the candidates are model a's best item and model b's best item, nothing else: the
    middle item, which would have the best fused score, is neither model's nearest."""
    with Catalog(tmp_path / "catalog.db") as catalog:
        ids = _items(catalog, 3)
        catalog.put_embeddings("a", ids, A)
        catalog.put_embeddings("b", ids, B)
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        second = VectorIndex.open(tmp_path, "b", 2, catalog)
        hits = fused_candidates(catalog, first, Ensemble(second, None, 0.7), QUERY, QUERY, 1)
        assert [(ids.index(h.item_id), round(h.score, 4)) for h in hits] == [(0, 0.7), (2, 0.3)]
        assert [(round(h.first, 4), round(h.second, 4)) for h in hits] == [(1.0, 0.0), (0.0, 1.0)]
        everything = fused_candidates(catalog, first, Ensemble(second, None, 0.7), QUERY, QUERY, 3)
        assert [ids.index(h.item_id) for h in everything] == [0, 1, 2]  # 0.7, 0.66, 0.3


def test_fused_scores_are_cosines_whatever_the_vector_lengths(tmp_path):
    """Stored vectors and queries need not be unit length (norms 3, 0.5, 0.25 here): the fused score
    is made of cosines, so scaling changes nothing."""
    with Catalog(tmp_path / "catalog.db") as catalog:
        ids = _items(catalog, 3)
        catalog.put_embeddings("a", ids, A * np.array([[3.0], [0.5], [0.5]], np.float32))
        catalog.put_embeddings("b", ids, B * np.array([[0.5], [3.0], [0.5]], np.float32))
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        second = VectorIndex.open(tmp_path, "b", 2, catalog)
        hits = fused_candidates(catalog, first, Ensemble(second, None, 0.9), QUERY * 0.25, QUERY * 3, 10)
        assert [(ids.index(h.item_id), round(h.score, 4)) for h in hits] == [(0, 0.9), (1, 0.62), (2, 0.1)]
    got = normalise(np.array([[3, 4], [0.3, 0.4], [0, 0]], np.float32))
    assert np.allclose(got, [[0.6, 0.8], [0.6, 0.8], [0, 0]])  # a zero vector stays zero


def test_open_ensemble_brings_the_second_index_in_line_with_the_catalog(tmp_path):
    """No index file of the second model exists yet (or it is stale): its vectors in the catalog are
    what the ensemble's index searches."""
    with Catalog(tmp_path / "catalog.db") as catalog:
        ids = _items(catalog, 3)
        catalog.put_embeddings("a", ids, A)
        catalog.put_embeddings("b", ids, B)
        ensemble = open_ensemble(catalog, tmp_path, "a", SecondEncoder("b", 2), 0.7)
        assert ensemble is not None and len(ensemble.vector_index) == 3
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        hits = fused_candidates(catalog, first, ensemble, QUERY, QUERY, 1)
        assert [ids.index(h.item_id) for h in hits] == [0, 2]  # model b's nearest item is found too


def test_paired_sample_is_a_fixed_sample_of_distinct_items_with_both_vectors(tmp_path, monkeypatch):
    """More items than the sample holds: `size` distinct items, the same ones every time, their two
    models' unit vectors row by row; so the fused cut-off is the same on every opening."""
    archive, catalog_path = _archive(tmp_path)
    vectors = np.random.default_rng(7).standard_normal((40, 8)).astype(np.float32)
    with Catalog(catalog_path) as catalog:
        ids = _items(catalog, 40)
        catalog.put_embeddings("a", ids, vectors)
        catalog.put_embeddings("b", ids, vectors[:, :6] * 2)  # model b: a's first six numbers, doubled
        first = VectorIndex.open(tmp_path, "a", 8, catalog)
        second = VectorIndex.open(tmp_path, "b", 6, catalog)
        a, b = paired_sample(catalog, first, second, 12)
        assert len(a) == len(b) == 12 and len({row.tobytes() for row in a}) == 12
        rows = [next(n for n, v in enumerate(normalise(vectors)) if np.allclose(v, row)) for row in a]
        assert len(set(rows)) == 12  # a's rows are 12 different items' unit vectors
        assert np.allclose(b, normalise(vectors[rows, :6]))  # and b's rows the same items'
        again = paired_sample(catalog, first, second, 12)
        assert np.array_equal(again[0], a) and np.array_equal(again[1], b)
    monkeypatch.setattr(search_module, "SAMPLE_SIZE", 12)
    thresholds = set()
    for _ in range(2):
        with SearchService.open(
            archive, model_id="a", ensemble_encoder=SecondEncoder("b", 6), ensemble_weight=0.5
        ) as service:
            thresholds.add(service.similar_to_item(ids[0], top=5).threshold)
    assert len(thresholds) == 1 and None not in thresholds


def test_paired_sample_is_empty_when_no_item_has_both_vectors(tmp_path):
    """The second model has embedded other items than the first (it is catching up): no pair, no rows."""
    with Catalog(tmp_path / "catalog.db") as catalog:
        ids = _items(catalog, 4)
        catalog.put_embeddings("a", ids[:2], A[:2])
        catalog.put_embeddings("b", ids[2:], np.eye(3, dtype=np.float32)[:2])
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        second = VectorIndex.open(tmp_path, "b", 3, catalog)
        a, b = paired_sample(catalog, first, second, 10)
        assert len(a) == 0 and len(b) == 0
        catalog.put_embeddings("b", ids[:1], np.eye(3, dtype=np.float32)[2:])  # now one pair
        second.sync(catalog)
        a, b = paired_sample(catalog, first, second, 10)
        assert a.tolist() == [[1.0, 0.0]] and b.tolist() == [[0.0, 0.0, 1.0]]


def test_an_ensemble_weighted_wholly_to_the_first_model_cuts_off_where_that_model_does(tmp_path, monkeypatch):
    """Weight 1: the fused scores are the first model's cosines, and its sample the first model's
    own background sample (the same seeded choice from the same sorted ids)."""
    archive, catalog_path = _archive(tmp_path)
    rng = np.random.default_rng(3)
    with Catalog(catalog_path) as catalog:
        ids = _items(catalog, 40)
        catalog.put_embeddings("a", ids, rng.standard_normal((40, 8)).astype(np.float32))
        catalog.put_embeddings("b", ids, rng.standard_normal((40, 6)).astype(np.float32))
    monkeypatch.setattr(search_module, "SAMPLE_SIZE", 12)
    with SearchService.open(archive, model_id="a") as alone:
        expected = alone.similar_to_item(ids[0], top=5).threshold
    with SearchService.open(
        archive, model_id="a", ensemble_encoder=SecondEncoder("b", 6), ensemble_weight=1.0
    ) as fused:
        assert fused.similar_to_item(ids[0], top=5).threshold == pytest.approx(expected, abs=1e-6)

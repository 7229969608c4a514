"""Find similar with two image models: fused scores, weights 1 and 0, the cut-off, missing vectors,
and the CLI's `similar` with the setting ensemble_model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_search import FakeImageEncoder, build_archive, item_of

import main
from models.errors import ImagoError, InputError
from store import config
from store.ingestion.indexer import Indexer
from store.services.fusion import Ensemble, fused_candidates
from store.services.search import SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

ROOT = Path(__file__).resolve().parents[2]
CLIP_TINY = ROOT / "tests" / "fixtures" / "models" / "clip-tiny"


class GreyEncoder:
    """A second model: the image's 6x6 grey thumbnail, mean-centred."""

    model_id = "fake-grey@1"
    dim = 36
    input_size = 32

    def encode(self, images):
        out = []
        for image in images:
            small = np.asarray(image.convert("L").resize((6, 6), Image.Resampling.BOX), np.float32).ravel()
            small = small - small.mean() + 1e-3 * np.arange(self.dim)
            out.append(small / np.linalg.norm(small))
        return np.stack(out).astype(np.float32)


def _indexed(root: Path, unrelated: int = 30) -> Path:
    archive = build_archive(root, unrelated=unrelated)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeImageEncoder(), decode_workers=1, thumbnails=False,
                ensemble_encoder=GreyEncoder()).index()  # fmt: skip
    return archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return _indexed(tmp_path_factory.mktemp("ensemble"))


def _open(archive: Path, weight: float | None, second=None) -> SearchService:
    if weight is None:
        return SearchService.open(archive, image_encoder=FakeImageEncoder())
    return SearchService.open(
        archive, image_encoder=FakeImageEncoder(), ensemble_encoder=second or GreyEncoder(),
        ensemble_weight=weight,
    )  # fmt: skip


def test_fused_ranking_with_known_vectors(archive, tmp_path):
    # Three items; per model 2-d vectors with known cosines to the query (1, 0):
    # model a: 1.0, 0.6, 0.0; model b: 0.0, 0.8, 1.0.
    a = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)
    b = np.array([[0, 1], [0.8, 0.6], [1, 0]], np.float32)
    (tmp_path / "known").mkdir()
    with Catalog(locate_index(tmp_path / "known").catalog_path) as catalog:
        ids = [catalog.ensure_file_item(catalog.upsert_file(f"x{n}.png".encode(), size=1, mtime_ns=1,
                                                            hash=f"h{n}", status="indexed"))
               for n in range(3)]  # fmt: skip
        catalog.put_embeddings("a", ids, a)
        catalog.put_embeddings("b", ids, b)
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        second = VectorIndex.open(tmp_path, "b", 2, catalog)
        query = np.array([1, 0], np.float32)

        def ranked(weight):
            hits = fused_candidates(catalog, first, Ensemble(second, None, weight), query, query, 10)
            return [(ids.index(h.item_id), round(h.score, 4)) for h in hits]

        assert ranked(0.5) == [(1, 0.7), (0, 0.5), (2, 0.5)]  # equal scores: by item id
        assert ranked(0.9) == [(0, 0.9), (1, 0.62), (2, 0.1)]
        assert ranked(0.2) == [(2, 0.8), (1, 0.76), (0, 0.2)]
        assert ranked(1.0) == [(0, 1.0), (1, 0.6), (2, 0.0)]
        # An item without a vector of one model has no fused score: it is left out.
        catalog.put_embeddings(
            "a",
            [
                catalog.ensure_file_item(
                    catalog.upsert_file(b"x3.png", size=1, mtime_ns=1, hash="h3", status="indexed")
                )
            ],
            np.array([[1, 0]], np.float32),
        )
        first.sync(catalog)
        assert [i for i, _ in ranked(0.5)] == [1, 0, 2]  # fmt: skip


@pytest.mark.parametrize(("weight", "alone"), [(1.0, FakeImageEncoder), (0.0, GreyEncoder)])
def test_weight_one_or_zero_equals_that_model_alone(archive, weight, alone):
    with SearchService.open(archive, image_encoder=alone()) as single, _open(archive, weight) as fused:
        assert single.model_id == alone.model_id and fused.ensemble is not None
        # Scores agree to the vector index's f16 precision (the fused ones are exact), so near ties
        # may swap: compare each item's score, and the few results above the same cut-off.
        query = item_of(single, "subject/original.png")
        every = {r.item_id: r.score for r in single.similar_to_item(query, top=100, all=True).results}
        got = fused.similar_to_item(query, top=100, all=True)
        assert len(got) == len(every) and all(
            r.score == pytest.approx(every[r.item_id], abs=2e-3) for r in got.results
        )
        want, got = single.similar_to_item(query), fused.similar_to_item(query)
        assert got.threshold == pytest.approx(want.threshold, abs=2e-3) and set(got.ids()) == set(want.ids())
        image = archive / "subject" / "grey.png"
        every = {r.item_id: r.score for r in single.similar_to_image(image, top=100, all=True).results}
        got = fused.similar_to_image(image, top=100, all=True)
        assert all(r.score == pytest.approx(every[r.item_id], abs=2e-3) for r in got.results)


def test_ensemble_results_explain_both_scores(archive):
    with _open(archive, 0.7) as service:
        query = item_of(service, "subject/original.png")
        found = service.similar_to_item(query, top=5, all=True, duplicates="hide")
        why = found.results[0].why[0]
        assert why.startswith("image similarity ") and "fake-image@1 " in why and "fake-grey@1 " in why
        assert "weight 0.70" in why
        score, first, second = (float(t.strip(",()")) for t in np.array(why.split())[[2, 4, 6]])
        assert score == pytest.approx(0.7 * first + 0.3 * second, abs=2e-3)
        region = service.similar_to_region(query, (0, 0, 48, 48), top=3, all=True, duplicates="hide")
        assert "fake-grey@1" in region.results[0].why[0]


def test_ensemble_needs_the_second_model_s_vectors(archive, caplog):
    class Unindexed(GreyEncoder):
        model_id = "fake-unindexed@1"

    with caplog.at_level(logging.WARNING), _open(archive, 0.5, Unindexed()) as service:
        pass
    assert service.ensemble is None  # never indexed with that model: the first model alone
    assert "archive has no fake-unindexed@1 vectors" in caplog.text


def test_query_item_without_a_second_vector_uses_the_first_model(tmp_path):
    archive = _indexed(tmp_path, unrelated=6)
    with Catalog(locate_index(archive).catalog_path) as catalog:  # a curator region, not yet re-indexed
        query = catalog.file_id(b"subject/original.png")
        region = catalog.add_curator_region(query, (0, 0, 40, 40))
        catalog.put_embeddings("fake-image@1", [region], np.ones((1, FakeImageEncoder.dim), np.float32))
    with _open(archive, 0.5) as fused, _open(archive, None) as single:
        got = fused.similar_to_item(region, top=5, all=True)
        assert got.ids() == single.similar_to_item(region, top=5, all=True).ids()
        assert "fake-grey" not in got.results[0].why[0]


def test_ensemble_checks(archive, tmp_path):
    with Catalog(locate_index(archive).catalog_path) as catalog:
        second = VectorIndex.open(tmp_path, "fake-grey@1", GreyEncoder.dim, catalog)
        with pytest.raises(InputError, match="from 0 to 1"):
            Ensemble(second, GreyEncoder(), 1.5)

        class Wider(GreyEncoder):
            dim = 16

        with pytest.raises(ImagoError, match="re-index"):
            Ensemble(second, Wider(), 0.5)


def test_cli_similar_fuses_the_setting_s_ensemble_model(tmp_path, capsys):
    archive = build_archive(tmp_path, unrelated=4)
    config.Settings(ensemble_model=str(CLIP_TINY), ensemble_weight=0.8).save()
    assert main.main(["index", str(archive), "--no-caption", "--json"]) == 0
    capsys.readouterr()
    assert (
        main.main(
            [
                "similar",
                str(archive),
                "subject/original.png",
                "--all",
                "--top",
                "3",
                "--json",
                "--hide-duplicates",
            ]
        )
        == 0
    )
    why = json.loads(capsys.readouterr().out)["results"][0]["why"][0]
    assert "mobilenet-v2-imagenet@1" in why and "clip-tiny@1" in why and "weight 0.80" in why
    config.Settings(ensemble_model="no-such-model").save()
    assert main.main(["similar", str(archive), "subject/original.png"]) == 1
    assert "no-such-model" in capsys.readouterr().err

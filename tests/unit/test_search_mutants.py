"""Search behaviours that mutation testing (tools/mutation) found unchecked in store/services/search.py:
the messages a user reads, defaults of the search calls, when `more` is said, the first tier of
keyword matches, the weak flag, candidate depths, opening an archive, and checks of the encoders."""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_search import (
    SUBJECT,
    FakeImageEncoder,
    FakeTextEncoder,
    _background_around,
    _vector_ranks,
    build_archive,
    index,
    item_of,
    stripes,
)
from test_search_ensemble import GreyEncoder, _indexed

import store.services.keywords as keywords_module
import store.services.search as search_module
from models.errors import ImagoError, InputError
from store.errors import ArchiveError
from store.services.curation import CurationService
from store.services.fusion import Ensemble
from store.services.search import SearchFilter, SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex, index_file_name

WEAK = "weak match: below the relevance cut-off"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    archive = build_archive(tmp_path_factory.mktemp("search-mutants"))  # 36 files
    index(archive)
    return archive


@pytest.fixture
def service(archive):
    with SearchService.open(archive, image_encoder=FakeImageEncoder(), text_encoder=FakeTextEncoder()) as s:
        yield s


@pytest.fixture
def own_archive(archive, tmp_path) -> Path:
    """A private copy of the indexed archive, for tests that change it."""
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy)
    return copy


def _refused(call, *args, error=InputError, **kwargs) -> str:
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    return str(info.value)


def _vector_of(service: SearchService, path: str) -> np.ndarray:
    return service.catalog.vectors(service.model_id, [item_of(service, path)])[1][0]


# -- input checks and the messages a user reads ------------------------------------------------------


@pytest.mark.parametrize("top", [0, -3, True, 2.5, "5"])
def test_top_must_be_a_positive_whole_number(service, top):
    message = f"the number of results must be a positive integer, not {top!r}"
    assert _refused(service.search_text, "pattern", top=top) == message
    assert _refused(service.similar_to_item, item_of(service, "subject/grey.png"), top=top) == message


def test_text_query_messages(archive, service):
    assert _refused(service.search_text, " \n") == "the search text is empty"
    common = "the of and " * 10  # 110 characters: the message quotes the first 80
    with SearchService.open(archive) as keywords_only:
        assert _refused(keywords_only.search_text, common) == (
            f"{common[:80]!r} has only common words and no text model is installed to search by meaning"
        )


def test_query_image_problems_name_the_image(service, tmp_path):
    missing = tmp_path / "missing.png"
    assert _refused(service.similar_to_image, missing) == f"image file not found: {missing}"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    assert _refused(service.similar_to_image, broken).startswith(f"cannot use {broken} as a query image: ")
    image = service.archive / "subject" / "original.png"  # 96 x 96 pixels
    for bbox in [(96, 0, 10, 10), (0, 96, 10, 10), (0, 500, 10, 10), (500, 0, 10, 10)]:
        assert _refused(service.similar_to_image, image, bbox=bbox) == (
            f"rectangle {bbox} lies outside {image} (96x96 pixels)"
        )
    item = item_of(service, "subject/original.png")
    assert _refused(service.similar_to_region, item, (0, 96, 5, 5)) == (
        "rectangle (0, 96, 5, 5) lies outside subject/original.png (96x96 pixels)"
    )
    assert _refused(service.similar_to_region, 999_999, (0, 0, 5, 5)) == (
        f"no visible item with id 999999 in {service.catalog.path}"
    )


def test_region_of_a_file_gone_from_disk_names_the_file(own_archive):
    with SearchService.open(own_archive, image_encoder=FakeImageEncoder()) as service:
        (own_archive / "subject" / "flipped.png").unlink()
        item = item_of(service, "subject/flipped.png")
        assert _refused(service.similar_to_region, item, (0, 0, 20, 20)) == (
            "image file not found: subject/flipped.png"
        )


def test_searching_by_image_needs_an_image_model(archive):
    with SearchService.open(archive) as service:
        assert _refused(service.similar_to_image, archive / "subject" / "grey.png") == (
            "searching by image needs an image model (install a model bundle)"
        )


def test_item_without_a_vector_yet(own_archive):
    with Catalog(locate_index(own_archive).catalog_path) as catalog:
        region = catalog.add_curator_region(catalog.file_id(b"subject/original.png"), (0, 0, 40, 40))
    with SearchService.open(own_archive) as service:
        assert _refused(service.similar_to_item, region) == (
            f"item {region} has no fake-image@1 vector yet (still being indexed?)"
        )


def test_service_without_an_archive_folder(service):
    """A service built on a catalog and an index alone finds similar items, but cannot cut a rectangle
    out of an archive file."""
    bare = SearchService(service.catalog, service.vector_index)
    assert bare.archive is None
    query = item_of(service, "subject/grey.png")
    assert bare.similar_to_item(query).ids() == service.similar_to_item(query).ids()
    assert _refused(bare.similar_to_region, query, (0, 0, 10, 10)) == (
        "this search service was opened without an archive folder"
    )


# -- opening an archive ----------------------------------------------------------------------------


def test_opening_a_folder_never_indexed_writes_nothing(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    stripes(**SUBJECT).save(folder / "a.png")
    catalog_path = locate_index(folder, create=False).catalog_path
    assert _refused(SearchService.open, folder, error=ArchiveError) == (
        f"{folder} has not been indexed yet (no {catalog_path})"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]


def test_opening_a_catalog_without_vectors(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    catalog_path = locate_index(folder).catalog_path
    Catalog(catalog_path).close()
    assert _refused(SearchService.open, folder, error=ArchiveError) == (
        f"{catalog_path} holds no image vectors yet; index the archive first"
    )


def test_missing_vector_index_file_is_rebuilt_from_the_catalog(archive, own_archive):
    with SearchService.open(archive) as service:
        query = item_of(service, "subject/grey.png")
        expected = [(r.item_id, round(r.score, 4)) for r in service.similar_to_item(query, all=True).results]
    (locate_index(own_archive).path / index_file_name("fake-image@1")).unlink()
    with SearchService.open(own_archive) as service:
        found = service.similar_to_item(query, all=True).results
        assert [(r.item_id, round(r.score, 4)) for r in found] == expected


def test_model_choice_is_logged_only_when_the_wanted_model_is_missing(archive, caplog):
    class OtherModel(FakeImageEncoder):
        model_id = "other@1"

    with caplog.at_level(logging.WARNING, logger="store.services.search"):
        SearchService.open(archive).close()
        assert "archive has no" not in caplog.text
        SearchService.open(archive, image_encoder=OtherModel()).close()
    assert "archive has no other@1 vectors; searching fake-image@1 vectors" in caplog.text


# -- encoders of the archive's model ----------------------------------------------------------------


@pytest.mark.parametrize("model_id", ["fake-image@1", "fake-image@1-int8"])
def test_encoder_of_the_archive_model_with_another_dimension_is_refused(archive, model_id):
    class Narrow(FakeImageEncoder):
        dim = 16

    Narrow.model_id = model_id
    assert _refused(SearchService.open, archive, image_encoder=Narrow(), error=ImagoError) == (
        f"model {model_id} gives 16-dimensional vectors, but the archive was indexed with fake-image@1 "
        "(32 dimensions); re-index it"
    )


def test_int8_image_tower_keeps_text_search_by_meaning(archive):
    """The int8 tower of the archive's model lives in the same space: its text tower still searches."""

    class Int8(FakeImageEncoder):
        model_id = "fake-image@1-int8"

    with SearchService.open(archive, image_encoder=Int8(), text_encoder=FakeTextEncoder()) as service:
        assert service.text_encoder is not None
        found = service.search_text("zzz qqq", top=3, all=True)
        assert all(r.why[0].startswith("text-image similarity ") for r in found.results)


# -- defaults of the search calls -------------------------------------------------------------------


def test_twenty_results_by_default(service):
    image = service.archive / "subject" / "grey.png"
    item = item_of(service, "subject/original.png")
    assert len(service.similar_to_item(item, all=True)) == 20
    assert len(service.similar_to_region(item, (8, 8, 80, 80), all=True)) == 20
    assert len(service.similar_to_image(image, all=True)) == 20
    assert len(service.search_text("zzz qqq", all=True)) == 20


def test_searches_by_image_and_rectangle_apply_the_cut_off_by_default(service):
    item = item_of(service, "subject/original.png")
    for found in (
        service.similar_to_region(item, (0, 0, 96, 96)),
        service.similar_to_image(service.archive / "subject" / "flipped.png"),
    ):
        assert found.threshold is not None and found.more
        assert 5 <= len(found) < 10
        assert not any(p.startswith("other/pattern") for p in (r.path for r in found.results))


# -- rectangles ----------------------------------------------------------------------------------


def test_rectangle_overhanging_the_image_is_clipped_to_it(service):
    image = service.archive / "subject" / "original.png"
    for overhanging, inside in [((8, 8, 1000, 1000), (8, 8, 88, 88)), ((40, 0, 90, 50), (40, 0, 56, 50))]:
        got = service.similar_to_image(image, bbox=overhanging, top=36, all=True)
        want = service.similar_to_image(image, bbox=inside, top=36, all=True)
        assert [(r.item_id, round(r.score, 5)) for r in got.results] == [
            (r.item_id, round(r.score, 5)) for r in want.results
        ]


def test_rectangle_of_a_large_image_keeps_its_detail(tmp_path):
    """Query images are read at up to 2048 pixels: a small rectangle of a 2048-pixel wide scan keeps
    its fine stripes and finds the file cut from it at full size."""
    yy, xx = np.mgrid[0:128, 0:2048].astype(np.float32)
    wave = (np.sin((xx * np.cos(0.4) + yy * np.sin(0.4)) * 2 * np.pi / 5.0) + 1) / 2
    scan = Image.fromarray((wave * 255).astype(np.uint8)).convert("RGB")
    archive = tmp_path / "archive"
    archive.mkdir()
    scan.crop((1000, 32, 1064, 96)).save(archive / "detail.png")
    for n in range(3):
        stripes(1.0 + n / 2, 7.0 + 3 * n, seed=n).save(archive / f"other_{n}.png")
    index(archive)
    scan.save(tmp_path / "scan.png")
    with SearchService.open(archive, image_encoder=FakeImageEncoder()) as service:
        found = service.similar_to_image(tmp_path / "scan.png", bbox=(1000, 32, 64, 64), top=1, all=True)
        assert found.results[0].path == "detail.png"
        assert found.results[0].score > 0.99


# -- candidates -------------------------------------------------------------------------------------


def test_find_similar_gives_top_results_besides_the_query(service, monkeypatch):
    monkeypatch.setattr(search_module, "CANDIDATES", 2)
    found = service.similar_to_item(item_of(service, "subject/grey.png"), top=10, all=True)
    assert len(found) == 10 and found.more


def _labelled(archive: Path, items: dict[int, str]) -> None:
    with Catalog(locate_index(archive).catalog_path) as catalog:
        curation = CurationService(catalog)
        for item, label in items.items():
            curation.confirm_label(item, "category", label)


def test_filtered_searches_look_ten_times_deeper(own_archive, monkeypatch):
    """With a filter, ten times CANDIDATES vector candidates are examined (not fewer, not more): with
    CANDIDATES 1, find similar (which skips the query item) reaches the 11th nearest vector, text
    search the 10th."""
    with SearchService.open(own_archive, image_encoder=FakeImageEncoder()) as service:
        query = item_of(service, "other/pattern_03.png")
        vector = _vector_of(service, "other/pattern_03.png")
        ranks = _vector_ranks(service, vector)
    by_rank = {rank: item for item, (rank, _) in ranks.items()}
    assert by_rank[1] == query
    assert len({round(ranks[by_rank[n]][1], 4) for n in (9, 10, 11, 12, 13)}) == 5  # no ties
    _labelled(own_archive, {by_rank[n]: f"rank {n}" for n in (10, 11, 12)})
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    with SearchService.open(own_archive, image_encoder=FakeImageEncoder()) as service:
        service.text_encoder = FakeTextEncoder({"zzz qqq": vector})

        def similar(n: int) -> list[int]:
            only = SearchFilter(category=f"rank {n}")
            return service.similar_to_item(query, top=1, all=True, filters=only).ids()

        def text(n: int) -> list[int]:
            only = SearchFilter(category=f"rank {n}")
            return service.search_text("zzz qqq", top=1, all=True, filters=only).ids()

        assert similar(11) == [by_rank[11]] and similar(12) == []
        assert text(10) == [by_rank[10]] and text(11) == []


def test_fused_score_counts_only_vector_ranks_among_the_candidates(service, monkeypatch):
    """Without a filter the CANDIDATES nearest vectors (or the `top` + 1 nearest, when more) are
    examined: a keyword match beyond them gets no vector part in its fused score, one among them does."""
    target = item_of(service, "other/pattern_07.png")
    subject = _vector_of(service, "subject/original.png")
    rank, cosine = _vector_ranks(service, subject)[target]
    assert rank >= 4
    service.text_encoder = FakeTextEncoder({"pattern 07": subject})
    monkeypatch.setattr(search_module, "CANDIDATES", math.ceil(rank / 2))  # < rank <= twice it
    first = service.search_text("pattern 07", top=1).results[0]
    assert (first.item_id, first.why) == (target, ["keyword match in name: pattern, 07"])
    assert first.score == pytest.approx(2.0 / 61)
    monkeypatch.setattr(search_module, "CANDIDATES", rank)
    first = service.search_text("pattern 07", top=1).results[0]
    assert first.why == [
        "keyword match in name: pattern, 07",
        f"text-image similarity {cosine:.3f} (rank {rank})",
    ]
    assert first.score == pytest.approx(2.0 / 61 + 1.0 / (60 + rank))
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    assert len(service.search_text("pattern 07", top=rank - 2).results[0].why) == 1
    assert len(service.search_text("pattern 07", top=rank - 1).results[0].why) == 2


def test_ensemble_candidates_are_each_model_s_nearest(tmp_path, monkeypatch):
    """With two models the candidates are the union of each model's CANDIDATES nearest items: an item
    fourth in both lists is not among them with CANDIDATES 2, however well the two scores fuse."""
    a = [(1, 0), (0.96, 0.28), (0.96, 0.28), (0, 1), (0, 1), (0.9, 0.44)]  # query, A1, A2, B1, B2, both
    b = [(1, 0), (0, 1), (0, 1), (0.96, 0.28), (0.96, 0.28), (0.9, 0.44)]
    (tmp_path / "known").mkdir()
    with Catalog(locate_index(tmp_path / "known").catalog_path) as catalog:
        ids = [catalog.ensure_file_item(catalog.upsert_file(f"x{n}.png".encode(), size=1, mtime_ns=1,
                                                            hash=f"h{n}", status="indexed"))
               for n in range(len(a))]  # fmt: skip
        catalog.put_embeddings("a", ids, np.array(a, np.float32))
        catalog.put_embeddings("b", ids, np.array(b, np.float32))
        first = VectorIndex.open(tmp_path, "a", 2, catalog)
        ensemble = Ensemble(VectorIndex.open(tmp_path, "b", 2, catalog), None, 0.5)
        service = SearchService(catalog, first, ensemble=ensemble)
        monkeypatch.setattr(search_module, "CANDIDATES", 2)  # A1 and B1 fuse to 0.48 only: the first id wins
        assert service.similar_to_item(ids[0], top=1, all=True).ids() == [ids[1]]
        monkeypatch.setattr(search_module, "CANDIDATES", 4)
        assert service.similar_to_item(ids[0], top=1, all=True).ids() == [ids[5]]


# -- more ------------------------------------------------------------------------------------------


def test_more_when_grouped_duplicates_push_a_result_out(service):
    """The exact copy shown first takes a place of `top`: the hit it pushes out is still `more`."""
    query = item_of(service, "subject/original.png")  # 34 other files besides its exact copy
    found = service.similar_to_item(query, top=34, all=True)
    assert len(found) == 34 and found.results[0].path == "other/exact_copy.png" and found.more
    everything = service.similar_to_item(query, top=35, all=True)
    assert len(everything) == 35 and not everything.more


def test_more_when_top_reaches_the_candidates(service, monkeypatch):
    """Asking for as many results as there are candidates (or more) still says when more exist, and
    says no more when the archive has exactly `top` of them."""
    monkeypatch.setattr(search_module, "CANDIDATES", 3)
    grey, original = item_of(service, "subject/grey.png"), item_of(service, "subject/original.png")
    service.text_encoder = FakeTextEncoder({"zzz qqq": _vector_of(service, "subject/grey.png")})
    for top in (3, 5):
        assert service.similar_to_item(grey, top=top, all=True).more
        assert service.similar_to_item(original, top=top, all=True, duplicates="hide").more
        assert service.search_text("zzz qqq", top=top, all=True).more
    for top in (33, 34):  # 34 files besides the query and its exact copy
        hidden = service.similar_to_item(original, top=top, all=True, duplicates="hide")
        assert len(hidden) == top and hidden.more == (top == 33)
    assert not service.similar_to_item(grey, top=35, all=True).more
    assert not service.search_text("zzz qqq", top=36, all=True).more


# -- text search: keyword tiers and the cut-off -----------------------------------------------------


def test_every_keyword_comes_first_whatever_the_fused_scores(service, monkeypatch):
    """The first tier is the items with every keyword, even when their fused score is lower than a
    look-alike's (here keyword matches weigh nothing)."""
    monkeypatch.setattr(search_module, "FTS_WEIGHT", 0.0)
    target = item_of(service, "other/pattern_07.png")
    service.text_encoder = FakeTextEncoder({"pattern 07": _vector_of(service, "subject/original.png")})
    found = service.search_text("pattern 07", top=10).results
    assert found[0].item_id == target and len(found) > 2
    assert found[0].score < found[1].score
    assert [r.score for r in found[1:]] == sorted((r.score for r in found[1:]), reverse=True)


def test_keyword_matches_bring_no_weak_look_alikes(service):
    """When keyword matches exist, vector hits below the cut-off are not shown as weak fallbacks."""
    subject = _vector_of(service, "subject/original.png")
    service._sample = _background_around(subject, np.linspace(0.1, 0.9, 9))  # cut-off 1.39: none passes
    service.text_encoder = FakeTextEncoder({"pattern 07": subject})
    found = service.search_text("pattern 07", top=10)
    assert found.ids() == [item_of(service, "other/pattern_07.png")] and found.more
    assert not found.results[0].weak


def test_many_keyword_matches_need_every_word_for_the_first_tier(service, monkeypatch):
    """Above FTS_RANK_MAX matches the vector candidates are tested for the words in Python: an item
    with only one of the two words is no `keyword match`."""
    monkeypatch.setattr(keywords_module, "FTS_RANK_MAX", 0)
    found = service.search_text("pattern 07", top=50, all=True).results
    keyword = [r for r in found if r.why[0].startswith("keyword match")]
    assert [(r.path, r.why[0]) for r in keyword] == [
        ("other/pattern_07.png", "keyword match in name: pattern, 07")
    ]


def test_many_partial_keyword_matches_follow_the_vector_order(service, monkeypatch):
    """Above FTS_RANK_MAX partial matches, those among the vector candidates come first in vector
    order, so the best look-alike with one of the words leads."""
    best = item_of(service, "other/pattern_17.png")
    service.text_encoder = FakeTextEncoder({"pattern zeppelin": _vector_of(service, "other/pattern_17.png")})
    monkeypatch.setattr(keywords_module, "FTS_RANK_MAX", 29)  # 30 items hold "pattern"
    first = service.search_text("pattern zeppelin", top=5).results[0]
    assert (first.item_id, first.why[0]) == (best, "partial keyword match in name: pattern")
    assert first.score == pytest.approx(1.0 / 61 + 1.0 / 61)


def test_keyword_only_search_has_no_cut_off(archive):
    with SearchService.open(archive) as service:
        found = service.search_text("pattern 07")
        assert found.threshold is None
        assert found.ids() == [item_of(service, "other/pattern_07.png")]
        assert found.results[0].weak is False


# -- weak flag ---------------------------------------------------------------------------------------


def test_weak_flag_marks_the_fallback_results(service):
    grey = _vector_of(service, "subject/grey.png")
    service._sample = _background_around(grey, np.linspace(0.1, 0.9, 9))  # cut-off 1.39: none passes
    similar = service.similar_to_item(item_of(service, "subject/grey.png"), top=10)
    service.text_encoder = FakeTextEncoder({"zzz qqq": grey})
    text = service.search_text("zzz qqq", top=10)
    for found in (similar, text):
        assert len(found) == 3 and all(r.weak and r.why[-1] == WEAK for r in found.results)
    service._sample = None  # the archive's own sample: the copies pass the cut-off
    strong = service.similar_to_item(item_of(service, "subject/grey.png"), top=10)
    assert strong.results and not any(r.weak for r in strong.results)


# -- items gone or changed since the service opened -------------------------------------------------


def test_results_skip_files_gone_since_the_search_opened(own_archive):
    """The vector index is loaded when the service opens; a file found missing afterwards is left out
    of text results, in relevance and in date order."""
    with SearchService.open(own_archive, image_encoder=FakeImageEncoder()) as service:
        grey = _vector_of(service, "subject/grey.png")
        service.text_encoder = FakeTextEncoder({"zzz qqq": grey})
        gone = item_of(service, "subject/flipped.png")
        with Catalog(locate_index(own_archive).catalog_path) as writer, writer.transaction():
            writer.mark_missing([writer.file_id(b"subject/flipped.png")])
        for filters in (None, SearchFilter(order="date")):
            found = service.search_text("zzz qqq", top=50, all=True, filters=filters)
            assert len(found) == 35 and gone not in found.ids()


def test_text_search_shows_the_box_of_a_region(own_archive):
    with Catalog(locate_index(own_archive).catalog_path) as catalog:
        region = catalog.add_curator_region(catalog.file_id(b"subject/original.png"), (8, 4, 40, 30))
        catalog.set_description(region, "a lighthouse")
    with SearchService.open(own_archive) as service:
        hit = service.search_text("lighthouse").results[0]
        assert (hit.item_id, hit.path, hit.region) == (region, "subject/original.png", (8, 4, 40, 30))


# -- ensembles -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> Path:
    return _indexed(tmp_path_factory.mktemp("two-models"), unrelated=2)  # 8 files


def test_ensemble_weight_is_even_by_default(two_models):
    with SearchService.open(
        two_models, image_encoder=FakeImageEncoder(), ensemble_encoder=GreyEncoder()
    ) as s:
        assert s.ensemble is not None and s.ensemble.weight == 0.5
        found = s.similar_to_item(item_of(s, "subject/grey.png"), top=1, all=True)
        assert "weight 0.50" in found.results[0].why[0]


def test_ensemble_of_the_image_model_with_itself_is_no_ensemble(two_models):
    with SearchService.open(
        two_models, image_encoder=FakeImageEncoder(), ensemble_encoder=FakeImageEncoder()
    ) as service:
        assert service.ensemble is None


def _fused_threshold(archive: Path) -> float | None:
    with SearchService.open(archive, image_encoder=FakeImageEncoder(), ensemble_encoder=GreyEncoder()) as s:
        return s.similar_to_item(item_of(s, "subject/grey.png")).threshold


def test_fused_cut_off_from_eight_items(two_models, tmp_path):
    """Eight items with both models' vectors are enough for a fused cut-off; seven are not."""
    copy = tmp_path / "archive"
    shutil.copytree(two_models, copy)
    assert _fused_threshold(copy) is not None
    with Catalog(locate_index(copy).catalog_path) as writer, writer.transaction():
        writer.mark_missing([writer.file_id(b"other/pattern_00.png")])
    assert _fused_threshold(copy) is None


def test_the_cut_off_is_the_same_after_the_vector_index_is_rebuilt(tmp_path, monkeypatch):
    """The background sample is drawn from the sorted item ids: a rebuilt index (its file deleted)
    lists its keys in another order, which gave the same query another cut-off (0.77 against 0.37)."""
    archive = build_archive(tmp_path, unrelated=30)
    index(archive)
    monkeypatch.setattr(search_module, "SAMPLE_SIZE", 12)

    def threshold() -> float:
        with SearchService.open(archive, image_encoder=FakeImageEncoder()) as service:
            return service.similar_to_item(item_of(service, "subject/original.png"), top=5).threshold

    before = threshold()
    saved = list(locate_index(archive).path.glob("vectors-*.usearch"))
    assert saved  # the index file the first opening loaded
    for path in saved:
        path.unlink()
    assert threshold() == pytest.approx(before, abs=1e-9)


def test_a_catalog_gone_after_the_check_is_an_error_and_is_not_recreated(tmp_path, monkeypatch):
    """Searching never creates a catalog: one deleted between the existence check and the open
    (another program, a share going away) is reported, not replaced by an empty one."""
    archive = tmp_path / "archive"
    archive.mkdir()
    catalog_path = locate_index(archive).catalog_path
    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda self: self == catalog_path or real_is_file(self))
    with pytest.raises(ImagoError):
        SearchService.open(archive, image_encoder=FakeImageEncoder())
    assert not catalog_path.exists()


def test_the_cut_off_is_a_cosine_one_whatever_the_stored_vector_lengths(tmp_path, monkeypatch):
    """The background sample is normalised like the scores: vectors stored at another length (3x)
    give the same cut-off as unit ones."""
    monkeypatch.setattr(search_module, "SAMPLE_SIZE", 12)
    vectors = np.random.default_rng(5).standard_normal((30, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    thresholds = []
    for scale in (1.0, 3.0):
        archive = tmp_path / f"x{scale:g}"
        archive.mkdir()
        with Catalog(locate_index(archive).catalog_path) as catalog:
            ids = [
                catalog.ensure_file_item(
                    catalog.upsert_file(
                        f"{i}.png".encode(), size=1, mtime_ns=1, hash=f"h{i}", status="indexed"
                    )
                )
                for i in range(30)
            ]
            catalog.put_embeddings("m", ids, vectors * scale)
        with SearchService.open(archive, model_id="m") as service:
            thresholds.append(service.similar_to_item(ids[0], top=5).threshold)
    assert thresholds[0] is not None and thresholds[1] == pytest.approx(thresholds[0], abs=1e-6)

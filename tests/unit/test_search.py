"""SearchService on an archive indexed by the real indexer with deterministic fake encoders."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from models.errors import ImagoError, InputError
from store.boxes import parse_bbox
from store.ingestion.indexer import Indexer
from store.services.keywords import query_terms
from store.services.search import SearchFilter, SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.fulltext import fts_match

DIM = 32


class FakeImageEncoder:
    """Low-frequency 2D FFT magnitudes of the normalised grey image, symmetrised in x: invariant to
    horizontal flips, greyscale and (mostly) recolouring; distinct for distinct stripe patterns."""

    model_id = "fake-image@1"
    dim = DIM
    input_size = 32

    def encode(self, images):
        out = []
        for image in images:
            grey = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.BILINEAR), np.float32)
            grey = (grey - grey.mean()) / (grey.std() + 1e-6)
            mag = np.abs(np.fft.fft2(grey))
            feats = np.array(
                [[mag[u, v] + mag[u, -v] for v in range(8)] for u in range(4)], np.float32
            ).ravel()
            feats -= feats.mean()
            out.append(feats / max(float(np.linalg.norm(feats)), 1e-6))
        return np.stack(out) if out else np.zeros((0, DIM), np.float32)


class FakeTextEncoder:
    """Hashed bag of words (one pseudo-random unit vector per word), or a fixed vector per text."""

    model_id = "fake-text@1"
    dim = DIM

    def __init__(self, fixed: dict[str, np.ndarray] | None = None) -> None:
        self.fixed = fixed or {}
        self.seen: list[str] = []

    def encode(self, texts):
        out = []
        for text in texts:
            self.seen.append(text)
            if text in self.fixed:
                vec = np.asarray(self.fixed[text], np.float32)
            else:
                vec = np.zeros(DIM, np.float32)
                for word in text.lower().split():
                    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
                    vec += np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out.append(vec / max(float(np.linalg.norm(vec)), 1e-6))
        return np.stack(out)


def stripes(angle: float, period: float, size: int = 96, colour=(200, 60, 40), seed: int = 0) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period
    wave = (np.sin(phase) + 1) / 2
    wave += np.random.default_rng(seed).normal(0, 0.05, wave.shape)
    rgb = np.stack([wave * c + (1 - wave) * (255 - c) for c in colour], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


SUBJECT = dict(angle=0.3, period=9.0)


def build_archive(root: Path, *, unrelated: int = 30) -> Path:
    """An archive with a subject image, its copies (exact, flipped, cropped, greyscale, recoloured)
    and `unrelated` images of other stripe patterns."""
    archive = root / "archive"
    (archive / "subject").mkdir(parents=True)
    (archive / "other").mkdir()
    base = stripes(**SUBJECT)
    base.save(archive / "subject" / "original.png")
    shutil.copy(archive / "subject" / "original.png", archive / "other" / "exact_copy.png")
    ImageOps.mirror(base).save(archive / "subject" / "flipped.png")
    base.crop((8, 8, 88, 88)).save(archive / "subject" / "cropped.png")
    ImageOps.grayscale(base).convert("RGB").save(archive / "subject" / "grey.png")
    stripes(**SUBJECT, colour=(40, 90, 220), seed=1).save(archive / "subject" / "recoloured.png")
    rng = np.random.default_rng(42)
    for n in range(unrelated):
        angle = float(rng.uniform(0.9, 2.6))
        period = float(rng.uniform(3.0, 24.0))
        stripes(angle, period, seed=100 + n).save(archive / "other" / f"pattern_{n:02d}.png")
    return archive


def index(archive: Path, encoder=None) -> None:
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, encoder or FakeImageEncoder(), decode_workers=1, thumbnails=False).index()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    archive = build_archive(tmp_path_factory.mktemp("search"))
    index(archive)
    return archive


@pytest.fixture
def service(archive):
    with SearchService.open(archive, image_encoder=FakeImageEncoder(), text_encoder=FakeTextEncoder()) as s:
        yield s


def item_of(service: SearchService, path: str) -> int:
    row = service.catalog.conn.execute(
        "SELECT items.id FROM items JOIN files ON files.id = items.file_id "
        "WHERE files.path = ? AND items.kind = 'file'",
        (path,),
    ).fetchone()
    return int(row[0])


COPIES = {"subject/flipped.png", "subject/cropped.png", "subject/grey.png", "subject/recoloured.png"}


# -- find similar --------------------------------------------------------------------------------


def test_similar_to_item_ranks_copies_first_and_excludes_the_query(service):
    query = item_of(service, "subject/original.png")
    found = service.similar_to_item(query, top=10)
    paths = [r.path for r in found.results]
    assert query not in found.ids()
    # The exact copy (same content hash) is grouped first, then the transformed copies.
    assert paths[0] == "other/exact_copy.png"
    assert "exact duplicate" in found.results[0].why[0]
    assert set(paths[1:5]) == COPIES
    # The adaptive cut-off drops the unrelated patterns although top=10 would allow more.
    assert not any(p.startswith("other/pattern") for p in paths)
    assert found.more
    assert found.threshold is not None
    scores = [r.score for r in found.results[1:]]
    assert scores == sorted(scores, reverse=True)


def test_cutoff_is_median_plus_three_robust_sigmas_of_the_archive_scores(service):
    """The threshold of a similarity search is median + 3 * 1.4826 * MAD of the query's cosine scores
    against every indexed vector (36 here, under the sample size), not merely present."""
    query = item_of(service, "subject/original.png")
    found = service.similar_to_item(query, top=10)
    ids = [int(r[0]) for r in service.catalog.conn.execute("SELECT id FROM items ORDER BY id")]
    _, vectors = service.catalog.vectors(service.model_id, ids)
    assert len(vectors) == 36
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = vectors @ vectors[ids.index(query)]
    median = float(np.median(scores))
    mad = float(np.median(np.abs(scores - median)))
    assert mad > 0.01  # wide enough that the 1.4826 factor moves the threshold measurably
    assert found.threshold == pytest.approx(median + 3.0 * 1.4826 * mad, abs=1e-5)


def test_cutoff_on_a_known_score_distribution(service):
    """Scores 0.1 .. 0.9 against the query: median 0.5, MAD 0.2, threshold 0.5 + 3 * 1.4826 * 0.2."""
    cosines = np.arange(1, 10, dtype=np.float64) / 10
    sample = np.zeros((len(cosines), DIM), np.float32)
    sample[:, 0], sample[:, 1] = cosines, np.sqrt(1 - cosines**2)
    service._sample = sample  # the background sample, as `_background` caches it
    axis = np.zeros(DIM, np.float32)
    axis[0] = 1.0
    service.text_encoder = FakeTextEncoder({"zzz qqq": axis})
    found = service.search_text("zzz qqq", top=5)
    assert found.threshold == pytest.approx(0.5 + 3 * 1.4826 * 0.2, abs=1e-5)  # 1.38956
    # Nothing reaches a cosine above 1.39: the best hits come back as the weak fallback.
    assert len(found.results) == 3
    assert all("weak match: below the relevance cut-off" in r.why for r in found.results)


def _background(cosines) -> np.ndarray:
    """A background sample whose cosines against the unit x axis are `cosines`."""
    cosines = np.asarray(cosines, np.float64)
    sample = np.zeros((len(cosines), DIM), np.float32)
    sample[:, 0], sample[:, 1] = cosines, np.sqrt(1 - cosines**2)
    return sample


def _background_around(vector: np.ndarray, cosines) -> np.ndarray:
    """A background sample whose cosines against `vector` are `cosines`."""
    unit = vector / np.linalg.norm(vector)
    other = np.random.default_rng(5).standard_normal(DIM)
    other -= (other @ unit) * unit
    other /= np.linalg.norm(other)
    cosines = np.asarray(cosines, np.float64)[:, None]
    return (cosines * unit + np.sqrt(1 - cosines**2) * other).astype(np.float32)


def _x_axis() -> np.ndarray:
    axis = np.zeros(DIM, np.float32)
    axis[0] = 1.0
    return axis


def test_no_cutoff_below_eight_background_vectors(service):
    service.text_encoder = FakeTextEncoder({"zzz qqq": _x_axis()})
    service._sample = _background(np.linspace(0.1, 0.8, 8))
    assert service.search_text("zzz qqq", top=5).threshold is not None  # eight: enough
    service._sample = _background(np.linspace(0.1, 0.7, 7))
    assert service.search_text("zzz qqq", top=5).threshold is None


def test_everything_above_the_cutoff_is_not_more(service):
    """A low cut-off keeps every hit: `more` only when hits were really left out."""
    service._sample = _background(np.linspace(-1.0, -0.9, 9))  # threshold about -0.9
    service.text_encoder = FakeTextEncoder({"zzz qqq": _x_axis()})
    found = service.search_text("zzz qqq", top=50)
    assert len(found) == 36 and not found.more
    assert not any("weak match" in w for r in found.results for w in r.why)
    query = item_of(service, "subject/original.png")
    _, qvec = service.catalog.vectors(service.model_id, [query])
    service._sample = _background_around(qvec[0], np.linspace(-1.0, -0.9, 9))
    similar = service.similar_to_item(query, top=50)
    assert len(similar) == 35 and not similar.more
    assert len(service.similar_to_item(query, top=35, all=True)) == 35
    assert not service.similar_to_item(query, top=35, all=True).more


def test_similar_weak_fallback_and_result_fields(service):
    query = item_of(service, "subject/grey.png")
    _, qvec = service.catalog.vectors(service.model_id, [query])
    service._sample = _background_around(qvec[0], np.linspace(0.1, 0.9, 9))  # cut-off 1.39: none passes
    found = service.similar_to_item(query, top=10, duplicates="hide")
    assert len(found) == 3 and found.more
    assert all(r.why[-1] == "weak match: below the relevance cut-off" for r in found.results)
    for r in found.results:
        file_id, file_hash = service.catalog.conn.execute(
            "SELECT files.id, files.hash FROM items JOIN files ON files.id = items.file_id "
            "WHERE items.id = ?",
            (r.item_id,),
        ).fetchone()
        assert (r.file_id, r.hash) == (file_id, file_hash)
    exact = service.similar_to_item(item_of(service, "subject/original.png"), top=10).results[0]
    row = service.catalog.conn.execute(
        "SELECT id, hash FROM files WHERE path = 'other/exact_copy.png'"
    ).fetchone()
    assert (exact.path, exact.file_id, exact.hash) == ("other/exact_copy.png", row[0], row[1])
    with pytest.raises(InputError, match="duplicates must be 'group' or 'hide', not 'merge'"):
        service.similar_to_item(query, duplicates="merge")


def test_background_sample_is_a_fixed_random_subset(service, monkeypatch):
    """Above SAMPLE_SIZE vectors the cut-off comes from a fixed (seeded) sample without repeats, so
    the same query gets the same cut-off every time."""
    import store.services.search as search_module

    monkeypatch.setattr(search_module, "SAMPLE_SIZE", 12)
    keys = np.sort(service.vector_index.keys())
    chosen = np.sort(np.random.default_rng(0).choice(keys, 12, replace=False))
    _, vectors = service.catalog.vectors(service.model_id, chosen.tolist())
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    query = item_of(service, "subject/original.png")
    _, qvec = service.catalog.vectors(service.model_id, [query])
    scores = vectors @ (qvec[0] / np.linalg.norm(qvec[0]))
    median = float(np.median(scores))
    expected = median + 3.0 * 1.4826 * float(np.median(np.abs(scores - median)))
    assert service.similar_to_item(query, top=5).threshold == pytest.approx(expected, abs=1e-5)
    assert len(service._background()) == 12


def test_similar_hide_duplicates_and_all(service):
    query = item_of(service, "subject/original.png")
    hidden = service.similar_to_item(query, top=50, duplicates="hide")
    assert "other/exact_copy.png" not in [r.path for r in hidden.results]
    everything = service.similar_to_item(query, top=50, all=True)
    assert len(everything) == 35  # 36 files, all but the query
    assert everything.results[0].path == "other/exact_copy.png"
    assert not everything.more
    with pytest.raises(InputError):
        service.similar_to_item(query, duplicates="maybe")


def test_similar_to_external_image_and_rectangle(service, tmp_path):
    outside = tmp_path / "query.png"
    ImageOps.mirror(stripes(**SUBJECT, seed=7)).save(outside)
    found = service.similar_to_image(outside, top=10)
    assert set(r.path for r in found.results[:6]) == COPIES | {"subject/original.png", "other/exact_copy.png"}
    # The external file was not added to the archive.
    assert service.catalog.file_id(b"query.png") is None
    # Same content as an archive file: that file is an exact duplicate of the query.
    exact = service.similar_to_image(service.archive / "subject" / "grey.png", top=10)
    assert exact.results[0].path == "subject/grey.png"
    assert exact.results[0].score == 1.0
    assert exact.results[0].why == ["exact duplicate: same file content as the query"]
    both = service.similar_to_image(service.archive / "subject" / "original.png", top=10)
    assert {r.path for r in both.results[:2]} == {"subject/original.png", "other/exact_copy.png"}
    assert all(r.why == ["exact duplicate: same file content as the query"] for r in both.results[:2])
    # filters apply to searches by image and by rectangle too
    only_other = SearchFilter(folder="other")
    for found in (
        service.similar_to_image(outside, top=10, filters=only_other),
        service.similar_to_region(
            item_of(service, "subject/original.png"), (8, 8, 80, 80), filters=only_other
        ),
    ):
        assert found.results and all(r.path.startswith("other/") for r in found.results)
    # The rectangle that cropped.png was cut from finds cropped.png itself (same pixels).
    region = service.similar_to_image(service.archive / "subject" / "original.png", bbox=(8, 8, 80, 80))
    assert region.results[0].path == "subject/cropped.png"
    assert region.results[0].score > 0.999
    assert not any("exact duplicate" in w for r in region.results for w in r.why)
    by_item = service.similar_to_region(item_of(service, "subject/original.png"), (8, 8, 80, 80))
    assert by_item.results[0].path == "subject/cropped.png"
    assert by_item.results[0].score > 0.999


def test_similar_bad_input(service, tmp_path):
    with pytest.raises(InputError, match="no visible item"):
        service.similar_to_item(999_999)
    with pytest.raises(InputError, match="not found"):
        service.similar_to_image(tmp_path / "missing.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    with pytest.raises(InputError, match=r"broken\.png"):
        service.similar_to_image(broken)
    with pytest.raises(InputError, match="outside"):
        service.similar_to_image(service.archive / "subject" / "original.png", bbox=(500, 500, 10, 10))
    with pytest.raises(InputError):
        service.similar_to_item(item_of(service, "subject/original.png"), top=0)
    with pytest.raises(InputError, match=r"a rectangle is X,Y,W,H in whole pixels, not '1,2,3'"):
        parse_bbox("1,2,3")
    assert parse_bbox(" 1, 2,3,4") == (1, 2, 3, 4)
    assert parse_bbox("0,0,1,1") == (0, 0, 1, 1)  # the smallest rectangle at the corner
    for bad in ("-1,0,1,1", "0,-1,1,1", "0,0,0,1", "0,0,1,0"):
        with pytest.raises(InputError, match=rf"rectangle '{bad}' must have x, y >= 0 and a positive"):
            parse_bbox(bad)


def test_folder_filter_takes_the_name_literally(tmp_path):
    """`_` and `%` in a folder name are not wildcards; subfolders are included, look-alikes are not."""
    archive = tmp_path / "archive"
    names = ["2020_a/x.png", "2020_a/sub/y.png", "2020xa/z.png", "2020xa/sub/w.png", "2020_ab/u.png"]
    names += ["50%/p.png", "50abc/q.png", "50abc/sub/v.png"]
    for n, name in enumerate(names):
        (archive / name).parent.mkdir(parents=True, exist_ok=True)
        stripes(0.3 + n, 5.0 + n, seed=n).save(archive / name)
    index(archive)
    with SearchService.open(archive, image_encoder=FakeImageEncoder(), text_encoder=FakeTextEncoder()) as s:

        def paths(folder: str) -> set[str]:
            found = s.search_text("stripes", top=50, all=True, filters=SearchFilter(folder=folder))
            return {r.path for r in found.results}

        assert paths("2020_a") == {"2020_a/x.png", "2020_a/sub/y.png"}
        assert paths("/2020_a/") == {"2020_a/x.png", "2020_a/sub/y.png"}
        assert paths("50%") == {"50%/p.png"}
        assert paths("2020_a/sub") == {"2020_a/sub/y.png"}
        assert s.similar_to_item(item_of(s, "2020xa/z.png"), top=1).results[0].path != "2020xa/z.png"
        assert len(s.similar_to_item(item_of(s, "2020xa/z.png"), top=1, all=True)) == 1  # top=1 is allowed


def test_filter_date_range_of_one_instant_is_allowed():
    assert SearchFilter(since=100.0, until=100.0).restricts
    with pytest.raises(InputError, match="the date range is empty"):
        SearchFilter(since=100.5, until=100.0)


def test_result_json_rounds_scores_to_six_digits():
    from store.services.search import SearchResult

    assert SearchResult(1, "a.png", 0.123456789, None).as_json()["score"] == 0.123457


def test_fts_match_quotes_terms():
    assert fts_match(['say "hi"', "b"]) == '"say ""hi""" "b"'
    assert fts_match(["a"]) == '"a"'


def test_image_search_needs_a_matching_model(archive, tmp_path):
    class OtherModel(FakeImageEncoder):
        model_id = "other@1"

    with SearchService.open(archive, image_encoder=OtherModel()) as s:
        assert s.model_id == "fake-image@1"  # falls back to the vectors the archive has
        with pytest.raises(ImagoError, match="indexed with fake-image@1"):
            s.similar_to_image(archive / "subject" / "original.png")
    with SearchService.open(archive, image_encoder=OtherModel(), text_encoder=FakeTextEncoder()) as s:
        assert s.text_encoder is None  # its text vectors would not be comparable: keywords only
        assert s.search_text("pattern 07").results[0].path == "other/pattern_07.png"
    with SearchService.open(archive) as s:  # find similar by item needs no model at all
        assert len(s.similar_to_item(item_of(s, "subject/original.png")).results) >= 5


# -- text search ---------------------------------------------------------------------------------


def test_keyword_match_outranks_similar_looking_images(service, archive):
    target = item_of(service, "other/pattern_07.png")
    with Catalog(locate_index(archive).catalog_path) as writer:
        writer.set_description(target, "Steam locomotive at the Tula depot, 1912")
    try:
        # The text vector of the query is the subject's image vector: vector search alone would
        # put the subject family first.
        _, subject_vec = service.catalog.vectors(service.model_id, [item_of(service, "subject/original.png")])
        service.text_encoder = FakeTextEncoder({"steam locomotive": subject_vec[0]})
        found = service.search_text("steam locomotive", top=10)
        assert found.results[0].item_id == target
        assert any("keyword match in description: steam, locomotive" in w for w in found.results[0].why)
        assert {r.path for r in found.results[1:6]} <= COPIES | {
            "subject/original.png",
            "other/exact_copy.png",
        }
        # Case, diacritics and FTS syntax in the query do not matter.
        for query in (
            'STEAM "locomotive"',
            "steam* -locomotive",
            "steam NEAR locomotive",
            "stéam locomotive",
        ):
            assert service.search_text(query).results[0].item_id == target, query
    finally:
        with Catalog(locate_index(archive).catalog_path) as writer:
            writer.set_description(target, "")


def test_name_and_folder_keywords(service):
    found = service.search_text("pattern 07")
    assert found.results[0].path == "other/pattern_07.png"
    assert any("keyword match in name" in w for w in found.results[0].why)
    folder = service.search_text("subject", top=50)
    assert {r.path for r in folder.results if "keyword" in " ".join(r.why)} == COPIES | {
        "subject/original.png"
    }


def test_partial_keyword_match_when_no_item_has_all_words(service):
    found = service.search_text("pattern zeppelin")
    assert found.results[0].path.startswith("other/pattern_")
    assert any("partial keyword match" in w for w in found.results[0].why)


@pytest.mark.parametrize(
    "query",
    [
        "the of and",  # only stop-words
        "и в на",  # Russian stop-words
        '"',
        '""""',
        "*",
        "-",
        "NEAR",
        "NEAR(a b, 2)",
        "name:original",
        "a' OR 1=1; DROP TABLE files; --",
        "^start AND (x OR",
        "\x00 null byte",
        "икона Богоматери",
        "x" * 10_000,
        " ".join(f"word{n}" for n in range(3000)),
    ],
)
def test_bad_queries_give_results_or_clear_errors(service, query):
    found = service.search_text(query, top=5)
    assert len(found.results) <= 5
    assert all(r.path for r in found.results)
    assert service.text_encoder.seen[-1] and len(service.text_encoder.seen[-1]) <= 1000


def test_empty_query_is_an_input_error(service):
    for query in ("", "   ", "\n\t"):
        with pytest.raises(InputError, match="empty"):
            service.search_text(query)


def test_stop_words_without_text_model_is_an_input_error(archive):
    with SearchService.open(archive) as s:
        with pytest.raises(InputError, match="common words"):
            s.search_text("the of")
        assert s.search_text("pattern 07").results[0].path == "other/pattern_07.png"


def test_text_cutoff_keeps_few_hits(service):
    # A query vector equal to one pattern's image vector: only it (and maybe close patterns) pass.
    target = item_of(service, "other/pattern_03.png")
    _, vec = service.catalog.vectors(service.model_id, [target])
    service.text_encoder = FakeTextEncoder({"zzz qqq": vec[0]})
    found = service.search_text("zzz qqq", top=30)
    assert found.results[0].item_id == target
    assert len(found.results) < 10
    assert found.more
    assert len(service.search_text("zzz qqq", top=30, all=True).results) == 30


@pytest.fixture
def own_service(archive, tmp_path):
    """A service on a private copy of the indexed archive, for tests that write curator text."""
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy)
    with SearchService.open(copy, image_encoder=FakeImageEncoder(), text_encoder=FakeTextEncoder()) as s:
        yield s


def _vector_ranks(service: SearchService, vector: np.ndarray) -> dict[int, tuple[int, float]]:
    """item -> (rank, cosine) of every indexed vector against `vector`, by brute force."""
    ids = [int(r[0]) for r in service.catalog.conn.execute("SELECT id FROM items ORDER BY id")]
    _, vectors = service.catalog.vectors(service.model_id, ids)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = vectors @ (vector / np.linalg.norm(vector))
    order = sorted(range(len(ids)), key=lambda k: (-scores[k], ids[k]))
    return {ids[k]: (rank, float(scores[k])) for rank, k in enumerate(order, 1)}


def test_text_search_fuses_keyword_and_vector_ranks(own_service):
    """Reciprocal-rank fusion: a keyword match adds 2 / (60 + its keyword rank), a vector hit
    1 / (60 + its vector rank); keyword matches need not pass the cut-off, vector-only hits must."""
    s = own_service
    target, keyword = item_of(s, "other/pattern_03.png"), item_of(s, "other/pattern_05.png")
    s.catalog.set_description(keyword, "Zeppelin hangar at Friedrichshafen")
    _, vec = s.catalog.vectors(s.model_id, [target])
    s.text_encoder = FakeTextEncoder({"zeppelin hangar": vec[0]})
    ranks = _vector_ranks(s, vec[0])
    found = s.search_text("zeppelin hangar", top=10)
    first, second = found.results[:2]
    rank, cosine = ranks[keyword]
    assert cosine < found.threshold  # kept for its keywords only, and not called weak for that
    assert (first.item_id, first.path) == (keyword, "other/pattern_05.png")
    assert first.score == pytest.approx(2.0 / 61 + 1.0 / (60 + rank))
    assert first.why == [
        "keyword match in description: zeppelin, hangar",
        f"text-image similarity {cosine:.3f} (rank {rank})",
    ]
    row = s.catalog.conn.execute("SELECT file_id FROM items WHERE id = ?", (keyword,)).fetchone()
    file_hash = s.catalog.conn.execute("SELECT hash FROM files WHERE id = ?", (row[0],)).fetchone()[0]
    assert (first.file_id, first.hash, first.region) == (row[0], file_hash, None)
    assert (second.item_id, second.why) == (target, ["text-image similarity 1.000 (rank 1)"])
    assert second.score == pytest.approx(1.0 / 61)
    # the other vector hits are those at or above the cut-off, in vector order, scored by rank
    kept = sorted(
        (r, i) for i, (r, c) in ranks.items() if c >= found.threshold and i not in (keyword, target)
    )
    assert [(r.item_id, r.score) for r in found.results[2:]] == [
        (i, pytest.approx(1.0 / (60 + r))) for r, i in kept
    ]
    assert found.more  # vector candidates below the cut-off exist
    # `all`: no cut-off; exactly `top` results is not "more", one fewer is
    everything = s.search_text("zeppelin hangar", top=36, all=True)
    assert len(everything) == 36 and not everything.more
    assert s.search_text("zeppelin hangar", top=35, all=True).more


def test_text_search_partial_keyword_matches_count_half(own_service):
    """No item has every word: items with any of them are partial matches at half the keyword weight
    (ties in bm25 keep item order), fused with their vector rank, and never called weak."""
    s = own_service
    target = item_of(s, "other/pattern_03.png")
    one, two = sorted([item_of(s, "other/pattern_05.png"), item_of(s, "other/pattern_07.png")])
    s.catalog.set_description(one, "zeppelin")
    s.catalog.set_description(two, "airship")
    _, vec = s.catalog.vectors(s.model_id, [target])
    s.text_encoder = FakeTextEncoder({"zeppelin airship": vec[0]})
    ranks = _vector_ranks(s, vec[0])
    found = {r.item_id: r for r in s.search_text("zeppelin airship", top=10).results}
    for keyword_rank, (item, word) in enumerate([(one, "zeppelin"), (two, "airship")], 1):
        rank, cosine = ranks[item]
        assert found[item].score == pytest.approx(1.0 / (60 + keyword_rank) + 1.0 / (60 + rank))
        assert found[item].why == [
            f"partial keyword match in description: {word}",
            f"text-image similarity {cosine:.3f} (rank {rank})",
        ]
    assert found[target].score == pytest.approx(1.0 / 61)
    scores = [r.score for r in s.search_text("zeppelin airship", top=10).results]
    assert scores == sorted(scores, reverse=True)


def test_filtered_text_search_looks_deeper_into_the_vector_candidates(own_service, monkeypatch):
    """With a filter, ten times the candidates are examined, so filtered-out neighbours do not
    crowd out the items the filter allows."""
    import store.services.search as search_module

    s = own_service
    target = item_of(s, "other/pattern_03.png")
    _, vec = s.catalog.vectors(s.model_id, [target])
    s.text_encoder = FakeTextEncoder({"zzz qqq": vec[0]})
    ranks = _vector_ranks(s, vec[0])
    subject = sorted(ranks[item_of(s, f"subject/{n}.png")][0] for n in ("original", "flipped", "grey"))
    candidates = max(1, subject[0] // 10 + 1)  # ten times this reaches the best subject item, once not
    assert candidates < subject[0] <= 10 * candidates
    monkeypatch.setattr(search_module, "CANDIDATES", candidates)
    found = s.search_text("zzz qqq", top=1, all=True, filters=SearchFilter(folder="subject"))
    assert [r.path.split("/")[0] for r in found.results] == ["subject"]


def test_query_terms_and_match_expression():
    assert query_terms("The Steam-Locomotive of Tula!") == ["steam", "locomotive", "tula"]
    assert query_terms("ИКОНА Богоматери и святых") == ["икона", "богоматери", "святых"]
    assert query_terms('" * NEAR -') == []
    assert len(query_terms(" ".join(f"w{n}" for n in range(100)))) == 16
    assert fts_match(["a", "b"]) == '"a" "b"'
    assert fts_match(["a", "b"], "or") == '"a" OR "b"'


def test_results_json_shape(service):
    found = service.similar_to_item(item_of(service, "subject/original.png"), top=3)
    data = found.as_json()
    assert list(data) == ["results"]
    for row in data["results"]:
        assert list(row) == ["item_id", "path", "score", "region", "why"]
        assert row["region"] is None
        assert isinstance(row["why"], list) and row["why"]


def test_many_keyword_matches_rank_vector_candidates_first(service, monkeypatch):
    import store.services.keywords

    ranked = service.search_text("pattern", top=50, all=True)
    monkeypatch.setattr(store.services.keywords, "FTS_RANK_MAX", 3)
    fast = service.search_text("pattern", top=50, all=True)
    # Same set of keyword matches (all in the first tier), whichever way they were ranked.
    keyword = {r.path for r in ranked.results if any("keyword match" in w for w in r.why)}
    assert keyword == {r.path for r in fast.results if any("keyword match" in w for w in r.why)}
    assert len(keyword) == 30
    assert all(r.path.startswith("other/pattern") for r in fast.results[:30])


def test_keyword_matches_name_their_columns(own_service):
    s = own_service
    item = item_of(s, "other/pattern_05.png")
    s.catalog.set_description(item, "a lighthouse")
    why = {r.item_id: r.why for r in s.search_text("lighthouse subject", top=50, all=True).results}
    assert why[item][0] == "partial keyword match in description: lighthouse"
    assert why[item_of(s, "subject/grey.png")][0] == "partial keyword match in folder: subject"
    named = s.search_text("grey", top=5).results[0]
    assert (named.path, named.why[0]) == ("subject/grey.png", "keyword match in name: grey")


def test_many_keyword_matches_boundary_and_filters(own_service, monkeypatch):
    """At most FTS_RANK_MAX keyword matches are ranked by bm25; above it the vector candidates among
    them come first, in vector order, and filters still apply."""
    import store.services.keywords

    s = own_service
    best = item_of(s, "other/pattern_17.png")
    _, vec = s.catalog.vectors(s.model_id, [best])
    s.text_encoder = FakeTextEncoder({"pattern": vec[0]})
    ranked = [(r.item_id, r.score) for r in s.search_text("pattern", top=50, all=True).results]
    monkeypatch.setattr(store.services.keywords, "FTS_RANK_MAX", 30)  # exactly the 30 matches: still bm25
    assert [(r.item_id, r.score) for r in s.search_text("pattern", top=50, all=True).results] == ranked
    monkeypatch.setattr(store.services.keywords, "FTS_RANK_MAX", 29)
    fast = s.search_text("pattern", top=50, all=True).results
    assert fast[0].item_id == best and fast[0].score == pytest.approx(2.0 / 61 + 1.0 / 61)
    assert [r.item_id for r in fast] != [i for i, _ in ranked]
    keyword = [r for r in fast if r.why[0].startswith("keyword match")]
    assert len(keyword) == 30 and len({r.item_id for r in keyword}) == 30
    filtered = s.search_text("pattern", top=50, all=True, filters=SearchFilter(folder="subject"))
    assert all(r.path.startswith("subject/") for r in filtered.results)
    assert not any(r.why[0].startswith("keyword match") for r in filtered.results)


def test_region_items(tmp_path):
    archive = build_archive(tmp_path, unrelated=4)
    index(archive)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        file_id = catalog.file_id(b"subject/original.png")
        file_item = catalog.item_ids(file_id)[0]
        region = catalog.add_curator_region(file_id, (8, 8, 80, 80))
        other_region = catalog.add_curator_region(file_id, (4, 10, 70, 60))
    index(archive)  # embeds the curator's regions
    with SearchService.open(archive, image_encoder=FakeImageEncoder()) as service:
        found = service.similar_to_item(file_item, top=20, all=True)
        hit = next(r for r in found.results if r.item_id == region)
        assert hit.region == (8, 8, 80, 80) and hit.path == "subject/original.png"
        assert "part of the same file as the query" in hit.why
        others = [r for r in found.results if r.path != "subject/original.png"]
        assert others and not any("part of the same file as the query" in r.why for r in others)
        assert hit.as_json()["region"] == [8, 8, 80, 80]
        # Querying by the region: the copies of its file are not "exact duplicates" of a region.
        by_region = service.similar_to_item(region, top=20, all=True)
        assert not any("exact duplicate" in w for r in by_region.results for w in r.why)
        assert by_region.results[0].path == "subject/cropped.png"  # the same pixels as the region
        # A rectangle inside a region item is placed relative to the region, not to the file.
        inside = service.similar_to_region(other_region, (3, 5, 40, 30), top=20, all=True)
        same = service.similar_to_image(
            archive / "subject" / "original.png", bbox=(7, 15, 40, 30), top=20, all=True
        )
        assert [(r.item_id, round(r.score, 5)) for r in inside.results] == [
            (r.item_id, round(r.score, 5)) for r in same.results if "exact duplicate" not in r.why[0]
        ]

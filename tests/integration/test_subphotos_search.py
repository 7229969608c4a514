"""A photo that sits on an album page finds that page: the detector's region is its own item."""

from __future__ import annotations

from store_fakes import FakeEncoder

from benchmarks.synthetic_pages import generated_photo, make_album_page
from store.boxes import iou
from store.ingestion.indexer import Indexer
from store.ingestion.subphotos import detect_subphotos
from store.services.search import SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


def test_searching_with_one_photo_of_a_collage_finds_the_page(tmp_path):
    archive = tmp_path / "archive"
    (archive / "albums").mkdir(parents=True)
    (archive / "photos").mkdir()
    photos = [generated_photo(seed) for seed in range(4)]
    page = make_album_page(photos, seed=11)
    page.image.save(archive / "albums" / "page.jpg", quality=92)
    for seed in range(20, 28):  # unrelated single photos
        generated_photo(seed).save(archive / "photos" / f"single-{seed}.jpg", quality=92)
    query = tmp_path / "query.png"
    photos[2].save(query)

    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        summary = Indexer(
            location,
            catalog,
            FakeEncoder(),
            region_detector=detect_subphotos,
            decode_workers=1,
            thumbnails=False,
        ).index()
    assert summary.failed == 0

    with SearchService.open(archive, image_encoder=FakeEncoder()) as service:
        best = service.similar_to_image(query, top=5, all=True).results[0]
    assert best.path == "albums/page.jpg"
    assert best.region is not None, "the hit must be the region, not the whole page"
    assert iou(best.region, page.boxes[2]) >= 0.8

"""Thumbnail cache: content-addressed paths, size, atomic writes."""

from __future__ import annotations

from PIL import Image

from store.storage.thumbnails import ThumbnailCache


def test_put_and_get(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs", size=64)
    assert cache.get("abcdef") is None
    path = cache.put("abcdef", Image.new("RGB", (640, 320), (200, 10, 10)))
    assert path == tmp_path / "thumbs" / "ab" / "abcdef.jpg" and cache.get("abcdef") == path
    with Image.open(path) as thumb:
        assert thumb.size == (64, 32) and thumb.format == "JPEG"
    region = cache.put("abcdef", Image.new("RGB", (50, 50)), bbox=(1, 2, 3, 4))
    assert region.name == "abcdef-1-2-3-4.jpg"
    mtime = path.stat().st_mtime_ns
    cache.put("abcdef", Image.new("RGB", (10, 10)))  # already there: kept, not rewritten
    assert path.stat().st_mtime_ns == mtime
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".thumb-")]


def test_next_index_run_writes_missing_and_failed_thumbnails(tmp_path, monkeypatch):
    # issue 17: unchanged files are not decoded again, so a thumbnail deleted or never written (its
    # write failed, e.g. disk full) stayed missing for good.
    from store_fakes import FakeEncoder, make_archive, quadrant_detector

    from store.ingestion.indexer import Indexer
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    archive = tmp_path / "archive"
    make_archive(archive, 6)
    location = locate_index(archive)
    cache = ThumbnailCache(location.thumbnails_dir)
    real_put = ThumbnailCache.put
    failing: set[str] = set()

    def flaky_put(self, content_hash, image, bbox=None):
        if not failing or content_hash in failing:
            failing.add(content_hash)  # the first file's thumbnails cannot be written
            raise OSError(28, "No space left on device")
        return real_put(self, content_hash, image, bbox)

    with Catalog(location.catalog_path) as cat:
        monkeypatch.setattr(ThumbnailCache, "put", flaky_put)
        first = Indexer(location, cat, FakeEncoder(), region_detector=quadrant_detector, decode_workers=1)
        assert first.index(captions=False).indexed == 6
        monkeypatch.setattr(ThumbnailCache, "put", real_put)
        rows = cat.conn.execute(
            "SELECT files.hash, items.kind, x, y, w, h FROM items JOIN files ON files.id = items.file_id"
        ).fetchall()
        wanted = [(r[0], None if r[1] == "file" else tuple(r[2:])) for r in rows]
        assert sorted(n for n, _ in cat.thumbnail_names()) == sorted(ThumbnailCache.name(*w) for w in wanted)
        assert all(ThumbnailCache.parse_name(ThumbnailCache.name(*w)) == w for w in wanted)
        assert len(wanted) == 18  # a file thumbnail and two regions per file
        missing = {(h, b) for h, b in wanted if cache.get(h, b) is None}
        assert {h for h, _ in missing} == failing and len(missing) == 3
        deleted = wanted[7:11]  # and some were deleted since
        for content_hash, bbox in deleted:
            cache.path(content_hash, bbox).unlink()
        encoder = FakeEncoder()
        summary = Indexer(location, cat, encoder, region_detector=quadrant_detector).index(captions=False)
        assert summary.unchanged == 6 and encoder.embedded == 0
        assert [w for w in wanted if cache.get(*w) is None] == []
        with Image.open(cache.path(*deleted[0])) as again:
            assert again.format == "JPEG" and max(again.size) <= cache.size

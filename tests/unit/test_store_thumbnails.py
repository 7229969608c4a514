"""Thumbnail cache: content-addressed paths, size, atomic writes."""

from __future__ import annotations

from PIL import Image

from store.thumbnails import ThumbnailCache


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

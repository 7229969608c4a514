"""The grid model: thumbnails are read once per content, and every row that showed it is repainted."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from desktop.widgets.grid_model import GridEntry, GridModel
from store.storage.thumbnails import ThumbnailCache

pytestmark = pytest.mark.gui


def test_rows_sharing_a_thumbnail_are_all_repainted(qtbot, tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs")
    for digest, colour in (("aa" * 16, "red"), ("bb" * 16, "blue")):
        cache.put(digest, Image.new("RGB", (64, 48), colour))
    model = GridModel()
    model.set_thumbnails(cache)
    model.set_entries([
        GridEntry(1, "a.jpg", "aa" * 16), GridEntry(2, "copy/a.jpg", "aa" * 16),
        GridEntry(3, "b.jpg", "bb" * 16), GridEntry(4, "gone.jpg", "cc" * 16),
    ])  # fmt: skip
    repainted: list[int] = []
    model.thumbnail_loaded.connect(repainted.append)
    for row in range(4):
        model.index(row).data(Qt.ItemDataRole.DecorationRole)  # the view painting each row
    qtbot.waitUntil(lambda: sorted(repainted) == [0, 1, 2, 3], timeout=10_000)
    assert model.loaded_count() == 2
    red = model.index(1).data(Qt.ItemDataRole.DecorationRole).toImage()
    assert red.pixelColor(red.width() // 2, red.height() // 2).red() > 200
    # New rows while nothing is pending: what was loaded is reused without reading again.
    repainted.clear()
    model.set_entries([GridEntry(3, "b.jpg", "bb" * 16)])
    assert not model.index(0).data(Qt.ItemDataRole.DecorationRole).isNull() and model.loaded_count() == 1
    assert repainted == []


def test_thumbnail_pixmaps_stay_within_their_byte_budget(qtbot, tmp_path, monkeypatch):
    from desktop.widgets import grid_model

    cache = ThumbnailCache(tmp_path / "thumbs")
    entries = []
    for i in range(12):
        digest = f"{i:032x}"
        cache.put(digest, Image.new("RGB", (64, 48), (20 * i, 0, 0)))
        entries.append(GridEntry(i + 1, f"img{i}.jpg", digest))
    one = grid_model.ICON_SIZE * grid_model.ICON_SIZE * 4  # a boxed 32-bit thumbnail
    monkeypatch.setattr(grid_model, "PIXMAP_BUDGET", 5 * one)
    model = GridModel()
    model.set_thumbnails(cache)
    model.set_entries(entries)
    loaded: list[int] = []
    model.thumbnail_loaded.connect(loaded.append)
    for row in range(12):  # scrolling through all of them
        model.index(row).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: len(loaded) == 12, timeout=10_000)
    assert model.loaded_count() == 5 and model._pixmap_bytes == 5 * one
    assert {entries[row].thumb_key for row in loaded[-5:]} == set(model._pixmaps)  # the latest five

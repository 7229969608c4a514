"""Re-captioning chosen items: new captions replace the old ones, regions use their crops."""

from __future__ import annotations

import pytest
from store_fakes import FakeCaptioner, FakeEncoder, make_archive, quadrant_detector

from store.ingestion.indexer import Indexer
from store.ingestion.recaption import recaption
from store.services.browse import item_details, visible_items
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


@pytest.fixture
def indexed(tmp_path):
    root = tmp_path / "archive"
    make_archive(root, 3)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        indexer = Indexer(location, catalog, FakeEncoder(), region_detector=quadrant_detector,
                          decode_workers=1, thumbnails=False)  # fmt: skip
        indexer.index()
        yield root, catalog


def test_chosen_items_get_new_searchable_captions(indexed):
    root, catalog = indexed
    items = visible_items(catalog)
    file_item, region = items[0], items[1]
    catalog.put_caption(file_item.item_id, FakeCaptioner.model_id, "an old guess")
    done = recaption(
        catalog, root, FakeCaptioner(), [file_item.item_id, region.item_id, 99_999], batch_size=1
    )
    assert done.captioned == [file_item.item_id, region.item_id] and not done.failed and not done.cancelled
    caption = item_details(catalog, file_item.item_id).caption
    assert caption.startswith("picture with mean colour") and caption.endswith("size 96x64")
    assert item_details(catalog, region.item_id).caption.endswith("size 48x64")  # the region's crop
    assert len(catalog.captions(file_item.item_id)) == 1  # replaced, not added
    assert catalog.search_text("mean colour")  # the FTS row follows
    assert item_details(catalog, items[3].item_id).caption is None  # not chosen


def test_missing_files_are_reported_and_stop_is_honoured(indexed):
    root, catalog = indexed
    items = visible_items(catalog)
    (root / items[0].path).unlink()
    done = recaption(catalog, root, FakeCaptioner(), [i.item_id for i in items[:4]])
    assert [f[0] for f in done.failed] == [i.item_id for i in items[:3]]
    assert done.failed[0][1] == "file not found" and done.captioned == [items[3].item_id]
    stopped = recaption(catalog, root, FakeCaptioner(), [i.item_id for i in items], should_stop=lambda: True)
    assert stopped.cancelled and stopped.captioned == []

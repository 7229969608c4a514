"""The archive's own label names, which adding a label in the window offers."""

from __future__ import annotations

import pytest

from models.errors import InputError
from store.services.curation import CurationService
from store.storage.catalog import Catalog


def test_label_names_of_visible_items(tmp_path):
    with Catalog(tmp_path / "catalog.db") as catalog:
        items = []
        for raw in (b"a.jpg", b"b.jpg", b"gone.jpg"):
            with catalog.transaction():
                file_id = catalog.upsert_file(raw, size=10, mtime_ns=1, hash=raw.decode(), status="indexed")
                items.append(catalog.ensure_file_item(file_id))
        curation = CurationService(catalog)
        with catalog.transaction():
            catalog.put_labels(items[0], "category", "zs@1", [("map", 0.3), ("icon", 0.2)])
            catalog.put_labels(items[2], "category", "zs@1", [("poster", 0.4)])
            catalog.put_labels(items[1], "name", "zs@1", [("airplane", 0.5)])
        curation.confirm_label(items[1], "category", "Tula samovar")
        curation.confirm_label(items[0], "category", "map")
        catalog.conn.execute("UPDATE items SET hidden = 1 WHERE id = ?", (items[2],))
        # Each label once; a hidden item's left out.
        assert curation.label_names("category") == ["Tula samovar", "icon", "map"]
        assert curation.label_names("name") == ["airplane"]
        with pytest.raises(InputError):
            curation.label_names("colour")

"""Duplicate marks: kept in the catalog, following moved files, bound to the content they were made on."""

from __future__ import annotations

import os

import pytest
from test_search import build_archive, index

from models.errors import InputError
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.marks import DUPLICATE, KEEP, read_marks, write_marks


def _item(catalog: Catalog, path: bytes) -> int:
    return catalog.item_ids(catalog.file_id(path))[0]


def test_marks_follow_moves_and_lapse_when_the_content_changes(tmp_path):
    archive = build_archive(tmp_path, unrelated=2)
    index(archive)
    catalog_path = locate_index(archive).catalog_path
    with Catalog(catalog_path) as catalog:
        original, copy = _item(catalog, b"subject/original.png"), _item(catalog, b"other/exact_copy.png")
        write_marks(catalog, {original: KEEP})
        write_marks(catalog, {copy: DUPLICATE})
        assert read_marks(catalog, [original, copy, 10**6]) == {original: KEEP, copy: DUPLICATE}
        with pytest.raises(InputError, match="delete"):
            write_marks(catalog, {copy: "delete"})
        with pytest.raises(InputError, match="no item"):
            write_marks(catalog, {10**6: KEEP})

    os.replace(archive / "other" / "exact_copy.png", archive / "other" / "renamed copy.png")
    (archive / "other" / "pattern_00.png").write_bytes((archive / "other" / "pattern_01.png").read_bytes())
    index(archive)
    with Catalog(catalog_path) as catalog:
        moved = _item(catalog, b"other/renamed copy.png")
        assert moved == copy and read_marks(catalog, [original, moved]) == {original: KEEP, copy: DUPLICATE}
        changed = _item(catalog, b"other/pattern_00.png")
        write_marks(catalog, {changed: KEEP})
    (archive / "other" / "pattern_00.png").write_bytes((archive / "subject" / "grey.png").read_bytes())
    index(archive)
    with Catalog(catalog_path) as catalog:
        assert read_marks(catalog, [changed]) == {}  # marked on content it no longer has
        write_marks(catalog, dict.fromkeys([original, moved]))
        assert read_marks(catalog, [original, moved]) == {}


def test_write_marks_marks_a_group_in_one_transaction(tmp_path):
    archive = build_archive(tmp_path, unrelated=2)
    index(archive)
    with Catalog(locate_index(archive).catalog_path) as catalog:
        original, copy = _item(catalog, b"subject/original.png"), _item(catalog, b"other/exact_copy.png")
        write_marks(catalog, {original: KEEP, copy: DUPLICATE})
        assert read_marks(catalog, [original, copy]) == {original: KEEP, copy: DUPLICATE}
        with pytest.raises(InputError, match="no item"):
            write_marks(catalog, {original: None, 10**6: KEEP})
        assert read_marks(catalog, [original, copy]) == {original: KEEP, copy: DUPLICATE}  # all or nothing
        write_marks(catalog, {original: None, copy: KEEP})
        assert read_marks(catalog, [original, copy]) == {copy: KEEP}

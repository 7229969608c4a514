"""Facet counts (folders, categories) agree with what the matching SearchFilter selects."""

from __future__ import annotations

import pytest
from store_fakes import FakeClassifier, FakeEncoder, make_image, quadrant_detector

from store.ingestion.indexer import Indexer
from store.services.browse import visible_items
from store.services.facets import folder_counts, folder_tree, read_facets
from store.services.search import SearchFilter
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


@pytest.fixture
def catalog(tmp_path):
    root = tmp_path / "archive"
    for n, rel in enumerate(["top.png", "a/one.png", "a/two.jpg", "a/b/c/deep.png", "z/last.png"]):
        make_image(root / rel, n)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        indexer = Indexer(location, catalog, FakeEncoder(), classifiers=[FakeClassifier("category")],
                          region_detector=quadrant_detector, decode_workers=1, thumbnails=False)  # fmt: skip
        indexer.index()
        yield catalog


def test_folder_tree_totals_include_subfolders_and_match_the_filter(catalog):
    assert folder_counts(catalog) == {"": 3, "a": 6, "a/b/c": 3, "z": 3}  # a file and its 2 regions each
    root = read_facets(catalog).folders
    assert (root.path, root.items) == ("", 15)
    assert [(c.name, c.items) for c in root.children] == [("a", 9), ("z", 3)]
    b = root.children[0].children[0]
    assert (b.path, b.items, [c.path for c in b.children]) == ("a/b", 3, ["a/b/c"])

    def walk(node):
        yield node
        for child in node.children:
            yield from walk(child)

    for node in walk(root):
        assert len(visible_items(catalog, filters=SearchFilter(folder=node.path))) == node.items


def test_folder_tree_sorts_names_case_insensitively():
    root = folder_tree({"b": 1, "A": 2, "a/x": 1})
    assert [(c.path, c.items) for c in root.children] == [("A", 2), ("a", 1), ("b", 1)]
    assert root.children[1].children[0].name == "x" and root.items == 4


def test_categories_are_top_or_curator_ones_counted_as_the_filter_selects(catalog):
    top1 = {r[0] for r in catalog.conn.execute("SELECT label FROM labels WHERE rank = 0")}
    categories = read_facets(catalog).categories
    assert {c.label for c in categories} == top1
    assert [c.items for c in categories] == sorted((c.items for c in categories), reverse=True)
    for category in categories:
        assert len(visible_items(catalog, filters=SearchFilter(category=category.label))) == category.items

    # A curator category is listed even when no model ranks it first; case variants are one entry.
    item = visible_items(catalog)[0].item_id
    catalog.set_curator_labels(item, "category", ["Photograph"])
    other = visible_items(catalog)[3].item_id
    catalog.set_curator_labels(other, "category", ["photograph"])
    counts = {c.label.lower(): c.items for c in read_facets(catalog).categories}
    assert counts["photograph"] == 2


def test_each_facet_is_counted_within_the_other_ones_choice(catalog):
    label = read_facets(catalog).categories[0].label
    facets = read_facets(catalog, folder="a", category=label)
    assert facets.in_folder == 9 and facets.folders.items == len(
        visible_items(catalog, filters=SearchFilter(category=label))
    )
    for category in facets.categories:
        chosen = SearchFilter(folder="a", category=category.label)
        assert len(visible_items(catalog, filters=chosen)) == category.items
    for node in facets.folders.children:
        chosen = SearchFilter(folder=node.path, category=label)
        assert len(visible_items(catalog, filters=chosen)) == node.items


def test_hidden_regions_are_not_counted(catalog):
    region = next(i for i in visible_items(catalog) if i.region is not None)
    before = read_facets(catalog).folders.items
    catalog.hide_region(region.item_id)
    assert read_facets(catalog).folders.items == before - 1

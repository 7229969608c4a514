"""store.services.browse (the GUI's read views) and models.loading (model composition) on real
catalogs and bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_fakes import FakeClassifier, FakeEncoder, make_archive, quadrant_detector

from models.bundle_install import install_bundle
from models.errors import BundleError
from models.loading import load_captioner, load_index_models, load_search_encoders, load_text_encoder
from store.config import Settings
from store.ingestion.indexer import Indexer
from store.ingestion.scanner import hash_file
from store.services.browse import item_details, visible_items
from store.services.search import SearchFilter
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

CLIP_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "clip-tiny"


@pytest.fixture
def indexed(tmp_path):
    root = tmp_path / "archive"
    make_archive(root, 3)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        indexer = Indexer(location, catalog, FakeEncoder(), classifiers=[FakeClassifier("category")],
                          region_detector=quadrant_detector, decode_workers=1)  # fmt: skip
        indexer.index()
    return location


def test_visible_items_lists_files_then_their_regions_in_path_order(indexed):
    with Catalog(indexed.catalog_path) as catalog:
        items = visible_items(catalog)
        assert [i.path for i in items] == [p for p in ["folder0/img0000.png", "folder1/img0001.jpg",
                                                       "folder2/img0002.png"] for _ in range(3)]  # fmt: skip
        assert [i.region is None for i in items[:3]] == [True, False, False]
        assert items[1].region == (0, 0, 48, 64) and items[2].region == (48, 0, 48, 64)
        assert all(i.hash == hash_file(indexed.archive / i.path) for i in items)
        assert visible_items(catalog, limit=2) == items[:2]
        catalog.hide_region(items[1].item_id)
        assert items[1] not in visible_items(catalog)


def test_visible_items_pass_a_filter(indexed):
    with Catalog(indexed.catalog_path) as catalog:
        in_folder = visible_items(catalog, filters=SearchFilter(folder="folder1"))
        assert {i.path for i in in_folder} == {"folder1/img0001.jpg"} and len(in_folder) == 3
        label = catalog.labels(in_folder[0].item_id, "category")[0]["label"]
        tagged = visible_items(catalog, filters=SearchFilter(category=label.upper()), limit=100)
        assert in_folder[0] in tagged
        assert visible_items(catalog, filters=SearchFilter(folder="nowhere")) == []


def test_item_details_has_facts_labels_and_curator_edits(indexed):
    with Catalog(indexed.catalog_path) as catalog:
        first = visible_items(catalog)[0]
        details = item_details(catalog, first.item_id)
        assert (details.path, details.width, details.height, details.format) == (
            "folder0/img0000.png", 96, 64, "PNG",
        )  # fmt: skip
        top = details.labels["category"]
        assert len(top) == 5 and all(source == "model" for _, _, source in top)
        assert [score for _, score, _ in top] == sorted((score for _, score, _ in top), reverse=True)
        assert details.description is None and details.caption is None
        catalog.set_description(first.item_id, "Tram depot, 1912")
        catalog.set_curator_labels(first.item_id, "category", ["photograph"])
        details = item_details(catalog, first.item_id)
        assert details.description == "Tram depot, 1912"
        assert details.labels["category"][0] == ("photograph", None, "curator")
        assert len(details.labels["category"]) == 5
        assert item_details(catalog, 10_000) is None


def test_a_confirmed_suggestion_keeps_its_score_and_takes_one_place(indexed):
    with Catalog(indexed.catalog_path) as catalog:
        first = visible_items(catalog)[0]
        suggested = [name for name, _, _ in item_details(catalog, first.item_id).labels["category"]]
        catalog.set_curator_labels(first.item_id, "category", [suggested[2]])
        top = item_details(catalog, first.item_id).labels["category"]
        assert top[0] == (suggested[2], None, "curator")
        assert {name for name, _, _ in top} == set(suggested)  # still five labels shown
        assert [source for name, _, source in top if name == suggested[2]] == ["curator", "model"]


def test_engine_loads_the_installed_clip_bundle(tmp_path):
    models_dir = tmp_path / "models"
    # Without CLIP, the image model shipped with Imago indexes and names objects with its own classes.
    shipped, classifiers, _ = load_index_models(models_dir, Settings(), captions=True)
    assert shipped.model_id == "mobilenet-v2-imagenet@1" and classifiers == []
    assert shipped.label_head == "name"
    assert load_search_encoders(models_dir, Settings())[1] is None  # no text model: keywords only
    install_bundle(CLIP_TINY, models_dir)  # CLIP leads once installed
    encoder, classifiers, captioner = load_index_models(models_dir, Settings(device="cpu"), captions=True)
    assert encoder.model_id == "clip-tiny@1" and captioner is None  # no GIT bundle installed
    assert sorted(c.head for c in classifiers) == ["category", "name"]
    image_encoder, text_encoder = load_search_encoders(models_dir, Settings())
    assert image_encoder.model_id == encoder.model_id and text_encoder.dim == encoder.dim
    assert load_text_encoder(models_dir, Settings()).model_id == text_encoder.model_id


def test_engine_loads_the_captioner_the_settings_name(tmp_path):
    models_dir = tmp_path / "models"
    with pytest.raises(BundleError, match="git"):
        load_captioner(models_dir, Settings())
    install_bundle(CLIP_TINY.parent / "git-tiny-base", models_dir)
    captioner = load_captioner(models_dir, Settings(caption_model="git-large", caption_beams=2))
    assert captioner.model_id.startswith("git-tiny-base")  # the installed one stands in for git-large
    assert captioner.settings.num_beams == 2

"""The real image model shipped with Imago (MobileNetV2, ImageNet) works with no install step:
the sample archive indexes with it, find-similar ranks photos of the same kind first, tags are the
model's ImageNet classes (in Russian too), and its embeddings equal a plain reference computation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.real_model_suite import reference_features
from models.bundle import verify_bundle
from models.image_model import ImageModelEncoder
from models.label_names import display_name
from models.loading import image_model_bundle, load_index_models
from models.session import SessionOptions, create_session
from resources import resource_path
from store.config import Settings
from store.ingestion.indexer import Indexer
from store.services.search import SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


@pytest.fixture(scope="module")
def indexed_sample(tmp_path_factory):
    archive = tmp_path_factory.mktemp("sample") / "archive"
    shutil.copytree(resource_path("sample-archive"), archive, ignore=shutil.ignore_patterns(".imago"))
    empty_models = tmp_path_factory.mktemp("no-models")
    encoder, classifiers, captioner = load_index_models(empty_models, Settings(), captions=True)
    assert classifiers == [] and captioner is None
    photos = len(list(archive.glob("*/*.jp*g"))) + len(list(archive.glob("*/*.png")))
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        summary = Indexer(location, catalog, encoder).index(captions=False)
    assert summary.failed == 0 and summary.indexed == photos
    service = SearchService.open(archive, image_encoder=encoder)
    yield archive, service, encoder
    service.close()


def test_the_shipped_bundle_is_found_without_any_installed_model(tmp_path):
    bundle = image_model_bundle(tmp_path)
    assert bundle.kind == "image" and bundle.name == "mobilenet-v2-imagenet"
    verify_bundle(bundle)  # every file matches its sha256
    assert {"license", "notice", "labels"} <= set(bundle.manifest["files"])
    assert "Apache" in bundle.file("license").read_text()


def test_find_similar_ranks_the_same_kind_first(indexed_sample):
    archive, service, _ = indexed_sample
    for query, kind in [("animals/panda_0004.jpg", "panda"), ("animals/dalmatian_0010.jpg", "dalmatian"),
                        ("animals/flamingo_0047.jpg", "flamingo"), ("architecture/pagoda_0021.jpg", "pagoda"),
                        ("instruments/grand_piano_0005.jpg", "grand")]:  # fmt: skip
        results = service.similar_to_image(archive / query, top=3, all=True).results
        assert [Path(r.path).name.split("_")[0] for r in results] == [kind] * 3, (query, results)


def test_tags_are_the_models_classes_in_both_languages(indexed_sample):
    _, service, _ = indexed_sample
    catalog = service.catalog
    item = catalog.ensure_file_item(catalog.file_id(b"animals/panda_0004.jpg"))
    labels = [row["label"] for row in catalog.labels(item) if row["head"] == "name"]
    assert 1 < len(labels) <= 5 and labels[0] == "giant panda"
    assert display_name(labels[0], "ru") == "большая панда"
    found = service.search_text("панда", top=10).results
    assert {Path(r.path).name for r in found} >= {"panda_0004.jpg", "panda_0012.jpg"}


def test_embeddings_equal_the_plain_reference_computation(indexed_sample):
    archive, _, encoder = indexed_sample
    assert isinstance(encoder, ImageModelEncoder)
    section = encoder.bundle.manifest["image_model"]
    session = create_session(encoder.bundle.file("model"), SessionOptions(force_cpu=True))
    for path in sorted(archive.glob("animals/*.jpg"))[:6]:
        ours = encoder.encode([Image.open(path)])[0]
        reference = reference_features(session, section["input"], section["embedding"], path)
        assert float(np.dot(ours, reference)) > 0.995, path.name


def test_vectors_made_in_the_decode_pool_equal_the_encoders_own(indexed_sample):
    from store.ingestion.decoder import decode_file

    archive, service, encoder = indexed_sample
    catalog = service.catalog
    for rel in (b"animals/panda_0004.jpg", b"pages/album_page.jpg", b"pages/web_screenshot.png"):
        item = catalog.ensure_file_item(catalog.file_id(rel))
        keys, stored = catalog.vectors(encoder.model_id, [item])
        assert list(keys) == [item]
        image = decode_file(archive / rel.decode(), target_size=encoder.input_size, max_side=1024)[1].image
        assert np.allclose(stored[0], encoder.encode([image])[0], atol=1e-6), rel

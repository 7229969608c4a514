"""Exact and near-duplicate groups on a fake-encoder archive."""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageOps
from test_search import build_archive, index

import main
from store.services.duplicates import dhash, find_duplicates, hamming
from store.services.export import open_vector_index
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    archive = build_archive(tmp_path_factory.mktemp("dups"), unrelated=12)
    index(archive)
    return archive


def groups_of(archive, **options):
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        found = find_duplicates(catalog, open_vector_index(catalog, location.path), archive, **options)
    return [(g.kind, {m.path for m in g.members}) for g in found]


def test_exact_and_near_groups(archive):
    groups = groups_of(archive)
    assert groups[0] == ("exact", {"other/exact_copy.png", "subject/original.png"})
    near = [paths for kind, paths in groups if kind == "near"]
    subject = [p for p in near if "subject/grey.png" in p]
    assert len(subject) == 1
    # One representative of the exact pair, the greyscale and recoloured copies; a mirrored image is
    # no duplicate (its perceptual hash differs) although the fake encoder gives it the same vector.
    assert subject[0] == {"other/exact_copy.png", "subject/grey.png", "subject/recoloured.png"}
    assert all("subject/flipped.png" not in p for p in near)
    # Without the perceptual check the mirrored copy joins: the dHash test is what kept it out.
    loose = groups_of(archive, max_hamming=64)
    assert any("subject/flipped.png" in paths for kind, paths in loose if kind == "near")


def test_exact_only_and_cli(archive, capsys):
    capsys.readouterr()
    assert main.main(["duplicates", str(archive), "--json", "--exact-only"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "groups": [
            {
                "kind": "exact",
                "items": [
                    {
                        "item_id": data["groups"][0]["items"][0]["item_id"],
                        "path": "other/exact_copy.png",
                        "score": 1.0,
                    },
                    {
                        "item_id": data["groups"][0]["items"][1]["item_id"],
                        "path": "subject/original.png",
                        "score": 1.0,
                    },
                ],
            }
        ]
    }
    assert main.main(["duplicates", str(archive)]) == 0
    assert "near (" in capsys.readouterr().out


def test_dhash_distances(archive):
    image = Image.open(archive / "subject" / "original.png")
    assert hamming(dhash(image), dhash(ImageOps.grayscale(image))) == 0
    assert hamming(dhash(image), dhash(image.resize((48, 48)))) <= 4
    assert hamming(dhash(image), dhash(ImageOps.mirror(image))) > 10

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


def test_one_group_per_set_of_copies(archive):
    found = groups_of(archive)
    subject = [(kind, paths) for kind, paths in found if "subject/grey.png" in paths]
    # The exact pair and its greyscale and recoloured copies are one set of copies; a mirrored image is
    # no duplicate (its perceptual hash differs) although the fake encoder gives it the same vector.
    copies = {"other/exact_copy.png", "subject/original.png", "subject/grey.png", "subject/recoloured.png"}
    assert subject == [("near", copies)]
    paths = [p for _, group in found for p in group]
    assert len(paths) == len(set(paths))  # disjoint: no file in two groups
    assert all("subject/flipped.png" not in p for _, p in found)
    # Without the perceptual check the mirrored copy joins: the dHash test is what kept it out.
    loose = groups_of(archive, max_hamming=64)
    assert any("subject/flipped.png" in paths for kind, paths in loose if kind == "near")
    # Exact copies in a near group are identical to each other: the same score.
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        group = next(g for g in find_duplicates(catalog, open_vector_index(catalog, location.path), archive)
                     if "subject/grey.png" in {m.path for m in g.members})  # fmt: skip
    score = {m.path: m.score for m in group.members}
    assert score["other/exact_copy.png"] == pytest.approx(1.0) == score["subject/original.png"]
    assert 0.9 < score["subject/grey.png"] <= 1.0001


def test_exact_groups_without_near_search(archive):
    assert groups_of(archive, near=False) == [("exact", {"other/exact_copy.png", "subject/original.png"})]


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

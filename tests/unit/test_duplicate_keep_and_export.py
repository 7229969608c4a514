"""The keep suggestion's rule order, and the export of the files marked as duplicates."""

from __future__ import annotations

import csv
import json

import pytest

from models.errors import InputError
from store.services.duplicate_export import marked_duplicates, write_marked
from store.services.duplicates import DuplicateGroup, DuplicateMember
from store.services.keep_suggestion import DESCRIBED, FIRST, LARGEST, LARGEST_FILE, OLDEST, suggest_keep
from store.storage.marks import DUPLICATE, KEEP
from store.storage.views import FileCopy


def copy(item_id: int, path: str, *, px: int = 100, size: int = 1000, mtime: int = 5, described=False):
    return FileCopy(item_id, path, f"h{item_id}", path.encode(), px, px, size, mtime, None, described)


def test_rules_in_order_and_the_reasons_that_chose():
    big_new, small_old = copy(1, "b.jpg", px=4000, mtime=9), copy(2, "a.jpg", px=1000, mtime=1)
    assert suggest_keep([small_old, big_new]) == suggest_keep([big_new, small_old])
    assert suggest_keep([small_old, big_new]).keep == big_new
    assert suggest_keep([small_old, big_new]).reasons == (LARGEST,)
    described = copy(3, "c.jpg", px=10, described=True)
    assert suggest_keep([small_old, big_new, described]).keep == described  # the curator's work first
    assert suggest_keep([small_old, big_new, described]).reasons == (DESCRIBED,)
    twin = copy(4, "d.jpg", px=4000, mtime=3)
    assert suggest_keep([small_old, big_new, twin]).reasons == (LARGEST, OLDEST)
    assert suggest_keep([small_old, big_new, twin]).keep == twin
    heavier = copy(5, "e.jpg", px=4000, mtime=3, size=2000)
    assert suggest_keep([twin, heavier]).reasons == (LARGEST_FILE,)
    same = [copy(6, "z.jpg"), copy(7, "y.jpg")]
    assert suggest_keep(same).reasons == (FIRST,) and suggest_keep(same).keep.path == "y.jpg"
    with pytest.raises(ValueError):
        suggest_keep([])


def groups():
    a, b, c = copy(1, "a.jpg"), copy(2, "dir/b.jpg"), copy(3, "=c.jpg")
    members = [DuplicateMember(a, 1.0), DuplicateMember(b, 0.97), DuplicateMember(c, 0.95)]
    return [DuplicateGroup("near", members)]


def test_marked_list_as_csv_and_json(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    rows = marked_duplicates(groups(), {1: KEEP, 2: DUPLICATE, 3: DUPLICATE}, archive)
    assert [(r["group"], r["path"], [k["path"] for k in r["keep"]]) for r in rows] == [
        (1, "dir/b.jpg", ["a.jpg"]),
        (1, "=c.jpg", ["a.jpg"]),
    ]
    assert write_marked(rows, tmp_path / "out.csv", archive, "csv") == 2
    table = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert table[0] == {
        "group": "1", "kind": "near", "path": "dir/b.jpg", "full_path": str(archive / "dir/b.jpg"),
        "keep": "a.jpg", "keep_full_path": str(archive / "a.jpg"),
    }  # fmt: skip
    assert table[1]["path"] == "'=c.jpg"  # no formula in a spreadsheet
    write_marked(rows, tmp_path / "out.json", archive, "json")
    doc = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert doc["format"] == "imago-duplicates" and doc["archive"] == "archive"
    assert doc["exported_at"].endswith("+00:00") and doc["duplicates"] == rows
    (archive / "a.jpg").write_bytes(b"original")
    with pytest.raises(InputError, match="inside the archive"):
        write_marked(rows, archive / "a.jpg", archive, "csv")
    assert (archive / "a.jpg").read_bytes() == b"original"
    assert marked_duplicates(groups(), {1: KEEP}, archive) == []

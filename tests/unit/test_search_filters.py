"""Filters (folder subtree, category, file and EXIF date, caption, confirmed) and date order of results."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from PIL import Image
from test_search import FakeImageEncoder, FakeTextEncoder, build_archive, index, stripes

import main
from models.errors import InputError
from store.services.curation import CurationService
from store.services.search import SearchFilter, SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

DAY = 86_400
T0 = 1_600_000_000  # 2020-09-13


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    archive = build_archive(tmp_path_factory.mktemp("filters"), unrelated=8)
    (archive / "subject" / "deeper").mkdir()
    os.replace(archive / "subject" / "grey.png", archive / "subject" / "deeper" / "grey.png")
    (archive / "subjective").mkdir()  # a sibling whose name starts like the filtered folder
    os.replace(archive / "subject" / "recoloured.png", archive / "subjective" / "recoloured.png")
    files = sorted(p for p in archive.rglob("*.png"))
    for n, path in enumerate(files):  # file n was modified n days after T0
        os.utime(path, (T0 + n * DAY, T0 + n * DAY))
    index(archive)
    with Catalog(locate_index(archive).catalog_path) as catalog:
        curation = CurationService(catalog)
        for name in ("pattern_01", "pattern_02"):
            curation.confirm_label(catalog.item_ids(catalog.file_id(f"other/{name}.png".encode()))[0],
                                   "category", "Textile")  # fmt: skip
        item = catalog.item_ids(catalog.file_id(b"other/pattern_03.png"))[0]
        with catalog.transaction():
            catalog.put_caption(item, "git@1", "a pattern of stripes")
            catalog.put_labels(item, "category", "zs@1", [("textile", 0.3)])
            catalog.refresh_fts([item])
    return archive


@pytest.fixture
def service(archive):
    with SearchService.open(archive, image_encoder=FakeImageEncoder(), text_encoder=FakeTextEncoder()) as s:
        yield s


def original(service):
    return service.catalog.item_ids(service.catalog.file_id(b"subject/original.png"))[0]


def test_folder_subtree(service):
    found = service.similar_to_item(
        original(service), all=True, top=50, filters=SearchFilter(folder="subject")
    )
    paths = {r.path for r in found.results}
    assert paths == {"subject/flipped.png", "subject/cropped.png", "subject/deeper/grey.png"}
    for folder in ("subject/", "/subject", "subject\\"):
        again = service.similar_to_item(
            original(service), all=True, top=50, filters=SearchFilter(folder=folder)
        )
        assert {r.path for r in again.results} == paths
    assert (
        service.similar_to_item(original(service), all=True, filters=SearchFilter(folder="subj")).results
        == []
    )
    text = service.search_text("pattern", top=50, filters=SearchFilter(folder="other"))
    assert text.results and all(r.path.startswith("other/") for r in text.results)
    assert service.search_text("pattern", filters=SearchFilter(folder="50%_off")).results == []


def test_category_caption_confirmed(service):
    by_category = service.search_text("pattern", top=50, filters=SearchFilter(category="textile"))
    assert {r.path for r in by_category.results} == {
        "other/pattern_01.png", "other/pattern_02.png", "other/pattern_03.png",
    }  # fmt: skip
    captioned = service.search_text("pattern", top=50, filters=SearchFilter(has_caption=True))
    assert [r.path for r in captioned.results] == ["other/pattern_03.png"]
    confirmed = service.search_text("pattern", top=50, filters=SearchFilter(confirmed=True))
    assert {r.path for r in confirmed.results} == {"other/pattern_01.png", "other/pattern_02.png"}
    unconfirmed = service.search_text("pattern", top=50, filters=SearchFilter(confirmed=False))
    assert len(unconfirmed.results) == 6


def test_date_range_and_order(service):
    mtimes = {}
    for row in service.catalog.conn.execute("SELECT path, mtime_ns FROM files"):
        mtimes[row[0]] = row[1] / 1e9
    since, until = T0 + 3 * DAY, T0 + 8 * DAY
    found = service.search_text("pattern", top=50, all=True, filters=SearchFilter(since=since, until=until))
    expected = {p for p, t in mtimes.items() if since <= t <= until and "pattern" in p}
    assert {r.path for r in found.results if r.path.startswith("other/pattern")} == expected
    assert all(since <= mtimes[r.path] <= until for r in found.results)
    newest = service.search_text("pattern", top=50, filters=SearchFilter(order="date"))
    times = [mtimes[r.path] for r in newest.results]
    assert times == sorted(times, reverse=True) and len(times) == 8
    similar = service.similar_to_item(original(service), top=50, all=True, filters=SearchFilter(order="date"))
    times = [mtimes[r.path] for r in similar.results[1:]]  # after the grouped exact duplicate
    assert times == sorted(times, reverse=True)


def test_bad_filters():
    with pytest.raises(InputError, match="order"):
        SearchFilter(order="size")
    with pytest.raises(InputError, match="empty"):
        SearchFilter(since=T0 + DAY, until=T0)


def test_cli_filters(archive, capsys, tmp_path):
    capsys.readouterr()
    (tmp_path / "none").mkdir()  # no model installed: keywords only
    argv = ["search", str(archive), "--text", "pattern", "--json", "--folder", "other",
            "--since", "2020-09-16", "--order", "date", "--models", str(tmp_path / "none")]  # fmt: skip
    assert main.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["results"] and all(r["path"].startswith("other/") for r in data["results"])
    assert main.main(["search", str(archive), "--text", "x", "--since", "yesterday"]) == 2  # usage
    assert "date" in capsys.readouterr().err


def _utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()


def test_exif_date_range_order_and_backfill(tmp_path, capsys):
    archive = tmp_path / "exif"
    archive.mkdir()
    (tmp_path / "none").mkdir()  # no model installed: keywords only
    taken = {"a.jpg": "1931:05:02 10:00:00", "b.jpg": "1956:11:30 23:59:00", "c.jpg": "2001:01:01 00:00:00",
             "undated.jpg": None}  # fmt: skip
    for n, (name, when) in enumerate(taken.items()):
        exif = Image.Exif()
        if when is not None:
            exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
        stripes(1.0 + n / 10, 6.0 + n, seed=n).save(archive / name, "JPEG", exif=exif.tobytes())
        os.utime(archive / name, (T0 - n * DAY, T0 - n * DAY))  # file dates in the opposite order
    index(archive)

    def paths(filters: SearchFilter) -> list[str]:
        with SearchService.open(archive, image_encoder=FakeImageEncoder()) as service:
            query = service.catalog.item_ids(service.catalog.file_id(b"a.jpg"))[0]
            found = service.similar_to_item(query, all=True, top=50, filters=filters)
            return [r.path for r in found.results]

    in_1956 = SearchFilter(date="taken", since=_utc(1956, 1, 1), until=_utc(1956, 12, 31))
    assert paths(in_1956) == ["b.jpg"]
    assert paths(SearchFilter(date="taken", order="date")) == ["c.jpg", "b.jpg", "undated.jpg"]
    assert paths(SearchFilter(order="date")) == ["b.jpg", "c.jpg", "undated.jpg"]  # file dates
    # The calendar day on the photo counts: 23:59 on 30 November 1956, whatever the zone.
    capsys.readouterr()
    argv = ["search", str(archive), "--text", "jpg", "--json", "--date", "taken", "--since", "1956-11-30",
            "--until", "1956-11-30", "--models", str(tmp_path / "none")]  # fmt: skip
    assert main.main(argv) == 0
    assert [r["path"] for r in json.loads(capsys.readouterr().out)["results"]] == ["b.jpg"]
    with pytest.raises(InputError, match="date"):
        SearchFilter(date="scanned")

    # Files indexed before the catalog had EXIF dates get them on the next run, without re-embedding.
    with Catalog(locate_index(archive).catalog_path) as catalog:
        with catalog.transaction():
            catalog.conn.execute("UPDATE files SET taken_at = NULL, exif_read = 0")
        assert len(catalog.files_without_exif()) == 4
    index(archive)
    with Catalog(locate_index(archive).catalog_path) as catalog:
        assert catalog.files_without_exif() == []
        dated = dict(catalog.conn.execute("SELECT path, taken_at FROM files"))
    assert dated == {"a.jpg": _utc(1931, 5, 2, 10), "b.jpg": _utc(1956, 11, 30, 23, 59),
                     "c.jpg": _utc(2001, 1, 1), "undated.jpg": None}  # fmt: skip

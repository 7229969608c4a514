"""SearchFilter behaviours that mutation testing (tools/mutation) found unchecked in
store/storage/filters.py: folder names holding LIKE wildcards or starting with "X", the "no caption"
filter, a one-instant date range, date bounds that are not whole seconds, and file-date bounds beyond
what a 64-bit nanosecond count holds."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from store.services.browse import visible_items
from store.storage.catalog import Catalog
from store.storage.filters import SearchFilter

T0 = 1_600_000_000  # 2020-09-13


def _utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.db") as catalog:
        yield catalog


def _add(catalog: Catalog, path: str, *, mtime: int = T0, taken: float | None = None) -> int:
    """An indexed file (modified at `mtime`, taken at `taken`, epoch seconds) and its item id."""
    with catalog.transaction():
        file_id = catalog.upsert_file(path.encode(), size=10, mtime_ns=mtime * 10**9, hash=path,
                                      status="indexed", taken_at=taken)  # fmt: skip
        return catalog.ensure_file_item(file_id)


def _paths(catalog: Catalog, filters: SearchFilter) -> set[str]:
    return {item.path for item in visible_items(catalog, filters=filters)}


def test_folder_names_with_like_wildcards_or_letters_the_path_trims_select_just_that_folder(catalog):
    for path in ("50%/a.jpg", "50%/deep/b.jpg", "50 off/deep/c.jpg",  # "%" is LIKE's "anything"
                 "a_b/d.jpg", "a_b/deep/e.jpg", "axb/deep/f.jpg",  # "_" is LIKE's "any one character"
                 "Xmas/g.jpg", "Xmas/deep/h.jpg", "mas/i.jpg"):  # fmt: skip
        _add(catalog, path)
    assert _paths(catalog, SearchFilter(folder="50%")) == {"50%/a.jpg", "50%/deep/b.jpg"}
    assert _paths(catalog, SearchFilter(folder="a_b")) == {"a_b/d.jpg", "a_b/deep/e.jpg"}
    assert _paths(catalog, SearchFilter(folder="Xmas")) == {"Xmas/g.jpg", "Xmas/deep/h.jpg"}
    assert _paths(catalog, SearchFilter(folder="/Xmas/")) == {"Xmas/g.jpg", "Xmas/deep/h.jpg"}


def test_has_caption_false_selects_the_uncaptioned_items(catalog):
    captioned = _add(catalog, "captioned.jpg")
    _add(catalog, "plain.jpg")
    with catalog.transaction():
        catalog.put_caption(captioned, "git@1", "a tram depot")
    assert _paths(catalog, SearchFilter(has_caption=False)) == {"plain.jpg"}
    assert _paths(catalog, SearchFilter(has_caption=True)) == {"captioned.jpg"}


def test_a_date_range_of_one_instant_is_allowed_and_inclusive(catalog):
    _add(catalog, "then.jpg", mtime=T0, taken=T0 - 3600)
    _add(catalog, "later.jpg", mtime=T0 + 1, taken=T0 - 3599)
    assert _paths(catalog, SearchFilter(since=T0, until=T0)) == {"then.jpg"}
    assert _paths(catalog, SearchFilter(since=T0 - 3600, until=T0 - 3600, date="taken")) == {"then.jpg"}


def test_taken_date_bounds_between_whole_seconds_are_not_rounded(catalog):
    _add(catalog, "first.jpg", taken=T0)
    _add(catalog, "next.jpg", taken=T0 + 1)
    assert _paths(catalog, SearchFilter(since=T0 + 0.5, date="taken")) == {"next.jpg"}
    # Before 1970 too: the end of 29 November 1956 (how the command line ends a day) keeps out a
    # photo taken at midnight on the 30th.
    _add(catalog, "noon.jpg", taken=_utc(1956, 11, 29, 12))
    _add(catalog, "midnight.jpg", taken=_utc(1956, 11, 30))
    end_of_day = _utc(1956, 11, 29) + 86_399.999
    assert _paths(catalog, SearchFilter(until=end_of_day, date="taken")) == {"noon.jpg"}


def test_file_date_bounds_beyond_the_years_1677_to_2262_select_as_that_range_s_ends(catalog):
    # File dates are nanoseconds in SQLite's 64-bit integers; the desktop's date picker reaches 9999.
    _add(catalog, "a.jpg")
    last, first = _utc(9999, 12, 31), _utc(1, 1, 1)
    assert _paths(catalog, SearchFilter(since=first, until=last)) == {"a.jpg"}
    assert _paths(catalog, SearchFilter(since=last)) == set()
    assert _paths(catalog, SearchFilter(until=first)) == set()
    assert _paths(catalog, SearchFilter(since=-math.inf, until=math.inf)) == {"a.jpg"}

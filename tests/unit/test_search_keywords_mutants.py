"""Keyword matching (store.services.keywords) behaviours that mutation testing (tools/mutation) found
unchecked: bm25 order and the FTS_LIMIT cap of ranked matches; above FTS_RANK_MAX, the vector
candidates holding all (or any) of the words first, the filters, items without full-text rows and the
cap filled from the other matches; the bounded prefix of a query that is read for terms; empty columns."""

from __future__ import annotations

import pytest

import store.services.keywords as keywords
from store.services.keywords import MAX_QUERY_CHARS, keyword_matches, matched_columns, query_terms
from store.storage.catalog import Catalog
from store.storage.filters import NO_FILTER, SearchFilter


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.db") as catalog:
        yield catalog


def _item(catalog: Catalog, path: str, *, description: str = "", caption: str = "", fts: bool = True) -> int:
    """A visible file item; `fts` False: no full-text row yet."""
    file_id = catalog.upsert_file(path.encode(), size=1, mtime_ns=1, hash=path, status="indexed")
    item = catalog.ensure_file_item(file_id)
    if caption:
        catalog.put_caption(item, "git@1", caption)
    if description:
        catalog.set_description(item, description)
    if fts:
        catalog.refresh_fts([item])
    return item


def test_ranked_matches_come_best_bm25_first_up_to_the_limit(catalog, monkeypatch):
    """A word in the name outranks one in the description, which outranks one in the caption, even
    when the items were added the other way round; at most FTS_LIMIT of them come back."""
    in_caption = _item(catalog, "photos/a.png", caption="lighthouse")
    in_description = _item(catalog, "photos/b.png", description="lighthouse")
    in_name = _item(catalog, "photos/lighthouse.png")
    assert keyword_matches(catalog, ["lighthouse"], "and", NO_FILTER) == [in_name, in_description, in_caption]
    monkeypatch.setattr(keywords, "FTS_LIMIT", 2)
    assert keyword_matches(catalog, ["lighthouse"], "and", NO_FILTER) == [in_name, in_description]


@pytest.fixture
def boats(catalog, monkeypatch):
    """More matches than FTS_RANK_MAX (1 here): the fast path of keyword_matches."""
    monkeypatch.setattr(keywords, "FTS_RANK_MAX", 1)
    return dict(
        a=_item(catalog, "harbour/a.png", description="red boat"),
        b=_item(catalog, "harbour/b.png", description="red car"),
        c=_item(catalog, "harbour/c.png", description="red boat"),
        d=_item(catalog, "elsewhere/d.png", description="red boat"),
        e=_item(catalog, "harbour/e.png", fts=False),  # has a vector, not yet a full-text row
    )


def test_many_matches_put_candidates_with_all_or_any_words_first(catalog, boats):
    a, b, c, d, e = boats.values()
    # All words: the candidate with only "red" is no match, the one without a full-text row neither.
    every = keyword_matches(catalog, ["red", "boat"], "and", NO_FILTER, prefer=[e, b, c])
    assert every[0] == c and sorted(every) == [a, c, d]
    # Any word: both candidates first, in candidate order, then the other matches.
    some = keyword_matches(catalog, ["red", "boat"], "or", NO_FILTER, prefer=[e, b, c])
    assert some[:2] == [b, c] and sorted(some[2:]) == [a, d]


def test_many_matches_keep_the_filters_and_fill_up_to_the_limit(catalog, boats, monkeypatch):
    a, c, d = boats["a"], boats["c"], boats["d"]
    harbour = SearchFilter(folder="harbour")
    assert keyword_matches(catalog, ["red", "boat"], "and", harbour, prefer=[d, c]) == [c, a]
    # Two candidates among the three matches, FTS_LIMIT 3: the third match still comes back.
    monkeypatch.setattr(keywords, "FTS_LIMIT", 3)
    assert keyword_matches(catalog, ["red", "boat"], "and", NO_FILTER, prefer=[a, c]) == [a, c, d]


def test_query_terms_come_from_a_bounded_start_of_the_query():
    """A huge pasted query is read for keywords only in its first 4 * MAX_QUERY_CHARS characters."""
    start = " " * (4 * MAX_QUERY_CHARS - len("zeppelin"))
    assert query_terms(start + "zeppelin airship") == ["zeppelin"]


def test_empty_columns_hold_no_word(catalog):
    """Only the name holds the word: the empty folder, caption, description and labels hold nothing,
    and an item without a full-text row has no matched columns at all."""
    named = _item(catalog, "xxxx.png")
    unread = _item(catalog, "yyyy.png", fts=False)
    assert matched_columns(catalog, [named, unread], ["xxxx"]) == {named: [("name", ["xxxx"])]}

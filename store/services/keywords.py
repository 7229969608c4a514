"""Keyword matching of text queries: the words of a query as FTS5 sees them, and the items whose
file name, folder, caption, curator description or labels hold them, ranked by bm25.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from store.storage.catalog import Catalog
from store.storage.filters import SearchFilter
from store.storage.fulltext import FTS_COLUMNS, fts_match
from store.storage.views import item_rows

FTS_LIMIT = 500
FTS_RANK_MAX = 2000  # above this many keyword matches only the vector candidates are ranked by bm25
MAX_QUERY_CHARS = 1000  # longer text queries are truncated (CLIP reads 77 tokens anyway)
MAX_TERMS = 16
MAX_TERM_CHARS = 64

_WORD = re.compile(r"[^\W_]+")  # like FTS5's unicode61 tokenizer: letters and digits; '_' separates

# Words that carry no meaning for keyword matching (they still go to the text encoder).
_STOP_WORD_TEXT = """
    a an and are as at be but by for from has have in into is it its near not of on or that the
    their there these this to was were which with without
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было
    вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас
    нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их
    чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой
    совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при
    наконец два об другой хоть после над больше тот через эти нас про всего них какая много разве
    три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда
    конечно всю между"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def _fold(text: str) -> str:
    """Case- and diacritics-insensitive form (as FTS5 unicode61 with remove_diacritics 2)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text` as FTS5 sees them: folded letters/digits runs."""
    if text.isascii():  # most names and captions: folding is just lower-casing, and far cheaper
        return _WORD.findall(text.lower())
    return _WORD.findall(_fold(text))


def query_terms(text: str) -> list[str]:
    """Keyword terms of a query: distinct words without stop-words, at most MAX_TERMS of them."""
    terms: list[str] = []
    for word in words(text[: MAX_QUERY_CHARS * 4]):
        if word in STOP_WORDS or word in terms:
            continue
        terms.append(word[:MAX_TERM_CHARS])
        if len(terms) == MAX_TERMS:
            break
    return terms


def keyword_matches(
    catalog: Catalog, terms: Sequence[str], mode: str, filters: SearchFilter, prefer: Sequence[int] = ()
) -> list[int]:
    """Visible items matching `terms` (all of them, or any with mode "or") and the filters, best bm25
    first (column weights: name 10, description 5, labels 3, folder 2, caption 1).

    bm25 costs time per matching row (tens of ms per 1,000 rows on a busy 2-core machine), so
    when more than FTS_RANK_MAX items match, the matches among `prefer` (the vector candidates,
    in their order, tested against their FTS text in Python) come first and up to FTS_LIMIT other
    matches follow unranked; fusion then orders them by vector rank. (Restricting bm25 with
    `rowid IN (...)` is no faster: FTS5 evaluates the MATCH once per listed rowid.)"""
    match = fts_match(terms, mode)
    if catalog.count_fts_matches(match, FTS_RANK_MAX + 1) <= FTS_RANK_MAX:
        return catalog.fts_matches(match, filters, limit=FTS_LIMIT, ranked=True)
    first = _match_in_python(catalog, [int(i) for i in prefer], terms, mode)
    allowed = item_rows(catalog, first, filters)
    out = [i for i in first if i in allowed]
    seen = set(out)
    out += [i for i in catalog.fts_matches(match, filters, limit=FTS_LIMIT + len(seen)) if i not in seen]
    return out[:FTS_LIMIT]


def _match_in_python(catalog: Catalog, item_ids: list[int], terms: Sequence[str], mode: str) -> list[int]:
    """The items among `item_ids` whose FTS text has all (or any) of `terms`, in the given order;
    the same words as FTS5 sees them (see `words`), without running MATCH per item."""
    columns = matched_columns(catalog, item_ids, terms)
    out = []
    for item_id in item_ids:
        found = {t for _, hit in columns.get(item_id, []) for t in hit}
        if (len(found) == len(set(terms))) if mode == "and" else found:
            out.append(item_id)
    return out


def matched_columns(
    catalog: Catalog, item_ids: Sequence[int], terms: Sequence[str]
) -> dict[int, list[tuple[str, list[str]]]]:
    """For each of `item_ids` with FTS text, the columns holding some of `terms`, with those terms."""
    out: dict[int, list[tuple[str, list[str]]]] = {}
    for item_id, texts in catalog.fts_texts(item_ids).items():
        matches = []
        for column, text in zip(FTS_COLUMNS, texts, strict=True):
            present = set(words(text or ""))
            hit = [t for t in terms if t in present]
            if hit:
                matches.append((column, hit))
        out[item_id] = matches
    return out

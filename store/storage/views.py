"""Read views over several tables for the services: items as search results, the grid and the
details panel show them, facet counts, and the item lists duplicates, re-captioning and export use.

Every view lists visible items only (indexed files, items not hidden) unless it says otherwise.
Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store.boxes import Box
from store.storage.catalog import Catalog
from store.storage.filters import NO_FILTER, SearchFilter
from store.storage.sql import VISIBLE, box_of, id_chunks

_ITEMS = "FROM items JOIN files ON files.id = items.file_id"


@dataclass
class ItemRow:
    """A visible item with the facts of its file that search ranks and shows."""

    item_id: int
    file_id: int
    kind: str
    bbox: Box | None
    path: str
    hash: str | None
    mtime_ns: int = 0
    taken_at: float | None = None


def item_rows(
    catalog: Catalog, item_ids: Sequence[int], filters: SearchFilter = NO_FILTER
) -> dict[int, ItemRow]:
    """Visible items among `item_ids` that pass `filters`, by id."""
    where, params = filters.sql()
    out: dict[int, ItemRow] = {}
    for chunk, marks in id_chunks(item_ids):
        rows = catalog.conn.execute(
            "SELECT items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, files.path, "
            "files.hash, files.mtime_ns, files.taken_at "
            "FROM items CROSS JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE}{where} AND items.id IN ({marks})",
            [*params, *chunk],
        )
        for r in rows:
            bbox = box_of(*r[2:7])
            out[int(r[0])] = ItemRow(int(r[0]), int(r[1]), r[2], bbox, r[7], r[8], int(r[9]), r[10])
    return out


def file_items_with_hash(catalog: Catalog, content_hash: str) -> list[int]:
    """Visible whole-file items whose file has content `content_hash`, by path."""
    rows = catalog.conn.execute(
        # `+files.status`: look the hash up in its index, not every indexed file by status.
        "SELECT items.id FROM files CROSS JOIN items ON files.id = items.file_id "
        "WHERE files.hash = ? AND items.kind = 'file' AND +files.status = 'indexed' AND items.hidden = 0 "
        "ORDER BY files.path",
        (content_hash,),
    )
    return [int(r[0]) for r in rows]


def is_visible(catalog: Catalog, item_id: int) -> bool:
    row = catalog.conn.execute(
        f"SELECT 1 FROM items CROSS JOIN files ON files.id = items.file_id WHERE items.id = ? AND {VISIBLE}",
        (int(item_id),),
    ).fetchone()
    return row is not None


# -- the grid and the details panel ----------------------------------------------------------------


def browse_rows(
    catalog: Catalog, filters: SearchFilter = NO_FILTER, limit: int | None = None
) -> list[tuple[int, str, str | None, Box | None]]:
    """(item id, path, content hash, box) of the visible items passing `filters`, ordered by path,
    then file before its regions."""
    where, params = filters.sql()
    sql = (
        "SELECT items.id, files.path, files.hash, items.kind, items.x, items.y, items.w, items.h "
        f"{_ITEMS} WHERE {VISIBLE}{where} ORDER BY files.path, items.kind, items.id"
    )
    args = list(params)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [(int(r[0]), r[1], r[2], box_of(*r[3:8])) for r in catalog.conn.execute(sql, args)]


@dataclass(frozen=True)
class ItemFacts:
    """An item (visible or not) and the facts of its file."""

    item_id: int
    file_id: int
    path: str
    hash: str | None
    region: Box | None
    size: int
    width: int | None
    height: int | None
    format: str | None
    indexed_at: float


def item_facts(catalog: Catalog, item_id: int) -> ItemFacts | None:
    """An item and its file's facts; None when the item does not exist."""
    r = catalog.conn.execute(
        "SELECT items.id, items.file_id, files.path, files.hash, items.kind, items.x, items.y, items.w, "
        f"items.h, files.size, files.width, files.height, files.format, files.indexed_at {_ITEMS} "
        "WHERE items.id = ?",
        (int(item_id),),
    ).fetchone()
    if r is None:
        return None
    return ItemFacts(int(r[0]), int(r[1]), r[2], r[3], box_of(*r[4:9]), int(r[9]), r[10], r[11], r[12],
                     float(r[13]))  # fmt: skip


# -- facets ----------------------------------------------------------------------------------------


def count_visible(catalog: Catalog, filters: SearchFilter = NO_FILTER) -> int:
    where, params = filters.sql()
    return int(catalog.conn.execute(f"SELECT count(*) {_ITEMS} WHERE {VISIBLE}{where}", params).fetchone()[0])


def folder_counts(catalog: Catalog, filters: SearchFilter = NO_FILTER) -> dict[str, int]:
    """Visible items passing `filters` directly in each folder ("" is the archive root)."""
    where, params = filters.sql()
    rows = catalog.conn.execute(f"SELECT files.folder, count(*) {_ITEMS} WHERE {VISIBLE}{where} "
                                "GROUP BY files.folder", params)  # fmt: skip
    return {folder: int(n) for folder, n in rows}


def category_item_counts(catalog: Catalog, filters: SearchFilter = NO_FILTER) -> list[tuple[str, int]]:
    """(category, items) for each category that is the curator category or top-1 model category of
    some visible item passing `filters`, counting the items carrying it at any rank; case variants
    are one category (shown as the first in sort order)."""
    where, params = filters.sql()
    # lower() folds ASCII case only, as COLLATE NOCASE in SearchFilter does, and groups faster; the
    # CROSS JOINs make SQLite scan labels once instead of probing them item by item.
    rows = catalog.conn.execute(
        "SELECT min(labels.label), count(DISTINCT labels.item_id) FROM labels "
        "CROSS JOIN items ON items.id = labels.item_id CROSS JOIN files ON files.id = items.file_id "
        f"WHERE labels.head = 'category' AND {VISIBLE}{where} GROUP BY lower(labels.label) "
        "HAVING max(labels.source = 'curator' OR labels.rank = 0)",
        params,
    )
    return [(label, int(n)) for label, n in rows]


# -- item lists of duplicates, re-captioning and export --------------------------------------------


def visible_file_items(catalog: Catalog) -> list[tuple[int, str, str | None, bytes]]:
    """(item id, path, content hash, raw path) of every visible whole-file item, by path."""
    rows = catalog.conn.execute(
        f"SELECT items.id, files.path, files.hash, files.raw_path {_ITEMS} "
        f"WHERE items.kind = 'file' AND {VISIBLE} ORDER BY files.path"
    )
    return [(int(r[0]), r[1], r[2], bytes(r[3])) for r in rows]


def item_files(catalog: Catalog, item_ids: Sequence[int]) -> list[tuple[int, bytes, str, Box | None]]:
    """(item id, raw path, path, box) of the visible items among `item_ids`, by path and id."""
    found = []
    for chunk, marks in id_chunks(item_ids):
        rows = catalog.conn.execute(
            "SELECT items.id, files.raw_path, files.path, items.kind, items.x, items.y, items.w, items.h "
            f"{_ITEMS} WHERE {VISIBLE} AND items.id IN ({marks})",
            chunk,
        )
        found += [(int(r[0]), bytes(r[1]), r[2], box_of(*r[3:8])) for r in rows]
    return sorted(found, key=lambda r: (r[2], r[0]))


def file_of_items(catalog: Catalog) -> dict[int, int]:
    """The file id of every visible item, by item id."""
    return dict(catalog.conn.execute(f"SELECT items.id, items.file_id {_ITEMS} WHERE {VISIBLE}").fetchall())

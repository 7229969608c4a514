"""Read views over several tables for the services: items as search results, the grid and the
details panel show them, facet counts, and the item lists duplicates, re-captioning and export use.

Every view lists visible items only (indexed files, items not hidden) unless it says otherwise.
Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.errors import InputError
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


# The n-th of its file's visible regions (in the order they were found) and how many it has; NULL for a
# whole file (not counted: browsing lists every file).
_REGION_PLACE = (
    "CASE WHEN items.kind = 'region' THEN (SELECT count(*) FROM items r WHERE r.file_id = items.file_id "
    "AND r.kind = 'region' AND r.hidden = 0 AND r.id <= items.id) END, "
    "CASE WHEN items.kind = 'region' THEN (SELECT count(*) FROM items r WHERE r.file_id = items.file_id "
    "AND r.kind = 'region' AND r.hidden = 0) END"
)
# Browse orders: the path (folder by folder), the file name, and the newest date taken or modified
# first (files without a date taken last); a file before its regions.
BROWSE_ORDERS = {
    "path": "files.path",
    "name": "files.name COLLATE NOCASE, files.path",
    "taken": "files.taken_at IS NULL, files.taken_at DESC, files.path",
    "modified": "files.mtime_ns DESC, files.path",
}


def _place(kind: str, number: int, count: int) -> tuple[int, int] | None:
    return (int(number), int(count)) if kind == "region" else None


def browse_rows(
    catalog: Catalog, filters: SearchFilter = NO_FILTER, limit: int | None = None, order: str = "path"
) -> list[tuple[int, str, str | None, Box | None, tuple[int, int] | None]]:
    """(item id, path, content hash, box, region place) of the visible items passing `filters`, in
    `order` (one of BROWSE_ORDERS), a file before its regions. A region's place is (n, of how many
    regions of its file)."""
    if order not in BROWSE_ORDERS:
        raise InputError(f"order must be one of {', '.join(BROWSE_ORDERS)}, not {order!r}")
    where, params = filters.sql()
    sql = (
        "SELECT items.id, files.path, files.hash, items.kind, items.x, items.y, items.w, items.h, "
        f"{_REGION_PLACE} {_ITEMS} WHERE {VISIBLE}{where} "
        f"ORDER BY {BROWSE_ORDERS[order]}, items.kind, items.id"
    )
    args = list(params)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    rows = catalog.conn.execute(sql, args)
    return [(int(r[0]), r[1], r[2], box_of(*r[3:8]), _place(r[3], r[8], r[9])) for r in rows]


def region_places(catalog: Catalog, item_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """For the region items among `item_ids`: (n, of how many visible regions of its file)."""
    out: dict[int, tuple[int, int]] = {}
    for chunk, marks in id_chunks(item_ids):
        rows = catalog.conn.execute(
            f"SELECT items.id, {_REGION_PLACE} FROM items "
            f"WHERE items.kind = 'region' AND items.id IN ({marks})",
            chunk,
        )
        out.update((int(r[0]), (int(r[1]), int(r[2]))) for r in rows)
    return out


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


@dataclass(frozen=True)
class FileCopy:
    """A visible whole-file item and the facts of its file that the duplicates view compares."""

    item_id: int
    path: str
    hash: str | None
    raw_path: bytes
    width: int | None
    height: int | None
    size: int
    mtime_ns: int
    taken_at: float | None
    described: bool  # the curator wrote a description of it


def visible_file_items(catalog: Catalog) -> list[FileCopy]:
    """Every visible whole-file item, by path."""
    rows = catalog.conn.execute(
        "SELECT items.id, files.path, files.hash, files.raw_path, files.width, files.height, files.size, "
        "files.mtime_ns, files.taken_at, "
        "EXISTS (SELECT 1 FROM descriptions WHERE item_id = items.id AND text != '') "
        f"{_ITEMS} WHERE items.kind = 'file' AND {VISIBLE} ORDER BY files.path"
    )
    return [FileCopy(int(r[0]), r[1], r[2], bytes(r[3]), r[4], r[5], int(r[6]), int(r[7]), r[8], bool(r[9]))
            for r in rows]  # fmt: skip


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

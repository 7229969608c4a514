"""Read-only views of a catalog for browsing: the indexed items in folder order, and one item's facts.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.services.search import NO_FILTER, SearchFilter
from store.storage.catalog import VISIBLE, Catalog

TOP_LABELS = 5


@dataclass(frozen=True)
class BrowseItem:
    """A visible item as the grid shows it."""

    item_id: int
    path: str
    hash: str | None
    region: tuple[int, int, int, int] | None


@dataclass(frozen=True)
class ItemDetails:
    """What the details panel shows for one item."""

    item_id: int
    file_id: int
    path: str
    hash: str | None
    region: tuple[int, int, int, int] | None
    size: int
    width: int | None
    height: int | None
    format: str | None
    indexed_at: float
    labels: dict[str, list[tuple[str, float | None, str]]] = field(default_factory=dict)  # head -> top
    caption: str | None = None
    description: str | None = None


def _bbox(kind: str, x, y, w, h) -> tuple[int, int, int, int] | None:
    return None if kind == "file" or x is None else (int(x), int(y), int(w), int(h))


def visible_items(
    catalog: Catalog, limit: int | None = None, filters: SearchFilter | None = None
) -> list[BrowseItem]:
    """Visible items (files and their regions) passing `filters` (e.g. a folder or category facet),
    ordered by path, then file before its regions."""
    where, params = (filters or NO_FILTER).sql()
    sql = (
        "SELECT items.id, files.path, files.hash, items.kind, items.x, items.y, items.w, items.h "
        f"FROM items JOIN files ON files.id = items.file_id WHERE {VISIBLE}{where} "
        "ORDER BY files.path, items.kind, items.id"
    )
    args = list(params)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [BrowseItem(int(r[0]), r[1], r[2], _bbox(r[3], *r[4:8])) for r in catalog.conn.execute(sql, args)]


def item_details(catalog: Catalog, item_id: int) -> ItemDetails | None:
    """The facts, top labels per head (curator labels first), newest caption and the curator's
    description of an item; None when the item does not exist."""
    row = catalog.conn.execute(
        "SELECT items.id, items.file_id, files.path, files.hash, items.kind, items.x, items.y, items.w, "
        "items.h, files.size, files.width, files.height, files.format, files.indexed_at "
        "FROM items JOIN files ON files.id = items.file_id WHERE items.id = ?",
        (int(item_id),),
    ).fetchone()
    if row is None:
        return None
    labels: dict[str, list[tuple[str, float | None, str]]] = {}
    ranked = sorted(catalog.labels(item_id), key=lambda r: (r["source"] != "curator", r["rank"] or 0))
    for label in ranked:
        top = labels.setdefault(label["head"], [])
        if len(top) < TOP_LABELS:
            top.append((label["label"], label["score"], label["source"]))
    captions = catalog.captions(item_id)
    return ItemDetails(
        item_id=int(row[0]),
        file_id=int(row[1]),
        path=row[2],
        hash=row[3],
        region=_bbox(row[4], *row[5:9]),
        size=int(row[9]),
        width=row[10],
        height=row[11],
        format=row[12],
        indexed_at=float(row[13]),
        labels=labels,
        caption=captions[0]["text"] if captions else None,
        description=catalog.description(item_id),
    )

"""Read-only views of a catalog for browsing: the indexed items (in folder, name or date order), and one
item's facts.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.boxes import Box
from store.storage.catalog import Catalog
from store.storage.filters import NO_FILTER, SearchFilter
from store.storage.views import BROWSE_ORDERS, ItemFacts, browse_rows, item_facts, region_places

__all__ = ["BROWSE_ORDERS", "BrowseItem", "ItemDetails", "item_details", "region_places", "visible_items"]

TOP_LABELS = 5


@dataclass(frozen=True)
class BrowseItem:
    """A visible item as the grid shows it."""

    item_id: int
    path: str
    hash: str | None
    region: Box | None
    place: tuple[int, int] | None = None  # a region: (n, of how many regions of its file)


@dataclass(frozen=True)
class ItemDetails(ItemFacts):
    """What the details panel shows for one item: its facts, and what models and the curator said."""

    labels: dict[str, list[tuple[str, float | None, str]]] = field(default_factory=dict)  # head -> top
    caption: str | None = None
    description: str | None = None


def visible_items(
    catalog: Catalog, limit: int | None = None, filters: SearchFilter | None = None, order: str = "path"
) -> list[BrowseItem]:
    """Visible items (files and their regions) passing `filters` (e.g. a folder or category facet, a
    date range), in `order` (one of BROWSE_ORDERS: by path, name, date taken or modified, newest
    first), a file before its regions."""
    return [BrowseItem(*row) for row in browse_rows(catalog, filters or NO_FILTER, limit, order)]


def item_details(catalog: Catalog, item_id: int) -> ItemDetails | None:
    """The facts, top labels per head (curator labels first), newest caption and the curator's
    description of an item; None when the item does not exist."""
    facts = item_facts(catalog, item_id)
    if facts is None:
        return None
    labels: dict[str, list[tuple[str, float | None, str]]] = {}
    ranked = sorted(catalog.labels(item_id), key=lambda r: (r["source"] != "curator", r["rank"] or 0))
    for label in ranked:
        top = labels.setdefault(label["head"], [])
        names = {name for name, _, _ in top}
        # A model's row of a label the curator confirmed stays (its score), without taking a place.
        if label["label"] in names or len(names) < TOP_LABELS:
            top.append((label["label"], label["score"], label["source"]))
    captions = catalog.captions(item_id)
    return ItemDetails(
        **vars(facts),
        labels=labels,
        caption=captions[0]["text"] if captions else None,
        description=catalog.description(item_id),
    )

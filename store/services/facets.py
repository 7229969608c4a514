"""Facets of an archive for narrowing the grid: items per folder and per category.

Counts are over visible items (files and sub-photo regions), as the grid shows them, each from one
GROUP BY query. They agree with what the matching `SearchFilter` selects:

- a folder's count includes its subfolders (SearchFilter(folder=...) selects the subfolders too);
- the categories listed are those some item is known by: a curator category, or the model's best
  (top-1) category; each count is the number of items SearchFilter(category=...) selects, i.e. items
  with that category among the curator's or the model's top ones. Case variants are one category.

As in any faceted search, folders are counted within the chosen category and categories within the
chosen folder, so every count is what choosing that entry shows.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.storage.catalog import Catalog
from store.storage.filters import NO_FILTER, SearchFilter
from store.storage.views import category_item_counts, count_visible, folder_counts


@dataclass
class FolderNode:
    """A folder holding indexed items, directly or in its subfolders (the root's path is "")."""

    path: str
    items: int = 0  # in this folder and its subfolders
    children: list[FolderNode] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class CategoryCount:
    label: str
    items: int


@dataclass(frozen=True)
class Facets:
    folders: FolderNode  # counted within the chosen category
    categories: list[CategoryCount]  # counted within the chosen folder
    in_folder: int  # items in the chosen folder, whatever their category


def folder_tree(counts: dict[str, int]) -> FolderNode:
    """The folders of `counts` (and their parents) as a tree, children by name, totals summed up."""
    root = FolderNode("")
    nodes = {"": root}
    for folder in sorted(counts):
        parts = folder.split("/") if folder else []
        node = root
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            child = nodes.get(path)
            if child is None:
                child = nodes[path] = FolderNode(path)
                node.children.append(child)
            node = child
    for folder, n in counts.items():
        parts = folder.split("/") if folder else []
        for depth in range(len(parts) + 1):
            nodes["/".join(parts[:depth])].items += n
    for node in nodes.values():
        node.children.sort(key=lambda c: c.name.casefold())
    return root


def category_counts(catalog: Catalog, filters: SearchFilter = NO_FILTER) -> list[CategoryCount]:
    """Categories that are the curator category or top-1 model category of some visible item
    passing `filters`, with the number of those items carrying them at any rank; most frequent first."""
    found = [CategoryCount(label, n) for label, n in category_item_counts(catalog, filters)]
    return sorted(found, key=lambda c: (-c.items, c.label.casefold()))


def read_facets(catalog: Catalog, folder: str | None = None, category: str | None = None) -> Facets:
    """Both facets, given the folder and category the curator chose (None: not restricted)."""
    in_folder = SearchFilter(folder=folder)
    return Facets(
        folder_tree(folder_counts(catalog, SearchFilter(category=category))),
        category_counts(catalog, in_folder),
        count_visible(catalog, in_folder),
    )

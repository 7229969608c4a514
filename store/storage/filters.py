"""Restrictions on which items a search, the grid or a facet count shows, and their SQL.

Thread-safety: a SearchFilter is an immutable value; share it freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.errors import InputError

if TYPE_CHECKING:
    from store.storage.views import ItemRow


_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1  # what SQLite can store of a file date (nanoseconds)


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on results, and their order ("relevance", or "date": newest first among the
    relevant results). `date` says which date `since`/`until` (epoch seconds) and the date order use:
    "file" (modification time) or "taken" (EXIF date; files without one fail a date range and come
    last in date order)."""

    folder: str | None = None  # archive-relative folder: it and its subfolders
    category: str | None = None  # a curator category, or one of the model's top categories
    since: float | None = None
    until: float | None = None
    has_caption: bool | None = None
    confirmed: bool | None = None  # has curator-confirmed categories or names
    order: str = "relevance"
    date: str = "file"

    def __post_init__(self) -> None:
        if self.order not in ("relevance", "date"):
            raise InputError(f"order must be 'relevance' or 'date', not {self.order!r}")
        if self.date not in ("file", "taken"):
            raise InputError(f"date must be 'file' or 'taken', not {self.date!r}")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InputError(f"the date range is empty: {self.since} is after {self.until}")

    @property
    def restricts(self) -> bool:
        return any(
            v is not None
            for v in (self.folder, self.category, self.since, self.until, self.has_caption, self.confirmed)
        )

    def sql(self) -> tuple[str, list]:
        """A WHERE fragment over `items` and `files` (always starting with AND), and its parameters."""
        clauses: list[str] = []
        params: list = []
        if self.folder is not None:
            folder = self.folder.replace("\\", "/").strip("/")
            if folder:
                escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                clauses.append("(files.folder = ? OR files.folder LIKE ? ESCAPE '\\')")
                params += [folder, escaped + "/%"]
        if self.category is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM labels l WHERE l.item_id = items.id AND l.head = 'category' "
                "AND l.label = ? COLLATE NOCASE)"
            )
            params.append(self.category)
        column = "files.taken_at" if self.date == "taken" else "files.mtime_ns"
        if self.since is not None:
            clauses.append(f"{column} >= ?")
            params.append(self._bound(self.since))
        if self.until is not None:
            clauses.append(f"{column} <= ?")
            params.append(self._bound(self.until))
        if self.has_caption is not None:
            has = "EXISTS (SELECT 1 FROM captions c WHERE c.item_id = items.id)"
            clauses.append(has if self.has_caption else f"NOT {has}")
        if self.confirmed is not None:
            has = "EXISTS (SELECT 1 FROM labels l WHERE l.item_id = items.id AND l.source = 'curator')"
            clauses.append(has if self.confirmed else f"NOT {has}")
        return "".join(f" AND {c}" for c in clauses), params

    def _bound(self, seconds: float) -> float:
        """A date-range end as the column holds it: EXIF dates in seconds; file dates in nanoseconds,
        64-bit integers (years 1677 to 2262), so a day beyond them is that range's end, not an error."""
        if self.date == "taken":
            return seconds
        return int(min(max(seconds * 10**9, _NS_MIN), _NS_MAX))

    def newest_first(self, row: ItemRow) -> tuple[float, int]:
        """Sort key of the date order; rows without the chosen date last."""
        when = row.mtime_ns / 1e9 if self.date == "file" else row.taken_at
        return (-when if when is not None else float("inf"), row.item_id)


NO_FILTER = SearchFilter()

"""Import curator fields from export rows (store.services.import_file reads them from a file).

Curator fields only: description, category, the entries of categories / names whose source is
"curator", and rejected labels, in transactions of BATCH_ROWS rows, matching each row to an item by
content hash, then by path, and rejecting malformed rows one by one with a reason. A path is only
compared with catalog paths: it is never opened, so `..` or absolute paths cannot reach outside the
archive (they are rejected anyway).
"""

from __future__ import annotations

import logging
import re
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from models.errors import InputError
from models.label_names import HEADS
from store.services.curation import MAX_DESCRIPTION_CHARS, CurationService, check_labels, check_text
from store.storage.catalog import Catalog

logger = logging.getLogger(__name__)

_HEX = re.compile(r"[0-9a-f]{8,128}")
_HEAD_FIELDS = {"category": "categories", "name": "names"}


@dataclass
class RowProblem:
    row: int  # 0-based index in "items"
    reason: str

    def as_json(self) -> dict:
        return {"row": self.row, "reason": self.reason}


MAX_LISTED_PROBLEMS = 1000  # rows listed with a reason in a report; all of them are counted


@dataclass
class ImportReport:
    applied: int = 0  # rows that changed curator data
    unchanged: int = 0  # matched rows with nothing new
    rejected: list[RowProblem] = field(default_factory=list)  # malformed rows (the first ones)
    unmatched: list[RowProblem] = field(default_factory=list)  # well-formed rows matching no item (the first)
    rejected_count: int = 0
    unmatched_count: int = 0
    error: str | None = None  # why the file's rows stopped early (rows before it were applied)

    def reject(self, row: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED_PROBLEMS:
            self.rejected.append(RowProblem(row, reason))

    def unmatch(self, row: int, reason: str) -> None:
        self.unmatched_count += 1
        if len(self.unmatched) < MAX_LISTED_PROBLEMS:
            self.unmatched.append(RowProblem(row, reason))

    @property
    def ok(self) -> bool:
        return not self.rejected_count and not self.unmatched_count and self.error is None

    def as_json(self) -> dict:
        out = {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "rejected": [p.as_json() for p in self.rejected],
            "unmatched": [p.as_json() for p in self.unmatched],
        }
        if len(self.rejected) < self.rejected_count or len(self.unmatched) < self.unmatched_count:
            out |= {"rejected_count": self.rejected_count, "unmatched_count": self.unmatched_count}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class _Edit:
    path: str | None
    hash: str | None
    region: tuple[int, int, int, int] | None
    description: str | None = None
    category: str | None = None
    curator: dict[str, list[str]] = field(default_factory=dict)  # head -> labels (only heads present)
    rejected: dict[str, list[str]] = field(default_factory=dict)  # head -> labels to reject


def _text(value: object, what: str) -> object:
    """`value` unchanged, unless it is text holding a lone UTF-16 surrogate (JSON allows "\\ud800",
    which is no character: no database or file can store it)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(
                f"{what} holds an unpaired surrogate \\u{ord(value[exc.start]):04x}, not text"
            ) from None
    return value


_REPR = reprlib.Repr()  # Python 3.11's Repr takes no arguments
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 80, 80, 6, 4, 3


def _shown(value: object) -> str:
    """A row's value in a message: its repr, cut short (a row may hold a megabyte or a deep nest)."""
    if isinstance(value, str) and len(value) <= _REPR.maxstring:
        return repr(value)  # the usual case, and reprlib's own is slow for a million rows
    return _REPR.repr(value)


def _parse_row(row: object) -> _Edit:
    """A validated edit from one row; InputError says why a row is unusable."""
    if not isinstance(row, dict):
        raise InputError(f"row is a {type(row).__name__}, not an object")
    if "item_id" in row and (not isinstance(row["item_id"], int) or isinstance(row["item_id"], bool)):
        raise InputError(f"item_id must be an integer, not {_shown(row['item_id'])}")
    path = _text(row.get("path"), "path")
    if path is not None:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise InputError(f"path must be a non-empty string, not {_shown(path)}")
        parts = path.replace("\\", "/").split("/")  # str ops: PurePosixPath costs more than the rest
        if not parts[0] or ".." in parts or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
            raise InputError(f"path {_shown(path)} points outside the archive")
    digest = row.get("hash")
    if digest is not None and (not isinstance(digest, str) or not _HEX.fullmatch(digest)):
        raise InputError(f"hash must be a hex string, not {_shown(digest)}")
    if path is None and digest is None:
        raise InputError("row has neither hash nor path, so it cannot be matched to an item")
    region = row.get("region")
    if region is not None:
        ok = isinstance(region, list) and len(region) == 4
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 for v in region)
        if not ok or region[2] < 1 or region[3] < 1:
            raise InputError(f"region must be [x, y, w, h] in whole pixels or null, not {_shown(region)}")
        region = tuple(region)
    edit = _Edit(path, digest, region)
    if row.get("description") is not None:
        description = _text(row["description"], "description")
        edit.description = check_text(description, "description", MAX_DESCRIPTION_CHARS)
    if row.get("category") is not None:
        (edit.category,) = check_labels([_text(row["category"], "category")], "category")
    for head in HEADS:
        key = _HEAD_FIELDS[head]
        entries = row.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise InputError(f"{key} must be a list, not {type(entries).__name__}")
        labels = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
                raise InputError(
                    f"each entry of {key} must be an object with a text 'label', not {_shown(entry)}"
                )
            if entry.get("source") == "curator":
                labels.append(_text(entry["label"], f"label in {key}"))
        edit.curator[head] = check_labels(labels, f"label in {key}") if labels else []
    rejected = row.get("rejected")
    if rejected is not None:
        if not isinstance(rejected, dict) or set(rejected) - set(HEADS):
            raise InputError(
                f"rejected must be an object with keys {' / '.join(HEADS)}, not {_shown(rejected)}"
            )
        for head, labels in rejected.items():
            if not isinstance(labels, list):
                raise InputError(f"rejected {head} labels must be a list, not {type(labels).__name__}")
            edit.rejected[head] = check_labels(
                [_text(x, f"rejected {head}") for x in labels], f"rejected {head}"
            )
    return edit


BATCH_ROWS = 2000  # rows per write transaction: the indexer and the GUI wait at most one batch


def import_curator_fields(catalog: Catalog, rows: Iterable[object]) -> ImportReport:
    """Apply the curator fields of export rows (a list, or read_import's stream) to the matching items,
    in transactions of BATCH_ROWS rows. Rows that stop early (invalid JSON further on) keep what was
    applied before them; `report.error` says where and why (importing again is harmless: rows
    already applied are then unchanged)."""
    report = ImportReport()
    curation = CurationService(catalog)
    known = _IndexedFiles(catalog)
    rows = iter(rows)
    n, done = 0, False
    while not done:
        with catalog.transaction():
            for _ in range(BATCH_ROWS):
                try:
                    row = next(rows)
                except StopIteration:
                    done = True
                    break
                except InputError as exc:
                    report.error = f"{exc}; the {n} rows before it were imported"
                    done = True
                    break
                _import_row(catalog, curation, known, report, n, row)
                n += 1
    logger.info(
        "import: %s",
        report.as_json() | {"rejected": report.rejected_count, "unmatched": report.unmatched_count},
    )
    return report


def _import_row(
    catalog: Catalog,
    curation: CurationService,
    known: _IndexedFiles,
    report: ImportReport,
    n: int,
    row: object,
) -> None:
    try:
        edit = _parse_row(row)
    except InputError as exc:
        report.reject(n, str(exc))
        return
    try:
        item_id = _match(catalog, edit, known)
    except InputError as exc:
        report.unmatch(n, str(exc))
        return
    if _apply(curation, item_id, edit):
        report.applied += 1
    else:
        report.unchanged += 1


class _IndexedFiles:
    """The catalog's indexed files by content hash and by path, read once per import: `files.path`
    has no index, so a query per row would scan the table for every row that matches no hash."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_hash: dict[str, list[tuple[int, str]]] = {}
        self.by_path: dict[str, list[tuple[int, str]]] = {}
        for file_id, path, digest in catalog.indexed_files():
            self.by_path.setdefault(path, []).append((file_id, path))
            if digest is not None:
                self.by_hash.setdefault(digest, []).append((file_id, path))


def _match(catalog: Catalog, edit: _Edit, known: _IndexedFiles) -> int:
    files: list[tuple[int, str]] = []
    if edit.hash is not None:
        files = known.by_hash.get(edit.hash, [])
        if len(files) > 1:
            same_path = [f for f in files if f[1] == edit.path]
            if not same_path:
                raise InputError(f"hash {edit.hash} matches {len(files)} files and the path none of them")
            files = same_path
    if not files and edit.path is not None:
        files = known.by_path.get(edit.path, [])
    if not files:
        raise InputError(f"no indexed file with hash {edit.hash} or path {_shown(edit.path)}")
    item_id = catalog.visible_item_at(files[0][0], edit.region)
    if item_id is None:
        raise InputError(f"{files[0][1]} has no item with region {list(edit.region or []) or None}")
    return item_id


def _apply(curation: CurationService, item_id: int, edit: _Edit) -> bool:
    record = curation.record(item_id)
    changed = False
    new = edit.description
    if new is not None and new != (record.effective_description or "") and (new or record.description):
        curation.set_description(item_id, new)  # "" clears the curator's text
        changed = True
    for head in HEADS:
        current = curation.curator_labels(item_id, head)
        wanted = list(edit.curator.get(head, current))
        if head == "category" and edit.category is not None:
            model = [x.label for x in record.labels.get("category", []) if x.source == "model"]
            top = wanted[0] if wanted else (model[0] if model else None)
            if top != edit.category:
                wanted = [edit.category] + [x for x in wanted if x != edit.category]
        if wanted != current:
            curation.set_labels(item_id, head, wanted)
            changed = True
        for label in edit.rejected.get(head, []):
            if label not in record.rejected.get(head, []) and label not in wanted:
                curation.reject_label(item_id, head, label)
                changed = True
    return changed

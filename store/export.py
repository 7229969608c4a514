"""Export an archive's catalogue as JSON or CSV, and import curator fields back from the JSON.

JSON: `{"format": "imago-export", "version": 1, "archive": NAME, "exported_at": ISO, "items": [ITEM]}`
with one ITEM per visible item (whole files and sub-photo regions):

    similar_object_id  id of the most similar other item (another file), by image similarity, or null
    category           the curator's first category, else the model's best one, or null
    description        the curator's description, else the generated caption, or null
    item_id, path (relative to the archive), hash, region [x, y, w, h] or null, width, height,
    category_source / description_source ("curator" | "model" | null),
    categories / names [{label, score, source, model_id, time}], caption {text, model_id, time},
    rejected {"category": [label], "name": [label]} (labels the curator marked wrong),
    regions (a file item's sub-photo items)

Import reads that JSON (curator fields only: description, category, the entries of categories /
names whose source is "curator", and rejected labels), matching each row to an item by content hash,
then by path, and rejects malformed rows one by one with a reason. A path is only compared with
catalog paths: it is never opened, so `..` or absolute paths cannot reach outside the archive (they
are rejected anyway).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from models.errors import InputError
from store.catalog import VISIBLE, Catalog
from store.curation import (
    HEADS,
    MAX_DESCRIPTION_CHARS,
    CurationService,
    ItemRecord,
    check_labels,
    check_text,
)
from store.errors import ArchiveError
from store.search import fts_match, pick_model, query_terms
from store.vector_index import VectorIndex

logger = logging.getLogger(__name__)

FORMAT = "imago-export"
VERSION = 1
CSV_COLUMNS = [
    "item_id", "path", "hash", "region", "similar_object_id", "category", "category_source", "description",
    "description_source", "caption", "categories", "names",
]  # fmt: skip
_HEX = re.compile(r"[0-9a-f]{8,128}")
_HEAD_FIELDS = {"category": "categories", "name": "names"}


def item_json(record: ItemRecord, similar: int | None) -> dict:
    top = record.top_label("category")
    caption = None
    if record.caption is not None:
        caption = {"text": record.caption, "model_id": record.caption_model, "time": record.caption_time}
    return {
        "similar_object_id": similar,
        "category": top.label if top else None,
        "description": record.effective_description,
        "item_id": record.item_id,
        "path": record.path,
        "hash": record.hash,
        "region": list(record.region) if record.region else None,
        "width": record.width,
        "height": record.height,
        "category_source": top.source if top else None,
        "description_source": record.description_source,
        "description_time": record.description_time,
        "categories": [x.as_json() for x in record.labels.get("category", [])],
        "names": [x.as_json() for x in record.labels.get("name", [])],
        "caption": caption,
        "rejected": {head: record.rejected.get(head, []) for head in HEADS},
        "regions": record.regions,
    }


def selected_items(catalog: Catalog, selection: str | None) -> list[int] | None:
    """Item ids matching a keyword selection (all its words, in names, folders, captions,
    descriptions or labels), or None for everything."""
    if selection is None:
        return None
    terms = query_terms(selection)
    if not terms:
        raise InputError(f"the selection {selection!r} has no keywords to match")
    rows = catalog.conn.execute(
        "SELECT items_fts.rowid FROM items_fts CROSS JOIN items ON items.id = items_fts.rowid "
        f"CROSS JOIN files ON files.id = items.file_id WHERE items_fts MATCH ? AND {VISIBLE}",
        (fts_match(terms),),
    )
    return [int(r[0]) for r in rows]


def nearest_other(catalog: Catalog, index: VectorIndex | None, records: list[ItemRecord]) -> dict[int, int]:
    """For each record, the most similar visible item of another file (by the image vectors)."""
    if index is None or not records:
        return {}
    sql = f"SELECT items.id, items.file_id FROM items JOIN files ON files.id = items.file_id WHERE {VISIBLE}"
    file_of = dict(catalog.conn.execute(sql).fetchall())
    out: dict[int, int] = {}
    ids = [r.item_id for r in records]
    for start in range(0, len(ids), 1000):
        keys, vectors = catalog.vectors(index.model_id, ids[start : start + 1000])
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            for other, _ in index.search(vector, 16):
                if other != key and file_of.get(other) not in (None, file_of.get(key)):
                    out[int(key)] = int(other)
                    break
    return out


def export_items(
    catalog: Catalog,
    index: VectorIndex | None = None,
    selection: str | None = None,
    item_ids: Sequence[int] | None = None,
) -> Iterator[dict]:
    """The export rows of the archive's visible items, of a keyword selection, or of the given item
    ids (invisible ones are left out), by path."""
    if selection is not None and item_ids is not None:
        raise InputError("export either a keyword selection or chosen items, not both")
    curation = CurationService(catalog)
    ids = list(item_ids) if item_ids is not None else selected_items(catalog, selection)
    records = curation.records(ids)
    similar = nearest_other(catalog, index, records)
    for record in records:
        yield item_json(record, similar.get(record.item_id))


def write_json(rows: Iterator[dict], out: Path, archive_name: str) -> int:
    items = list(rows)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "archive": archive_name,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "items": items,
    }
    _atomic_write(out, json.dumps(doc, ensure_ascii=False, indent=1))
    return len(items)


def _labels_cell(labels: list[dict]) -> str:
    parts = []
    for x in labels:
        detail = x["source"] if x["score"] is None else f"{x['score']:.3f} {x['source']}"
        parts.append(f"{x['label']} ({detail})")
    return "; ".join(parts)


def write_csv(rows: Iterator[dict], out: Path) -> int:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        flat = {key: row.get(key) for key in CSV_COLUMNS}
        flat["region"] = ",".join(str(v) for v in row["region"]) if row["region"] else ""
        flat["caption"] = row["caption"]["text"] if row["caption"] else ""
        flat["categories"] = _labels_cell(row["categories"])
        flat["names"] = _labels_cell(row["names"])
        writer.writerow({k: ("" if v is None else v) for k, v in flat.items()})
        n += 1
    _atomic_write(out, buffer.getvalue())
    return n


def _atomic_write(out: Path, text: str) -> None:
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc


# -- import ----------------------------------------------------------------------------------------


@dataclass
class RowProblem:
    row: int  # 0-based index in "items"
    reason: str

    def as_json(self) -> dict:
        return {"row": self.row, "reason": self.reason}


@dataclass
class ImportReport:
    applied: int = 0  # rows that changed curator data
    unchanged: int = 0  # matched rows with nothing new
    rejected: list[RowProblem] = field(default_factory=list)  # malformed rows
    unmatched: list[RowProblem] = field(default_factory=list)  # well-formed rows matching no item

    def as_json(self) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "rejected": [p.as_json() for p in self.rejected],
            "unmatched": [p.as_json() for p in self.unmatched],
        }


@dataclass
class _Edit:
    path: str | None
    hash: str | None
    region: tuple[int, int, int, int] | None
    description: str | None = None
    category: str | None = None
    curator: dict[str, list[str]] = field(default_factory=dict)  # head -> labels (only heads present)
    rejected: dict[str, list[str]] = field(default_factory=dict)  # head -> labels to reject


def read_import(path: Path) -> list:
    """The rows of an export file; InputError when it is not a JSON export at all."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"import file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict):
        if doc.get("format") not in (None, FORMAT):
            raise InputError(f"{path} is a {doc.get('format')!r} file, not an Imago export")
        doc = doc.get("items")
    if not isinstance(doc, list):
        raise InputError(f'{path} has no list of items (expected {{"items": [...]}} or a list)')
    return doc


def _parse_row(row: object) -> _Edit:
    """A validated edit from one row; InputError says why a row is unusable."""
    if not isinstance(row, dict):
        raise InputError(f"row is a {type(row).__name__}, not an object")
    if "item_id" in row and (not isinstance(row["item_id"], int) or isinstance(row["item_id"], bool)):
        raise InputError(f"item_id must be an integer, not {row['item_id']!r}")
    path = row.get("path")
    if path is not None:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise InputError(f"path must be a non-empty string, not {path!r}")
        pure = PurePosixPath(path.replace("\\", "/"))
        if pure.is_absolute() or re.match(r"^[A-Za-z]:", path) or ".." in pure.parts:
            raise InputError(f"path {path!r} points outside the archive")
    digest = row.get("hash")
    if digest is not None and (not isinstance(digest, str) or not _HEX.fullmatch(digest)):
        raise InputError(f"hash must be a hex string, not {digest!r}")
    if path is None and digest is None:
        raise InputError("row has neither hash nor path, so it cannot be matched to an item")
    region = row.get("region")
    if region is not None:
        ok = isinstance(region, list) and len(region) == 4
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in region)
        if not ok or region[2] < 1 or region[3] < 1:
            raise InputError(f"region must be [x, y, w, h] in whole pixels or null, not {region!r}")
        region = tuple(region)
    edit = _Edit(path, digest, region)
    if row.get("description") is not None:
        edit.description = check_text(row["description"], "description", MAX_DESCRIPTION_CHARS)
    if row.get("category") is not None:
        (edit.category,) = check_labels([row["category"]], "category")
    for head in HEADS:
        key = _HEAD_FIELDS[head]
        if key not in row or row[key] is None:
            continue
        entries = row[key]
        if not isinstance(entries, list):
            raise InputError(f"{key} must be a list, not {type(entries).__name__}")
        labels = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
                raise InputError(f"each entry of {key} must be an object with a text 'label', not {entry!r}")
            if entry.get("source") == "curator":
                labels.append(entry["label"])
        edit.curator[head] = check_labels(labels, f"label in {key}")
    rejected = row.get("rejected")
    if rejected is not None:
        if not isinstance(rejected, dict) or set(rejected) - set(HEADS):
            raise InputError(f"rejected must be an object with keys {' / '.join(HEADS)}, not {rejected!r}")
        for head, labels in rejected.items():
            if not isinstance(labels, list):
                raise InputError(f"rejected {head} labels must be a list, not {type(labels).__name__}")
            edit.rejected[head] = check_labels(labels, f"rejected {head}")
    return edit


def import_curator_fields(catalog: Catalog, rows: list) -> ImportReport:
    """Apply the curator fields of export rows to the matching items; one transaction for all."""
    report = ImportReport()
    curation = CurationService(catalog)
    with catalog.transaction():
        for n, row in enumerate(rows):
            try:
                edit = _parse_row(row)
            except InputError as exc:
                report.rejected.append(RowProblem(n, str(exc)))
                continue
            try:
                item_id = _match(catalog, edit)
            except InputError as exc:
                report.unmatched.append(RowProblem(n, str(exc)))
                continue
            if _apply(curation, item_id, edit):
                report.applied += 1
            else:
                report.unchanged += 1
    logger.info("import: %s", report.as_json() | {"rejected": len(report.rejected)})
    return report


def _match(catalog: Catalog, edit: _Edit) -> int:
    files: list[tuple[int, str]] = []
    if edit.hash is not None:
        files = catalog.conn.execute(
            "SELECT id, path FROM files WHERE hash = ? AND status = 'indexed' ORDER BY path", (edit.hash,)
        ).fetchall()
        if len(files) > 1:
            same_path = [f for f in files if f[1] == edit.path]
            if not same_path:
                raise InputError(f"hash {edit.hash} matches {len(files)} files and the path none of them")
            files = same_path
    if not files and edit.path is not None:
        files = catalog.conn.execute(
            "SELECT id, path FROM files WHERE path = ? AND status = 'indexed'", (edit.path,)
        ).fetchall()
    if not files:
        raise InputError(f"no indexed file with hash {edit.hash} or path {edit.path!r}")
    file_id = files[0][0]
    if edit.region is None:
        row = catalog.conn.execute(
            "SELECT id FROM items WHERE file_id = ? AND kind = 'file' AND hidden = 0", (file_id,)
        ).fetchone()
    else:
        x, y, w, h = edit.region
        row = catalog.conn.execute(
            "SELECT id FROM items WHERE file_id = ? AND kind = 'region' AND hidden = 0 "
            "AND x = ? AND y = ? AND w = ? AND h = ?",
            (file_id, x, y, w, h),
        ).fetchone()
    if row is None:
        raise InputError(f"{files[0][1]} has no item with region {list(edit.region or []) or None}")
    return int(row[0])


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


def open_vector_index(catalog: Catalog, folder: Path) -> VectorIndex | None:
    """The archive's vector index of its main image model, in memory (None when it has no vectors)."""
    try:
        model_id, dim = pick_model(catalog, None)
    except ArchiveError:
        return None
    return VectorIndex.open(folder, model_id, dim, catalog)

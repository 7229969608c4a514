"""Export an archive's catalogue as JSON or CSV (store.services.importer reads them back).

JSON: `{"format": "imago-export", "version": 1, "archive": NAME, "exported_at": ISO, "items": [ITEM]}`
with one ITEM per visible item (whole files and sub-photo regions):

    similar_object_id  id of the most similar other item (another file), by image similarity, or null
    category           the curator's first category, else the model's best one, or null
    description        the curator's description, else the generated caption, or null
    item_id, path (relative to the archive), hash, region [x, y, w, h] or null, width, height,
    category_source / description_source ("curator" | "model" | null),
    categories / names [{label, score, source, model_id, time}], caption {text, model_id, time},
    description_time (every time is ISO 8601 in UTC with its offset, like exported_at),
    rejected {"category": [label], "name": [label]} (labels the curator marked wrong),
    regions (a file item's sub-photo items)

CSV: the columns of CSV_COLUMNS; a cell that a spreadsheet would run as a formula (starting with
`=`, `+`, `-`, `@`, a tab or a carriage return) starts with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from models.errors import InputError
from models.label_names import HEADS
from store.errors import ArchiveError
from store.services.curation import CurationService
from store.services.keywords import query_terms
from store.services.search import pick_model
from store.storage.atomic import atomic_replace
from store.storage.catalog import Catalog
from store.storage.fulltext import fts_match
from store.storage.records import ItemRecord
from store.storage.vector_index import VectorIndex
from store.storage.views import file_of_items

logger = logging.getLogger(__name__)

FORMAT = "imago-export"
VERSION = 1
CSV_COLUMNS = [
    "item_id", "path", "hash", "region", "similar_object_id", "category", "category_source", "description",
    "description_source", "caption", "categories", "names",
]  # fmt: skip


def iso_time(value: float | str | None) -> str | None:
    """A catalog time (epoch seconds) as ISO 8601 in UTC with its offset, e.g. 2026-11-27T10:00:00+00:00:
    every time in an export has this one format."""
    if value is None or isinstance(value, str):
        return value
    return dt.datetime.fromtimestamp(float(value), dt.UTC).isoformat(timespec="seconds")


def _label_json(label) -> dict:
    return label.as_json() | {"time": iso_time(label.time)}


def item_json(record: ItemRecord, similar: int | None) -> dict:
    top = record.top_label("category")
    caption = None
    if record.caption is not None:
        caption = {
            "text": record.caption,
            "model_id": record.caption_model,
            "time": iso_time(record.caption_time),
        }
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
        "description_time": iso_time(record.description_time),
        "categories": [_label_json(x) for x in record.labels.get("category", [])],
        "names": [_label_json(x) for x in record.labels.get("name", [])],
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
    return catalog.fts_matches(fts_match(terms))


def nearest_other(catalog: Catalog, index: VectorIndex | None, records: list[ItemRecord]) -> dict[int, int]:
    """For each record, the most similar visible item of another file (by the image vectors)."""
    if index is None or not records:
        return {}
    file_of = file_of_items(catalog)
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
        "exported_at": iso_time(dt.datetime.now(dt.UTC).timestamp()),
        "items": items,
    }
    write_export_text(out, json.dumps(doc, ensure_ascii=False, indent=1))
    return len(items)


def _labels_cell(labels: list[dict]) -> str:
    parts = []
    for x in labels:
        detail = x["source"] if x["score"] is None else f"{x['score']:.3f} {x['source']}"
        parts.append(f"{x['label']} ({detail})")
    return "; ".join(parts)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that spreadsheets show as text: one starting with = + - @ (or a tab or carriage
    return) would be run as a formula (CSV injection), so it gets a leading apostrophe, as OWASP
    recommends; Excel and LibreOffice hide the apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(rows: Iterator[dict], out: Path) -> int:
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
        writer.writerow({k: csv_cell(v) for k, v in flat.items()})
        n += 1
    write_export_text(out, buffer.getvalue())
    return n


def check_out_path(out: Path, archive: Path) -> None:
    """Refuse an export file that would replace a file of the archive (an original, or the index in
    `.imago`): Imago never changes archive files. A new file inside the archive is allowed."""
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out} is a folder; give a file name to export to")
    # The file that os.replace would replace: a symlink named `out` itself, not its target.
    real = Path(os.path.realpath(out.parent)) / out.name
    if os.path.lexists(real) and real.is_relative_to(Path(os.path.realpath(archive))):
        raise InputError(f"refusing to overwrite {out}: it is a file inside the archive {archive}")


def write_export_text(out: Path, text: str) -> None:
    """Write an export file atomically; an OS error becomes one InputError line naming the file."""
    out = Path(out)
    try:
        with atomic_replace(out, temp=out.with_name(f".{out.name}.tmp")) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc


def open_vector_index(catalog: Catalog, folder: Path, model_id: str | None = None) -> VectorIndex | None:
    """The archive's vector index of `model_id` (default: its main image model), in memory (None when
    it has no vectors)."""
    try:
        model_id, dim = pick_model(catalog, model_id)
    except ArchiveError:
        return None
    return VectorIndex.open(folder, model_id, dim, catalog)

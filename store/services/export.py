"""Export an archive's catalogue as JSON or CSV, and import curator fields back from either.

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

Import reads that JSON, or that CSV, one row at a time (curator fields only: description, category,
the entries of categories / names whose source is "curator", and rejected labels), in transactions
of BATCH_ROWS rows, matching each row to an item by content hash, then by path, and rejects
malformed rows one by one with a reason. A path is only compared with catalog paths: it is never
opened, so `..` or absolute paths cannot reach outside the archive (they are rejected anyway).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import re
import reprlib
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from models.errors import InputError
from store.errors import ArchiveError
from store.services.curation import (
    HEADS,
    MAX_DESCRIPTION_CHARS,
    CurationService,
    ItemRecord,
    check_labels,
    check_text,
)
from store.services.search import fts_match, pick_model, query_terms
from store.storage.catalog import VISIBLE, Catalog
from store.storage.vector_index import VectorIndex

logger = logging.getLogger(__name__)

FORMAT = "imago-export"
VERSION = 1
CSV_COLUMNS = [
    "item_id", "path", "hash", "region", "similar_object_id", "category", "category_source", "description",
    "description_source", "caption", "categories", "names",
]  # fmt: skip
_HEX = re.compile(r"[0-9a-f]{8,128}")
_HEAD_FIELDS = {"category": "categories", "name": "names"}


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
        "exported_at": iso_time(dt.datetime.now(dt.UTC).timestamp()),
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that spreadsheets show as text: one starting with = + - @ (or a tab or carriage
    return) would be run as a formula (CSV injection), so it gets a leading apostrophe, as OWASP
    recommends; Excel and LibreOffice hide the apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


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
        writer.writerow({k: csv_cell(v) for k, v in flat.items()})
        n += 1
    _atomic_write(out, buffer.getvalue())
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


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")
_READ_CHARS = 1 << 20
MAX_ROW_CHARS = 16 << 20  # one row: a description is at most MAX_DESCRIPTION_CHARS


class _JsonReader:
    """The JSON values of a text file one at a time (json's raw_decode over a sliding buffer), so an
    export of a million items is never in memory whole."""

    def __init__(self, fh, path: Path) -> None:
        self.fh, self.path = fh, path
        self.buf, self.pos, self.eof = "", 0, False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(_READ_CHARS)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        self.eof = not chunk
        return bool(chunk)

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file), not consumed."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def take(self, expected: str, what: str) -> str:
        char = self.peek()
        if char not in expected or not char:
            found = repr(char) if char else "the end of the file"
            raise InputError(f"{self.path} is not valid JSON: expected {what}, found {found}")
        self.pos += 1
        return char

    def value(self, row: int | None = None) -> object:
        self.peek()
        where = "" if row is None else f" (in row {row})"
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:  # a value that ends the buffer may go on after it
                    self.pos = end
                    return value
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise InputError(f"{self.path} is not valid JSON{where}: {exc.msg}") from None
            except ValueError as exc:  # a number of more than sys.get_int_max_str_digits() digits
                raise InputError(f"{self.path} is not valid JSON{where}: {exc}") from None
            except RecursionError:
                raise InputError(f"{self.path}: a value is nested too deeply{where}") from None
            if len(self.buf) - self.pos > MAX_ROW_CHARS:
                raise InputError(f"{self.path}: a value is larger than {MAX_ROW_CHARS} characters{where}")
            self._more()


def read_import(path: Path) -> Iterator[object]:
    """The rows of an export file, read one at a time: the items of an Imago export
    (`{"format": "imago-export", ..., "items": [...]}`), a JSON list of rows, or a CSV export (a
    `.csv` file). InputError at once when it is not one of these; a row that cannot be read stops
    the rows with an InputError."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"import file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is not a regular file")
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed by _rows or below)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        return _csv_rows(fh, path)
    try:
        reader = _JsonReader(fh, path)
        first = reader.peek()
        if first == "{":
            reader.take("{", "{")
            _read_header(reader)
        elif first == "[":
            reader.take("[", "[")
        elif not first:
            raise InputError(f"{path} is not valid JSON: it is empty")
        else:
            reader.value()  # InputError when it is not JSON at all
            raise _no_items(path)
    except UnicodeDecodeError as exc:
        fh.close()
        raise _not_utf8(path, exc) from None
    except BaseException:
        fh.close()
        raise
    return _rows(reader)


def _no_items(path: Path) -> InputError:
    return InputError(f'{path} has no list of items (expected {{"items": [...]}} or a list)')


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> InputError:
    return InputError(f"cannot read {path}: it is not UTF-8 text ({exc.reason})")


_CSV_ENTRY = re.compile(r"(.+?) \((?:-?[\d.]+ )?(curator|model)\)")


def _csv_rows(fh, path: Path) -> Iterator[dict]:
    """The rows of a CSV export (as `write_csv` writes it, perhaps edited in a spreadsheet), row by
    row, in the shape of JSON rows. InputError at once when it has no path or hash column."""
    try:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        fh.close()
        raise InputError(f"cannot read {path} as CSV: {exc}") from None
    if "path" not in columns and "hash" not in columns:
        fh.close()
        raise InputError(f"{path} has no 'path' or 'hash' column (is it a CSV export of Imago?)")
    return _csv_records(reader, fh, path)


def _csv_records(reader: csv.DictReader, fh, path: Path) -> Iterator[dict]:
    n = 0
    try:
        for cells in reader:
            yield _csv_row(cells)
            n += 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as CSV (in row {n}): {exc}") from None
    finally:
        fh.close()


def _csv_row(cells: dict) -> dict:
    """A CSV row as an import row: empty cells are absent, numbers parsed, label cells split into
    entries ("label (0.610 model); other (curator)"; a label without a source is the curator's)."""

    def cell(key: str) -> str | None:
        value = cells.get(key)
        if not isinstance(value, str) or not value:
            return None
        if value.startswith("'") and value[1:].startswith(_FORMULA_START):
            value = value[1:]  # the apostrophe csv_cell added (a spreadsheet drops it when saving)
        return value

    row: dict = {key: cell(key) for key in ("path", "hash", "description", "category")}
    item_id = cell("item_id")
    if item_id is not None:
        row["item_id"] = int(item_id) if item_id.isdigit() and len(item_id) < 20 else item_id
    region = cell("region")
    if region is not None:
        parts = region.split(",")
        row["region"] = [int(v) if v.strip().isdigit() and len(v) < 20 else v for v in parts]
    for key in ("categories", "names"):
        if key in cells and isinstance(cells[key], str):
            text = cell(key) or ""
            entries = []
            for part in filter(None, (p.strip() for p in text.split("; "))):
                found = _CSV_ENTRY.fullmatch(part)
                label, source = found.groups() if found else (part, "curator")
                entries.append({"label": label, "source": source})
            row[key] = entries
    return row


def _read_header(reader: _JsonReader) -> None:
    """Read an export object's members up to the start of its "items" list, checking "format"."""
    while True:
        if reader.peek() == "}":
            raise _no_items(reader.path)
        key = reader.value()
        if not isinstance(key, str):
            raise InputError(f"{reader.path} is not valid JSON: an object key must be a string")
        reader.take(":", "':'")
        if key == "items":
            if reader.peek() != "[":
                raise _no_items(reader.path)
            reader.take("[", "[")
            return
        value = reader.value()
        if key == "format" and value not in (None, FORMAT):
            raise InputError(f"{reader.path} is a {value!r} file, not an Imago export")
        if reader.take(",}", "',' or '}'") == "}":
            raise _no_items(reader.path)


def _rows(reader: _JsonReader) -> Iterator[object]:
    try:
        n = 0
        if reader.peek() == "]":
            reader.take("]", "]")
            return
        while True:
            yield reader.value(n)
            n += 1
            if reader.take(",]", f"',' or ']' after row {n - 1}") == "]":
                return
    except UnicodeDecodeError as exc:
        raise _not_utf8(reader.path, exc) from None
    finally:
        reader.fh.close()


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
        rows = catalog.conn.execute("SELECT id, path, hash FROM files WHERE status = 'indexed' ORDER BY path")
        for file_id, path, digest in rows:
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


def open_vector_index(catalog: Catalog, folder: Path, model_id: str | None = None) -> VectorIndex | None:
    """The archive's vector index of `model_id` (default: its main image model), in memory (None when
    it has no vectors)."""
    try:
        model_id, dim = pick_model(catalog, model_id)
    except ArchiveError:
        return None
    return VectorIndex.open(folder, model_id, dim, catalog)

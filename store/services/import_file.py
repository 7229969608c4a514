"""Reading an import file row by row: an Imago export as JSON (store.services.export), a JSON list
of rows, or a CSV export (perhaps edited in a spreadsheet), never whole in memory.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from models.errors import InputError
from store.services.export import FORMAT, FORMULA_START

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
        if value.startswith("'") and value[1:].startswith(FORMULA_START):
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

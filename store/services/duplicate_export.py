"""Export the files the curator marked as duplicates, each with the copies of its group marked to keep.

A list to act on outside Imago, which never deletes or moves files. The same rules as the catalogue
export (`store.services.export`): UTF-8, times in ISO 8601 with their offset, CSV cells that cannot run
as formulas, an atomic write that never replaces a file of the archive.

JSON: `{"format": "imago-duplicates", "version": 1, "archive": NAME, "exported_at": ISO,
"duplicates": [ROW]}`, ROW = {group, kind, path, full_path, keep: [{path, full_path}]};
CSV: the columns of CSV_COLUMNS, several copies to keep one per line of their cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from store.services.duplicates import DuplicateGroup
from store.services.export import check_out_path, csv_cell, iso_time, write_export_text
from store.storage.marks import DUPLICATE, KEEP

FORMAT = "imago-duplicates"
VERSION = 1
CSV_COLUMNS = ["group", "kind", "path", "full_path", "keep", "keep_full_path"]


def marked_duplicates(
    groups: Sequence[DuplicateGroup], marks: Mapping[int, str], archive: Path
) -> list[dict]:
    """One row per file marked duplicate, in list order; `group` counts the listed groups from 1."""
    rows = []
    for number, group in enumerate(groups, start=1):
        keep = [{"path": m.path, "full_path": str(archive / m.path)}
                for m in group.members if marks.get(m.item_id) == KEEP]  # fmt: skip
        for member in group.members:
            if marks.get(member.item_id) == DUPLICATE:
                rows.append({"group": number, "kind": group.kind, "path": member.path,
                             "full_path": str(archive / member.path), "keep": keep})  # fmt: skip
    return rows


def write_marked(rows: list[dict], out: Path, archive: Path, fmt: str) -> int:
    """Write `rows` to `out` as "json" or "csv"; the number of rows written."""
    check_out_path(out, archive)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            flat = row | {
                "keep": "\n".join(k["path"] for k in row["keep"]),
                "keep_full_path": "\n".join(k["full_path"] for k in row["keep"]),
            }
            writer.writerow({key: csv_cell(flat[key]) for key in CSV_COLUMNS})
        text = buffer.getvalue()
    else:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "archive": archive.name,
            "exported_at": iso_time(dt.datetime.now(dt.UTC).timestamp()),
            "duplicates": rows,
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1)
    write_export_text(out, text)
    return len(rows)

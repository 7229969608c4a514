"""`export` (the catalogue as JSON or CSV) and `import` (curator edits from such a file)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli.common import EXIT_FAILURE, EXIT_OK, archive_folder, open_catalog, utf8_text


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", parents=[common], help="export an archive's catalogue as JSON or CSV")
    export.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    export.add_argument("--format", choices=("json", "csv"), default="json", help="default json")
    export.add_argument(
        "--selection", type=utf8_text, metavar="QUERY", help="only items matching all these keywords"
    )
    export.add_argument("--out", required=True, metavar="FILE", help="file to write")
    export.set_defaults(handler=cmd_export)

    imports = sub.add_parser(
        "import", parents=[common], help="import curator edits from an exported JSON or CSV file"
    )
    imports.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    imports.add_argument("file", metavar="FILE", help="JSON or .csv written by 'export' (edited)")
    imports.add_argument("--json", action="store_true", help="print the report as JSON")
    imports.set_defaults(handler=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    from store.services import export

    location, catalog = open_catalog(args.archive)
    with catalog:
        export.check_out_path(Path(args.out), location.archive)
        index = export.open_vector_index(catalog, location.path)
        rows = export.export_items(catalog, index, args.selection)
        if args.format == "csv":
            count = export.write_csv(rows, Path(args.out))
        else:
            count = export.write_json(rows, Path(args.out), location.archive.name)
    print(f"exported {count} items to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from store.services import import_file, importer

    archive_folder(args.archive)
    rows = import_file.read_import(Path(args.file))  # read row by row while importing
    _, catalog = open_catalog(args.archive)
    with catalog:
        report = importer.import_curator_fields(catalog, rows)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(f"applied {report.applied}, unchanged {report.unchanged}, rejected {report.rejected_count}, "
              f"unmatched {report.unmatched_count}")  # fmt: skip
        for problems, count, what in (
            (report.rejected, report.rejected_count, "rejected"),
            (report.unmatched, report.unmatched_count, "unmatched"),
        ):
            for problem in problems:
                print(f"  row {problem.row}: {what}: {problem.reason}")
            if count > len(problems):
                print(f"  ... and {count - len(problems)} more {what} rows")
    if report.error is not None:
        print(f"imago: error: {report.error}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILURE

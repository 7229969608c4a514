"""Curation, export (JSON/CSV) and import of curator fields, on a fake-encoder archive."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
from pathlib import Path

import pytest
from test_search import FakeImageEncoder, FakeTextEncoder, build_archive, index

import main
from models.errors import InputError
from store.services.curation import CurationService
from store.services.export import export_items, open_vector_index
from store.services.import_file import read_import
from store.services.importer import import_curator_fields
from store.services.search import SearchFilter, SearchService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


@pytest.fixture
def archive(tmp_path) -> Path:
    archive = build_archive(tmp_path, unrelated=6)
    index(archive)
    with Catalog(locate_index(archive).catalog_path) as catalog:  # model labels and a caption
        item = catalog.item_ids(catalog.file_id(b"subject/original.png"))[0]
        with catalog.transaction():
            catalog.put_labels(item, "category", "zs-cat@1", [("textile", 0.61), ("icon", 0.2)])
            catalog.put_labels(item, "name", "zs-name@1", [("Tula", 0.4)])
            catalog.put_caption(item, "git@1", "a striped red cloth")
            catalog.refresh_fts([item])
    return archive


@pytest.fixture
def catalog(archive):
    with Catalog(locate_index(archive).catalog_path) as catalog:
        yield catalog


def item_of(catalog: Catalog, path: str) -> int:
    return catalog.item_ids(catalog.file_id(path.encode()))[0]


def export(catalog: Catalog, selection: str | None = None) -> list[dict]:
    return list(export_items(catalog, open_vector_index(catalog, catalog.path.parent), selection))


def test_export_has_seed_schema_and_provenance(catalog):
    rows = export(catalog)
    assert len(rows) == 12
    by_path = {r["path"]: r for r in rows}
    row = by_path["subject/original.png"]
    assert row["category"] == "textile" and row["category_source"] == "model"
    assert row["description"] == "a striped red cloth" and row["description_source"] == "model"
    assert row["categories"][0] == {
        "label": "textile", "score": 0.61, "source": "model", "model_id": "zs-cat@1",
        "time": row["categories"][0]["time"],
    }  # fmt: skip
    assert row["caption"]["model_id"] == "git@1"
    # The most similar other file: one of its copies (the fake encoder cannot tell them apart).
    family = {r["item_id"] for r in rows if r["path"].startswith("subject/") or "copy" in r["path"]}
    assert row["similar_object_id"] in family - {row["item_id"]}
    for r in rows:
        assert {"similar_object_id", "category", "description", "path", "hash", "region"} <= set(r)
        assert not r["path"].startswith("/") and r["hash"]


def test_export_of_chosen_items(catalog):
    chosen = [item_of(catalog, "other/pattern_03.png"), item_of(catalog, "subject/grey.png"), 123_456]
    rows = list(export_items(catalog, None, item_ids=chosen))
    assert [r["path"] for r in rows] == ["other/pattern_03.png", "subject/grey.png"]
    with pytest.raises(InputError, match="not both"):
        list(export_items(catalog, None, "grey", item_ids=chosen))


def test_curation_edits_are_curator_data_and_searchable(catalog, archive):
    curation = CurationService(catalog)
    item = item_of(catalog, "other/pattern_02.png")
    curation.set_description(item, "  Паровоз серии Э, депо Тула  ")
    curation.confirm_label(item, "category", "transport")
    curation.confirm_label(item, "category", "transport")
    curation.confirm_label(item, "name", "Tula")
    record = curation.record(item)
    assert record.description == "Паровоз серии Э, депо Тула"
    assert record.top_label("category").source == "curator"
    assert [x.label for x in record.labels["category"]] == ["transport"]
    others = [item_of(catalog, f"other/pattern_0{n}.png") for n in (3, 4)]
    assert curation.bulk_add_label([item, *others], "category", "transport") == 2
    curation.remove_label(item, "name", "Tula")
    assert curation.curator_labels(item, "name") == []
    with SearchService.open(archive, text_encoder=FakeTextEncoder(), image_encoder=FakeImageEncoder()) as s:
        assert s.search_text("паровоз").results[0].item_id == item
        assert set(s.search_text("transport", top=10).ids()[:3]) == {item, *others}
    with pytest.raises(InputError, match="unknown label head"):
        curation.set_labels(item, "colour", ["red"])
    with pytest.raises(InputError, match="no visible item"):
        curation.set_description(10**6, "x")
    with pytest.raises(InputError, match="at most"):
        curation.set_description(item, "x" * 20_001)
    with pytest.raises(InputError, match="empty"):
        curation.confirm_label(item, "category", "  ")


def test_export_edit_import_round_trip(catalog, tmp_path):
    rows = export(catalog)
    by_path = {r["path"]: r for r in rows}
    original = by_path["subject/original.png"]
    original["description"] = "Striped textile, Tula, 1890s"
    original["category"] = "costume"
    original["names"].append({"label": "Tula workshop", "source": "curator"})
    untouched = by_path["other/pattern_01.png"]
    untouched["category"] = None
    moved = by_path["other/pattern_05.png"]
    moved["hash"] = "0" * 32  # content changed since the export: matched by path
    moved["description"] = "matched by path"
    doc = tmp_path / "edited.json"
    doc.write_text(json.dumps({"format": "imago-export", "version": 1, "items": rows}), "utf-8")

    report = import_curator_fields(catalog, read_import(doc))
    assert report.as_json() == {"applied": 2, "unchanged": 10, "rejected": [], "unmatched": []}
    again = {r["path"]: r for r in export(catalog)}
    assert again["subject/original.png"]["description"] == "Striped textile, Tula, 1890s"
    assert again["subject/original.png"]["description_source"] == "curator"
    assert again["subject/original.png"]["category"] == "costume"
    assert again["subject/original.png"]["category_source"] == "curator"
    assert [x["label"] for x in again["subject/original.png"]["names"] if x["source"] == "curator"] == [
        "Tula workshop"
    ]
    assert again["other/pattern_05.png"]["description"] == "matched by path"
    # Model values are kept beside the curator's.
    assert any(
        x["source"] == "model" and x["label"] == "textile"
        for x in again["subject/original.png"]["categories"]
    )
    # Importing the same file again changes nothing.
    second = import_curator_fields(catalog, read_import(doc))
    assert second.applied == 0, second


def test_import_rejects_bad_rows_one_by_one(catalog, tmp_path):
    good = export(catalog)[0]
    rows = [
        "not an object",
        {"item_id": "12", "path": "subject/original.png"},
        {"path": "../outside.png", "description": "x"},
        {"path": "/etc/passwd", "description": "x"},
        {"path": "C:\\Windows\\x.png"},
        {"path": "a/../../b.png"},
        {"hash": "not hex!", "path": "subject/original.png"},
        {"path": "subject/original.png", "region": [1, 2, 3]},
        {"path": "subject/original.png", "description": 42},
        {"path": "subject/original.png", "categories": "textile"},
        {"path": "subject/original.png", "names": [{"label": 5, "source": "curator"}]},
        {"description": "no way to match"},
        {"path": "subject/missing.png", "hash": "ab" * 16, "description": "x"},
        {"path": "subject/original.png", "region": [0, 0, 5, 5], "description": "no such region"},
        dict(good, description="fine"),
    ]
    report = import_curator_fields(catalog, rows)
    assert [p.row for p in report.rejected] == list(range(12))
    assert "outside the archive" in report.rejected[2].reason
    assert "item_id must be an integer" in report.rejected[1].reason
    assert [p.row for p in report.unmatched] == [12, 13]
    assert report.applied == 1
    assert CurationService(catalog).record(good["item_id"]).description == "fine"


def test_read_import_rejects_files_that_are_not_exports(tmp_path):
    bad = tmp_path / "bad.json"
    for text, message in [("{not json", "not valid JSON"), ('{"format": "other"}', "not an Imago export"),
                          ('{"items": 3}', "no list of items"), ("", "not valid JSON")]:  # fmt: skip
        bad.write_text(text, "utf-8")
        with pytest.raises(InputError, match=message):
            read_import(bad)
    with pytest.raises(InputError, match="not found"):
        read_import(tmp_path / "missing.json")


def test_selection_and_csv(catalog, archive, tmp_path):
    rows = export(catalog, "subject")
    assert {r["path"] for r in rows} == {
        "subject/original.png", "subject/flipped.png", "subject/cropped.png", "subject/grey.png",
        "subject/recoloured.png",
    }  # fmt: skip
    assert export(catalog, "textile")[0]["path"] == "subject/original.png"
    assert export(catalog, "zeppelin") == []
    with pytest.raises(InputError):
        export(catalog, '" * -')
    out = tmp_path / "out.csv"
    assert main.main(["export", str(archive), "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 12
    first = next(r for r in table if r["path"] == "subject/original.png")
    assert first["category"] == "textile"
    assert first["categories"] == "textile (0.610 model); icon (0.200 model)"
    assert first["similar_object_id"].isdigit()


def test_cli_export_import(archive, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main.main(["export", str(archive), "--out", str(out), "--selection", "pattern"]) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert doc["format"] == "imago-export" and len(doc["items"]) == 6
    doc["items"][0]["description"] = "edited in the spreadsheet"
    doc["items"].append({"path": "../../etc/passwd", "description": "x"})
    out.write_text(json.dumps(doc), "utf-8")
    capsys.readouterr()
    assert main.main(["import", str(archive), str(out), "--json"]) == 1  # one row rejected
    report = json.loads(capsys.readouterr().out)
    assert report["applied"] == 1 and report["rejected"][0]["row"] == 6
    assert main.main(["export", str(tmp_path / "not-indexed"), "--out", str(out)]) == 1


def test_training_examples_from_curator_labels(catalog):
    from models.classifier import train_linear_head

    curation = CurationService(catalog)
    subject = [
        item_of(catalog, p) for p in ("subject/original.png", "subject/grey.png", "subject/flipped.png")
    ]
    others = [item_of(catalog, f"other/pattern_0{n}.png") for n in range(4)]
    curation.bulk_add_label(subject, "category", "textile")
    curation.bulk_add_label(others, "category", "ornament")
    curation.confirm_label(others[0], "name", "Tula")
    x, y = curation.training_examples("category", "fake-image@1")
    assert x.shape == (7, 32) and sorted(y) == ["ornament"] * 4 + ["textile"] * 3
    head = train_linear_head(x, y, "category", holdout=0.0)
    assert head.metrics["final_train_accuracy"] == 1.0
    assert curation.training_examples("name", "fake-image@1")[1] == ["Tula"]
    assert curation.training_examples("name", "other-model@1")[1] == []


def test_rejected_label_stays_rejected(catalog, archive, tmp_path):
    curation = CurationService(catalog)
    item = item_of(catalog, "subject/original.png")
    curation.reject_label(item, "category", "textile")
    record = curation.record(item)
    assert [x.label for x in record.labels["category"]] == ["icon"]
    assert record.rejected == {"category": ["textile"]}
    # The model giving the label again (re-indexing, a re-run head) leaves it out.
    with catalog.transaction():
        catalog.put_labels(item, "category", "zs-cat@2", [("textile", 0.7), ("icon", 0.2), ("map", 0.1)])
    assert [x.label for x in curation.record(item).labels["category"]] == ["icon", "map"]
    with SearchService.open(archive, text_encoder=FakeTextEncoder(), image_encoder=FakeImageEncoder()) as s:
        found = {r.item_id: r.why for r in s.search_text("textile", top=50).results}
        assert not any("keyword" in why for why in found.get(item, []))
        assert s.search_text("textile", filters=SearchFilter(category="textile"), all=True).results == []
    # Export carries the rejection; importing it elsewhere rejects there too.
    row = next(r for r in export(catalog) if r["item_id"] == item)
    assert row["rejected"] == {"category": ["textile"], "name": []}
    other = item_of(catalog, "other/exact_copy.png")
    with catalog.transaction():
        catalog.put_labels(other, "category", "zs-cat@1", [("textile", 0.5), ("icon", 0.3)])
    doc = tmp_path / "rejections.json"
    copy = next(r for r in export(catalog) if r["item_id"] == other) | {"rejected": row["rejected"]}
    doc.write_text(json.dumps([copy]), "utf-8")
    assert import_curator_fields(catalog, read_import(doc)).applied == 1
    assert [x.label for x in curation.record(other).labels["category"]] == ["icon"]
    # Confirming takes the rejection back.
    curation.confirm_label(item, "category", "textile")
    record = curation.record(item)
    assert record.top_label("category").label == "textile" and record.rejected == {}
    with pytest.raises(InputError, match="unknown label head"):
        curation.reject_label(item, "colour", "red")
    bad = [copy | {"rejected": {"colour": ["red"]}}, copy | {"rejected": {"category": "textile"}}]
    doc.write_text(json.dumps(bad), "utf-8")
    assert [p.reason for p in import_curator_fields(catalog, read_import(doc)).rejected] == [
        "rejected must be an object with keys category / name, not {'colour': ['red']}",
        "rejected category labels must be a list, not str",
    ]


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def test_every_time_in_a_json_export_is_iso_8601_with_offset(catalog, archive, tmp_path):
    curation = CurationService(catalog)
    item = item_of(catalog, "subject/original.png")
    curation.set_description(item, "Striped cloth")
    curation.confirm_label(item, "name", "Tula workshop")
    out = tmp_path / "out.json"
    assert main.main(["export", str(archive), "--out", str(out)]) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert _ISO.fullmatch(doc["exported_at"])
    row = next(r for r in doc["items"] if r["path"] == "subject/original.png")
    assert _ISO.fullmatch(row["description_time"]) and _ISO.fullmatch(row["caption"]["time"])
    labels = row["categories"] + row["names"]
    assert {(x["label"], x["source"]) for x in labels} >= {("textile", "model"), ("Tula workshop", "curator")}
    assert all(_ISO.fullmatch(x["time"]) for x in labels), labels


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("a=b", "a=b"), (None, ""), (7, 7)],
)  # fmt: skip
def test_csv_cells_that_start_a_formula_are_escaped(value, cell):
    from store.services.export import csv_cell

    assert csv_cell(value) == cell


def test_csv_export_escapes_formulas_end_to_end(catalog, archive, tmp_path):
    curation = CurationService(catalog)
    item = item_of(catalog, "subject/original.png")
    curation.set_description(item, '=HYPERLINK("http://evil.example", "click")')
    curation.set_labels(item, "category", ["@SUM(1+1)"])
    out = tmp_path / "out.csv"
    assert main.main(["export", str(archive), "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["path"] == "subject/original.png")
    assert row["description"] == '\'=HYPERLINK("http://evil.example", "click")'
    assert row["category"] == "'@SUM(1+1)" and row["categories"].startswith("'@SUM(1+1) (curator)")


def test_export_refuses_to_overwrite_a_file_inside_the_archive(archive, tmp_path, capsys):
    original = archive / "subject" / "original.png"
    before = original.read_bytes()
    for target in (original, archive / ".imago" / "catalog.db"):
        capsys.readouterr()
        assert main.main(["export", str(archive), "--out", str(target)]) == 1
        assert capsys.readouterr().err == (
            f"imago: error: refusing to overwrite {target}: it is a file inside the archive {archive}\n"
        )
    assert original.read_bytes() == before
    link = tmp_path / "link.csv"  # a symlink is replaced itself, never its target
    link.symlink_to(original)
    assert main.main(["export", str(archive), "--format", "csv", "--out", str(link)]) == 0
    assert original.read_bytes() == before and not link.is_symlink()
    assert (
        main.main(["export", str(archive), "--out", str(archive / "export.json")]) == 0
    )  # a new file is fine
    assert main.main(["export", str(archive), "--out", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_export_reports_a_full_disk_in_one_line(archive, tmp_path, capsys, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    assert main.main(["export", str(archive), "--out", str(tmp_path / "out.json")]) == 1
    assert capsys.readouterr().err.endswith(": No space left on device\n")
    assert list(tmp_path.glob(".out.json*")) == []


def test_import_reads_row_by_row(catalog, tmp_path, monkeypatch):
    from store.services import import_file

    rows = export(catalog)
    rows[0]["description"] = "edited, read in 7-character pieces"
    doc = tmp_path / "edited.json"
    doc.write_text(json.dumps({"format": "imago-export", "version": 1, "items": rows}, indent=1), "utf-8")
    monkeypatch.setattr(import_file, "_READ_CHARS", 7)  # every row crosses many read boundaries
    report = import_curator_fields(catalog, read_import(doc))
    assert report.as_json() == {"applied": 1, "unchanged": 11, "rejected": [], "unmatched": []}
    # Rows come one at a time: the first is there before the broken rest of the file is read.
    doc.write_text('[{"path": "a.png"}, {"path": ' + "x" * 1000, "utf-8")
    stream = read_import(doc)
    assert not isinstance(stream, list)
    # A value that ends a piece may go on in the next one.
    doc.write_text("[1, 23456789, 3]", "utf-8")
    assert list(read_import(doc)) == [1, 23456789, 3]
    doc.write_text('[{"path": "a.png"}, {"path": ' + "x" * 1000, "utf-8")
    stream = read_import(doc)
    assert next(stream) == {"path": "a.png"}
    with pytest.raises(InputError, match="not valid JSON"):
        next(stream)


def test_import_stopped_by_invalid_json_keeps_the_rows_before(catalog, archive, tmp_path, capsys):
    rows = export(catalog)[:3]
    for n, row in enumerate(rows):
        row["description"] = f"edit {n}"
    doc = tmp_path / "broken.json"
    doc.write_text(json.dumps(rows)[:-1] + ', {"path": oops}]', "utf-8")
    assert main.main(["import", str(archive), str(doc)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("applied 3, unchanged 0, rejected 0, unmatched 0")
    assert err == (
        f"imago: error: {doc} is not valid JSON (in row 3): Expecting value; "
        "the 3 rows before it were imported\n"
    )
    assert CurationService(catalog).record(rows[2]["item_id"]).description == "edit 2"


def test_import_of_hostile_files_is_one_line(archive, tmp_path, capsys):
    doc = tmp_path / "hostile.json"
    cases = [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            '[{"path": "a.png", "item_id": 1' + "0" * 5000 + "}]",
            "not valid JSON (in row 0): Exceeds the limit",
        ),
        ('{"items": [{"path": "a.png"}', "not valid JSON"),
        ("\ufeff\xff", "is not valid JSON"),
        ('\ufeff"just text"', "has no list of items"),
        ('{"format": "imago-export"}', "no list of items"),
    ]
    for text, message in cases:
        doc.write_text(text, "utf-8")
        assert main.main(["import", str(archive), str(doc)]) == 1, text[:30]
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    doc.write_bytes(b'[{"path": "a.png", "description": "\xff"}]')
    assert main.main(["import", str(archive), str(doc)]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert main.main(["import", str(archive), str(fifo)]) == 1
    assert capsys.readouterr().err == f"imago: error: {fifo} is not a regular file\n"


def test_import_rejects_lone_surrogates_and_huge_numbers_row_by_row(catalog, tmp_path):
    good = next(r for r in export(catalog) if r["path"] == "subject/grey.png")
    rows = [
        good | {"description": "bad \ud800 text"},
        good | {"categories": [{"label": "\udfff", "source": "curator"}]},
        good | {"path": "x\udc80.png", "hash": None},
        good | {"region": [10**30, 0, 1, 1]},
        good | {"rejected": {"category": ["\ud83d"]}},
        good | {"description": "fine"},
    ]
    doc = tmp_path / "rows.json"
    doc.write_text(json.dumps(rows), "utf-8")  # json writes lone surrogates as \ud800 escapes
    report = import_curator_fields(catalog, read_import(doc))
    reasons = [p.reason for p in report.rejected]
    assert [p.row for p in report.rejected] == [0, 1, 2, 3, 4], reasons
    assert reasons[0] == "description holds an unpaired surrogate \\ud800, not text"
    assert "unpaired surrogate \\udfff" in reasons[1] and "path holds" in reasons[2]
    assert reasons[3].startswith("region must be [x, y, w, h] in whole pixels or null")
    assert report.applied == 1


def test_import_report_lists_the_first_problems_and_counts_all(catalog, tmp_path, monkeypatch, capsys):
    import store.services.importer

    monkeypatch.setattr(store.services.importer, "MAX_LISTED_PROBLEMS", 2)
    doc = tmp_path / "rows.json"
    doc.write_text(json.dumps([{"path": f"missing/{n}.png"} for n in range(5)] + [3, 4, 5]), "utf-8")
    report = import_curator_fields(catalog, read_import(doc))
    assert (report.unmatched_count, len(report.unmatched)) == (5, 2)
    assert (report.rejected_count, [p.row for p in report.rejected]) == (3, [5, 6])
    assert report.as_json()["unmatched_count"] == 5


def test_csv_export_edited_in_a_spreadsheet_imports_back(catalog, archive, tmp_path, capsys):
    curation = CurationService(catalog)
    item = item_of(catalog, "subject/original.png")
    curation.set_description(item, "=not a formula")
    out = tmp_path / "out.csv"
    assert main.main(["export", str(archive), "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    by_path = {r["path"]: r for r in table}
    by_path["subject/grey.png"]["description"] = "Grey copy; edited in LibreOffice"
    by_path["subject/grey.png"]["categories"] += "; costume"  # typed in: the curator's
    by_path["other/pattern_01.png"]["names"] = "Tula (curator)"
    by_path["other/pattern_02.png"]["region"] = "1,2"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    capsys.readouterr()
    assert main.main(["import", str(archive), str(out)]) == 1  # the broken region
    assert capsys.readouterr().out.startswith("applied 2, unchanged 9, rejected 1, unmatched 0")
    grey = curation.record(item_of(catalog, "subject/grey.png"))
    assert grey.description == "Grey copy; edited in LibreOffice"
    assert [x.label for x in grey.labels["category"] if x.source == "curator"] == ["costume"]
    assert curation.curator_labels(item_of(catalog, "other/pattern_01.png"), "name") == ["Tula"]
    assert curation.record(item).description == "=not a formula"  # the apostrophe came off again
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n", "utf-8")
    assert main.main(["import", str(archive), str(tmp_path / "plain.csv")]) == 1
    assert "has no 'path' or 'hash' column" in capsys.readouterr().err

"""Duplicate marks: saved atomically in the index folder, bound to the content they were made on."""

from __future__ import annotations

import json

import pytest

from models.errors import InputError
from store.duplicate_marks import DUPLICATE, KEEP, MARKS_FILE, DuplicateMarks
from store.errors import DuplicateMarksError


def test_marks_survive_a_reload(tmp_path):
    marks = DuplicateMarks.load(tmp_path)  # no file yet: no marks
    assert marks.get("a.jpg", "h1") is None
    marks.set("a.jpg", KEEP, "h1")
    marks.set("copies/a.jpg", DUPLICATE, "h1")
    marks.set("б.png", DUPLICATE, None)
    marks.save()
    assert [p.name for p in tmp_path.iterdir()] == [MARKS_FILE]  # no temp file left behind
    again = DuplicateMarks.load(tmp_path)
    assert again.get("a.jpg", "h1") == KEEP and again.get("copies/a.jpg", "h1") == DUPLICATE
    assert again.get("б.png", None) == DUPLICATE
    assert again.paths(DUPLICATE) == ["copies/a.jpg", "б.png"]
    doc = json.loads((tmp_path / MARKS_FILE).read_text("utf-8"))
    assert doc["format"] == "imago-duplicate-marks" and doc["marks"]["a.jpg"]["hash"] == "h1"


def test_a_mark_lapses_when_the_content_changes_and_can_be_cleared(tmp_path):
    marks = DuplicateMarks(tmp_path)
    marks.set("a.jpg", DUPLICATE, "h1")
    assert marks.get("a.jpg", "h2") is None
    marks.set("a.jpg", None, "h1")
    assert marks.get("a.jpg", "h1") is None and marks.paths(DUPLICATE) == []
    with pytest.raises(InputError, match="delete"):
        marks.set("a.jpg", "delete", "h1")


BAD_MARK = '{"format": "imago-duplicate-marks", "marks": {"a.jpg": {"mark": "gone", "marked_at": 1}}}'


@pytest.mark.parametrize("content", ["{broken", "[]", '{"format": "other", "marks": {}}', BAD_MARK])
def test_an_unusable_file_is_reported_not_overwritten(tmp_path, content):
    (tmp_path / MARKS_FILE).write_text(content, "utf-8")
    with pytest.raises(DuplicateMarksError, match=MARKS_FILE):
        DuplicateMarks.load(tmp_path)
    assert (tmp_path / MARKS_FILE).read_text("utf-8") == content


def test_saving_into_a_missing_folder_is_a_typed_error(tmp_path):
    marks = DuplicateMarks(tmp_path / "gone")
    marks.set("a.jpg", KEEP, "h")
    with pytest.raises(DuplicateMarksError, match="cannot save"):
        marks.save()

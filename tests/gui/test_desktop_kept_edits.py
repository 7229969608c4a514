"""Kept curator edits (`desktop.pending_edits`): nothing kept is lost to an unreadable file or row,
an edit goes only into the catalog it was made in, and counting them never waits on a catalog."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from desktop.pending_edits import CuratorEdit, PendingEdits
from store.storage.catalog import Catalog

pytestmark = pytest.mark.gui

ARCHIVE = "/media/usb0"


def _edit(item_id: int, text: str, **catalog_id: str) -> CuratorEdit:
    return CuratorEdit(ARCHIVE, item_id, f"a/{item_id}.jpg", "description", text=text, **catalog_id)


def test_unreadable_file_is_moved_aside_before_the_next_edit_is_kept(tmp_path, caplog):
    kept = tmp_path / "pending-edits.json"
    kept.write_bytes(b'[{"archive": "/media/usb0", "item_id": 1, "path": "a.jpg", "kind": "descr')  # cut off
    pending = PendingEdits(kept)
    assert pending.count(ARCHIVE) == 0
    pending.add(_edit(2, "new"))
    aside = list(tmp_path.glob("pending-edits.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_bytes().endswith(b'"kind": "descr')  # nothing overwritten
    assert PendingEdits(kept)._loaded() == [_edit(2, "new")]
    assert "cannot read the kept curator edits" in caplog.text


def test_a_bad_row_is_skipped_and_the_other_kept_edits_stay(tmp_path):
    kept = tmp_path / "pending-edits.json"
    good = [_edit(1, "first"), _edit(2, "second")]
    rows = [{"archive": ARCHIVE, "item_id": 9, "kind": "description", "colour": "red"}]  # unknown key
    rows += [dict(e.__dict__) for e in good] + ["not an edit"]
    kept.write_text(json.dumps(rows), "utf-8")
    pending = PendingEdits(kept)
    assert pending.count(ARCHIVE) == 2
    pending.add(_edit(3, "third"))
    assert PendingEdits(kept)._loaded() == [*good, _edit(3, "third")]
    aside = list(tmp_path.glob("pending-edits.json.unreadable-*"))
    assert len(aside) == 1 and "colour" in aside[0].read_text("utf-8")  # the bad row is not lost


def test_edit_of_another_catalog_at_the_same_path_is_kept_not_written(tmp_path, caplog):
    kept = tmp_path / "pending-edits.json"
    with Catalog(tmp_path / "catalog.db") as catalog:  # another medium, mounted where ours was
        other = _edit(1, "for the other disc", catalog_id="0123-not-this-catalog")
        PendingEdits(kept).add(other)
        pending = PendingEdits(kept)
        with caplog.at_level(logging.WARNING):
            assert pending.write(ARCHIVE, catalog) == (0, 0)
        assert catalog.description(1) is None
        assert "stays kept" in caplog.text and "0123-not-this-catalog" in caplog.text
    assert PendingEdits(kept)._loaded() == [other]  # still there for its own catalog
    assert json.loads(kept.read_text("utf-8"))[0]["catalog_id"] == "0123-not-this-catalog"


def test_counting_never_waits_for_a_slow_catalog(qtbot, tmp_path, monkeypatch):
    pending = PendingEdits(tmp_path / "pending-edits.json")
    pending.add(_edit(1, "on a slow share"))
    entered, release = threading.Event(), threading.Event()

    def slow_apply(edit, catalog):  # a write waiting on a busy or unreachable catalog
        entered.set()
        release.wait(30)
        return None

    monkeypatch.setattr(CuratorEdit, "apply", slow_apply)
    writer = threading.Thread(target=pending.write, args=(ARCHIVE, object()))
    writer.start()
    counts = []
    try:
        assert entered.wait(10)
        threading.Thread(target=lambda: counts.append(pending.count(ARCHIVE)), daemon=True).start()
        qtbot.waitUntil(lambda: counts == [1], timeout=5_000)  # the GUI thread's count: no wait
    finally:
        release.set()
        writer.join(10)
    assert pending.count(ARCHIVE) == 0  # the item was gone: dropped

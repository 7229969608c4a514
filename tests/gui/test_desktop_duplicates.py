"""The duplicates window: groups found off the GUI thread, marks that survive a restart, no file touched."""

from __future__ import annotations

import shutil

import pytest
from gui_fixtures import open_indexed
from PIL import Image
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def _duplicates(qtbot, window):
    assert window.duplicates_action.isEnabled()
    window.duplicates_action.trigger()
    dup = window.duplicates_window
    assert dup.isVisible() and dup.busy.isVisible()  # busy while the pool thread looks
    qtbot.waitUntil(lambda: not dup.busy.isVisible(), timeout=TIMEOUT_MS)
    return dup


def _select(dup, row) -> None:
    dup.tree.selectionModel().clearSelection()
    dup.tree.setCurrentItem(row, 0, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_groups_marks_and_restart(qtbot, models_dir, archive, tmp_path):
    shutil.copy(archive / "pagoda.jpg", archive / "album" / "pagoda copy.jpg")
    with Image.open(archive / "pagoda.jpg") as image:
        image.resize((image.width * 3 // 4, image.height * 3 // 4)).save(archive / "smaller pagoda.jpg")
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    assert dup.status.text() == "Groups found: 2 (1 of exact copies, 1 of near duplicates)."
    near = dup.tree.topLevelItem(1)
    assert near.text(0) == "Near duplicates: 2 files"
    assert [near.child(0).text(0), near.child(1).text(0)] == ["album/pagoda copy.jpg", "smaller pagoda.jpg"]
    assert near.child(0).text(1) == "reference" and float(near.child(1).text(1)) > 0.9
    group = dup.tree.topLevelItem(0)
    assert group.text(0) == "Exact copies: 2 files (same content)"
    copy_row, original_row = group.child(0), group.child(1)
    assert [copy_row.text(0), original_row.text(0)] == ["album/pagoda copy.jpg", "pagoda.jpg"]
    assert copy_row.text(1) == "identical" and copy_row.text(2) == ""
    qtbot.waitUntil(lambda: not copy_row.icon(0).isNull(), timeout=TIMEOUT_MS)  # thumbnails per file

    assert not dup.keep_action.isEnabled()  # nothing selected yet
    _select(dup, copy_row)
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.duplicate_action.trigger()
    _select(dup, original_row)
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.keep_action.trigger()
    assert [copy_row.text(2), original_row.text(2)] == ["Duplicate", "Keep"]
    assert near.child(0).text(2) == "Duplicate"  # the same file, listed in both groups
    qtbot.waitUntil(lambda: not near.child(0).icon(0).isNull(), timeout=TIMEOUT_MS)
    dup.copy_button.click()
    assert QApplication.clipboard().text() == f"{archive / 'album' / 'pagoda copy.jpg'}\n"
    with Catalog(locate_index(archive).catalog_path) as catalog:
        marked = dict(catalog.conn.execute(
            "SELECT files.path, mark FROM duplicate_marks JOIN files ON files.id = duplicate_marks.file_id"
        ))  # fmt: skip
    assert marked == {"album/pagoda copy.jpg": "duplicate", "pagoda.jpg": "keep"}
    window.close()
    assert (archive / "album" / "pagoda copy.jpg").is_file() and (archive / "pagoda.jpg").is_file()

    # After a restart (no models needed to look for exact copies) the marks are still there.
    again = MainWindow(models_dir=tmp_path / "no-models")
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.items_loaded, timeout=TIMEOUT_MS):
        again.open_archive(archive)
    dup = _duplicates(qtbot, again)
    group = dup.tree.topLevelItem(0)
    assert [group.child(0).text(2), group.child(1).text(2)] == ["Duplicate", "Keep"]
    _select(dup, group.child(0))
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.clear_action.trigger()
    assert group.child(0).text(2) == "" and dup.duplicate_paths() == []


def test_no_duplicates(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    assert dup.tree.topLevelItemCount() == 0
    assert dup.status.text() == "No duplicates found."
    assert not dup.copy_button.isEnabled()

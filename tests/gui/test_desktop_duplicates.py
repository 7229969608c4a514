"""The duplicates window: groups found off the GUI thread, marks that survive a restart, no file touched."""

from __future__ import annotations

import csv
import shutil

import pytest
from gui_fixtures import open_indexed
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from desktop.main_window import MainWindow
from desktop.widgets.duplicate_group import FILE, MARK, MODIFIED, PATH, PIXELS, SIMILARITY, SIZE
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


def _copies(archive) -> None:
    """An exact copy of pagoda.jpg (made after it) and a smaller copy of it."""
    shutil.copy(archive / "pagoda.jpg", archive / "album" / "pagoda copy.jpg")
    with Image.open(archive / "pagoda.jpg") as image:
        image.resize((image.width * 3 // 4, image.height * 3 // 4)).save(archive / "smaller pagoda.jpg")


def _column(group, column: int) -> list[str]:
    return [group.child(i).text(column) for i in range(group.childCount())]


def test_groups_marks_and_restart(qtbot, models_dir, archive, tmp_path):
    _copies(archive)
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    # One group per set of copies: the exact copy and the smaller one are in one group, each file once.
    assert dup.status.text() == "Groups found: 1 (0 of exact copies, 1 of near duplicates)."
    assert dup.tree.topLevelItemCount() == 1
    group = dup.tree.topLevelItem(0)
    assert dup.group_header(0).title.text() == "<b>Near duplicates: 3 files</b>"
    assert _column(group, FILE) == ["album/pagoda copy.jpg", "pagoda.jpg", "smaller pagoda.jpg"]
    assert _column(group, PATH) == [str(archive / p) for p in ("album/pagoda copy.jpg", "pagoda.jpg",
                                                                 "smaller pagoda.jpg")]  # fmt: skip
    with Image.open(archive / "pagoda.jpg") as image:
        full, smaller = f"{image.width}×{image.height}", f"{image.width * 3 // 4}×{image.height * 3 // 4}"
    assert _column(group, PIXELS) == [full, full, smaller]
    assert all(text.endswith(" KiB") for text in _column(group, SIZE))
    assert all(len(text) == 16 for text in _column(group, MODIFIED))  # 2026-01-31 10:00
    assert _column(group, SIMILARITY)[:2] == ["reference", "identical"]
    assert float(_column(group, SIMILARITY)[2]) > 0.9
    copy_row, original_row = group.child(0), group.child(1)
    assert _column(group, MARK) == ["", "(suggested: keep)", ""]
    qtbot.waitUntil(lambda: not copy_row.icon(0).isNull(), timeout=TIMEOUT_MS)  # thumbnails per file

    assert not dup.keep_action.isEnabled()  # nothing selected yet
    _select(dup, copy_row)
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.duplicate_action.trigger()
    _select(dup, original_row)
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.keep_action.trigger()
    assert _column(group, MARK) == ["Duplicate", "Keep", ""]
    dup.copy_button.click()
    assert QApplication.clipboard().text() == f"{archive / 'album' / 'pagoda copy.jpg'}\n"
    with Catalog(locate_index(archive).catalog_path) as catalog:
        marked = dict(catalog.conn.execute(
            "SELECT files.path, mark FROM duplicate_marks JOIN files ON files.id = duplicate_marks.file_id"
        ))  # fmt: skip
    assert marked == {"album/pagoda copy.jpg": "duplicate", "pagoda.jpg": "keep"}
    window.close()
    assert not dup.isVisible()
    assert all((archive / p).is_file() for p in ("album/pagoda copy.jpg", "pagoda.jpg", "smaller pagoda.jpg"))

    # After a restart (no models needed: the vectors are in the catalog) the marks are still there.
    again = MainWindow(models_dir=tmp_path / "no-models")
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.items_loaded, timeout=TIMEOUT_MS):
        again.open_archive(archive)
    dup = _duplicates(qtbot, again)
    group = dup.tree.topLevelItem(0)
    assert _column(group, MARK) == ["Duplicate", "Keep", ""]
    _select(dup, group.child(0))
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.clear_action.trigger()
    assert group.child(0).text(MARK) == "" and dup.duplicate_paths() == []


def test_keep_suggestion_accepted_per_group_or_for_all(qtbot, models_dir, archive, tmp_path, monkeypatch):
    _copies(archive)
    shutil.copy(archive / "album" / "generated3.jpg", archive / "generated3 copy.jpg")
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    assert dup.tree.topLevelItemCount() == 2
    exact, near = dup.group_header(0), dup.group_header(1)
    # Exact copies: same pixels and bytes; the original is older than its copy.
    assert exact.suggestion.text().startswith("Suggestion: keep album/generated3.jpg: oldest (modified ")
    with Image.open(archive / "pagoda.jpg") as image:
        size = f"{image.width}×{image.height}"
    reason = f"Suggestion: keep pagoda.jpg: largest ({size}), oldest (modified "
    assert near.suggestion.text().startswith(reason)

    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        near.accept_button.click()
    assert _column(dup.tree.topLevelItem(1), MARK) == ["Duplicate", "Keep", "Duplicate"]
    assert _column(dup.tree.topLevelItem(0), MARK) == ["(suggested: keep)", ""]
    # "Accept all" leaves the groups the curator has marked alone: here, it marks the exact pair.
    _select(dup, dup.tree.topLevelItem(1).child(2))
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.keep_action.trigger()
    assert dup.accept_all_button.isEnabled()
    with qtbot.waitSignal(dup.marks_saved, timeout=TIMEOUT_MS):
        dup.accept_all_button.click()
    assert _column(dup.tree.topLevelItem(0), MARK) == ["Keep", "Duplicate"]
    assert _column(dup.tree.topLevelItem(1), MARK) == ["Duplicate", "Keep", "Keep"]
    assert not dup.accept_all_button.isEnabled()  # every group has marks now

    # The marked list, with the copies to keep, through the save dialog; the files stay where they are.
    out = tmp_path / "marked"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV files (*.csv)"))
    with qtbot.waitSignal(dup.exported, timeout=TIMEOUT_MS) as done:
        dup.export_button.click()
    assert done.args == [tmp_path / "marked.csv", 2]
    rows = list(csv.DictReader((tmp_path / "marked.csv").open(encoding="utf-8")))
    assert [(r["path"], r["keep"]) for r in rows] == [
        ("generated3 copy.jpg", "album/generated3.jpg"),
        ("album/pagoda copy.jpg", "pagoda.jpg\nsmaller pagoda.jpg"),
    ]
    assert rows[0]["full_path"] == str(archive / "generated3 copy.jpg")
    assert (archive / "generated3 copy.jpg").is_file() and (archive / "album" / "pagoda copy.jpg").is_file()


def test_close_button_and_escape(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    dup.close_button.click()
    assert not dup.isVisible()
    dup = _duplicates(qtbot, window)
    dup.activateWindow()
    qtbot.keyClick(dup.tree, Qt.Key.Key_Escape)
    assert not dup.isVisible()


def test_no_duplicates(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    dup = _duplicates(qtbot, window)
    assert dup.tree.topLevelItemCount() == 0
    assert dup.status.text() == "No duplicates found."
    assert not dup.copy_button.isEnabled()

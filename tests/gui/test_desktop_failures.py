"""The failed-files dialog: read from the catalog, sortable, copyable, and there after a restart."""

from __future__ import annotations

import pytest
from gui_fixtures import ARCHIVE_FILES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.dialogs.failures_dialog import FailuresDialog
from desktop.main_window import MainWindow
from desktop.translation import install_translators, remove_translators

pytestmark = pytest.mark.gui

INDEX_TIMEOUT_MS = 120_000
TIMEOUT_MS = 30_000


def _show_failures(qtbot, window, action):
    with qtbot.waitSignal(window.failures_shown, timeout=TIMEOUT_MS) as shown:
        action()
    dialog = window.failures_dialog
    assert dialog.isVisible()
    return shown.args[0], dialog


def test_failures_are_listed_sorted_and_copied(qtbot, models_dir, archive, tmp_path):
    (archive / "notes.jpg").write_text("not a picture")
    (archive / "album" / "empty.png").write_bytes(b"")
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.open_archive(archive)
    assert finished.args[0].summary.indexed == ARCHIVE_FILES
    assert "Failed: 2" in window.errors_label.text()

    count, dialog = _show_failures(qtbot, window, lambda: window.errors_label.linkActivated.emit("#"))
    assert count == 2
    assert dialog.rows()[0][:2] == ["album/empty.png", "Empty file"]
    assert dialog.rows()[1][:2] == ["notes.jpg", "Not an image"] and "notes.jpg" in dialog.rows()[1][2]
    dialog.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # as a click on the header does
    assert [r[1] for r in dialog.rows()] == ["Not an image", "Empty file"]
    dialog.copy_button.click()
    lines = QApplication.clipboard().text().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["notes.jpg", "Not an image"],
        ["album/empty.png", "Empty file"],
    ]
    window.close()

    # After a restart, even without models (so no indexing run), the catalog still knows them.
    again = MainWindow(models_dir=tmp_path / "no-models")
    qtbot.addWidget(again)
    again.show()
    again.open_archive(archive)
    qtbot.waitUntil(lambda: "Failed: 2" in again.errors_label.text(), timeout=TIMEOUT_MS)
    count, dialog = _show_failures(qtbot, again, again.failures_action.trigger)
    assert count == 2 and dialog.windowTitle() == "Files that could not be indexed"


def test_each_problem_explained_with_the_recorded_message_kept(qtbot):
    truncated = ("a.jpg", "truncated", "a.jpg: image file is truncated (12 bytes not processed)")
    dialog = FailuresDialog([truncated, ("b.jpg", "error", "b.jpg: RuntimeError: boom")])
    qtbot.addWidget(dialog)
    truncated, other = dialog.rows()
    assert truncated[1] == "Truncated file" and "truncated (12 bytes" in truncated[2]
    assert other[1] == "Could not be indexed"  # a kind without a name of its own still reads as a reason
    sentence = dialog.table.item(0, 1).toolTip()
    assert sentence.startswith("The file ends too early")
    assert dialog.table.item(0, 2).toolTip() == truncated[2]
    assert dialog.explanation.text() == f"a.jpg — {sentence}"
    dialog.table.setCurrentCell(1, 0)
    assert dialog.explanation.text().startswith("b.jpg — An unexpected error")


def test_failure_reasons_in_russian(qapp, qtbot):
    translators = install_translators(qapp, "ru")
    try:
        dialog = FailuresDialog([("a.jpg", "empty_file", "a.jpg: the file is empty (0 bytes)")])
        qtbot.addWidget(dialog)
        assert dialog.rows() == [["a.jpg", "Пустой файл", "a.jpg: the file is empty (0 bytes)"]]
        assert dialog.table.item(0, 1).toolTip().startswith("Файл пуст")
        assert dialog.table.horizontalHeaderItem(1).text() == "Проблема"
    finally:
        remove_translators(qapp, translators)

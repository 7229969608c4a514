"""Context-menu jobs on the selected thumbnails: export (JSON/CSV) and re-caption, off the GUI thread."""

from __future__ import annotations

import csv
import json

import pytest
from gui_fixtures import ARCHIVE_FILES, FIXTURES, open_indexed
from PySide6.QtCore import QItemSelectionModel

from desktop.main_window import MainWindow
from desktop.widgets.grid_model import EntryRole
from desktop.workers.item_jobs import export_target
from models.bundle_install import install_bundle
from store.storage.catalog import Catalog

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


def _open(qtbot, models_dir, archive) -> MainWindow:
    window = open_indexed(qtbot, models_dir, archive)
    # The end of the run reloads the browse list and facets: let those land before the test goes on.
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=TIMEOUT_MS)
    assert window.grid_model.rowCount() == ARCHIVE_FILES
    return window


def _select(window, rows) -> None:
    selection = window.grid.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.grid_model.index(row), QItemSelectionModel.SelectionFlag.Select)


def _action(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


def test_export_target_follows_the_typed_suffix_else_the_file_type(tmp_path):
    assert export_target(tmp_path / "list", csv_chosen=True) == (tmp_path / "list.csv", "csv")
    assert export_target(tmp_path / "list", csv_chosen=False) == (tmp_path / "list.json", "json")
    assert export_target(tmp_path / "list.JSON", csv_chosen=True) == (tmp_path / "list.JSON", "json")
    assert export_target(tmp_path / "v1.2", csv_chosen=False) == (tmp_path / "v1.2.json", "json")


def test_export_selection_as_csv_and_json(qtbot, models_dir, archive, tmp_path, monkeypatch):
    window = _open(qtbot, models_dir, archive)
    window.grid.setCurrentIndex(window.grid_model.index(4))
    _select(window, [1, 4])
    chosen = [window.grid_model.entry(r) for r in (1, 4)]
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        window.load_browse()  # a refresh while indexing or watching keeps the selection
    assert sorted(i.row() for i in window.grid.selectionModel().selectedIndexes()) == [1, 4]
    answers = [
        (str(tmp_path / "picked"), "CSV files (*.csv)"),
        (str(tmp_path / "picked.json"), "CSV files (*.csv)"),
    ]
    monkeypatch.setattr(
        "desktop.controllers.item_actions.QFileDialog.getSaveFileName", lambda *args: answers.pop(0)
    )

    menu = window.context_menu(window.grid_model.index(4).data(EntryRole))  # right-click inside the selection
    with qtbot.waitSignal(window.item_jobs.exported, timeout=TIMEOUT_MS) as done:
        _action(menu, "Export selection…").trigger()
    assert done.args == [tmp_path / "picked.csv", 2]
    with open(tmp_path / "picked.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(int(r["item_id"]) for r in rows) == sorted(e.item_id for e in chosen)
    assert "Exported 2 items" in window.statusBar().currentMessage()

    with qtbot.waitSignal(window.item_jobs.exported, timeout=TIMEOUT_MS):  # a typed .json suffix wins
        _action(window.context_menu(chosen[0]), "Export selection…").trigger()
    doc = json.loads((tmp_path / "picked.json").read_text("utf-8"))
    assert doc["format"] == "imago-export" and [i["path"] for i in doc["items"]] == sorted(
        e.path for e in chosen
    )

    # A right-click outside the selection exports the clicked item alone.
    outside = window.grid_model.entry(0)
    assert window.chosen_entries(outside) == [outside]


def test_recaption_is_disabled_without_a_caption_model(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive)
    action = _action(window.context_menu(window.grid_model.entry(0)), "Re-caption")
    assert not action.isEnabled() and "No caption model is installed" in action.toolTip()


def test_recaption_replaces_the_caption_and_refreshes_the_details(qtbot, models_dir, archive):
    install_bundle(FIXTURES / "models" / "git-tiny-base", models_dir)
    window = _open(qtbot, models_dir, archive)
    entry = window.grid_model.entry(2)
    with Catalog(window.catalog_path) as catalog:
        model_id = catalog.captions(entry.item_id)[0]["model_id"]  # captioned while indexing
        catalog.put_caption(entry.item_id, model_id, "an old guess")
    with qtbot.waitSignal(window.details_shown, timeout=TIMEOUT_MS):
        window.grid.setCurrentIndex(window.grid_model.index(2))
    assert window.details.caption.text() == "an old guess"

    action = _action(window.context_menu(entry), "Re-caption")
    assert action.isEnabled()
    with (
        qtbot.waitSignal(window.details_shown, timeout=TIMEOUT_MS),
        qtbot.waitSignal(window.item_jobs.recaptioned, timeout=TIMEOUT_MS) as done,
    ):
        action.trigger()
    assert done.args[0].captioned == [entry.item_id]
    assert window.details.caption.text() not in ("an old guess", "—")
    assert window.statusBar().currentMessage().startswith("New captions: 1")

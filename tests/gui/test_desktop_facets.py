"""The facets panel: folder tree and categories with counts restrict browsing and searches."""

from __future__ import annotations

import pytest
from gui_fixtures import ARCHIVE_FILES, open_indexed
from PySide6.QtCore import Qt

from desktop.main_window import MainWindow
from desktop.translation import install_translators, remove_translators
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import EntryRole
from store.services.facets import CategoryCount, Facets, FolderNode

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def _open(qtbot, models_dir, archive) -> MainWindow:
    window = open_indexed(qtbot, models_dir, archive)
    folders = window.facets.folders  # counted again once the run has ended
    qtbot.waitUntil(
        lambda: folders.topLevelItem(0) and folders.topLevelItem(0).text(1) == "9", timeout=TIMEOUT_MS
    )
    return window


def _click(qtbot, window, tree, item) -> int:
    """Click a facet row like the curator does; the number of items the grid then shows."""
    tree.scrollToItem(item)
    with qtbot.waitSignal(window.facets_shown, timeout=TIMEOUT_MS):
        if window.mode == "browse":
            with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS) as loaded:
                qtbot.mouseClick(
                    tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
                )
            return loaded.args[0]
        with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS):
            qtbot.mouseClick(
                tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
            )
    return window.grid_model.rowCount()


def _paths(window) -> list[str]:
    return [e.path for e in window.grid_model.entries()]


def test_folder_facet_restricts_browsing_and_search(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive)
    folders = window.facets.folders
    root = folders.topLevelItem(0)
    assert (root.text(0), root.text(1)) == ("archive", str(ARCHIVE_FILES))
    album = root.child(0)
    assert (album.text(0), album.text(1)) == ("album", "2") and root.childCount() == 1
    assert window.facets.restriction.text() == "All images" and not window.facets.clear_button.isVisible()

    assert _click(qtbot, window, folders, album) == 2
    assert all(p.startswith("album/") for p in _paths(window))
    assert window.results_label.text().endswith("filter: folder “album”")
    assert window.facets.clear_button.isVisible()

    # A text search stays within the folder; choosing the root lifts the restriction again.
    window.search_field.setText("png")
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS) as shown:
        window.run_text_search()
    assert shown.args[0].request.filters.folder == "album"
    assert _paths(window)[0] == "album/generated2.png" and all(p.startswith("album/") for p in _paths(window))
    root = folders.topLevelItem(0)
    _click(qtbot, window, folders, root)
    assert window.last_request.filters is None and window.last_request.text == "png"
    assert {"generated0.png", "album/generated2.png"} <= set(_paths(window))


def test_category_counts_match_what_a_click_shows(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive)
    categories = window.facets.categories
    first = categories.topLevelItem(0)
    assert (first.text(0), first.text(1)) == ("All categories", str(ARCHIVE_FILES))
    assert categories.topLevelItemCount() > 1
    category = categories.topLevelItem(1)
    label, count = category.text(0), int(category.text(1))
    assert _click(qtbot, window, categories, category) == count
    assert window.results_label.text().endswith(f"filter: category “{label}”")
    # Folders are now counted within the category; "Clear filter" shows everything again.
    assert int(window.facets.folders.topLevelItem(0).text(1)) == count
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS) as loaded:
        qtbot.mouseClick(window.facets.clear_button, Qt.MouseButton.LeftButton)
    assert loaded.args == [ARCHIVE_FILES] and window.facets.restriction.text() == "All images"


def test_find_similar_in_this_folder(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    row = next(i for i, e in enumerate(window.grid_model.entries()) if e.path == "album/generated2.png")
    entry = window.grid_model.index(row).data(EntryRole)
    menu = window.context_menu(entry)
    action = next(a for a in menu.actions() if a.text() == "Find similar in this folder")
    assert action.toolTip() == "Only images in album and its subfolders"
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS) as shown:
        action.trigger()
    outcome = shown.args[0]
    assert outcome.error is None and outcome.request.filters.folder == "album"
    assert _paths(window) == ["album/generated3.jpg"]  # the query itself is left out
    # The restriction shows in the facets panel, where it can be lifted.
    assert window.facets.folder == "album" and window.facets.folders.currentItem().text(0) == "album"


def test_category_names_in_russian(qapp, qtbot):
    """The Russian UI names categories from the vocabularies; the restriction stays the stored label."""
    panel = FacetsPanel()
    qtbot.addWidget(panel)
    translators = install_translators(qapp, "ru")
    try:
        counts = [CategoryCount("icon", 2), CategoryCount("no such label", 1)]
        panel.show_facets(Facets(FolderNode("", 3), counts, 3), "archive")
        rows = [panel.categories.topLevelItem(i) for i in range(panel.categories.topLevelItemCount())]
        assert [r.text(0) for r in rows] == ["Все категории", "икона", "no such label"]
        with qtbot.waitSignal(panel.changed):
            panel._on_clicked(rows[1])
        assert panel.filters().category == "icon"
        assert panel.restriction.text() == "Фильтр: категория «икона»"
    finally:
        remove_translators(qapp, translators)
    panel.show_facets(Facets(FolderNode("", 3), counts, 3), "archive")
    assert panel.categories.topLevelItem(1).text(0) == "icon"

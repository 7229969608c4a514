"""Long texts elide; the window never grows past the screen (a 200-character query once widened it
to 1972 px on a 1600 px screen and cut off the details panel)."""

from __future__ import annotations

import pytest
from gui_fixtures import open_indexed
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def test_long_query_and_status_stay_within_the_screen(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    room = window.screen().availableGeometry()
    window.resize(min(1280, room.width() - 40), min(820, room.height() - 40))
    window.move(room.topLeft())
    query = ("икона Богоматери Тихвинская steam locomotive " * 6)[:200]
    window.search_field.setText(query)
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS):
        window.run_text_search()
    status = "Index up to date: searchable 3012; since opening: new 3012, moved 0 — watching " * 4
    window.index_label.setText(status)
    window.statusBar().showMessage(f"Searching “{query}”…")
    qtbot.waitUntil(lambda: window.results_label.isVisible() and window.index_label.isVisible())
    QApplication.processEvents()  # the layout requests the new texts posted
    assert window.minimumSizeHint().width() <= room.width()
    assert window.frameGeometry().width() <= room.width() and window.frameGeometry().right() <= room.right()
    # The texts are elided, the whole of them in the tooltip.
    chip = window.query_chip.name  # the query is shown in the chip above the grid
    assert query in chip.text() and chip.elided() != chip.text()
    assert query in chip.toolTip() and window.index_label.toolTip() == status
    assert window.details.isVisible() and window.details.geometry().right() <= window.width()

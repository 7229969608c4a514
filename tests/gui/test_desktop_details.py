"""The details panel: region outline on the preview, description saved while typing and on leaving."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QTextCursor
from PySide6.QtWidgets import QLabel, QLineEdit

from desktop.widgets.details_panel import DetailsPanel, outlined
from store.services.browse import ItemDetails

pytestmark = pytest.mark.gui


def _details(item_id: int, region=None, description=None) -> ItemDetails:
    return ItemDetails(
        item_id=item_id, file_id=1, path="album/page.jpg", hash="ab" * 16, region=region, size=2048,
        width=800, height=400, format="JPEG", indexed_at=0.0,
        labels={"category": [("photograph", None, "curator"), ("map", 0.25, "model")]},
        caption="a page with photos", description=description,
    )  # fmt: skip


def test_region_is_outlined_at_preview_scale(qapp):
    preview = QImage(400, 200, QImage.Format.Format_RGB32)  # half the file's 800 px width
    preview.fill(QColor("black"))
    pixmap = outlined(preview, (200, 100, 200, 100), full_width=800)
    image = pixmap.toImage()
    assert image.pixelColor(100, 75) == QColor(255, 196, 0)  # left edge of the box at (100, 50)-(200, 100)
    assert image.pixelColor(150, 75) == QColor("black")  # inside stays untouched
    assert image.pixelColor(20, 20) == QColor("black")
    assert outlined(preview, None, 800).toImage() == preview.convertToFormat(image.format())


def test_edits_are_reported_once_when_leaving_the_item(qtbot):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    saved = []
    panel.description_edited.connect(lambda item_id, text: saved.append((item_id, text)))
    panel.show_item(_details(1, description="old"))
    shown = [w.text() for w in panel.labels.findChildren(QLabel)]
    assert panel.description.toPlainText() == "old" and "confirmed" in shown
    assert "0.25" in shown and panel.caption.text() == "a page with photos"
    panel.description.setPlainText("new text")
    panel.show_item(_details(2))
    assert saved == [(1, "new text")]
    panel.description.focus_lost.emit()  # nothing changed on item 2
    assert saved == [(1, "new text")] and panel.description.toPlainText() == ""
    panel.show_item(_details(3, region=(200, 100, 200, 100)))
    assert "region 200×100 at 200,100" in panel.title.text()


def test_confirm_reject_and_add_labels(qtbot):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    confirmed, rejected = [], []
    panel.label_confirmed.connect(lambda *args: confirmed.append(args))
    panel.label_rejected.connect(lambda *args: rejected.append(args))
    panel.show_item(_details(7))
    assert set(panel.labels.buttons("category", "photograph")) == {"✗"}  # already the curator's
    buttons = panel.labels.buttons("category", "map")
    qtbot.mouseClick(buttons["✓"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(buttons["✗"], Qt.MouseButton.LeftButton)
    add = panel.labels.findChild(QLineEdit, "add-name")
    qtbot.keyClicks(add, "  Tula  ")
    qtbot.keyClick(add, Qt.Key.Key_Return)
    qtbot.keyClick(add, Qt.Key.Key_Return)  # empty: nothing
    assert confirmed == [(7, "category", "map"), (7, "name", "Tula")] and add.text() == ""
    assert rejected == [(7, "category", "map")]
    panel.show_item(None)
    assert panel.labels.grid.count() == 0


def test_typing_is_saved_a_moment_after_the_last_key(qtbot):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    saved = []
    panel.description_edited.connect(lambda item_id, text: saved.append((item_id, text)))
    panel.show_item(_details(4, description="old"))
    assert not panel.save_timer.isActive()  # showing an item is no edit
    panel.description.moveCursor(QTextCursor.MoveOperation.End)
    with qtbot.waitSignal(panel.description_edited, timeout=5_000):
        qtbot.keyClicks(panel.description, " and new")
        assert saved == [] and panel.save_timer.isActive()  # not at every key: once typing pauses
    assert saved == [(4, "old and new")]
    panel.description.focus_lost.emit()  # leaving the field later writes nothing twice
    panel.show_item(_details(5))
    assert saved == [(4, "old and new")]

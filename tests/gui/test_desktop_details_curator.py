"""The details panel as a curator reads it: order, plain facts, one row per label, the caption taken as
the description, labels completed from the vocabularies (in Russian too) and the archive."""

from __future__ import annotations

import datetime as dt

import pytest
from gui_fixtures import open_indexed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

import desktop.translation
from desktop.widgets.details_panel import DetailsPanel, ItemDates
from desktop.widgets.formatting import human_bytes
from desktop.widgets.label_list import LabelRow, merged
from store.services.browse import ItemDetails
from store.services.curation import CurationService
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

pytestmark = pytest.mark.gui

TAKEN = dt.datetime(1912, 5, 3, 14, 30).timestamp()
MODIFIED = dt.datetime(2021, 1, 2, 9, 5).timestamp()


def _details(item_id=1, caption="a page with photos", labels=None) -> ItemDetails:
    return ItemDetails(
        item_id=item_id, file_id=1, path="album/1912/page.jpg", hash="ab" * 16, region=None, size=2048,
        width=800, height=400, format="JPEG", indexed_at=0.0, caption=caption, description=None,
        labels=labels or {"category": [("icon", None, "curator"), ("icon", 0.16, "model"),
                                       ("map", 0.25, "model")]},
    )  # fmt: skip


@pytest.fixture
def panel(qtbot):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 1200)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def russian(monkeypatch):
    monkeypatch.setattr(desktop.translation, "_shown_language", "ru")


def _texts(widget) -> list[str]:
    return [w.text() for w in widget.findChildren(QLabel)]


def test_a_confirmed_suggestion_is_one_row(panel):
    assert merged([("icon", None, "curator"), ("icon", 0.16, "model"), ("map", 0.25, "model")]) == [
        LabelRow("icon", 0.16, True),
        LabelRow("map", 0.25, False),
    ]
    panel.show_item(_details())
    shown = _texts(panel.labels)
    assert shown.count("icon") == 1 and "0.16" not in shown and "confirmed" in shown
    assert set(panel.labels.buttons("category", "icon")) == {"✗"}  # confirmed: only rejecting is left
    assert set(panel.labels.buttons("category", "map")) == {"✓", "✗"}
    state = next(w for w in panel.labels.findChildren(QLabel) if w.text() == "confirmed")
    assert "0.16" in state.toolTip()  # the model's score is still there to see


def test_order_facts_and_no_jargon(panel):
    panel.show_item(_details(), ItemDates(TAKEN, MODIFIED))
    tops = {
        "title": panel.title, "description": panel.description, "caption": panel.caption,
        "facts": panel.facts.parentWidget(), "labels": panel.labels,
    }  # fmt: skip
    order = sorted(tops, key=lambda name: tops[name].mapTo(panel.widget(), tops[name].rect().topLeft()).y())
    assert order == ["title", "description", "caption", "facts", "labels"]
    assert panel.caption.x() < panel.use_caption.x()  # the button beside the caption
    rows = [panel.facts.itemAt(n, panel.facts.ItemRole.LabelRole).widget().text() for n in range(4)]
    values = [panel.facts.itemAt(n, panel.facts.ItemRole.FieldRole).widget().text() for n in range(5)]
    assert rows == ["Taken", "Modified", "Size", "Format"]
    assert values == ["1912-05-03 14:30", "2021-01-02 09:05", "800×400 px, 2.0 KiB", "JPEG", "album/1912"]
    assert panel.facts.itemAt(4, panel.facts.ItemRole.LabelRole).widget().text() == "Folder"
    assert "page.jpg" in panel.title.text() and "album" not in panel.title.text()
    assert panel.title.toolTip() == "album/1912/page.jpg"
    shown = " ".join(_texts(panel.widget()))
    assert "Content hash" not in shown and "#1" not in shown and "abab" not in shown
    panel.show_item(_details(2))  # dates unknown: left out; a file at the top of the archive
    assert "Taken" not in _texts(panel.facts.parentWidget())


def test_use_the_caption_as_description(qtbot, panel):
    saved = []
    panel.description_edited.connect(lambda item_id, text: saved.append((item_id, text)))
    panel.show_item(_details(3))
    assert panel.use_caption.isEnabled()
    qtbot.mouseClick(panel.use_caption, Qt.MouseButton.LeftButton)
    assert panel.description.toPlainText() == "a page with photos" and saved == [(3, "a page with photos")]
    panel.show_item(_details(4))  # saved at once, like a typed edit: nothing more to save on leaving
    assert saved == [(3, "a page with photos")]
    panel.set_read_only(True, "read-only")
    assert not panel.use_caption.isEnabled()
    panel.set_read_only(False, "")
    panel.show_item(_details(5, caption=None))
    assert not panel.use_caption.isEnabled()


def test_adding_a_label_completes_from_vocabularies_and_archive(qtbot, panel):
    panel.set_archive_labels({"category": ["Tula samovar"]})
    panel.show_item(_details(6))
    offered = panel.labels.names["category"].stringList()
    assert {"icon", "painting", "Tula samovar"} <= set(offered) and "икона" not in offered
    assert "airplane" not in offered and "airplane" in panel.labels.names["name"].stringList()
    add = panel.labels.findChild(QLineEdit, "add-category")
    completer = add.completer()
    completer.setCompletionPrefix("samo")  # anywhere in a name, any case
    assert completer.currentCompletion() == "Tula samovar"
    panel.remember_label("category", "gilded frame")  # a label the curator just gave
    assert "gilded frame" in panel.labels.names["category"].stringList()
    panel.set_archive_labels({})  # another archive
    assert "Tula samovar" not in panel.labels.names["category"].stringList()


def test_russian_names_shown_and_stored_in_english(qtbot, panel, russian):
    confirmed = []
    panel.label_confirmed.connect(lambda *args: confirmed.append(args))
    panel.set_archive_labels({"category": ["Tula samovar"]})
    panel.show_item(_details(7))
    shown = _texts(panel.labels)
    assert "икона" in shown and "карта" in shown and "icon" not in shown
    offered = panel.labels.names["category"].stringList()
    assert {"икона", "icon", "Tula samovar"} <= set(offered)
    add = panel.labels.findChild(QLineEdit, "add-category")
    completer = add.completer()
    completer.setCompletionPrefix("ИКО")
    assert completer.currentCompletion() == "икона"
    add.setText("картина")  # (keyClicks takes ASCII only)
    qtbot.keyClick(add, Qt.Key.Key_Return)
    qtbot.keyClicks(add, "Tula samovar")
    qtbot.keyClick(add, Qt.Key.Key_Return)
    assert confirmed == [(7, "category", "painting"), (7, "category", "Tula samovar")]
    assert human_bytes(2048).startswith("2,0 ") and human_bytes(500).startswith("500 ")


def test_window_reads_dates_and_the_archives_labels(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    window.close()
    with Catalog(locate_index(archive).catalog_path) as catalog:
        curation = CurationService(catalog)
        curation.confirm_label(curation.records()[0].item_id, "category", "Tula samovar")
    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() > 1)
    with qtbot.waitSignal(window.details_shown, timeout=30_000):
        window.grid.setCurrentIndex(window.grid_model.index(1))
    panel = window.details
    facts = [panel.facts.itemAt(n, panel.facts.ItemRole.LabelRole).widget().text()
             for n in range(panel.facts.rowCount())]  # fmt: skip
    assert {"Modified", "Size", "Folder"} <= set(facts)
    qtbot.waitUntil(lambda: "Tula samovar" in panel.labels.names["category"].stringList())
    add = panel.labels.findChild(QLineEdit, "add-name")
    with qtbot.waitSignal(window.labels_saved, timeout=30_000):
        add.setText("my own name")
        qtbot.keyClick(add, Qt.Key.Key_Return)
    assert "my own name" in panel.labels.names["name"].stringList()  # offered from now on


def test_the_caption_replaces_a_written_description_only_when_asked(qtbot, panel, monkeypatch):
    from desktop.widgets import details_panel

    saved = []
    panel.description_edited.connect(lambda item_id, text: saved.append(text))
    panel.show_item(_details(3))
    panel.description.setPlainText("Written by the curator")
    answers = [details_panel.QMessageBox.StandardButton.No, details_panel.QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(details_panel.QMessageBox, "question", lambda *args: answers.pop(0))
    qtbot.mouseClick(panel.use_caption, Qt.MouseButton.LeftButton)  # "No": kept
    assert panel.description.toPlainText() == "Written by the curator" and saved == []
    qtbot.mouseClick(panel.use_caption, Qt.MouseButton.LeftButton)  # "Yes": replaced, and saved
    assert panel.description.toPlainText() == "a page with photos" and saved[-1] == "a page with photos"
    panel.description.undo()  # the curator's text is one Ctrl+Z away
    assert panel.description.toPlainText() == "Written by the curator"

"""The Russian UI: language choice, a complete and compiled translation, a translated window."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLabel

from desktop.main_window import MainWindow
from desktop.translation import install_translators, remove_translators, ui_language
from resources import resource_path

pytestmark = pytest.mark.gui

TS = resource_path("translations", "imago_ru.ts")


def test_language_from_setting_or_system_locale():
    assert ui_language("auto", "ru_RU") == "ru"
    assert ui_language("auto", "de_DE") == "en"
    assert ui_language("en", "ru_RU") == "en"
    assert ui_language("ru", "en_US") == "ru"


def test_every_string_is_translated_and_compiled():
    messages = list(ET.parse(TS).getroot().iter("message"))
    assert len(messages) > 90
    unfinished = [m.find("source").text for m in messages if m.find("translation").get("type")]
    assert unfinished == []
    assert all((m.find("translation").text or "").strip() for m in messages)


def test_compiled_translation_has_every_message_of_the_ts(qapp):
    """The .qm must be rebuilt after the .ts changes (see resources/translations/README.md): every
    message of the .ts, looked up in the loaded .qm, gives the .ts translation. (File times prove
    nothing: a fresh clone gives both files the same time.)"""
    translator = QTranslator()
    assert translator.load(str(resource_path("translations", "imago_ru.qm")))
    stale = []
    count = 0
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.find("name").text
        for message in context.iter("message"):
            source, wanted = message.find("source").text, message.find("translation").text
            comment = message.find("comment")
            disambiguation = comment.text if comment is not None else None
            count += 1
            if translator.translate(name, source, disambiguation) != wanted:
                stale.append((name, source))
    assert count > 90 and stale == []
    assert translator.translate("MainWindow", "no such message in the UI") == ""


def test_window_in_russian(qapp, qtbot, tmp_path):
    translators = install_translators(qapp, "ru")
    try:
        assert translators
        window = MainWindow(models_dir=tmp_path / "models")
        qtbot.addWidget(window)
        assert [a.text() for a in window.menuBar().actions()] == ["&Файл", "&Правка", "&Сервис"]
        assert window.search_field.placeholderText().startswith("Поиск по тексту")
        assert "нужен пакет модели CLIP" in window.models_text.text()
        assert str(tmp_path / "models") in window.models_text.toolTip()  # how to get one, and where
        assert window.facets.folders.headerItem().text(0) == "Папки"
        assert window.facets.restriction.text() == "Все изображения"
        assert window.failures_action.text() == "&Файлы, которые не удалось проиндексировать…"
    finally:
        remove_translators(qapp, translators)
    assert install_translators(qapp, "en") == []


def test_qt_own_dialogs_in_russian(qapp, qtbot):
    """Qt's standard buttons and its file dialog come from Qt's qtbase_ru translation."""
    buttons = QDialogButtonBox.StandardButton
    translators = install_translators(qapp, "ru")
    try:
        box = QDialogButtonBox(buttons.Cancel | buttons.Close | buttons.Yes)
        qtbot.addWidget(box)
        assert {b.text() for b in box.buttons()} == {"Отмена", "Закрыть", "&Да"}
        dialog = QFileDialog(None, "", "", "")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        qtbot.addWidget(dialog)
        assert "&Имя файла:" in [label.text() for label in dialog.findChildren(QLabel)]
        assert dialog.findChild(QDialogButtonBox).button(buttons.Cancel).text() == "Отмена"
    finally:
        remove_translators(qapp, translators)
    english = QDialogButtonBox(buttons.Cancel)
    qtbot.addWidget(english)
    assert english.button(buttons.Cancel).text() == "Cancel"

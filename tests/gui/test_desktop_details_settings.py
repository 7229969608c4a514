"""Settings in plain words: threads and caption beams under "Advanced", the device line without a
library's English message (it is the tooltip), and the language change said to come at the next start."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from desktop.dialogs.settings_dialog import SettingsDialog, describe_providers
from desktop.workers.tasks import TaskRunner
from models.session import ProviderProbe
from store.config import Settings

pytestmark = pytest.mark.gui

BROKEN = ProviderProbe("CUDAExecutionProvider", False, "libcudnn.so.9: cannot open shared object file")
CPU = ProviderProbe("CPUExecutionProvider", True, "ok")


@pytest.fixture
def dialog(qtbot, monkeypatch):
    monkeypatch.setattr("desktop.dialogs.settings_dialog._found_providers", [BROKEN, CPU])
    dialog = SettingsDialog(Settings(language="en"), TaskRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _shown_texts(dialog) -> list[str]:
    return [w.text() for w in dialog.findChildren(QLabel) if w.isVisible()]


def test_advanced_settings_are_folded_away(dialog):
    assert not dialog.threads.isVisible() and not dialog.beams.isVisible()
    assert not any("beam" in text.lower() or "thread" in text.lower() for text in _shown_texts(dialog))
    dialog.advanced_button.click()
    assert dialog.threads.isVisible() and dialog.beams.isVisible()
    assert dialog.threads.toolTip() and dialog.beams.toolTip()  # what they do, in plain words
    dialog.advanced_button.click()
    assert not dialog.threads.isVisible()


def test_device_line_keeps_the_library_message_as_tooltip(dialog):
    assert describe_providers([BROKEN, CPU]) == "This computer: no usable GPU; models run on the CPU."
    assert dialog.device_found.text() == "This computer: no usable GPU; models run on the CPU."
    assert dialog.device_found.toolTip() == BROKEN.detail


def test_language_change_applies_at_the_next_start(dialog):
    assert not dialog.language_note.isVisible()
    dialog.language.setCurrentIndex(dialog.language.findData("ru"))
    assert dialog.language_note.isVisible() and "next started" in dialog.language_note.text()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert not dialog.language_note.isVisible()

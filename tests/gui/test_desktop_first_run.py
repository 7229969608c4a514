"""The first run: a welcome screen with an "Open archive…" button and the recent archives, the archive
shown at once without any model bundle, and an "Install model…" flow that says how to get bundles."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from gui_fixtures import ARCHIVE_FILES, CLIP_TINY
from PySide6.QtCore import Qt

from desktop.dialogs.install_models_dialog import InstallModelsDialog
from desktop.main_window import MainWindow
from desktop.widgets.models_notice import how_to_get_models
from store.config import Settings

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000
INDEX_TIMEOUT_MS = 120_000
README = Path(__file__).resolve().parents[2] / "README.md"


def _window(qtbot, models_dir: Path) -> MainWindow:
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    return window


def test_welcome_button_opens_an_archive_shown_without_models(qtbot, archive, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path / "models")
    welcome = window.welcome
    assert welcome.isVisible() and welcome.open_button.isVisible() and not window.splitter.isVisible()
    assert not welcome.recent_title.isVisible()  # nothing opened yet
    asked = []
    monkeypatch.setattr("desktop.main_window.QFileDialog.getExistingDirectory",
                        lambda *args: asked.append(args) or str(archive))  # fmt: skip
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        qtbot.mouseClick(welcome.open_button, Qt.MouseButton.LeftButton)
    assert asked and window.archive == archive.resolve()
    assert not welcome.isVisible() and window.splitter.isVisible() and window.models_panel.isVisible()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        pass  # the built-in image model indexes it; no bundle is needed
    assert finished.args[0].summary.indexed == ARCHIVE_FILES


def test_welcome_lists_recent_archives(qtbot, archive, tmp_path):
    settings = Settings(recent_archives=[str(archive), str(tmp_path / "elsewhere")])
    settings.save()
    window = _window(qtbot, tmp_path / "models")
    buttons = window.welcome.recent_buttons
    assert window.welcome.recent_title.isVisible() and len(buttons) == 2
    assert buttons[0].toolTip() == str(archive) and buttons[0].text().startswith("archive — ")
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    assert window.archive == archive.resolve() and not window.welcome.isVisible()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS):
        pass


def test_install_model_explains_then_installs_from_a_folder(qtbot, tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    window = _window(qtbot, models_dir)
    notice = window.models_panel
    assert notice.isVisible() and notice.install_button.text() == "Install model…"
    assert notice.sizeHint().height() < 50  # one line
    qtbot.mouseClick(notice.install_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(InstallModelsDialog)
    assert dialog is not None and dialog.isVisible()
    assert "[export]" in dialog.text.text() and str(models_dir) in dialog.text.text()
    monkeypatch.setattr("desktop.controllers.models.QFileDialog.getExistingDirectory",
                        lambda *args: str(CLIP_TINY))  # fmt: skip
    with qtbot.waitSignal(window.models.installed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
    assert (models_dir / "clip-tiny" / "manifest.json").is_file()
    assert not notice.isVisible()


def test_in_app_model_instructions_match_the_readme(tmp_path):
    """Every command of the README's "Getting CLIP and GIT" export block is in the in-app text."""
    section = README.read_text(encoding="utf-8").split("### Getting CLIP and GIT", 1)[1]
    block = section.split("```", 2)[1]
    commands = re.findall(r"^(?:pip install|python main\.py models export).*?(?<!\\)$", block, re.M | re.S)
    assert len(commands) == 3  # the [export] extra, the CLIP bundle (multilingual text model), GIT
    shown = html.unescape(how_to_get_models(tmp_path))
    for command in commands:
        assert " ".join(command.split()) in " ".join(shown.split()), command
    assert "sentence-transformers/clip-ViT-B-32-multilingual-v1" in shown and "git-base" in shown

"""Keeping the index in step with the archive: watching for changes, periodic rescans, the settings."""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import ARCHIVE_FILES
from PIL import Image

from desktop.main_window import MainWindow
from store.config import Settings

pytestmark = pytest.mark.gui

INDEX_TIMEOUT_MS = 120_000
TIMEOUT_MS = 60_000


def _open(qtbot, models_dir, archive, settings: Settings) -> MainWindow:
    window = MainWindow(models_dir=models_dir, settings=settings)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.open_archive(archive)
    assert finished.args[0].summary.indexed == ARCHIVE_FILES
    return window


def _add_image(path) -> None:
    pixels = np.random.default_rng(99).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def _indexed_new_file(outcome) -> bool:
    return outcome.summary is not None and outcome.summary.indexed == 1


def test_new_files_are_indexed_while_watching(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive, Settings())
    assert window.last_index.watching and window.index_worker is not None
    assert window.index_label.text().endswith("watching for changes")
    assert not window.progress_bar.isVisible() and not window.pause_button.isVisible()
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS, check_params_cb=_indexed_new_file):
        _add_image(archive / "album" / "arrived.png")
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES + 1, timeout=TIMEOUT_MS)
    assert "album/arrived.png" in [e.path for e in window.grid_model.entries()]
    window.close()
    assert window.index_worker is None  # the watching thread ended with the window


def test_periodic_rescan_without_watching(qtbot, models_dir, archive, monkeypatch):
    monkeypatch.setattr("desktop.workers.index_worker.SECONDS_PER_MINUTE", 0.3)  # "every minute", sped up
    window = _open(qtbot, models_dir, archive, Settings(watch_archive=False, rescan_minutes=1))
    assert window.index_label.text().endswith("rescan every 1 min")
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS, check_params_cb=_indexed_new_file):
        _add_image(archive / "late.png")
    assert window.last_index.watching


def test_one_run_when_neither_watching_nor_rescanning(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive, Settings(watch_archive=False, rescan_minutes=0))
    assert not window.last_index.watching and window.index_worker is None
    assert "watching" not in window.index_label.text()


def test_changing_the_watch_settings_restarts_the_indexer(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive, Settings())
    watching = window.index_worker
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.apply_settings(Settings(watch_archive=False, rescan_minutes=0))
    assert not watching.isRunning() and not finished.args[0].watching
    assert Settings.load().watch_archive is False
    assert "indexing started again" in window.statusBar().currentMessage()


def test_summary_after_a_settings_restart_counts_the_whole_indexing(qtbot, models_dir, archive):
    window = _open(qtbot, models_dir, archive, Settings())
    assert f"since opening: new {ARCHIVE_FILES}, moved 0" in window.index_label.text()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.apply_settings(Settings(rescan_minutes=5))  # restarts indexing with the new setting
    assert finished.args[0].summary.indexed == 0  # this run found nothing new...
    # ...but the window reports what indexing did since the archive was opened, not "new 0".
    assert f"since opening: new {ARCHIVE_FILES}, moved 0" in window.index_label.text()
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS, check_params_cb=_indexed_new_file):
        _add_image(archive / "album" / "arrived.png")
    assert f"since opening: new {ARCHIVE_FILES + 1}, moved 0" in window.index_label.text()

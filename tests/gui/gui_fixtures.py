"""Shared constants of the GUI tests (importable from test modules, unlike conftest)."""

from __future__ import annotations

from pathlib import Path

from desktop.main_window import MainWindow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLIP_TINY = FIXTURES / "models" / "clip-tiny"
ARCHIVE_FILES = 9  # the `archive` fixture: five fixture photos and four generated images
INDEX_TIMEOUT_MS = 120_000


def open_indexed(qtbot, models_dir: Path, archive: Path) -> MainWindow:
    """A shown main window that has opened `archive` and finished its first indexing run."""
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        assert window.open_archive(archive)
    outcome = finished.args[0]
    assert outcome.error is None and outcome.summary is not None
    return window

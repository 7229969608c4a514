"""Qt application entry point: builds the QApplication and the main window."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow
from store import config

logger = logging.getLogger(__name__)


def run_app(archive: Path | None, find_similar: str | None, argv: list[str]) -> int:
    """Start the GUI and run its event loop; returns the exit code."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Imago")
    app.setOrganizationName("Imago")
    window = MainWindow(models_dir=config.models_dir(), archive=archive)
    window.show()
    if find_similar:
        logger.info("find-similar request for %s", find_similar)
        window.statusBar().showMessage(f"Find similar: {find_similar} (needs an indexed archive and a model)")
    logger.info("GUI started (archive: %s)", archive)
    return app.exec()

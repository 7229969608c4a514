"""Qt application entry point: single-instance forwarding, the exception hook, the main window."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop.dialogs.error_dialog import ExceptionHook
from desktop.main_window import MainWindow, load_settings
from desktop.shutdown import SignalQuitter
from desktop.single_instance import InstanceServer, forward_request
from desktop.translation import install_translators, remove_translators, ui_language
from store import config

logger = logging.getLogger(__name__)


def startup_request(archive: Path | None, find_similar: str | None) -> dict:
    """What this launch asks for, as sent to an already running instance."""
    request: dict = {}
    if archive is not None:
        request["archive"] = str(archive)
    if find_similar:
        request["find_similar"] = str(Path(find_similar).expanduser().resolve())
    return request


def run_app(archive: Path | None, find_similar: str | None, argv: list[str]) -> int:
    """Start the GUI (or hand the request to a running one) and run its event loop; the exit code."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Imago")
    app.setOrganizationName("Imago")
    request = startup_request(archive, find_similar)
    if forward_request(request):
        logger.info("another Imago window is running; it took the request %s", request)
        return 0
    settings = load_settings()
    translators = install_translators(app, ui_language(settings.language))
    if archive is None and find_similar and settings.recent_archives:
        archive = Path(settings.recent_archives[0])  # find similar in the archive used last
    window = MainWindow(models_dir=config.models_dir(), archive=archive, settings=settings)
    hook = ExceptionHook(lambda: window)
    server = InstanceServer(window)
    server.request.connect(window.handle_request)
    server.listen()
    window.show()
    if find_similar:
        window.find_similar_file(Path(request["find_similar"]))
    # Quit signals (store.platform.signals), and on Windows the end of the session, close the windows.
    quitter = SignalQuitter(app)
    logger.info("GUI started (archive: %s)", archive)
    try:
        return app.exec()
    finally:
        quitter.uninstall()
        server.close()
        hook.uninstall()
        remove_translators(app, translators)

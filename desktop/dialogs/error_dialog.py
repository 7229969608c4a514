"""Global exception hook: an unexpected error is logged with its traceback and shown in a dialog
with the message and where the log file is, instead of silently killing a slot or the app."""

from __future__ import annotations

import html
import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from store import config

logger = logging.getLogger(__name__)

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def error_text(exc: BaseException) -> str:
    """The dialog's message: what went wrong and where the details are."""
    text = QCoreApplication.translate(
        "ExceptionHook",
        "<p><b>Something went wrong:</b> {error}</p><p>Your work is saved (descriptions are saved as "
        "you edit). The details are in the log folder:<br><code>{logs}</code></p>",
    )
    return text.format(
        error=html.escape(f"{type(exc).__name__}: {exc}"), logs=html.escape(str(config.log_dir()))
    )


class ExceptionHook:
    """Installs itself as `sys.excepthook`; `uninstall()` restores the previous hook.

    `show` builds the dialog (tests replace it to avoid a modal loop); re-entrant errors while a
    dialog is open are only logged.
    """

    def __init__(self, parent: Callable[[], QWidget | None] = lambda: None) -> None:
        self._parent = parent
        self._previous: Hook = sys.excepthook
        self._showing = False
        self.show: Callable[[str, str], None] = self._dialog
        sys.excepthook = self

    def __call__(self, kind, exc, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, exc, tb)
            return
        logger.error("unexpected error", exc_info=(kind, exc, tb))
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            self.show(error_text(exc), "".join(traceback.format_exception(kind, exc, tb)))
        finally:
            self._showing = False

    def _dialog(self, message: str, details: str) -> None:
        box = QMessageBox(self._parent())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(QCoreApplication.translate("ExceptionHook", "Imago — unexpected error"))
        box.setText(message)
        box.setDetailedText(details)
        box.exec()

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous

"""The global exception hook: logged, shown with the log location, previous hook restored."""

from __future__ import annotations

import logging
import sys

import pytest

from desktop.dialogs.error_dialog import ExceptionHook
from store import config

pytestmark = pytest.mark.gui


def _raise_and_capture():
    try:
        raise ValueError("catalog row 7 is odd")
    except ValueError:
        return sys.exc_info()


def test_unexpected_error_is_logged_and_shown(qapp, caplog):
    previous = sys.excepthook
    hook = ExceptionHook()
    shown = []
    hook.show = lambda message, details: shown.append((message, details))
    try:
        assert sys.excepthook is hook
        with caplog.at_level(logging.ERROR, logger="desktop.dialogs.error_dialog"):
            hook(*_raise_and_capture())
    finally:
        hook.uninstall()
    assert sys.excepthook is previous
    ((message, details),) = shown
    assert "ValueError: catalog row 7 is odd" in message and str(config.log_dir()) in message
    assert "Traceback" in details and "_raise_and_capture" in details
    assert caplog.records[-1].exc_info[1].args == ("catalog row 7 is odd",)


def test_error_in_a_slot_reaches_the_hook(qapp, qtbot):
    from PySide6.QtCore import QTimer

    hook = ExceptionHook()
    shown = []
    hook.show = lambda message, details: shown.append(message)

    def broken_slot():
        raise RuntimeError("slot failed")

    try:
        with qtbot.capture_exceptions():  # pytest-qt's own hook is bypassed while ours is installed
            sys.excepthook = hook
            QTimer.singleShot(0, broken_slot)
            qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    finally:
        hook.uninstall()
    assert "RuntimeError: slot failed" in shown[0]

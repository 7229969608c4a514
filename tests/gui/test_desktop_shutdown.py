import os
import signal

import pytest
from PySide6.QtWidgets import QMainWindow

from desktop.shutdown import SignalQuitter

pytestmark = pytest.mark.gui


def test_sigterm_closes_windows_and_quits(qapp, qtbot, monkeypatch):
    quits = []
    monkeypatch.setattr(qapp, "quit", lambda: quits.append(True))  # keep pytest-qt's application alive
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    quitter = SignalQuitter(qapp)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: quits == [True])
        assert not window.isVisible()
    finally:
        quitter.uninstall()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

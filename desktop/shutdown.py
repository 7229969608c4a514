"""Clean shutdown of the GUI on SIGTERM/SIGINT (session logout, `kill`, Ctrl+C in a terminal)."""

from __future__ import annotations

import logging
import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication

logger = logging.getLogger(__name__)

QUIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalQuitter(QObject):
    """Closes all windows (so they save their state) and quits the event loop when a signal arrives.

    A Python signal handler only runs when the interpreter gets control, which Qt's C++ event loop never
    gives it; `signal.set_wakeup_fd` makes the C-level handler write the signal number to a socket, and a
    QSocketNotifier on the other end wakes the event loop. Install from the main thread only.
    """

    def __init__(self, app: QApplication, signals: tuple[signal.Signals, ...] = QUIT_SIGNALS) -> None:
        super().__init__(app)
        self._app = app
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous_handlers = {sig: signal.signal(sig, _ignore_in_python) for sig in signals}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_signal)

    def _on_signal(self) -> None:
        try:
            received = self._reader.recv(64)
        except BlockingIOError:
            return
        names = ", ".join(signal.Signals(number).name for number in received)
        logger.info("received %s: closing windows and quitting", names)
        self._app.closeAllWindows()
        self._app.quit()

    def uninstall(self) -> None:
        """Restore the previous handlers and wake-up fd (tests create several applications' worth)."""
        self._notifier.setEnabled(False)
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        self._reader.close()
        self._writer.close()


def _ignore_in_python(signum: int, frame: object) -> None:
    """The real work happens in SignalQuitter._on_signal, woken through the wake-up fd."""

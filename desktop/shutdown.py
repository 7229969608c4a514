"""Clean shutdown of the GUI: quit signals (SIGTERM/SIGINT on POSIX, Ctrl+C/Ctrl+Break in a Windows
console) and, on Windows, the end of the user session (see store.platform.signals)."""

from __future__ import annotations

import logging
import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier, Qt
from PySide6.QtWidgets import QApplication

from store.platform.signals import quit_signals, session_end_needs_saving

logger = logging.getLogger(__name__)

QUIT_SIGNALS = quit_signals()


class SignalQuitter(QObject):
    """Closes all windows (so they save their state) and quits the event loop when a signal arrives.

    A Python signal handler only runs when the interpreter gets control, which Qt's C++ event loop never
    gives it; `signal.set_wakeup_fd` makes the C-level handler write the signal number to a socket (on
    Windows too, where only sockets are accepted), and a QSocketNotifier on the other end wakes the event
    loop. With `session_end` (default: on Windows) the windows are also closed on Qt's commitDataRequest,
    the only notice a windowed Windows app gets before logout or shutdown ends it. Install from the main
    thread only.
    """

    def __init__(
        self,
        app: QApplication,
        signals: tuple[signal.Signals, ...] = QUIT_SIGNALS,
        session_end: bool = session_end_needs_saving(),
    ) -> None:
        super().__init__(app)
        self._app = app
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous_handlers = {sig: signal.signal(sig, _ignore_in_python) for sig in signals}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_signal)
        self._session_end = session_end
        if session_end:
            app.commitDataRequest.connect(self._on_session_end, Qt.ConnectionType.DirectConnection)

    def _on_signal(self) -> None:
        try:
            received = self._reader.recv(64)
        except BlockingIOError:
            return
        names = ", ".join(signal.Signals(number).name for number in received)
        logger.info("received %s: closing windows and quitting", names)
        self._app.closeAllWindows()
        self._app.quit()

    def _on_session_end(self, _manager: object) -> None:
        logger.info("the session is ending: closing windows")
        self._app.closeAllWindows()

    def uninstall(self) -> None:
        """Restore the previous handlers and wake-up fd (tests create several applications' worth)."""
        self._notifier.setEnabled(False)
        if self._session_end:
            self._app.commitDataRequest.disconnect(self._on_session_end)
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        self._reader.close()
        self._writer.close()


def _ignore_in_python(signum: int, frame: object) -> None:
    """The real work happens in SignalQuitter._on_signal, woken through the wake-up fd."""

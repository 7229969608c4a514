"""Which signals mean "quit cleanly", per platform.

- POSIX (Linux, macOS): SIGTERM (logout, `kill`, service managers) and SIGINT (Ctrl+C in a terminal).
- Windows: no other process can deliver SIGTERM (TerminateProcess cannot be caught); a console sends
  SIGINT for Ctrl+C and SIGBREAK for Ctrl+Break. A windowed app has no console at all: there, logout
  and shutdown arrive as WM_QUERYENDSESSION, which Qt turns into `commitDataRequest` (and the process is
  killed right after WM_ENDSESSION), so the GUI must save its state on that request.
"""

from __future__ import annotations

import signal
import sys

POSIX_QUIT_SIGNALS = ("SIGTERM", "SIGINT")
WINDOWS_QUIT_SIGNALS = ("SIGINT", "SIGBREAK")


def quit_signal_names(platform: str = sys.platform) -> tuple[str, ...]:
    """The names of the signals that should end the program cleanly on `platform`."""
    return WINDOWS_QUIT_SIGNALS if platform == "win32" else POSIX_QUIT_SIGNALS


def quit_signals(platform: str = sys.platform) -> tuple[signal.Signals, ...]:
    """This interpreter's signals among `quit_signal_names(platform)`."""
    return tuple(getattr(signal, name) for name in quit_signal_names(platform) if hasattr(signal, name))


def session_end_needs_saving(platform: str = sys.platform) -> bool:
    """Whether ending the user session gives the GUI only Qt's `commitDataRequest` to save its state
    (Windows); elsewhere a signal (SIGTERM) or Qt's Quit event closes the windows."""
    return platform == "win32"

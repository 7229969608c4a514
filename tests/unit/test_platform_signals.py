"""Quit signals and session end, per platform."""

from __future__ import annotations

import signal

from store.platform.signals import quit_signal_names, quit_signals, session_end_needs_saving


def test_quit_signals_per_platform():
    assert quit_signal_names("linux") == ("SIGTERM", "SIGINT")
    assert quit_signal_names("darwin") == ("SIGTERM", "SIGINT")
    assert quit_signal_names("win32") == ("SIGINT", "SIGBREAK")  # SIGTERM is never delivered there


def test_quit_signals_are_this_interpreters():
    assert quit_signals("linux") == (signal.SIGTERM, signal.SIGINT)
    windows = quit_signals("win32")  # SIGBREAK exists only on Windows
    assert signal.SIGINT in windows and all(isinstance(s, signal.Signals) for s in windows)


def test_only_windows_saves_on_session_end():
    assert session_end_needs_saving("win32")
    assert not session_end_needs_saving("linux") and not session_end_needs_saving("darwin")

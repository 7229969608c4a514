"""File locks and process liveness: the pure parts of the POSIX and Windows branches."""

from __future__ import annotations

import errno
import os

from store.platform import file_locks
from store.platform.file_locks import ERROR_ACCESS_DENIED, STILL_ACTIVE, busy_errnos, windows_pid_alive


def test_busy_errnos_per_platform():
    assert errno.EACCES in busy_errnos("win32") and errno.EDEADLK in busy_errnos("win32")
    assert errno.EAGAIN not in busy_errnos("win32")
    assert {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES} <= busy_errnos("linux")
    assert busy_errnos("darwin") == busy_errnos("linux")


def test_windows_liveness_from_open_process_and_exit_code():
    assert windows_pid_alive(123, 0, STILL_ACTIVE)
    assert not windows_pid_alive(123, 0, 0)  # ended, handle kept alive by someone else
    assert windows_pid_alive(123, 0, None)  # exit code unreadable: assume it runs
    assert windows_pid_alive(None, ERROR_ACCESS_DENIED, None)  # another user's process
    assert not windows_pid_alive(None, 87, None)  # ERROR_INVALID_PARAMETER: no such process


def test_posix_liveness_and_lock(tmp_path):
    assert file_locks.pid_alive(os.getpid())
    assert not file_locks.pid_alive(0) and not file_locks.pid_alive(-1)
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT)
    second = os.open(path, os.O_RDWR)
    try:
        file_locks.lock(first)
        try:
            file_locks.lock(second)
        except OSError as exc:
            assert exc.errno in busy_errnos()
        else:
            raise AssertionError("a second lock on the same file was granted")
        file_locks.unlock(first)
        file_locks.lock(second)
    finally:
        os.close(first)
        os.close(second)

"""Advisory whole-process file locks and "is that process alive", for POSIX and Windows.

- POSIX: `fcntl.flock(LOCK_EX | LOCK_NB)`; a held lock fails with EWOULDBLOCK/EAGAIN (EACCES on some
  systems). The kernel frees it when the process dies.
- Windows: `msvcrt.locking(LK_NBLCK)` on one byte far past the data, since Windows locks are mandatory
  and would otherwise stop other processes reading the pid written at the start of the file. A held lock
  fails with EACCES (EDEADLOCK for the retrying modes); Windows frees it when the process ends.
- Liveness: `os.kill(pid, 0)` on POSIX. Never on Windows, where os.kill with any signal but the two
  console events calls TerminateProcess: there OpenProcess + GetExitCodeProcess decide.
"""

from __future__ import annotations

import errno
import os
import sys

WINDOWS_LOCK_OFFSET = 1 << 20
STILL_ACTIVE = 259  # GetExitCodeProcess of a running process
ERROR_ACCESS_DENIED = 5  # OpenProcess on another user's (or a protected) process that exists
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def busy_errnos(platform: str = sys.platform) -> frozenset[int]:
    """The error numbers that mean "another process holds the lock" on `platform`."""
    if platform == "win32":
        return frozenset({errno.EACCES, errno.EDEADLK})  # EDEADLOCK is EDEADLK in the C runtime
    return frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})


if sys.platform == "win32":  # pragma: no cover - Windows only
    import ctypes
    import msvcrt

    def lock(fd: int) -> None:
        """Take the lock on the open file `fd` now or raise OSError."""
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def unlock(fd: int) -> None:
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def pid_alive(pid: int) -> bool:
        """Whether process `pid` exists (a process of another user counts)."""
        if pid <= 0:
            return False
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return windows_pid_alive(None, ctypes.get_last_error(), None)
        try:
            code = ctypes.c_ulong()
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return windows_pid_alive(handle, 0, code.value if ok else None)
        finally:
            kernel32.CloseHandle(handle)

else:
    import fcntl

    def lock(fd: int) -> None:
        """Take the lock on the open file `fd` now or raise OSError."""
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def pid_alive(pid: int) -> bool:
        """Whether process `pid` exists (a process of another user counts)."""
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def windows_pid_alive(handle: int | None, last_error: int, exit_code: int | None) -> bool:
    """Windows' answer from OpenProcess's `handle` (None when it failed, with `last_error`) and
    GetExitCodeProcess's `exit_code` (None when it failed). A handle can still open on a process that
    has ended while others hold handles to it, hence the exit code; access denied means it exists."""
    if handle is None:
        return last_error == ERROR_ACCESS_DENIED
    return exit_code is None or exit_code == STILL_ACTIVE

"""One indexer per archive: an OS lock on `<index folder>/indexer.lock`, which holds the owner's pid.

The lock is an advisory OS lock (fcntl.flock on POSIX, msvcrt.locking on Windows), so the operating
system frees it when its process dies, even by kill -9: a stale lock file never blocks the next run.
Where the file system offers no locks (some network shares), the pid in the file decides: a lock whose
process no longer exists is taken over.

Thread-safety: an IndexLock is acquired and released by one thread; two IndexLocks on the same folder
exclude each other also within one process (each has its own open file).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from pathlib import Path

from store.errors import IndexerBusyError, IndexLockError

logger = logging.getLogger(__name__)

LOCK_FILE = "indexer.lock"
_WINDOWS_LOCK_OFFSET = 1 << 20  # Windows locks a byte past the pid, so others can still read the pid

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _os_lock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _os_unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    _BUSY = (errno.EACCES, errno.EDEADLK)
else:
    import fcntl

    def _os_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _os_unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    _BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IndexLock:
    """The right to index one archive; use as a context manager or acquire()/release()."""

    def __init__(self, folder: Path, archive: Path | str | None = None) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.archive = archive if archive is not None else Path(folder).parent
        self._fd: int | None = None
        self._os_locked = False

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now or raise IndexerBusyError naming the pid that holds it."""
        if self._fd is not None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            reason = exc.strerror or exc
            raise IndexLockError(f"cannot create the indexer lock {self.path}: {reason}") from exc
        try:
            try:
                _os_lock(fd)
                self._os_locked = True
            except OSError as exc:
                if exc.errno not in _BUSY and not isinstance(exc, BlockingIOError):
                    # No OS locks here (e.g. ENOLCK on a network share): the recorded pid decides.
                    logger.warning("no OS file locks for %s (%s); using the pid in it", self.path, exc)
                    owner = self._owner(fd)
                    if owner and owner != os.getpid() and _pid_alive(owner):
                        raise self._busy(owner) from None
                else:
                    raise self._busy(self._owner(fd)) from None
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            os.close(fd)
            self._os_locked = False
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no pid left behind for a reader to report
        if self._os_locked:
            with contextlib.suppress(OSError):
                _os_unlock(fd)
        self._os_locked = False
        os.close(fd)

    def _owner(self, fd: int) -> int | None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        except OSError:
            return None

    def _busy(self, pid: int | None) -> IndexerBusyError:
        who = f"pid {pid}" if pid else "pid unknown"
        return IndexerBusyError(f"another indexer ({who}) is running on {self.archive} (lock {self.path})")

    def __enter__(self) -> IndexLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a dropped lock must not stay held by a leaked descriptor
        with contextlib.suppress(Exception):
            self.release()

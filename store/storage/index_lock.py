"""One indexer per archive: an OS lock on `<index folder>/indexer.lock`, which holds the owner's pid.

The lock is an advisory OS lock (store.platform.file_locks: flock on POSIX, msvcrt.locking on Windows),
so the operating system frees it when its process dies, even by kill -9: a stale lock file never blocks
the next run.
Where the file system offers no locks (some network shares), the pid in the file decides: a lock whose
process no longer exists is taken over.

Thread-safety: an IndexLock is acquired and released by one thread; two IndexLocks on the same folder
exclude each other also within one process (each has its own open file).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from store.errors import IndexerBusyError, IndexLockError
from store.platform import file_locks

logger = logging.getLogger(__name__)

LOCK_FILE = "indexer.lock"
_BUSY = file_locks.busy_errnos()
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation of the pid


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
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _BINARY, 0o644)
        except OSError as exc:
            reason = exc.strerror or exc
            raise IndexLockError(f"cannot create the indexer lock {self.path}: {reason}") from exc
        try:
            try:
                file_locks.lock(fd)
                self._os_locked = True
            except OSError as exc:
                if exc.errno not in _BUSY and not isinstance(exc, BlockingIOError):
                    # No OS locks here (e.g. ENOLCK on a network share): the recorded pid decides.
                    logger.warning("no OS file locks for %s (%s); using the pid in it", self.path, exc)
                    owner = self._owner(fd)
                    if owner and owner != os.getpid() and file_locks.pid_alive(owner):
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
                file_locks.unlock(fd)
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

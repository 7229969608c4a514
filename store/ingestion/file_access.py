"""Opening archive files for reading without ever blocking on something that is not a file.

The scanner only lists regular files, but a file can be replaced between the scan and the read (a
FIFO swapped in, a device node), and a query file comes from anywhere (`similar /dev/zero`). Opening
a FIFO for reading blocks until a writer appears; reading a device never ends. So every read of an
image goes through `open_regular`: it opens without blocking and checks the file type on the open
descriptor, so there is no window between the check and the read.

Windows has no FIFOs in folders and no O_NONBLOCK: opening never waits there (a named pipe
connects or fails at once; CON, NUL and other devices open without reading), and os.fstat reports them
as S_IFIFO / S_IFCHR (from GetFileType), so the same check refuses them. Opening a folder there fails
with "access denied" instead of succeeding, and is reported as a folder all the same.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from store.errors import NotAnImageError, UnreadableFileError

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # absent on Windows (see above)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def open_regular(path: Path | bytes | str, shown: str | None = None) -> BinaryIO:
    """Open `path` for binary reading; refuse anything but a regular file.

    FileNotFoundError passes through (the caller decides whether the file vanished); other problems
    raise UnreadableFileError or NotAnImageError with `shown` (default: the path) in the message.
    """
    shown = shown if shown is not None else os.fsdecode(path)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    except FileNotFoundError:
        raise
    except PermissionError as exc:
        if os.path.isdir(path):  # Windows: a folder cannot be opened at all
            raise NotAnImageError(f"not a file but a folder: {shown}") from exc
        raise UnreadableFileError(f"permission denied: {shown}") from exc
    except IsADirectoryError as exc:
        raise NotAnImageError(f"not a file but a folder: {shown}") from exc
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAnImageError(f"not a regular file ({file_kind(mode)}): {shown}")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words, from its `st_mode`."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"

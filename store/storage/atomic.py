"""Writing a file atomically: into a temporary file beside it, then `os.replace`, so readers see the
old file or the new one, never a part of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_replace(
    path: Path, *, temp: Path | None = None, prefix: str = ".tmp-", suffix: str = ".tmp"
) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write; when the block ends without an error it
    replaces `path`, otherwise it is removed. `temp` names it; by default it is a new, private file
    (`tempfile.mkstemp` with `prefix` and `suffix`), so concurrent writers never share one."""
    if temp is None:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=Path(path).parent)
        os.close(fd)
        temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

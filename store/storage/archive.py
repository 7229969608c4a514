"""Where an archive's index lives: `<archive>/.imago/`, or under the user data dir when read-only.

Paths stored in the index are relative to the archive root, so a writable archive can move or be
mounted elsewhere and keep its index. A read-only archive (DVD, read-only share) gets its index under
`<index root>/<key>`, keyed by the archive's absolute path; the index root is the setting
`fallback_index_dir`, by default `user_data_dir()/indexes`.

An archive whose own `.imago` holds a catalog but cannot be written (a DVD or read-only share indexed
before it was made read-only, a `.imago` left by someone else) keeps that index: it is opened read-only
(`IndexLocation.read_only`) for searching and browsing, and indexing or saving edits says so
(ReadOnlyIndexError) instead of building a second index without the curator's edits elsewhere.
Whether an index folder is writable is decided by one function, `index_writable`, which tries real
writes (mode bits and os.access are wrong for root and for read-only mounts).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from models.errors import ConfigError
from store import config
from store.errors import ArchiveError, CatalogError

logger = logging.getLogger(__name__)

INDEX_DIR_NAME = ".imago"
CATALOG_FILE = "catalog.db"


@dataclass(frozen=True)
class IndexLocation:
    """The folder holding an archive's catalog, vector indexes and thumbnails."""

    archive: Path
    path: Path
    fallback: bool  # True when the archive is read-only and the index lives in the fallback folder
    read_only: bool = False  # True when this existing index cannot be written (searched, never updated)

    @property
    def catalog_path(self) -> Path:
        return self.path / CATALOG_FILE

    @property
    def thumbnails_dir(self) -> Path:
        return self.path / "thumbs"


def fallback_key(archive: Path) -> str:
    """A readable, collision-free folder name for an archive's absolute path."""
    absolute = os.fsencode(archive.resolve())
    digest = hashlib.sha256(absolute).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", archive.resolve().name)[:40] or "archive"
    return f"{name}-{digest}"


# Errors that mean "this place cannot be written"; others (a full disk, too many open files, a share
# that hiccups) are reported as what they are instead of turning an index read-only.
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def _writable(folder: Path) -> bool:
    """Whether we can really create files in `folder` (os.access is wrong for root and some shares)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".imago-probe-", dir=folder)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno in READ_ONLY_ERRNOS:
            return False
        raise CatalogError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    os.close(fd)
    os.unlink(probe)
    return True


def index_writable(folder: Path) -> bool:
    """Whether the index in `folder` can really be written: a new file can be created there and the
    catalog files present can be opened for writing. The one test of a read-only index (read-only
    mount, DVD, a folder or catalog without write permission): Catalog and locate_index both use it.
    Only tries; leaves nothing behind."""
    if not _writable(folder):
        return False
    for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
        try:
            fd = os.open(os.path.join(folder, name), os.O_RDWR | getattr(os, "O_BINARY", 0))
        except (FileNotFoundError, IsADirectoryError):
            continue  # nothing to write to yet, or not a catalog at all (the catalog says so)
        except OSError as exc:
            path = os.path.join(folder, name)
            if exc.errno not in READ_ONLY_ERRNOS:
                raise CatalogError(f"cannot open {path}: {exc.strerror or exc}") from exc
            logger.info("index file %s cannot be written: %s", path, exc)
            return False
        os.close(fd)
    return True


def fallback_root() -> Path:
    """The folder for read-only archives' indexes, from the saved settings (read on every call, so
    readers such as the search service follow a change without being told)."""
    try:
        return config.Settings.load().index_root
    except ConfigError as exc:
        logger.warning("using the default index folder for read-only archives: %s", exc)
        return config.default_index_root()


def locate_index(archive: Path, *, create: bool = True) -> IndexLocation:
    """The index location for `archive`, creating the folder when `create` is true.

    An existing `<archive>/.imago` is used when writable; one that cannot be written but holds a
    catalog is used read-only (`read_only`; nothing is created); otherwise the archive itself must be
    writable to create it; otherwise the fallback folder (`fallback_root()`) is used (and said so in
    the log).
    """
    archive = Path(archive)
    if not archive.is_dir():
        raise ArchiveError(f"archive folder not found or not a folder: {archive}")
    archive = archive.resolve()
    local = archive / INDEX_DIR_NAME
    if local.is_dir():
        if index_writable(local):
            return IndexLocation(archive, local, fallback=False)
        if (local / CATALOG_FILE).is_file():
            # The curator's index, on a read-only medium: read it, never replace it by a second one.
            logger.warning(
                "the index of %s in %s is read-only: it can be searched, not updated", archive, local
            )
            other = fallback_root() / fallback_key(archive)
            if (other / CATALOG_FILE).exists():  # made by an Imago that did not read the archive's own
                logger.warning("another index of %s, in %s, is not used", archive, other)
            return IndexLocation(archive, local, fallback=False, read_only=True)
    if not local.exists() and _writable(archive):
        if create:
            local.mkdir()
        return IndexLocation(archive, local, fallback=False)
    path = fallback_root() / fallback_key(archive)
    logger.warning("archive %s is read-only; its index is kept in %s", archive, path)
    if create:
        path.mkdir(parents=True, exist_ok=True)
        marker = path / "archive.json"
        if not marker.exists():
            marker.write_text(json.dumps({"archive": os.fsdecode(archive)}), "utf-8")
    return IndexLocation(archive, path, fallback=True)

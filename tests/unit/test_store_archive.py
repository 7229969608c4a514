"""Index location: next to the archive, or under the user data dir for read-only archives."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from store import config
from store.config import Settings
from store.errors import ArchiveError
from store.storage.archive import fallback_key, locate_index


def test_index_lives_in_the_archive(tmp_path):
    location = locate_index(tmp_path)
    assert location.path == tmp_path.resolve() / ".imago" and location.path.is_dir()
    assert not location.fallback
    assert location.catalog_path.name == "catalog.db"


def _read_only_medium(monkeypatch, *folders: Path) -> None:
    """Make creating files in `folders` fail as on a read-only medium (EROFS), at the os.open syscall
    boundary: chmod does not stop root (CI runs as root), and a read-only mount needs privileges."""
    real_open = os.open
    blocked = {os.path.realpath(f) for f in folders}

    def open_(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.dirname(os.path.realpath(path)) in blocked:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def test_read_only_archive_falls_back_to_user_data(tmp_path, imago_home, monkeypatch):
    archive = tmp_path / "dvd"
    archive.mkdir()
    _read_only_medium(monkeypatch, archive)
    location = locate_index(archive)
    assert location.fallback
    assert location.path == imago_home / "indexes" / fallback_key(archive)
    assert json.loads((location.path / "archive.json").read_text())["archive"] == str(archive.resolve())
    assert not (archive / ".imago").exists()


def test_read_only_index_folder_in_a_writable_archive_falls_back(tmp_path, imago_home, monkeypatch):
    archive = tmp_path / "shared"
    (archive / ".imago").mkdir(parents=True)  # left by someone else, and not writable for us
    _read_only_medium(monkeypatch, archive / ".imago")
    location = locate_index(archive)
    assert location.fallback and location.path == imago_home / "indexes" / fallback_key(archive)
    assert list((archive / ".imago").iterdir()) == []


def test_a_file_named_like_the_index_folder_falls_back(tmp_path, imago_home):
    archive = tmp_path / "odd"
    archive.mkdir()
    (archive / ".imago").write_text("not a folder")
    location = locate_index(archive)
    assert location.fallback and location.path == imago_home / "indexes" / fallback_key(archive)
    assert (archive / ".imago").read_text() == "not a folder"


def test_read_only_archive_index_goes_to_the_configured_folder(tmp_path, imago_home, monkeypatch):
    archive = tmp_path / "dvd"
    archive.mkdir()
    _read_only_medium(monkeypatch, archive)
    Settings(fallback_index_dir=str(tmp_path / "shared-indexes")).save()
    location = locate_index(archive)
    assert location.fallback and location.path == tmp_path / "shared-indexes" / fallback_key(archive)
    assert location.path.is_dir() and not (imago_home / "indexes").exists()
    # An unreadable settings file falls back to the default folder instead of failing.
    config.settings_path().write_text("{not json")
    assert locate_index(archive, create=False).path == imago_home / "indexes" / fallback_key(archive)


def test_fallback_keys_differ_for_same_named_archives(tmp_path):
    (tmp_path / "a" / "photos").mkdir(parents=True)
    (tmp_path / "b" / "photos").mkdir(parents=True)
    a, b = fallback_key(tmp_path / "a" / "photos"), fallback_key(tmp_path / "b" / "photos")
    assert a != b and a.startswith("photos-")


def test_missing_archive_is_an_error(tmp_path):
    with pytest.raises(ArchiveError, match="nope"):
        locate_index(tmp_path / "nope")


def test_a_full_disk_is_reported_not_taken_for_a_read_only_index(tmp_path, monkeypatch):
    import errno

    import store.storage.archive as archive_module
    from store.errors import CatalogError
    from store.storage.archive import index_writable

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive_module.tempfile, "mkstemp", disk_full)
    with pytest.raises(CatalogError, match="No space left on device"):
        index_writable(tmp_path)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(archive_module.tempfile, "mkstemp", read_only)
    assert index_writable(tmp_path) is False

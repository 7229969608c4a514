"""Walk behaviours that mutation testing (tools/mutation) found unchecked in store/ingestion/scanner.py:
the exact reasons shown for folders that cannot be entered, listed or checked, the walk going on after
them, which folders are remembered as mount points (a link to a disk included) and an archive root that
is an unmounted share, and Windows folders hidden by their attributes rather than a leading dot."""

from __future__ import annotations

import errno
import functools
import os
import stat
from types import SimpleNamespace

from store_fakes import make_image
from test_store_scanner_unavailable import _scandir_fails

from store.ingestion import scanner
from store.ingestion.scanner import Entry, Unavailable, plan_scan, walk
from store.storage.files import FileState, is_under

NOT_MOUNTED = "empty folder where a disk or share was mounted (not mounted?)"


def _indexed(id_: int, root, raw: bytes) -> FileState:
    st = os.stat(os.path.join(os.fsencode(root), raw))
    return FileState(id_, raw, st.st_size, st.st_mtime_ns, f"h{id_}", "indexed")


class _Listed:
    """A DirEntry as a listing gives it, with what the test changes: an is_dir() that fails, or the
    Windows attributes of the entry itself (`own`) and of what it points to (`target`)."""

    def __init__(self, entry, is_dir_error=None, own=None, target=None):
        self._entry, self.name, self.path = entry, entry.name, entry.path
        self._error, self._own, self._target = is_dir_error, own, target

    def is_dir(self):
        if self._error is not None:
            raise self._error
        return self._entry.is_dir()

    def stat(self, *, follow_symlinks=True):
        st = self._entry.stat(follow_symlinks=follow_symlinks)
        attrs = self._target if follow_symlinks else self._own
        if attrs is None:
            return st
        return SimpleNamespace(
            st_mode=st.st_mode, st_size=st.st_size, st_mtime_ns=st.st_mtime_ns, st_file_attributes=attrs
        )


def _listing(monkeypatch, **by_name):
    """os.scandir lists through _Listed (`by_name`: name -> _Listed keyword arguments)."""
    real_scandir = os.scandir

    class Listing:
        def __init__(self, path=b"."):
            self._it = real_scandir(path)

        def __enter__(self):
            return (_Listed(e, **by_name.get(os.fsdecode(e.name), {})) for e in self._it)

        def __exit__(self, *exc):
            self._it.close()

    monkeypatch.setattr(os, "scandir", Listing)


def _stat_fails(monkeypatch, folder, exc: OSError) -> None:
    real_stat = os.stat
    target = os.fsencode(folder)

    def stat_(path, *args, **kwargs):
        if os.fsencode(path) == target:
            raise exc
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_)


def test_unavailable_folders_say_why_and_the_walk_goes_on(tmp_path, monkeypatch):
    for folder in ("a", "b", "c", "d", "e"):
        make_image(tmp_path / folder / "x.jpg", 1)
    denied = PermissionError(errno.EACCES, "Permission denied")
    _stat_fails(monkeypatch, os.path.join(os.fsencode(tmp_path), b"b"), denied)
    _listing(monkeypatch, d={"is_dir_error": OSError(errno.ESTALE, "Stale file handle")})  # "e" after it
    _scandir_fails(monkeypatch, tmp_path / "c", OSError(errno.EIO, "Input/output error"))
    found = list(walk(tmp_path))
    assert [e.raw_path for e in found if isinstance(e, Entry)] == [b"a/x.jpg", b"e/x.jpg"]
    assert [u for u in found if isinstance(u, Unavailable)] == [
        Unavailable(b"d", "cannot check folder: Stale file handle"),
        Unavailable(b"b", "cannot enter folder: Permission denied"),
        Unavailable(b"c", "cannot list folder: Input/output error"),
    ]


def test_files_walked_after_an_unavailable_folder_are_still_planned(tmp_path, monkeypatch):
    make_image(tmp_path / "a" / "old.jpg", 1)
    make_image(tmp_path / "b" / "same.jpg", 2)
    known = {raw: _indexed(i, tmp_path, raw) for i, raw in enumerate([b"a/old.jpg", b"b/same.jpg"], 1)}
    make_image(tmp_path / "b" / "new.jpg", 3)
    _scandir_fails(monkeypatch, tmp_path / "a", PermissionError(errno.EACCES, "Permission denied"))
    plan = plan_scan(tmp_path, known, walk(tmp_path))
    assert plan.unavailable == [Unavailable(b"a", "cannot list folder: Permission denied")]
    assert [e.raw_path for e in plan.unchanged] == [b"b/same.jpg"]
    assert [e.raw_path for e in plan.new] == [b"b/new.jpg"]
    assert plan.vanished == []


def _mounted(monkeypatch, folder) -> None:
    """Make `folder` the mount point of another disk: it and all under it report another st_dev, to
    os.stat (which follows links) and to os.lstat (which os.path.ismount uses) alike."""
    top = os.fsencode(os.path.realpath(folder))
    real_stat, real_lstat = os.stat, os.lstat

    def other_disk(st):
        fields = list(st)
        fields[stat.ST_DEV] += 1000
        extra = ("st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns")
        return os.stat_result(fields, {name: getattr(st, name) for name in extra})

    def stat_(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        return other_disk(st) if is_under(os.path.realpath(os.fsencode(path)), top) else st

    def lstat_(path, *args, **kwargs):
        st = real_lstat(path, *args, **kwargs)
        return other_disk(st) if is_under(os.path.abspath(os.fsencode(path)), top) else st

    monkeypatch.setattr(os, "stat", stat_)
    monkeypatch.setattr(os, "lstat", lstat_)


def test_only_the_folders_where_a_disk_is_mounted_are_remembered(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    make_image(archive / "disk" / "1.jpg", 1)
    make_image(archive / "disk" / "sub" / "2.jpg", 2)  # on the disk too: not a mount point itself
    make_image(archive / "photos" / "3.jpg", 3)
    (archive / "empty").mkdir()
    _mounted(monkeypatch, archive / "disk")
    seen: set[bytes] = set()
    found = list(walk(archive, seen_mounts=seen))  # a first scan: no mount points known yet
    assert [e.raw_path for e in found] == [b"disk/1.jpg", b"disk/sub/2.jpg", b"photos/3.jpg"]
    assert seen == {b"disk"}


def test_a_link_to_a_disk_is_remembered_and_kept_while_the_disk_is_away(tmp_path, monkeypatch):
    archive, media = tmp_path / "archive", tmp_path / "media" / "usb"
    image = make_image(media / "1.jpg", 1)
    make_image(archive / "photos" / "2.jpg", 2)
    os.symlink(media, archive / "usb")  # the archive links to where the disk is mounted
    with monkeypatch.context() as m:
        _mounted(m, media)
        seen: set[bytes] = set()
        assert [e.raw_path for e in walk(archive, seen_mounts=seen)] == [b"photos/2.jpg", b"usb/1.jpg"]
        assert seen == {b"usb"}
    image.unlink()  # the disk is unplugged: its mount point is an empty folder again
    known = {b"usb/1.jpg": FileState(1, b"usb/1.jpg", 10, 1, "h1", "indexed")}
    plan = plan_scan(archive, known, walk(archive, mount_points=seen, seen_mounts=set()))
    assert plan.unavailable == [Unavailable(b"usb", NOT_MOUNTED)]
    assert plan.vanished == []


def test_an_empty_unmounted_folder_is_reported_and_the_walk_goes_on(tmp_path):
    (tmp_path / "disk").mkdir()
    make_image(tmp_path / "photos" / "1.jpg", 1)  # walked after "disk"
    found = list(walk(tmp_path, mount_points={b"disk"}, seen_mounts=set()))
    assert found[0] == Unavailable(b"disk", NOT_MOUNTED)
    assert [e.raw_path for e in found[1:]] == [b"photos/1.jpg"]


def test_an_archive_that_is_an_unmounted_share_keeps_its_files(tmp_path, monkeypatch):
    share = tmp_path / "share"
    make_image(share / "1.jpg", 1)
    with monkeypatch.context() as m:
        _mounted(m, share)
        seen: set[bytes] = set()
        assert [e.raw_path for e in walk(share, seen_mounts=seen)] == [b"1.jpg"]
        assert seen == {b""}  # the archive root itself is the mount point
    known = {b"1.jpg": _indexed(1, share, b"1.jpg")}
    (share / "1.jpg").unlink()  # unmounted: the mount point is left empty
    assert list(walk(share, mount_points=seen)) == [Unavailable(b"", NOT_MOUNTED)]
    assert plan_scan(share, known, walk(share, mount_points=seen)).vanished == []
    # An ordinary archive folder is no mount point: nothing to remember, an empty one is just empty.
    (tmp_path / "plain").mkdir()
    remembered: set[bytes] = set()
    assert list(walk(tmp_path / "plain", mount_points={b"elsewhere"}, seen_mounts=remembered)) == []
    assert remembered == set()


def test_windows_folders_hidden_by_their_attributes_are_not_walked(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    make_image(archive / "Photos" / "1.jpg", 1)
    make_image(archive / "Hidden Folder" / "2.jpg", 2)  # no leading dot: hidden by its attributes
    make_image(tmp_path / "Pictures" / "3.jpg", 3)
    os.symlink(tmp_path / "Pictures", archive / "My Pictures")  # a hidden system junction, as Windows keeps
    folder = stat.FILE_ATTRIBUTE_DIRECTORY
    hidden = stat.FILE_ATTRIBUTE_HIDDEN
    _listing(
        monkeypatch,
        Photos={"own": folder, "target": folder},
        **{
            "Hidden Folder": {"own": folder | hidden, "target": folder | hidden},
            # The junction's own attributes (hidden, system) decide, not its target's.
            "My Pictures": {
                "own": folder | hidden | stat.FILE_ATTRIBUTE_SYSTEM | stat.FILE_ATTRIBUTE_REPARSE_POINT,
                "target": folder,
            },
        },
    )
    monkeypatch.setattr(os, "name", "nt")
    # is_system_dir's platform default was read at import: Windows' rules, as they apply there.
    monkeypatch.setattr(scanner, "is_system_dir", functools.partial(scanner.is_system_dir, platform="nt"))
    found = list(walk(archive))
    monkeypatch.undo()
    assert [e.raw_path for e in found] == [b"Photos/1.jpg"]

"""The scanner tells an unavailable folder from a deleted one, and plans retries of passing failures."""

from __future__ import annotations

import errno
import os

import pytest
from store_fakes import make_image

from store.ingestion.scanner import Entry, Unavailable, plan_scan, walk
from store.storage.files import FileState


def _scandir_fails(monkeypatch, folder, exc: OSError) -> None:
    real_scandir = os.scandir
    target = os.path.realpath(os.fsencode(folder))

    def scandir(path=b"."):
        if os.path.realpath(os.fsencode(path)) == target:
            raise exc
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("error", [errno.EACCES, errno.EIO, errno.ENOTCONN])
def test_folder_that_cannot_be_listed_is_unavailable(tmp_path, monkeypatch, error):
    make_image(tmp_path / "a" / "1.jpg", 1)
    make_image(tmp_path / "b" / "2.jpg", 2)
    _scandir_fails(monkeypatch, tmp_path / "b", OSError(error, os.strerror(error)))
    found = list(walk(tmp_path))
    assert [e.raw_path for e in found if isinstance(e, Entry)] == [b"a/1.jpg"]
    assert [(u.raw_path, os.strerror(error) in u.reason) for u in found if isinstance(u, Unavailable)] == [
        (b"b", True)
    ]


def test_folder_gone_during_the_walk_is_not_unavailable(tmp_path, monkeypatch):
    make_image(tmp_path / "b" / "2.jpg", 2)
    _scandir_fails(monkeypatch, tmp_path / "b", FileNotFoundError(errno.ENOENT, "gone"))
    assert list(walk(tmp_path)) == []


def test_empty_folder_that_was_a_mount_point_is_unavailable(tmp_path):
    (tmp_path / "share").mkdir()  # an unmounted share leaves its empty mount point
    (tmp_path / "emptied").mkdir()
    make_image(tmp_path / "other" / "1.jpg", 1)
    found = list(walk(tmp_path, mount_points={b"share", b"other"}, seen_mounts=set()))
    assert [u.raw_path for u in found if isinstance(u, Unavailable)] == [b"share"]
    assert [e.raw_path for e in found if isinstance(e, Entry)] == [b"other/1.jpg"]  # files there: in use


def _state(id_: int, raw: bytes, entry: Entry | None = None, status="indexed", kind=None) -> FileState:
    size, mtime = (entry.size, entry.mtime_ns) if entry else (1, 1)
    return FileState(id_, raw, size, mtime, f"h{id_}", status, kind)


def test_files_under_an_unavailable_folder_have_not_vanished(tmp_path):
    known = {
        b"b/2.jpg": _state(1, b"b/2.jpg"),
        b"b/c/3.jpg": _state(2, b"b/c/3.jpg"),
        b"bb/4.jpg": _state(3, b"bb/4.jpg"),
    }
    plan = plan_scan(tmp_path, known, [Unavailable(b"b", "cannot list folder: Permission denied")])
    assert [s.id for s in plan.vanished] == [3]
    assert plan.unavailable == [Unavailable(b"b", "cannot list folder: Permission denied")]
    assert plan_scan(tmp_path, known, [Unavailable(b"", "cannot list folder")]).vanished == []


@pytest.mark.parametrize(
    ("kind", "retried"),
    [
        ("unreadable", True),
        ("error", True),
        ("corrupt", False),
        ("truncated", False),
        ("not_an_image", False),
    ],
)
def test_failed_files_are_retried_only_when_the_reason_may_have_gone(tmp_path, kind, retried):
    make_image(tmp_path / "x.jpg", 1)
    (entry,) = walk(tmp_path)
    known = {b"x.jpg": _state(1, b"x.jpg", entry, status="failed", kind=kind)}
    plan = plan_scan(tmp_path, known, [entry])
    assert [(e.raw_path, s.id) for e, s in plan.changed] == ([(b"x.jpg", 1)] if retried else [])
    assert plan.vanished == [] and plan.unchanged == []


def test_entry_whose_type_cannot_be_read_is_unavailable(tmp_path, monkeypatch):
    make_image(tmp_path / "a" / "1.jpg", 1)
    make_image(tmp_path / "stale" / "2.jpg", 2)
    real_scandir = os.scandir

    class Stale:  # a DirEntry whose stat fails (e.g. ESTALE on a network share without d_type)
        def __init__(self, entry):
            self._entry, self.name, self.path = entry, entry.name, entry.path

        def is_dir(self):
            if self.name == b"stale":
                raise OSError(errno.ESTALE, os.strerror(errno.ESTALE))
            return self._entry.is_dir()

        def stat(self):
            return self._entry.stat()

    class Listing:
        def __init__(self, path):
            self._it = real_scandir(path)

        def __enter__(self):
            return (Stale(e) for e in self._it)

        def __exit__(self, *exc):
            self._it.close()

    monkeypatch.setattr(os, "scandir", Listing)
    found = list(walk(tmp_path))
    assert [e.raw_path for e in found if isinstance(e, Entry)] == [b"a/1.jpg"]
    assert [u.raw_path for u in found if isinstance(u, Unavailable)] == [b"stale"]

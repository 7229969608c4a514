"""Watcher: debouncing and stability (with a fake clock), and real watchdog events end to end."""

from __future__ import annotations

import os
import threading

import pytest
from store_fakes import FakeEncoder, make_archive, make_image

from store.ingestion.indexer import Indexer
from store.ingestion.watcher import ArchiveWatcher, ChangeCollector, outermost, watch
from store.storage.archive import locate_index
from store.storage.catalog import Catalog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_paths_become_ready_only_when_quiet_and_stable(tmp_path):
    clock = Clock()
    collector = ChangeCollector(tmp_path, debounce_s=2.0, clock=clock)
    path = tmp_path / "copying.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    collector.add(str(path))
    assert collector.ready() == set()  # too recent
    clock.now += 2.5
    assert collector.ready() == set()  # first look at its size: not yet known to be stable
    with open(path, "ab") as out:  # the copy is still growing
        out.write(b"1" * 100)
    clock.now += 2.5
    assert collector.ready() == set()
    clock.now += 2.5
    assert collector.ready() == {b"copying.jpg"}
    assert not collector.pending


def test_deleted_paths_are_ready_after_the_debounce(tmp_path):
    clock = Clock()
    collector = ChangeCollector(tmp_path, debounce_s=1.0, clock=clock)
    collector.add(os.path.join(str(tmp_path), "gone.jpg"))
    clock.now += 1.5
    assert collector.ready() == {b"gone.jpg"}


def test_events_in_index_folder_hidden_or_outside_are_ignored(tmp_path):
    collector = ChangeCollector(tmp_path, debounce_s=0.0)
    for path in (
        tmp_path / ".imago" / "catalog.db-wal",
        tmp_path / "a" / ".x.jpg",
        tmp_path.parent / "o.jpg",
    ):
        collector.add(str(path))
    assert not collector.pending
    collector.add(str(tmp_path / "a" / "b.jpg"))
    assert collector.pending


@pytest.mark.parametrize("polling", [False, True])
def test_watch_indexes_new_moved_and_deleted_files(tmp_path, polling):
    root = tmp_path / "archive"
    make_archive(root, 3)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        indexer = Indexer(location, catalog, FakeEncoder(), batch_size=2, decode_workers=1)
        indexer.index()
        watcher = ArchiveWatcher(
            root, polling=polling, debounce_s=0.05, check_interval_s=0.02, poll_interval_s=0.05
        )
        summaries = []
        done = threading.Event()

        def on_run_done(summary):
            summaries.append(summary.as_json())
            indexed = sum(s["indexed"] for s in summaries)
            removed = sum(s["removed"] for s in summaries)
            moved = sum(s["moved"] for s in summaries)
            if indexed >= 1 and removed >= 1 and moved >= 1:
                done.set()
                watcher.stop()

        def drive():
            for _ in watch(indexer, watcher, captions=False, on_run_done=on_run_done):
                pass

        thread = threading.Thread(target=drive)
        thread.start()
        try:
            # wait until the observer is running before changing files
            for _ in range(500):
                if watcher._observer is not None:
                    break
                threading.Event().wait(0.01)
            make_image(root / "new.png", 50)
            os.remove(root / "folder0" / "img0000.png")
            os.rename(root / "folder1" / "img0001.jpg", root / "renamed.jpg")
            assert done.wait(timeout=30), summaries
        finally:
            watcher.stop()
            thread.join(timeout=30)
        assert catalog.searchable_count(FakeEncoder.model_id) == 3
        assert catalog.file_id(b"renamed.jpg") is not None


def test_a_folder_event_covers_the_files_inside_it():
    paths = {b"album/new.png", b"album", b"album-2/x.png", b"albums/y.png", b"a/b/c.png", b"a/b"}
    assert outermost(paths) == [b"a/b", b"album", b"album-2/x.png", b"albums/y.png"]


CHANGE_TIMEOUT_S = 60.0


def _next_change(watcher: ArchiveWatcher, timeout_s: float = CHANGE_TIMEOUT_S):
    """`next(watcher.changes())`, which blocks until a change: a change that never comes stops the
    watcher after `timeout_s` (ending the generator) and fails the test instead of hanging the suite."""
    stopper = threading.Timer(timeout_s, watcher.stop)
    stopper.start()
    try:
        change = next(watcher.changes(), None)
    finally:
        stopper.cancel()
    if change is None:
        pytest.fail(f"no change from the watcher within {timeout_s:.0f} s")
    return change


def test_rescans_only_or_events_only(tmp_path):
    rescans = ArchiveWatcher(tmp_path, observe=False, check_interval_s=0.01, rescan_interval_s=0.02)
    rescans.start()
    assert rescans._observer is None  # no file-system events
    change = _next_change(rescans)
    assert change.full and change.paths == frozenset()
    rescans.stop()
    assert list(rescans.changes()) == []

    events = ArchiveWatcher(tmp_path, debounce_s=0.0, check_interval_s=0.01, rescan_interval_s=None)
    events.start()
    try:
        make_image(tmp_path / "new.png", 1)
        change = _next_change(events)
        assert not change.full and b"new.png" in change.paths
    finally:
        events.stop()
    events.start()  # a stopped watcher stays stopped
    assert events._observer is None


def test_network_filesystems_are_polled(tmp_path):
    from pathlib import Path

    from store.platform.network_shares import filesystem_type, is_network_filesystem

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/export /mnt/archive nfs4 rw 0 0\n"
        "//nas/photos /mnt/my\\040photos cifs rw 0 0\n"
    )
    assert filesystem_type(Path("/mnt/archive/2019"), str(mounts)) == "nfs4"
    assert is_network_filesystem(Path("/mnt/my photos/a"), str(mounts))
    assert not is_network_filesystem(Path("/home/curator"), str(mounts))
    assert filesystem_type(Path("/x"), str(tmp_path / "no-such-file")) is None
    assert ArchiveWatcher(tmp_path).polling is False  # a local disk: native events

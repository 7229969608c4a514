"""One indexer per archive: the OS lock with the pid (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_fakes import FakeEncoder, make_archive

from models.errors import ImagoError
from store.errors import IndexerBusyError
from store.ingestion.indexer import Indexer
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.index_lock import LOCK_FILE, IndexLock

REPO = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from store.storage.index_lock import IndexLock
lock = IndexLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # holds the lock until killed or stdin closes
"""


def test_second_lock_is_refused_with_the_pid_and_free_after_release(tmp_path):
    first = IndexLock(tmp_path, "ARCHIVE")
    first.acquire()
    assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
    with pytest.raises(IndexerBusyError) as caught:
        IndexLock(tmp_path, "ARCHIVE").acquire()
    assert str(caught.value).startswith(f"another indexer (pid {os.getpid()}) is running on ARCHIVE")
    assert isinstance(caught.value, ImagoError)
    first.release()
    with IndexLock(tmp_path):
        pass


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout.readline().strip() == b"locked"
        with pytest.raises(IndexerBusyError, match=f"pid {proc.pid}"):
            IndexLock(tmp_path).acquire()
    finally:
        proc.kill()  # SIGKILL: no cleanup runs in the holder; the pid stays in the file
        proc.wait(timeout=60)
        proc.stdin.close()
        proc.stdout.close()
    assert (tmp_path / LOCK_FILE).read_text().strip() == str(proc.pid)
    with IndexLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_indexer_run_refuses_while_another_indexer_holds_the_archive(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 3)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        indexer = Indexer(location, cat, FakeEncoder(), thumbnails=False)
        with IndexLock(location.path), pytest.raises(IndexerBusyError, match="another indexer"):
            indexer.index(captions=False)
        assert indexer.index(captions=False).indexed == 3  # free again
        assert not IndexLock(location.path).held
        with IndexLock(location.path):  # the run released it
            pass


def test_a_lock_that_cannot_be_created_is_a_typed_error(tmp_path):
    from store.errors import IndexLockError

    with pytest.raises(IndexLockError, match="cannot create the indexer lock"):
        IndexLock(tmp_path / "no-such-folder").acquire()


def test_later_runs_wait_for_the_other_indexer_and_stop_when_cancelled(tmp_path, monkeypatch):
    # A watching indexer's next run must not die because a one-shot `index` runs meanwhile.
    import store.ingestion.indexer as indexer_mod

    archive = tmp_path / "archive"
    make_archive(archive, 3)
    location = locate_index(archive)
    monkeypatch.setattr(indexer_mod, "LOCK_RETRY_S", 0.001)
    other = IndexLock(location.path)
    attempts = []
    real_acquire = IndexLock.acquire

    def acquire(self):
        if self is not other:
            attempts.append(self)
            if len(attempts) == 3:  # the other indexer finishes while this run waits
                other.release()
        return real_acquire(self)

    with Catalog(location.catalog_path) as cat:
        indexer = Indexer(location, cat, FakeEncoder(), thumbnails=False)
        assert indexer.index(captions=False).indexed == 3
        make_archive(archive, 1, start=3)
        other.acquire()
        monkeypatch.setattr(IndexLock, "acquire", acquire)
        assert indexer.index(captions=False).indexed == 1 and len(attempts) == 3
        other.acquire()
        indexer.cancel()
        assert indexer.index(captions=False).cancelled
        other.release()

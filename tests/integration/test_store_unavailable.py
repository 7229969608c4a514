"""Deletions that are not (issue 17, item 6), and failures retried when their cause may have gone.

- A folder that cannot be listed (no permission, an I/O error, a share gone away) is "unavailable":
  its files are neither marked removed nor purged while it stays so.
- A file moved over another (`mv B A`) leaves A's curator data for the grace period of a deleted
  file, and A's content found again takes its row back.
- A file that failed for a reason that may pass (permission, I/O error) is tried again on the next
  run even though its size and mtime did not change; a file whose unchanged content is bad is not.

Errors are raised at the syscall boundary (os.scandir, os.open) with the errno the kernel gives: chmod
does not stop root, and CI runs as root.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_fakes import FakeEncoder, make_archive, make_image

from store.ingestion.indexer import Indexer, IndexSummary
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.files import MISSING_GRACE_S
from store.storage.vector_index import VectorIndex

REPO = Path(__file__).resolve().parents[2]


class Archive:
    def __init__(self, root) -> None:
        self.root = root
        self.location = locate_index(root)
        self.catalog = Catalog(self.location.catalog_path)
        self.encoder = FakeEncoder()

    def run(self) -> IndexSummary:
        indexer = Indexer(self.location, self.catalog, self.encoder, batch_size=4, decode_workers=2)
        return indexer.index(captions=False)

    def item_of(self, raw: bytes) -> int:
        return self.catalog.ensure_file_item(self.catalog.file_id(raw))

    def vector_keys(self) -> list[int]:
        index = VectorIndex.open(self.location.path, FakeEncoder.model_id, FakeEncoder.dim, self.catalog)
        return index.keys().tolist()

    def status(self, item: int) -> tuple[str, str]:
        return self.catalog.conn.execute(
            "SELECT files.status, files.path FROM items JOIN files ON files.id = items.file_id "
            "WHERE items.id = ?",
            (item,),
        ).fetchone()


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    make_archive(root, 12)
    a = Archive(root)
    yield a
    a.catalog.close()


def _unlistable(monkeypatch, folder, error=errno.EACCES) -> None:
    """os.scandir of `folder` fails as the kernel fails it (EACCES: no permission; EIO: a share or
    disk gone bad)."""
    real_scandir = os.scandir
    target = os.fsencode(os.path.realpath(folder))

    def scandir(path=b"."):
        if os.path.realpath(os.fsencode(path)) == target:
            raise OSError(error, os.strerror(error), os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize(("folder", "error"), [("folder2", errno.EACCES), ("", errno.EIO)],
                         ids=["folder-no-permission", "archive-io-error"])  # fmt: skip
def test_unlistable_folder_is_unavailable_not_removed_nor_purged(archive, monkeypatch, folder, error):
    archive.run()
    item = archive.item_of(b"folder2/img0005.jpg")
    archive.catalog.set_description(item, "kept while the share is away")
    old = archive.item_of(b"folder2/img0008.png")  # missing (e.g. by an older Imago) for 40 days
    with archive.catalog.transaction():
        archive.catalog.mark_missing([archive.catalog.file_id(b"folder2/img0008.png")],
                                     now=time.time() - 40 * 24 * 3600)  # fmt: skip
    archive.catalog.set_description(old, "old note")

    _unlistable(monkeypatch, archive.root / folder, error)
    summary = archive.run()
    assert summary.removed == 0
    assert [u["path"] for u in summary.as_json()["unavailable"]] == [folder or "."]
    assert archive.status(item) == ("indexed", "folder2/img0005.jpg")
    assert archive.catalog.description(item) == "kept while the share is away"
    assert archive.catalog.description(old) == "old note"  # not purged while unavailable
    assert summary.items == 11

    monkeypatch.undo()  # the folder is back: everything is there, nothing re-embedded
    before = archive.encoder.embedded
    summary = archive.run()
    assert summary.removed == 0 and "unavailable" not in summary.as_json()
    assert summary.items == 12 and archive.status(old)[0] == "indexed"
    assert archive.encoder.embedded == before


def test_deleted_folder_is_still_removed(archive):
    archive.run()
    shutil.rmtree(archive.root / "folder2")
    summary = archive.run()
    assert summary.removed == 4 and "unavailable" not in summary.as_json()


def test_file_moved_over_another_keeps_the_others_curator_data_for_the_grace_period(archive):
    archive.run()
    a, b = b"folder1/img0001.jpg", b"folder1/img0007.jpg"
    a_item, b_item = archive.item_of(a), archive.item_of(b)
    archive.catalog.set_description(a_item, "A's note")
    archive.catalog.set_curator_labels(a_item, "category", ["icon"])
    archive.catalog.set_description(b_item, "B's note")
    a_bytes = (archive.root / os.fsdecode(a)).read_bytes()

    os.replace(archive.root / os.fsdecode(b), archive.root / os.fsdecode(a))  # mv B A
    summary = archive.run()
    assert archive.item_of(a) == b_item and archive.catalog.description(b_item) == "B's note"
    # A's row gave up its path but is kept, as a deleted file's would be, with where it was.
    assert archive.catalog.description(a_item) == "A's note"
    assert archive.status(a_item) == ("missing", "folder1/img0001.jpg")
    assert (summary.moved, summary.removed, summary.items) == (1, 1, 11)
    assert a_item not in archive.vector_keys()  # not searchable while missing
    assert [r["label"] for r in archive.catalog.labels(a_item, "category") if r["source"] == "curator"] == [
        "icon"
    ]

    # A's content found again under another name takes its row back, edits and all.
    (archive.root / "restored.jpg").write_bytes(a_bytes)
    before = archive.encoder.embedded
    summary = archive.run()
    assert summary.moved == 1 and archive.encoder.embedded == before
    assert archive.item_of(b"restored.jpg") == a_item and a_item in archive.vector_keys()
    assert archive.catalog.description(a_item) == "A's note"

    # Without that, it goes after the grace period, like a deleted file.
    os.replace(archive.root / "restored.jpg", archive.root / os.fsdecode(a))  # mv restored A
    archive.run()
    assert archive.status(b_item)[0] == "missing"
    with archive.catalog.transaction():
        assert archive.catalog.purge_missing(now=time.time() + MISSING_GRACE_S + 60) == 1
    assert archive.catalog.description(b_item) is None


def _deny_unreadable_files_to_root(monkeypatch) -> None:
    """Root reads mode-000 files: make os.open refuse them as the kernel refuses any other user."""
    real_open = os.open

    def open_as_user(path, flags, *args, **kwargs):
        if not flags & (os.O_WRONLY | os.O_RDWR) and os.stat(path).st_mode & 0o444 == 0:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_as_user)


def test_unreadable_file_is_retried_when_its_permission_is_back(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    make_archive(root, 2)
    locked = make_image(root / "locked.jpg", 9)
    locked.chmod(0)
    _deny_unreadable_files_to_root(monkeypatch)
    a = Archive(root)
    summary = a.run()
    assert [(f["path"], f["error"].split(":")[0]) for f in summary.failures] == [("locked.jpg", "unreadable")]
    mtime_ns = locked.stat().st_mtime_ns

    locked.chmod(0o644)  # size and mtime stay the same: only the reason went away
    assert locked.stat().st_mtime_ns == mtime_ns
    summary = a.run()
    assert summary.failures == [] and summary.items == 3 and summary.indexed == 1
    a.catalog.close()


def test_unchanged_bad_content_is_not_read_again(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    make_archive(root, 2)
    (root / "truncated.jpg").write_bytes(make_image(root / "t.jpg", 3).read_bytes()[:200])
    (root / "t.jpg").unlink()
    (root / "notes.png").write_text("not an image at all")
    a = Archive(root)
    kinds = {f["path"]: f["error"].split(":")[0] for f in a.run().failures}
    assert kinds["notes.png"] == "not_an_image" and kinds["truncated.jpg"] in ("truncated", "corrupt")

    real_open, opened = os.open, []

    def counting_open(path, flags, *args, **kwargs):
        opened.append(os.path.basename(os.fsdecode(path)))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    summary = a.run()
    assert summary.failed == 2
    assert "truncated.jpg" not in opened and "notes.png" not in opened
    a.catalog.close()


_UNMOUNT = """
import json, os, subprocess, sys
from pathlib import Path
from store_fakes import FakeEncoder, make_archive
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.ingestion.indexer import Indexer
root = Path(sys.argv[1])
share = root / "share"
share.mkdir(parents=True)
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(share)], check=True)
make_archive(root / "local", 2)
make_archive(share, 3)
location = locate_index(root)
out = []
with Catalog(location.catalog_path) as catalog:
    def run():
        return Indexer(location, catalog, FakeEncoder(), decode_workers=1).index(captions=False).as_json()
    out.append(run())
    item = catalog.ensure_file_item(catalog.file_id(b"share/folder1/img0001.jpg"))
    catalog.set_description(item, "on the share")
    subprocess.run(["umount", str(share)], check=True)  # the share goes away; its mount point stays
    out.append(run())
    out.append(catalog.description(item))
    share.rmdir()  # the curator removes the folder itself: now its files are gone
    out.append(run())
print(json.dumps(out))
"""


def _can_mount() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs user and mount namespaces (unshare -rm)")
def test_unmounted_share_is_unavailable_not_removed(tmp_path):
    """A real tmpfs mounted inside the archive, indexed, then unmounted (its empty mount point stays)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "unit")]))
    done = subprocess.run(["unshare", "-rm", sys.executable, "-c", _UNMOUNT, str(tmp_path / "archive")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, unmounted, description, removed = json.loads(done.stdout.strip().splitlines()[-1])
    assert (first["indexed"], first["items"]) == (5, 5)
    assert (unmounted["removed"], unmounted["items"]) == (0, 5)
    assert [u["path"] for u in unmounted["unavailable"]] == ["share"]
    assert description == "on the share"
    assert (removed["removed"], removed["items"]) == (3, 2) and "unavailable" not in removed

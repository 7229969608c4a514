"""A read-only index (a DVD, a read-only share, a `.imago` we may not write) keeps serving its archive.

It is opened read-only for search and browsing, with the curator's edits; indexing and edits say
clearly that they cannot write it, and no second index is built elsewhere (issue 17, item 5).

Read-only-ness is simulated at the os.open syscall boundary (EROFS for every open that would create or
write a file in the folder): chmod does not stop root, and a read-only mount needs privileges. Where
user and mount namespaces are available (`unshare -rm`), one test also uses a real read-only bind
mount, so SQLite itself meets the read-only file system.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_fakes import FakeEncoder, make_archive

from store.errors import ReadOnlyIndexError
from store.ingestion.indexer import Indexer
from store.services.browse import visible_items
from store.services.search import SearchService
from store.storage.archive import INDEX_DIR_NAME, index_writable, locate_index
from store.storage.catalog import Catalog

REPO = Path(__file__).resolve().parents[2]
_WRITE_FLAGS = os.O_CREAT | os.O_WRONLY | os.O_RDWR


def _read_only_medium(monkeypatch, *folders: Path) -> None:
    """Fail with EROFS, as a read-only mount does, every os.open that would create or write a file
    directly in one of `folders`."""
    real_open = os.open
    blocked = {os.path.realpath(f) for f in folders}

    def open_(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and os.path.dirname(os.path.realpath(path)) in blocked:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def _indexed_archive(root: Path) -> tuple[int, str]:
    """An archive of 6 images, indexed, with a curator description on one item: (item id, text)."""
    make_archive(root, 6)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeEncoder(), batch_size=4, decode_workers=1).index(captions=False)
        item = catalog.ensure_file_item(catalog.file_id(b"folder1/img0001.jpg"))
        catalog.set_description(item, "Curator wrote: samovar")
    return item, "Curator wrote: samovar"


def test_read_only_index_is_searched_with_its_edits_and_never_replaced(tmp_path, imago_home, monkeypatch):
    archive = tmp_path / "dvd"
    item, text = _indexed_archive(archive)
    _read_only_medium(monkeypatch, archive, archive / INDEX_DIR_NAME)
    assert not index_writable(archive / INDEX_DIR_NAME)

    location = locate_index(archive)  # what `index` asks for: never a second index elsewhere
    assert location.path == archive.resolve() / INDEX_DIR_NAME
    assert location.read_only and not location.fallback
    assert not (imago_home / "indexes").exists()

    with SearchService.open(archive) as service:  # search and browse: the curator's own index
        assert service.catalog.read_only
        assert service.catalog.description(item) == text
        assert [i for i, _ in service.catalog.search_text("samovar")] == [item]
        assert len(visible_items(service.catalog)) == 6
        assert len(service.similar_to_item(item, top=3).ids()) == 3  # the vectors are read too

    with Catalog(location.catalog_path) as catalog:
        with pytest.raises(ReadOnlyIndexError, match="read-only"):
            catalog.set_description(item, "lost?")
        with pytest.raises(ReadOnlyIndexError, match="indexing cannot update it"):
            Indexer(location, catalog, FakeEncoder()).index(captions=False)
    assert not (imago_home / "indexes").exists()
    monkeypatch.undo()
    with Catalog(locate_index(archive).catalog_path) as catalog:
        assert catalog.description(item) == text  # nothing written, nothing lost


def test_read_only_catalog_file_in_a_writable_folder_is_read_only(tmp_path, monkeypatch):
    archive = tmp_path / "share"
    item, text = _indexed_archive(archive)
    folder = archive / INDEX_DIR_NAME
    real_open = os.open

    def open_(path, flags, *args, **kwargs):  # the catalog file alone refuses writes (EACCES)
        if flags & _WRITE_FLAGS and os.path.basename(os.fsdecode(path)).startswith("catalog.db"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    location = locate_index(archive)
    assert location.read_only and location.path == folder.resolve()
    with Catalog(location.catalog_path) as catalog:
        assert catalog.read_only and catalog.description(item) == text


def test_read_only_catalog_of_an_older_schema_is_read_from_an_upgraded_copy(tmp_path, monkeypatch):
    archive = tmp_path / "old"
    item, text = _indexed_archive(archive)
    catalog_path = archive / INDEX_DIR_NAME / "catalog.db"
    conn = sqlite3.connect(catalog_path, isolation_level=None)
    conn.execute("DROP INDEX embeddings_generation")
    conn.execute("ALTER TABLE embeddings DROP COLUMN generation")
    conn.execute("DROP TABLE catalog_meta")
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    before = catalog_path.read_bytes()
    _read_only_medium(monkeypatch, archive, archive / INDEX_DIR_NAME)
    with Catalog(catalog_path) as catalog:
        assert catalog.read_only and catalog.description(item) == text
        assert catalog.vector_generation() == 0 and len(catalog.catalog_id) == 32
    assert catalog_path.read_bytes() == before


_MOUNTED = """
import json, sys
from pathlib import Path
from store_fakes import FakeEncoder
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.errors import ReadOnlyIndexError
from store.ingestion.indexer import Indexer
from store.services.search import SearchService
archive, item = Path(sys.argv[1]), int(sys.argv[2])
out = {}
with SearchService.open(archive) as service:
    out["description"] = service.catalog.description(item)
    out["similar"] = service.similar_to_item(item, top=1).ids()
    try:
        service.catalog.set_description(item, "x")
    except ReadOnlyIndexError as exc:
        out["edit"] = str(exc)
location = locate_index(archive)
out |= {"read_only": location.read_only, "fallback": location.fallback, "path": str(location.path)}
try:
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeEncoder()).index(captions=False)
except ReadOnlyIndexError as exc:
    out["index"] = str(exc)
print(json.dumps(out))
"""


def _can_mount_read_only() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs user and mount namespaces (unshare -rm)")
@pytest.mark.parametrize("wal", [False, True], ids=["clean", "with-write-ahead-log"])
def test_index_on_a_real_read_only_mount(tmp_path, imago_home, wal):
    source = tmp_path / "source"
    item, text = _indexed_archive(source)
    if wal:  # copied while a writer had it open: the latest edit lives only in catalog.db-wal
        catalog_path = source / INDEX_DIR_NAME / "catalog.db"
        writer = sqlite3.connect(catalog_path, isolation_level=None)
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE descriptions SET text = 'only in the log' WHERE item_id = ?", (item,))
        text = "only in the log"
        copy = tmp_path / "copy"
        shutil.copytree(source, copy)
        writer.close()
        (copy / INDEX_DIR_NAME / "catalog.db-shm").unlink()
        assert (copy / INDEX_DIR_NAME / "catalog.db-wal").stat().st_size > 0
        source = copy
    mount = tmp_path / "dvd"
    mount.mkdir()
    script = textwrap.dedent(f"""
        mount --bind {source} {mount} && mount -o remount,ro,bind {mount} &&
        {sys.executable} -c "$SCRIPT" {mount} {item}
    """)
    env = dict(
        os.environ, SCRIPT=_MOUNTED, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "unit")])
    )
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import json

    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["read_only"] and not out["fallback"] and out["path"] == str(mount / INDEX_DIR_NAME)
    assert out["description"] == text and len(out["similar"]) == 1
    assert "read-only" in out["edit"] and "indexing cannot update it" in out["index"]
    assert not (imago_home / "indexes").exists()

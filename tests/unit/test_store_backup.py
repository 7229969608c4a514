"""Catalog backups (SQLite backup API, rolling generations) and restoring one (issue 17, item 7)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from store.errors import BackupError, IndexerBusyError
from store.storage import backup
from store.storage.catalog import Catalog
from store.storage.index_lock import IndexLock

DAY = 24 * 3600.0
T0 = 1_700_000_000.0


def _catalog(path, text: str = "first") -> None:
    with Catalog(path) as cat:
        with cat.transaction():
            file_id = cat.upsert_file(b"a.jpg", size=1, mtime_ns=1, hash="h", status="indexed")
            item = cat.ensure_file_item(file_id)
            cat.put_embeddings("m", [item], np.ones((1, 4), np.float32))
        cat.set_description(item, text)


def _description(path) -> str:
    with Catalog(path) as cat:
        return cat.description(1)


def test_daily_backup_at_most_once_a_day_keeping_three(tmp_path):
    path = tmp_path / "catalog.db"
    _catalog(path)
    made = []
    with Catalog(path) as cat:
        for n, now in enumerate([T0, T0 + 3600, T0 + DAY, T0 + 2 * DAY + 1, T0 + 3 * DAY + 2, T0 + 5 * DAY]):
            if n == 3:
                cat.set_description(1, "changed")
            made.append(backup.daily_backup(cat.conn, path, now=now))
    assert made[1] is None and all(m is not None for i, m in enumerate(made) if i != 1)
    kept = backup.list_backups(path)
    assert [b.created for b in kept] == [T0 + 5 * DAY, T0 + 3 * DAY + 2, T0 + 2 * DAY + 1]
    assert {b.kind for b in kept} == {"daily"}
    assert not [p for p in backup.backups_dir(path).iterdir() if not p.name.endswith(".db")]
    conn = sqlite3.connect(kept[-1].path)  # a whole, self-contained database
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT text FROM descriptions").fetchone()[0] == "changed"
    conn.close()


def test_a_failed_backup_is_logged_not_raised(tmp_path, caplog):
    path = tmp_path / "catalog.db"
    _catalog(path)
    (tmp_path / "backups").write_text("a file where the folder should be")
    with Catalog(path) as cat:
        assert backup.daily_backup(cat.conn, path, now=T0) is None
    assert "could not back up" in caplog.text


def test_restore_puts_back_the_newest_backup_and_keeps_the_current_catalog(tmp_path):
    path = tmp_path / "catalog.db"
    _catalog(path, "curator text")
    with Catalog(path) as cat:
        backup.daily_backup(cat.conn, path, now=T0)
        cat.set_description(1, "a mistake")
    (tmp_path / "vectors-m.usearch").write_bytes(b"x")
    (tmp_path / "vectors-m.json").write_text("{}")
    done = backup.restore(path)
    assert _description(path) == "curator text"
    assert done.restored.kind == "daily" and done.previous is not None
    assert not (tmp_path / "vectors-m.usearch").exists() and not (tmp_path / "vectors-m.json").exists()
    # the restore itself can be undone: the replaced catalog is a backup of kind "restore"
    assert backup.list_backups(path)[0].kind == "restore"
    backup.restore(path, done.previous.name)
    assert _description(path) == "a mistake"


@pytest.mark.parametrize("damage", [b"", b"garbage" * 100])
def test_restore_over_a_broken_catalog_moves_it_aside(tmp_path, damage):
    path = tmp_path / "catalog.db"
    _catalog(path, "kept")
    with Catalog(path) as cat:
        saved = backup.backup_catalog(cat.conn, path, "daily", now=T0)
    path.write_bytes(damage)
    done = backup.restore(path, saved.stem)
    assert _description(path) == "kept"
    assert done.previous is not None and done.previous.read_bytes() == damage  # never deleted
    assert done.previous.name.startswith("catalog.db.broken-")


def test_restore_refuses_unknown_and_damaged_backups_and_a_running_indexer(tmp_path):
    path = tmp_path / "catalog.db"
    _catalog(path)
    with pytest.raises(BackupError, match="no backups"):
        backup.restore(path)
    with Catalog(path) as cat:
        saved = backup.backup_catalog(cat.conn, path, "daily", now=T0)
    with pytest.raises(BackupError, match="no backup called"):
        backup.restore(path, "catalog-nope")
    with IndexLock(tmp_path), pytest.raises(IndexerBusyError, match=r"another indexer \(pid \d+\)"):
        backup.restore(path)
    saved.write_bytes(saved.read_bytes()[:4096])  # truncated
    with pytest.raises(BackupError, match=saved.name):
        backup.restore(path)
    assert _description(path) == "first"


def test_migration_backups_are_kept_apart_from_daily_ones(tmp_path):
    path = tmp_path / "catalog.db"
    _catalog(path)
    with Catalog(path) as cat:
        backup.backup_catalog(cat.conn, path, "migration", now=T0)
        for day in range(1, 6):
            backup.backup_catalog(cat.conn, path, "daily", now=T0 + day * DAY)
    kinds = [b.kind for b in backup.list_backups(path)]
    assert kinds.count("daily") == 3 and kinds.count("migration") == 1


def _backed_up(path, text: str) -> None:
    _catalog(path, text)
    with Catalog(path) as cat:
        backup.backup_catalog(cat.conn, path, "daily", now=T0)
        cat.set_description(1, "edited after the backup")


def test_restore_that_cannot_back_up_the_current_catalog_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    _backed_up(path, "from the backup")
    real = backup.backup_catalog

    def disk_full(conn, catalog_path, kind, **kwargs):
        if kind == "restore":
            raise sqlite3.OperationalError("database or disk is full")  # as SQLite reports ENOSPC
        return real(conn, catalog_path, kind, **kwargs)

    monkeypatch.setattr(backup, "backup_catalog", disk_full)
    with pytest.raises(BackupError, match="cannot back up the current catalog before restoring"):
        backup.restore(path)
    assert _description(path) == "edited after the backup"  # still there, never moved aside
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("catalog", ".restore"))) == [
        "catalog.db"
    ]


def test_restore_refuses_a_catalog_in_use(tmp_path):
    path = tmp_path / "catalog.db"
    _backed_up(path, "from the backup")
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM items").fetchone()  # an open window reading it
    try:
        with Catalog(path) as cat:  # a write the checkpoint cannot pass while the reader holds it
            cat.set_description(1, "written while a window reads")
        with pytest.raises(BackupError, match="is in use"):
            backup.restore(path)
    finally:
        reader.close()
    assert _description(path) == "written while a window reads"


def test_restore_in_an_archive_whose_name_needs_quoting(tmp_path):
    folder = tmp_path / "Box #1? (1950)"
    folder.mkdir()
    path = folder / "catalog.db"
    _backed_up(path, "from the backup")
    backup.restore(path)
    assert _description(path) == "from the backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Box #1? (1950)"]  # no stray file beside it

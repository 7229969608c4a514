"""Catalog: schema/migrations, file lifecycle, curator edits, FTS, regions."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from models.errors import ImagoError
from store.errors import CatalogError, NotACatalogError
from store.storage import schema
from store.storage.catalog import Catalog


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.db") as cat:
        yield cat


def _add_file(cat: Catalog, raw: bytes, digest: str = "h1") -> tuple[int, int]:
    with cat.transaction():
        file_id = cat.upsert_file(raw, size=10, mtime_ns=1, hash=digest, status="indexed", width=4, height=3)
        item_id = cat.ensure_file_item(file_id)
        cat.refresh_fts([item_id])
    return file_id, item_id


def test_new_database_is_wal_at_current_schema(tmp_path):
    with Catalog(tmp_path / "c.db") as cat:
        assert schema.schema_version(cat.conn) == schema.SCHEMA_VERSION
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {"files", "items", "embeddings", "labels", "captions", "descriptions", "items_fts"} <= set(
            cat.db.table_names()
        )
    with Catalog(tmp_path / "c.db") as again:  # reopening does not migrate twice
        assert schema.schema_version(again.conn) == schema.SCHEMA_VERSION


def test_migrations_run_step_by_step(tmp_path, monkeypatch):
    seen = []

    def to_next(conn):
        seen.append(schema.schema_version(conn))
        conn.execute("ALTER TABLE files ADD COLUMN note TEXT")

    current = schema.SCHEMA_VERSION
    with Catalog(tmp_path / "c.db"):
        pass
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, to_next])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    with Catalog(tmp_path / "c.db") as cat:
        assert seen == [current]
        assert schema.schema_version(cat.conn) == current + 1
        assert "note" in cat.db["files"].columns_dict


def test_failed_migration_leaves_previous_version(tmp_path, monkeypatch):
    with Catalog(tmp_path / "c.db"):
        pass

    def broken(conn):
        conn.execute("ALTER TABLE files ADD COLUMN half TEXT")
        raise RuntimeError("boom")

    current = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    with pytest.raises(RuntimeError):
        Catalog(tmp_path / "c.db")
    conn = sqlite3.connect(tmp_path / "c.db")
    assert schema.schema_version(conn) == current
    assert "half" not in [r[1] for r in conn.execute("PRAGMA table_info(files)")]
    conn.close()


def test_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(CatalogError, match="schema version 99"):
        Catalog(tmp_path / "c.db")


def test_not_a_database_is_a_catalog_error(tmp_path):
    (tmp_path / "c.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match=r"c\.db"):
        Catalog(tmp_path / "c.db")


def test_upsert_keeps_id_and_non_utf8_paths(catalog):
    raw = b"dir/caf\xe9.jpg"
    file_id, _ = _add_file(catalog, raw)
    with catalog.transaction():
        again = catalog.upsert_file(raw, size=11, mtime_ns=2, hash="h2", status="indexed")
    assert again == file_id
    row = catalog.conn.execute(
        "SELECT path, name, folder, size FROM files WHERE id = ?", (file_id,)
    ).fetchone()
    assert row == ("dir/caf\\xe9.jpg", "caf\\xe9.jpg", "dir", 11)
    assert catalog.file_states()[raw].hash == "h2"


def test_embeddings_and_visibility(catalog):
    file_id, item_id = _add_file(catalog, b"a.jpg")
    vec = np.arange(4, dtype=np.float32)[None] / 4
    with catalog.transaction():
        catalog.put_embeddings("m", [item_id], vec)
    keys, matrix = catalog.vectors("m")
    assert keys.tolist() == [item_id]
    np.testing.assert_array_equal(matrix, vec)
    with catalog.transaction():
        catalog.mark_missing([file_id])
    assert catalog.visible_keys("m").tolist() == []
    assert catalog.searchable_count("m") == 0


def test_move_keeps_items_and_curator_edits(catalog):
    file_id, item_id = _add_file(catalog, b"old/a.jpg")
    catalog.set_description(item_id, "Икона Богоматери, XVII век")
    with catalog.transaction():
        catalog.mark_missing([file_id])
        catalog.move_file(file_id, b"new/b.jpg", size=10, mtime_ns=5)
    assert catalog.description(item_id) == "Икона Богоматери, XVII век"
    assert catalog.counts() == {"indexed": 1}
    assert [i for i, _ in catalog.search_text("new")] == [item_id]
    assert catalog.search_text("old") == []


def test_purge_forgets_only_old_missing_files(catalog):
    a, _ = _add_file(catalog, b"a.jpg", "ha")
    b, _ = _add_file(catalog, b"b.jpg", "hb")
    with catalog.transaction():
        catalog.mark_missing([a], now=1000.0)
        catalog.mark_missing([b], now=5000.0)
        purged = catalog.purge_missing(older_than_s=2000, now=6000.0)
    assert purged == 1
    assert set(catalog.file_states()) == {b"b.jpg"}
    assert catalog.missing_by_hash() == {"hb": b}


def test_fts_covers_name_folder_caption_description_labels(catalog):
    _, item_id = _add_file(catalog, b"Icons/moscow/virgin.jpg")
    with catalog.transaction():
        catalog.put_caption(item_id, "git", "a painting of a woman holding a child")
        catalog.put_labels(item_id, "category", "head-v1", [("icon", 0.9), ("fresco", 0.05)])
        catalog.refresh_fts([item_id])
    catalog.set_description(item_id, "Икона Богоматери")
    for query in ("virgin", "moscow", "painting child", "fresco", "богоматери", "ИКОНА"):
        assert [i for i, _ in catalog.search_text(query)] == [item_id], query
    assert catalog.search_text('"unbalanced') == []  # user input cannot break the FTS syntax
    assert catalog.search_text("sculpture") == []


def test_model_labels_replaced_curator_labels_kept(catalog):
    _, item_id = _add_file(catalog, b"a.jpg")
    with catalog.transaction():
        catalog.put_labels(item_id, "category", "h1", [("icon", 0.9)])
    catalog.set_curator_labels(item_id, "category", ["fresco"])
    with catalog.transaction():
        catalog.put_labels(item_id, "category", "h2", [("map", 0.7), ("coin", 0.2)])
    labels = catalog.labels(item_id, "category")
    assert [(r["label"], r["source"], r["model_id"]) for r in labels] == [
        ("map", "model", "h2"),
        ("coin", "model", "h2"),
        ("fresco", "curator", None),
    ]
    assert all(r["created_at"] > 0 for r in labels)


def test_reset_model_data_keeps_curator_work(catalog):
    file_id, item_id = _add_file(catalog, b"a.jpg")
    with catalog.transaction():
        model_region = catalog.add_region(file_id, (0, 0, 2, 2), score=0.9, model_id="det")
        catalog.put_embeddings("m", [item_id, model_region], np.ones((2, 3), np.float32))
        catalog.put_caption(item_id, "git", "old caption")
        catalog.put_labels(item_id, "category", "h", [("x", 0.5)])
    curator_region = catalog.add_curator_region(file_id, (1, 1, 2, 2))
    catalog.set_description(item_id, "curator text")
    catalog.set_curator_labels(item_id, "category", ["y"])
    with catalog.transaction():
        stale = catalog.reset_model_data(file_id)
    assert set(stale) == {model_region, item_id, curator_region}
    assert [i.id for i in catalog.items(file_id)] == [item_id, curator_region]
    assert catalog.captions(item_id) == []
    assert [r["label"] for r in catalog.labels(item_id)] == ["y"]
    assert catalog.description(item_id) == "curator text"
    assert catalog.vectors("m")[0].tolist() == []


def test_curator_deleted_region_is_not_recreated(catalog):
    file_id, _ = _add_file(catalog, b"page.jpg")
    with catalog.transaction():
        _, added = catalog.replace_model_regions(
            file_id, [((0, 0, 50, 50), 0.9), ((50, 0, 50, 50), 0.8)], "det"
        )
    catalog.hide_region(added[0])
    with catalog.transaction():
        removed, again = catalog.replace_model_regions(
            file_id, [((1, 0, 50, 50), 0.9), ((50, 0, 50, 50), 0.8)], "det"
        )
    assert removed == [added[1]]
    assert again[0] is None and again[1] is not None
    regions = [i for i in catalog.items(file_id) if i.kind == "region"]
    assert [(i.source, i.hidden) for i in regions] == [("curator", True), ("model", False)]


def test_items_without_embedding_and_caption(catalog):
    file_id, item_id = _add_file(catalog, b"a.jpg")
    drawn = catalog.add_curator_region(file_id, (0, 0, 1, 1))
    with catalog.transaction():
        catalog.put_embeddings("m", [item_id], np.ones((1, 2), np.float32))
        catalog.put_caption(drawn, "git", "x")
    assert [i.id for i in catalog.items_without_embedding("m")[file_id]] == [drawn]
    assert [i.id for i in catalog.items_without_caption("git")[file_id]] == [item_id]


def test_transaction_rolls_back_on_error(catalog):
    with pytest.raises(RuntimeError), catalog.transaction():
        catalog.upsert_file(b"x.jpg", size=1, mtime_ns=1, hash=None, status="indexed")
        raise RuntimeError("stop")
    assert catalog.file_states() == {}


def test_version_1_catalog_is_upgraded_with_its_data(tmp_path):
    conn = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    schema.MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO files (raw_path, path, name, folder, size, mtime_ns, hash, status, indexed_at) "
        "VALUES (x'612e6a7067', 'a.jpg', 'a.jpg', '', 10, 1, 'h', 'indexed', 0)"
    )
    conn.execute("INSERT INTO items (file_id, kind, source, created_at) VALUES (1, 'file', 'model', 0)")
    conn.execute(
        "INSERT INTO labels (item_id, head, label, score, rank, source, model_id, created_at) "
        "VALUES (1, 'category', 'icon', 0.9, 0, 'model', 'zs@1', 0)"
    )
    conn.close()
    with Catalog(tmp_path / "c.db") as cat:
        assert schema.schema_version(cat.conn) == schema.SCHEMA_VERSION
        assert cat.files_without_exif() == [(1, b"a.jpg")]  # its EXIF date is read on the next run
        cat.reject_label(1, "category", "icon")
        assert cat.labels(1) == [] and cat.rejected_labels(1, "category") == ["icon"]


# -- issue 17: a file that is not a catalog is refused, never replaced ------------------------------


def _foreign_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('somebody else''s data')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("content", ["empty", "garbage", "other-sqlite", "tables-missing", "folder"])
def test_a_file_that_is_not_a_catalog_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "catalog.db"
    if content == "empty":
        path.write_bytes(b"")
    elif content == "garbage":
        path.write_bytes(b"\x00\x01garbage" * 500)
    elif content == "other-sqlite":
        _foreign_sqlite(path)
    elif content == "tables-missing":  # an Imago catalog whose tables were dropped
        with Catalog(path) as cat:
            cat.conn.execute("DROP TABLE items_fts")
            cat.conn.execute("DROP TABLE items")
    elif content == "folder":
        path.mkdir()
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(NotACatalogError) as caught:
        Catalog(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert isinstance(caught.value, ImagoError)
    if before is not None:
        assert path.read_bytes() == before  # not replaced, not migrated, not switched to WAL
    assert not (tmp_path / "catalog.db-wal").exists()


def test_new_catalog_is_created_whole_under_a_temporary_name(tmp_path):
    with Catalog(tmp_path / "catalog.db") as cat:
        assert schema.schema_version(cat.conn) == schema.SCHEMA_VERSION
        assert len(cat.catalog_id) == 32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.db"]
    with Catalog(tmp_path / "catalog.db") as again:  # the id is made once
        assert again.catalog_id == cat.catalog_id


def test_an_empty_sqlite_database_becomes_a_catalog(tmp_path):
    # e.g. left by an older Imago killed while creating it: nothing in it can be lost
    sqlite3.connect(tmp_path / "c.db").execute("PRAGMA user_version = 0").connection.close()
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.close()
    assert (tmp_path / "c.db").stat().st_size > 0
    with Catalog(tmp_path / "c.db") as cat:
        assert schema.schema_version(cat.conn) == schema.SCHEMA_VERSION


def test_embeddings_get_increasing_generations(catalog):
    _, a = _add_file(catalog, b"a.jpg", "ha")
    _, b = _add_file(catalog, b"b.jpg", "hb")
    assert catalog.vector_generation() == 0
    with catalog.transaction():
        first = catalog.put_embeddings("m", [a, b], np.ones((2, 3), np.float32))
    second = catalog.put_embeddings("m", [b], np.zeros((1, 3), np.float32))
    assert (first, second) == (1, 2) and catalog.vector_generation() == 2
    keys, visible = catalog.changed_keys("m", first)
    assert keys.tolist() == [b] and visible.tolist() == [True]
    assert catalog.vectors("m", [a, b], max_generation=1)[0].tolist() == [a]


def _version_3_catalog(path) -> None:
    """A catalog as Imago wrote it at schema version 3, with an item, a vector and curator work."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for step in schema.MIGRATIONS[:3]:
        step(conn)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO files (raw_path, path, name, folder, size, mtime_ns, hash, status, indexed_at) "
        "VALUES (x'612e6a7067', 'a.jpg', 'a.jpg', '', 10, 1, 'h', 'indexed', 0)"
    )
    conn.execute("INSERT INTO items (file_id, kind, source, created_at) VALUES (1, 'file', 'model', 0)")
    vector = np.arange(4, dtype="<f4").tobytes()
    conn.execute(
        "INSERT INTO embeddings (item_id, model_id, dim, vector, created_at) VALUES (1, 'm', 4, ?, 0)",
        (vector,),
    )
    conn.execute("INSERT INTO descriptions (item_id, text, edited_at) VALUES (1, 'Икона', 0)")
    conn.execute("INSERT INTO duplicate_marks (file_id, mark, hash, marked_at) VALUES (1, 'keep', 'h', 0)")
    conn.close()


def test_version_3_catalog_is_upgraded_to_4_with_its_data_and_a_backup_first(tmp_path):
    from store.storage.backup import list_backups

    path = tmp_path / "catalog.db"
    _version_3_catalog(path)
    with Catalog(path) as cat:
        assert schema.schema_version(cat.conn) == schema.SCHEMA_VERSION >= 4
        assert cat.description(1) == "Икона"
        keys, matrix = cat.vectors("m")
        assert keys.tolist() == [1] and matrix.tolist() == [[0.0, 1.0, 2.0, 3.0]]
        assert cat.vector_generation() == 0  # old rows are generation 0 ...
        assert cat.put_embeddings("m", [1], np.ones((1, 4), np.float32)) == 1  # ... new ones count up
        assert cat.changed_keys("m", 0)[0].tolist() == [1]
        assert len(cat.catalog_id) == 32
    backups = list_backups(path)
    assert [b.kind for b in backups] == ["migration"]
    old = sqlite3.connect(backups[0].path)
    assert schema.schema_version(old) == 3
    assert old.execute("SELECT text FROM descriptions").fetchall() == [("Икона",)]
    old.close()


def test_an_existing_catalog_is_opened_without_ever_creating_one(tmp_path, monkeypatch):
    from store.errors import CatalogError
    from store.storage import catalog as catalog_module

    path = tmp_path / "catalog.db"
    with pytest.raises(CatalogError, match="catalog not found"):
        Catalog(path, create=False)
    assert not path.exists()
    Catalog(path).close()
    # Deleted after the existence check, before SQLite opens it: an error, not a new empty file.
    real_check = catalog_module.check_catalog_file

    def delete_then_check(target):
        real_check(target)
        for leftover in tmp_path.glob("catalog.db*"):
            leftover.unlink()

    monkeypatch.setattr(catalog_module, "check_catalog_file", delete_then_check)
    with pytest.raises(CatalogError, match="cannot open catalog"):
        Catalog(path, create=False)
    assert not path.exists()


@pytest.mark.parametrize(
    ("path", "platform", "uri"),
    [
        ("/srv/Box #1?/catalog.db", "posix", "file:///srv/Box%20%231%3F/catalog.db?mode=ro"),
        ("C:\\Archive\\catalog.db", "nt", "file:///C:/Archive/catalog.db?mode=ro"),
        (
            "\\\\server\\share\\Фото\\catalog.db",
            "nt",
            "file:////server/share/%D0%A4%D0%BE%D1%82%D0%BE/catalog.db?mode=ro",
        ),
    ],
)
def test_sqlite_uris_keep_an_empty_authority_for_drives_and_shares(path, platform, uri):
    """SQLite refuses `file://server/...` (Path.as_uri of a UNC path): every archive on a Windows share
    would fail to open."""
    from store.storage.database import sqlite_uri

    assert sqlite_uri(path, "mode=ro", platform) == uri

"""The window under a vanishing archive or index: one plain "unavailable / damaged" state, no claim
to be watching, curator edits kept and written when the archive is back, and a resume by itself."""

from __future__ import annotations

import os

import pytest
from gui_fixtures import ARCHIVE_FILES, INDEX_TIMEOUT_MS, open_indexed

from desktop.pending_edits import CuratorEdit
from desktop.widgets.grid_model import EntryRole
from store.storage.catalog import Catalog
from store.storage.health import INDEX_DAMAGED, INDEX_MISSING, UNAVAILABLE

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def _problem(expected: str | None):
    return lambda health: health.problem == expected


def _assert_stopped(window, problem: str) -> None:
    assert window.problem is not None and window.problem.problem == problem
    assert window.problem_panel.isVisible() and not window.splitter.isVisible()
    assert not window.search_field.isEnabled() and window.index_worker is None
    status = window.index_label.text()
    assert "watching for changes" not in status and "Index up to date" not in status and " not " in status


def test_garbled_index_is_shown_and_indexed_anew(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    catalog = window.catalog_path
    with open(catalog, "r+b") as file:  # the first 4 KiB overwritten, as a bad disk or a stray write
        file.write(os.urandom(4096))
    with qtbot.waitSignal(
        window.archive_state_changed, timeout=TIMEOUT_MS, check_params_cb=_problem(INDEX_DAMAGED)
    ):
        pass  # the periodic check finds it
    _assert_stopped(window, INDEX_DAMAGED)
    assert "index is damaged" in window.problem_text.text() and str(catalog) in window.problem_text.text()
    assert window.rebuild_button.isVisible()
    window.search_field.setText("pagoda")
    window.run_text_search()  # refused, not run on a damaged index
    assert window.mode == "browse" and "damaged" in window.statusBar().currentMessage()

    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS):
        window.rebuild_button.click()
    assert window.problem is None and window.splitter.isVisible()
    assert window.last_index.summary.indexed == ARCHIVE_FILES
    assert [p.name for p in catalog.parent.glob("catalog.db.damaged-*")]
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)


def test_deleted_index_is_shown_not_nothing_indexed(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        (window.catalog_path.parent / name).unlink(missing_ok=True)
    with qtbot.waitSignal(
        window.archive_state_changed, timeout=TIMEOUT_MS, check_params_cb=_problem(INDEX_MISSING)
    ):
        window.load_browse()  # e.g. a refresh: it finds no catalog and the window checks
    _assert_stopped(window, INDEX_MISSING)
    assert "index was deleted" in window.problem_text.text()
    assert window.grid_model.rowCount() == 0  # no grid of what is no longer indexed


def test_archive_renamed_away_keeps_edits_and_resumes_when_back(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    assert window.index_label.text().endswith("watching for changes")
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.details_shown, timeout=TIMEOUT_MS) as shown:
        window.grid.setCurrentIndex(window.grid_model.index(0))
    item_id = shown.args[0]
    path = window.grid_model.index(0).data(EntryRole).path
    away = archive.with_name("archive-renamed")
    with qtbot.waitSignal(window.edit_kept, timeout=TIMEOUT_MS):
        window.details.description.setPlainText("written while the share was away")
        archive.rename(away)  # the debounced save, or the panel hiding, finds no catalog: kept
    if window.problem is None:
        with qtbot.waitSignal(window.archive_state_changed, timeout=TIMEOUT_MS):
            pass
    _assert_stopped(window, UNAVAILABLE)
    assert "not available" in window.problem_text.text() and "Edits waiting to be written: 1" in (
        window.kept_label.text()
    )
    assert window.index_label.text() == "Archive not available — not watching"

    with qtbot.waitSignal(window.kept_edits_written, timeout=TIMEOUT_MS) as written:
        away.rename(archive)  # the share is back: the window carries on by itself
    assert written.args[0] == 1 and window.problem is None and window.splitter.isVisible()
    with Catalog(window.catalog_path) as catalog:
        assert catalog.description(item_id) == "written while the share was away"
    assert path in [e.path for e in window.grid_model.entries()]
    qtbot.waitUntil(
        lambda: window.index_label.text().endswith("watching for changes"), timeout=INDEX_TIMEOUT_MS
    )
    assert window.index_worker is not None and not window.pending.count(str(archive))


def test_watching_thread_stops_on_a_damaged_index(qtbot, models_dir, archive):
    from PIL import Image

    from desktop.workers.index_worker import IndexWorker
    from store.config import Settings

    worker = IndexWorker(archive, models_dir, Settings(), captions=False)
    outcomes = []
    worker.outcome.connect(outcomes.append)
    with qtbot.waitSignal(worker.outcome, timeout=INDEX_TIMEOUT_MS):
        worker.start()
    assert outcomes[0].watching and outcomes[0].totals.new == ARCHIVE_FILES
    with open(archive / ".imago" / "catalog.db", "r+b") as file:
        file.write(b"\0" * 4096)
    with qtbot.waitSignal(worker.finished, timeout=INDEX_TIMEOUT_MS):
        Image.new("RGB", (40, 30), "red").save(archive / "arrived.png")  # a change: the thread looks first
    assert outcomes[-1].problem == INDEX_DAMAGED and not outcomes[-1].watching
    assert outcomes[-1].summary is None and "not a database" in outcomes[-1].error


def test_unmounted_share_and_kept_edits_across_restarts(tmp_path):
    from desktop.pending_edits import CuratorEdit, PendingEdits
    from store.storage.archive import IndexLocation
    from store.storage.health import check_archive

    mount = tmp_path / "share"
    mount.mkdir()
    location = IndexLocation(mount, mount / ".imago", fallback=False)
    device = os.stat(mount).st_dev
    assert check_archive(location, device, catalog_seen=False).ok  # nothing indexed yet
    assert check_archive(location, device, catalog_seen=True).problem == UNAVAILABLE  # an empty mount point
    assert check_archive(location, device + 1, catalog_seen=False).problem == UNAVAILABLE  # another device

    kept = tmp_path / "pending.json"
    edit = CuratorEdit(str(mount), 3, "a/b.jpg", "description", text="Тихвинская", region=(1, 2, 3, 4))
    PendingEdits(kept).add(edit)
    assert PendingEdits(kept).count(str(mount)) == 1  # a new session (after a crash) still has it
    assert PendingEdits(kept)._loaded() == [edit]


def test_edit_failing_while_all_looks_well_is_kept_and_retried(qtbot, models_dir, archive, monkeypatch):
    import sqlite3

    from desktop.pending_edits import CuratorEdit

    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    apply, failures = CuratorEdit.apply, [1]

    def locked_once(edit, catalog):
        if failures:
            failures.pop()
            raise sqlite3.OperationalError("database is locked")
        return apply(edit, catalog)

    monkeypatch.setattr(CuratorEdit, "apply", locked_once)
    item_id = window.grid_model.index(2).data(EntryRole).item_id
    with qtbot.waitSignal(window.edit_kept, timeout=TIMEOUT_MS):
        window.save_description(item_id, "kept through a lock")
    assert "could not be written now (database is locked)" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.kept_edits_written, timeout=TIMEOUT_MS) as written:
        pass  # the next check finds all well and writes it
    assert written.args == [1] and window.problem is None
    with Catalog(window.catalog_path) as catalog:
        assert catalog.description(item_id) == "kept through a lock"


def _foreign_database(path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()


def test_every_catalog_the_store_refuses_is_a_damaged_index(tmp_path):
    import sqlite3

    from store.storage.archive import IndexLocation
    from store.storage.health import catalog_problem, check_archive

    folder = tmp_path / "archive"
    (folder / ".imago").mkdir(parents=True)
    location = IndexLocation(folder, folder / ".imago", fallback=False)
    path = location.catalog_path
    assert catalog_problem(path) == INDEX_MISSING
    with Catalog(path):
        pass
    assert catalog_problem(path) is None and check_archive(location).ok
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE descriptions")  # an Imago catalog with a table missing
    conn.commit()
    conn.close()
    assert catalog_problem(path) == INDEX_DAMAGED
    for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        (path.parent / name).unlink(missing_ok=True)
    _foreign_database(path)  # another program's database where the catalog should be
    assert check_archive(location).problem == INDEX_DAMAGED
    path.unlink()
    path.write_bytes(b"")  # an empty file: Catalog() refuses it (it never leaves one itself)
    health = check_archive(location)
    assert health.problem == INDEX_DAMAGED and health.catalog_exists


def test_catalog_deleted_while_being_opened_is_not_opened_empty(tmp_path, monkeypatch):
    import store.storage.health as archive_health
    from store.errors import CatalogError

    path = tmp_path / "catalog.db"
    with Catalog(path) as catalog:
        catalog.set_mount_points([b"kept"])  # something only the curator's catalog has
    real = archive_health.Catalog

    def deleted_first(catalog_path, **kwargs):  # the file goes between the check and the open
        for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        return real(catalog_path, **kwargs)

    monkeypatch.setattr(archive_health, "Catalog", deleted_first)
    with pytest.raises(CatalogError, match="catalog not found"):  # nothing made in its place
        archive_health.open_catalog(path)
    assert not path.exists()  # no empty catalog left to be taken for the curator's: "index deleted"
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")  # the archive itself is still there
    assert (
        archive_health.check_archive(
            archive_health.IndexLocation(tmp_path, tmp_path, fallback=False), catalog_seen=True
        ).problem
        == INDEX_MISSING
    )


def test_foreign_database_in_place_of_the_catalog_stops_the_window(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    catalog = window.catalog_path
    foreign = catalog.with_name("other.db")
    _foreign_database(foreign)
    with qtbot.waitSignal(
        window.archive_state_changed, timeout=TIMEOUT_MS, check_params_cb=_problem(INDEX_DAMAGED)
    ):
        for name in ("catalog.db-wal", "catalog.db-shm"):
            (catalog.parent / name).unlink(missing_ok=True)
        os.replace(foreign, catalog)
    _assert_stopped(window, INDEX_DAMAGED)
    assert window.rebuild_button.isVisible()


def _read_only_medium(monkeypatch, *folders) -> None:
    """EROFS, as a read-only mount gives, for every os.open that would create or write a file
    directly in one of `folders` (tests run as root, which mode bits do not stop)."""
    import errno

    real_open, blocked = os.open, {os.path.realpath(f) for f in folders}
    write_flags = os.O_CREAT | os.O_WRONLY | os.O_RDWR

    def open_(path, flags, *args, **kwargs):
        if flags & write_flags and os.path.dirname(os.path.realpath(path)) in blocked:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def test_read_only_index_says_so_and_takes_no_edits(qtbot, models_dir, archive, monkeypatch):
    from desktop.main_window import MainWindow

    indexed = open_indexed(qtbot, models_dir, archive)
    indexed.close()
    _read_only_medium(monkeypatch, archive, archive / ".imago")  # the archive, burnt to a DVD
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    assert window.open_archive(archive) and window.location.read_only
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    assert window.read_only_label.isVisible() and "edits cannot be saved" in window.read_only_label.text()
    assert window.index_worker is None and "read-only" in window.index_label.text()
    with qtbot.waitSignal(window.details_shown, timeout=TIMEOUT_MS) as shown:
        window.grid.setCurrentIndex(window.grid_model.index(0))
    assert window.details.description.isReadOnly() and not window.details.labels.isEnabled()
    kept = []
    window.edit_kept.connect(kept.append)
    window.save_description(shown.args[0], "cannot go anywhere")
    assert "read-only" in window.statusBar().currentMessage()
    window.writes.pool.waitForDone(10_000)
    assert kept == [] and window.pending.count(str(archive)) == 0  # never "kept for later"


def test_edit_refused_as_read_only_is_not_kept(qtbot, models_dir, archive, monkeypatch):
    from store.errors import ReadOnlyIndexError

    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)

    def read_only(edit, catalog):  # the medium was remounted read-only after the archive was opened
        raise ReadOnlyIndexError(f"the index in {catalog.path.parent} is read-only")

    monkeypatch.setattr(CuratorEdit, "apply", read_only)
    kept = []
    window.edit_kept.connect(kept.append)
    window.save_description(window.grid_model.index(1).data(EntryRole).item_id, "lost for ever?")
    qtbot.waitUntil(lambda: getattr(window, "read_only", False), timeout=TIMEOUT_MS)
    assert kept == [] and window.pending.count(str(archive)) == 0
    assert "edits cannot be saved" in window.statusBar().currentMessage()
    assert window.details.description.isReadOnly() and window.read_only_label.isVisible()

"""`main.py restore` and `main.py index` against a busy or damaged index (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_fakes import make_archive

from store.storage import backup
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.index_lock import IndexLock

REPO = Path(__file__).resolve().parents[2]
FIXTURE_MODELS = REPO / "tests" / "fixtures" / "models"


def _main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True, timeout=300,
        env=dict(os.environ),
    )  # fmt: skip


def test_restore_cli_lists_and_restores_a_backup_of_a_zeroed_catalog(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 2)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        with cat.transaction():
            item = cat.ensure_file_item(
                cat.upsert_file(b"a.png", size=1, mtime_ns=1, hash="h", status="indexed")
            )
        cat.set_description(item, "описание куратора")
        saved = backup.daily_backup(cat.conn, location.catalog_path)
    location.catalog_path.write_bytes(b"")  # what a crash or a bad copy left behind

    refused = _main("export", str(archive), "--format", "json", "--out", str(tmp_path / "out.json"))
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "empty file" in refused.stderr and "restore" in refused.stderr
    assert location.catalog_path.read_bytes() == b""  # not replaced by a new, empty catalog

    listed = _main("restore", str(archive), "--list")
    assert listed.returncode == 0 and saved.name in listed.stdout and "daily" in listed.stdout
    done = _main("restore", str(archive), "--from", saved.name)
    assert done.returncode == 0, done.stderr
    assert f"from {saved.name}" in done.stdout and "broken" in done.stdout
    with Catalog(location.catalog_path) as cat:
        assert cat.description(item) == "описание куратора"
    missing = _main("restore", str(archive), "--from", "catalog-nope")
    assert missing.returncode == 1 and missing.stderr.startswith("imago: error: no backup called")


@pytest.mark.skipif(
    not (FIXTURE_MODELS / "clip-tiny" / "manifest.json").is_file(),
    reason="tiny CLIP fixture bundle not present",
)
def test_second_index_process_says_another_indexer_is_running(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 2)
    location = locate_index(archive)
    with IndexLock(location.path, location.archive):  # as a running `index` holds it
        busy = _main("index", str(archive), "--models", str(FIXTURE_MODELS), "--no-caption")
    assert busy.returncode == 1
    assert f"another indexer (pid {os.getpid()}) is running on {location.archive}" in busy.stderr
    assert "Traceback" not in busy.stderr
    done = _main("index", str(archive), "--models", str(FIXTURE_MODELS), "--no-caption", "--json")
    assert done.returncode == 0, done.stderr

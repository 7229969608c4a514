"""One bad file never stops indexing: malformed metadata, parser crashes, pipes and devices named
like images, and a pipe swapped in for a file between the scan and the read."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image
from store_fakes import FakeEncoder, make_archive

import store.ingestion.indexer as indexer_module
from store.ingestion.indexer import Indexer
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX-only")


def _png_with_bad_exif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "PNG")
    data = buffer.getvalue()
    body = b"eXIf" + b"garbage!"
    chunk = struct.pack(">I", 8) + body + struct.pack(">I", zlib.crc32(body))
    at = data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


def _webp_with_bad_exif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 200, 30)).save(buffer, "WEBP", exif=b"garbage!")
    return buffer.getvalue()


def _index(root: Path, **kwargs):
    location = locate_index(root)
    catalog = Catalog(location.catalog_path)
    try:
        indexer = Indexer(location, catalog, FakeEncoder(), batch_size=4, decode_workers=2, **kwargs)
        return indexer.index(captions=False), catalog.file_states()
    finally:
        catalog.close()


def test_malformed_metadata_is_indexed_and_special_files_are_reported(tmp_path):
    root = tmp_path / "archive"
    good = {p.relative_to(root).as_posix() for p in make_archive(root, 8)}
    (root / "bad-exif.png").write_bytes(_png_with_bad_exif())
    (root / "bad-exif.webp").write_bytes(_webp_with_bad_exif())
    os.mkfifo(root / "pipe.jpg")
    os.mkfifo(root / "pipe-not-an-image")  # not named like an image: not ours, not reported

    summary, states = _index(root)

    failures = {f["path"]: f["error"] for f in summary.failures}
    assert failures == {"pipe.jpg": "not_an_image: not a regular file (a named pipe): pipe.jpg"}
    assert summary.indexed == len(good) + 2  # the broken EXIF blocks cost only the EXIF data
    assert states[b"bad-exif.png"].status == "indexed"
    assert states[b"bad-exif.webp"].status == "indexed"


def test_a_parser_crash_fails_that_file_only(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    make_archive(root, 6)
    (root / "crash.png").write_bytes(_png_with_bad_exif())
    real_open = Image.open

    def open_that_crashes_on_one_file(fp, *args, **kwargs):
        image = real_open(fp, *args, **kwargs)
        if image.size == (32, 24):
            raise RuntimeError("Failed to decode frame 0")  # as AVIF/HEIF plugins raise
        return image

    monkeypatch.setattr(Image, "open", open_that_crashes_on_one_file)
    summary, states = _index(root)

    assert [f["path"] for f in summary.failures] == ["crash.png"]
    assert "RuntimeError: Failed to decode frame 0" in summary.failures[0]["error"]
    assert summary.indexed == 6
    assert states[b"crash.png"].status == "failed"


def test_a_pipe_swapped_in_after_the_scan_does_not_block_the_run(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    make_archive(root, 6)
    victim = root / "folder1" / "img0001.jpg"
    real_plan = indexer_module.plan_scan

    def plan_then_swap(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        victim.unlink()
        os.mkfifo(victim)  # reading it would wait for a writer forever
        return plan

    monkeypatch.setattr(indexer_module, "plan_scan", plan_then_swap)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(run=_index(root)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():  # unblock the reader so the test process can end, then fail
        with open(victim, "wb"):
            pass
        pytest.fail("indexing blocked on a named pipe")
    summary, _ = outcome["run"]
    assert [(f["path"], f["error"].split(":")[0]) for f in summary.failures] == [
        ("folder1/img0001.jpg", "not_an_image")
    ]
    assert summary.indexed == 5

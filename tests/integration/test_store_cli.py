"""`main.py index` end to end with the tiny real CLIP fixture bundle (and GIT when present)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from store_fakes import make_archive

REPO = Path(__file__).resolve().parents[2]
FIXTURE_MODELS = REPO / "tests" / "fixtures" / "models"

pytestmark = pytest.mark.skipif(
    not (FIXTURE_MODELS / "clip-tiny" / "manifest.json").is_file(),
    reason="tiny CLIP fixture bundle not present",
)


def _index(archive: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "main.py"),
            "index",
            str(archive),
            "--models",
            str(FIXTURE_MODELS),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def test_index_cli_json_summary_and_stored_vectors(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 5)
    (archive / "broken.jpg").write_text("not really a picture")
    done = _index(archive, "--json", "--no-caption")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(summary) == ["indexed", "unchanged", "moved", "removed", "failed", "items", "failures"]
    assert summary["indexed"] == 5 and summary["failed"] == 1 and summary["items"] >= 5
    assert summary["failures"][0]["path"] == "broken.jpg"
    assert summary["failures"][0]["error"].startswith("not_an_image")

    again = json.loads(_index(archive, "--json", "--no-caption").stdout.strip().splitlines()[-1])
    assert (again["indexed"], again["unchanged"], again["failed"]) == (0, 5, 1)

    # The stored vectors are exactly what the real encoder gives for the decoded image.
    from models.bundle import load_bundle
    from models.clip import ClipImageEncoder
    from store.ingestion.decoder import decode_file
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog
    from store.storage.vector_index import VectorIndex

    encoder = ClipImageEncoder(load_bundle(FIXTURE_MODELS / "clip-tiny"))
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        item = cat.ensure_file_item(cat.file_id(b"folder1/img0001.jpg"))
        _keys, matrix = cat.vectors(encoder.model_id, [item])
        _, decoded = decode_file(archive / "folder1/img0001.jpg", target_size=256)
        expected = encoder.encode([decoded.image])[0]
        np.testing.assert_allclose(matrix[0], expected, atol=1e-5)
        labels = cat.labels(item)
        assert {r["head"] for r in labels} >= {"category"} and all(r["source"] == "model" for r in labels)
        vindex = VectorIndex.open(location.path, encoder.model_id, encoder.dim, cat)
        assert vindex.search(expected, 1)[0][0] == item


@pytest.mark.skipif(not any(FIXTURE_MODELS.glob("git*/manifest.json")), reason="no tiny GIT fixture bundle")
def test_index_cli_with_captions(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 2)
    done = _index(archive, "--json")
    assert done.returncode == 0, done.stderr
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    with Catalog(locate_index(archive).catalog_path) as cat:
        rows = cat.conn.execute("SELECT model_id, text FROM captions").fetchall()
    assert len(rows) >= 2 and all(model_id.startswith("git") for model_id, _ in rows)


def test_index_cli_missing_archive_is_one_line_error(tmp_path):
    done = _index(tmp_path / "nope", "--json")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("imago: error:") and "nope" in done.stderr


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_index_watch_picks_up_new_files_and_stops_on_ctrl_c(tmp_path, stop_signal):
    import signal

    from store_fakes import make_image

    archive = tmp_path / "archive"
    make_archive(archive, 2)
    cmd = [sys.executable, str(REPO / "main.py"), "index", str(archive), "--models", str(FIXTURE_MODELS)]
    proc = subprocess.Popen(
        [*cmd, "--no-caption", "--watch", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    import threading

    guard = threading.Timer(120, proc.kill)  # never hang the suite on a blocked readline
    guard.start()
    try:
        first = json.loads(proc.stdout.readline())
        assert first["indexed"] == 2
        make_image(archive / "arrived.png", 99)  # the watcher is running once the first summary is out
        second = json.loads(proc.stdout.readline())
        assert (second["indexed"], second["items"]) == (1, 3)
        proc.send_signal(getattr(signal, stop_signal))
        _, err = proc.communicate(timeout=60)
    finally:
        guard.cancel()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped watching" in err


def test_index_models_that_is_a_bundle_says_which_folder_to_pass(tmp_path, capsys):
    import main

    archive = tmp_path / "archive"
    make_archive(archive, 1)
    bundle = FIXTURE_MODELS / "clip-tiny"
    assert main.main(["index", str(archive), "--models", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: imago index")
    assert f"{bundle} is a bundle; pass the folder that holds bundles" in err
    assert not (archive / ".imago").exists()  # nothing was created


def test_index_of_an_archive_whose_index_folder_is_a_file(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 1)
    (archive / ".imago").write_text("in the way")
    done = _index(archive)
    assert done.returncode == 1
    assert done.stderr == f"imago: error: {archive / '.imago'} is a file, not Imago's index folder; " \
        "move it aside (Imago keeps the index there)\n"  # fmt: skip

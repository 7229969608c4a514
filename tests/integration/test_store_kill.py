"""Crash safety: kill -9 the indexer at random points, again and again, then check the store."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from store_fakes import FakeEncoder, make_archive

from store.ingestion.indexer import Indexer
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

REPO = Path(__file__).resolve().parents[2]
FILES = 24
KILLS = 6
NEW_PER_ROUND = 4
TOTAL = FILES + (KILLS - 1) * NEW_PER_ROUND

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from store_fakes import FakeCaptioner, FakeClassifier, FakeEncoder, quadrant_detector
    from store.ingestion import indexer as indexer_mod
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    indexer_mod.SAVE_EVERY_S = 0.0  # save the vector index after every batch: kills land in saves too
    location = locate_index(Path(sys.argv[1]))
    with Catalog(location.catalog_path) as catalog:
        indexer = indexer_mod.Indexer(
            location, catalog, FakeEncoder(), classifiers=[FakeClassifier()], captioner=FakeCaptioner(),
            region_detector=quadrant_detector, batch_size=3, caption_batch_size=2, decode_workers=2,
        )
        for progress in indexer.run():
            print(progress.phase, progress.done, flush=True)
    print("finished", flush=True)
    """
)


def _run_child(archive: Path, script: Path, kill_after_lines: int | None, delay: float) -> bool:
    """Run the indexer in a subprocess; SIGKILL it after some progress lines.

    Returns True when the SIGKILL landed mid-run: the child died of the signal before reporting the
    end of its run. False when it finished (a kill that came too late does not count)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "unit")]))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(archive)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdout is not None
    output = []
    for lines, line in enumerate(proc.stdout, 1):
        output.append(line)
        if kill_after_lines is not None and lines >= kill_after_lines:
            time.sleep(delay)  # lands the kill at a random point of the next step
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    output += proc.stdout.readlines()  # what it printed before the signal landed
    proc.stdout.close()
    ended = any(line.startswith((b"finished", b"done ")) for line in output)
    if kill_after_lines is None:
        assert proc.returncode == 0 and ended, output[-3:]
        return False
    landed = proc.returncode == -signal.SIGKILL and not ended
    assert landed or (proc.returncode in (0, -signal.SIGKILL) and ended), (proc.returncode, output[-3:])
    return landed


def _check_store(archive: Path, edits: dict[int, str]) -> None:
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        assert cat.integrity_ok()
        dup = cat.conn.execute(
            "SELECT count(*) FROM (SELECT file_id, x, y, w, h, count(*) c FROM items "
            "GROUP BY file_id, kind, x, y, w, h HAVING c > 1)"
        ).fetchone()[0]
        assert dup == 0, "duplicate items"
        orphans = cat.conn.execute(
            "SELECT count(*) FROM embeddings WHERE item_id NOT IN (SELECT id FROM items)"
        ).fetchone()[0]
        assert orphans == 0
        for item_id, text in edits.items():
            assert cat.description(item_id) == text
        vindex = VectorIndex.open(location.path, FakeEncoder.model_id, FakeEncoder.dim, cat)
        assert sorted(vindex.keys().tolist()) == sorted(cat.visible_keys(FakeEncoder.model_id).tolist())
        # every indexed file is complete: its file item and both regions have vectors
        incomplete = cat.conn.execute(
            "SELECT count(*) FROM files JOIN items ON items.file_id = files.id "
            "WHERE files.status = 'indexed' AND items.hidden = 0 "
            "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = items.id)"
        ).fetchone()[0]
        assert incomplete == 0
        per_file = cat.conn.execute(
            "SELECT count(*) FROM items JOIN files ON files.id = items.file_id "
            "WHERE files.status = 'indexed' GROUP BY files.id"
        ).fetchall()
        assert {n for (n,) in per_file} <= {3}


def test_kill_minus_nine_at_random_points(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, FILES)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(1234)
    edits: dict[int, str] = {}
    killed = 0
    for round_ in range(KILLS):
        if round_:  # new work arrives between crashes: new files and a rename
            make_archive(archive, NEW_PER_ROUND, start=FILES + (round_ - 1) * NEW_PER_ROUND)
            victim = sorted((archive / "folder0").glob("*.png"))[0]
            victim.rename(archive / f"renamed-{round_}.png")
        killed += _run_child(archive, script, kill_after_lines=rng.randint(1, 20), delay=rng.uniform(0, 0.03))
        _check_store(archive, edits)
        with Catalog(locate_index(archive).catalog_path) as cat:  # a curator edits between crashes
            row = cat.conn.execute("SELECT id FROM items ORDER BY random() LIMIT 1").fetchone()
            if row:
                edits[row[0]] = f"edit before kill {round_}"
                cat.set_description(row[0], edits[row[0]])
    assert killed >= KILLS - 2  # most kills really landed mid-run, before the child reported its end
    _run_child(archive, script, kill_after_lines=None, delay=0)  # re-running finishes the job
    _check_store(archive, edits)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        assert cat.counts() in ({"indexed": TOTAL}, {"indexed": TOTAL, "missing": 0})
        assert cat.searchable_count(FakeEncoder.model_id) == 3 * TOTAL
        assert cat.items_without_caption("fake-caption-v1") == {}
        encoder = FakeEncoder()
        summary = Indexer(location, cat, encoder).index(captions=False)
        assert encoder.embedded == 0 and summary.unchanged == TOTAL

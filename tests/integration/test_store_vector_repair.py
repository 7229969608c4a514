"""The vector index after a crash during a re-index of modified files (issue 17, item 3).

Modified files keep their item ids and get new vectors. When the process dies after the catalog
commit and before the `.usearch` file is saved, the next run finds the old file with the same keys:
comparing key sets saw nothing to do, and `similar` used the old vectors for good.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from store_fakes import FakeEncoder, make_archive, make_image, quadrant_detector

from store.ingestion.indexer import Indexer
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

REPO = Path(__file__).resolve().parents[2]


def _vectors(index: VectorIndex) -> dict[int, np.ndarray]:
    keys = np.sort(index.keys())
    got = np.asarray(index._index.get(keys, dtype=np.float32), np.float32).reshape(len(keys), index.dim)
    return {int(k): v for k, v in zip(keys, got, strict=True)}


def assert_equals_a_rebuilt_index(location, catalog: Catalog) -> int:
    """The saved index, opened as the next process would, holds the vectors of a rebuilt one."""
    opened = VectorIndex.open(location.path, FakeEncoder.model_id, FakeEncoder.dim, catalog)
    rebuilt = VectorIndex(location.path, FakeEncoder.model_id, FakeEncoder.dim)
    rebuilt.sync(catalog, rebuild=True)
    have, want = _vectors(opened), _vectors(rebuilt)
    assert sorted(have) == sorted(want)
    stale = [k for k in want if not np.allclose(have[k], want[k], atol=2e-3)]
    assert stale == [], f"{len(stale)} of {len(want)} vectors differ from a rebuilt index"
    return len(want)


def _modify(paths: list[Path], seed: int) -> None:
    """New content under the same names (and a new mtime, as an editor saving the file gives)."""
    for n, path in enumerate(paths):
        make_image(path, 10_000 + seed * 100 + n, fmt="PNG" if path.suffix == ".png" else "JPEG")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000 * (seed + 1)))


def test_reindex_of_modified_files_killed_before_the_save(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    paths = make_archive(archive, 12)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        Indexer(location, cat, FakeEncoder(), region_detector=quadrant_detector).index(captions=False)
    _modify(paths[:5], seed=1)
    # the crash: the catalog commits the new vectors, the index file is never written again
    monkeypatch.setattr(VectorIndex, "save", lambda self: None)
    with Catalog(location.catalog_path) as cat:
        summary = Indexer(location, cat, FakeEncoder(), region_detector=quadrant_detector).index(
            captions=False
        )
        assert summary.indexed == 5
    monkeypatch.undo()
    with Catalog(location.catalog_path) as cat:
        assert assert_equals_a_rebuilt_index(location, cat) == 36
        # and a normal run afterwards (which saves) leaves a file that needs no repair
        Indexer(location, cat, FakeEncoder(), region_detector=quadrant_detector).index(captions=False)
        reopened = VectorIndex(location.path, FakeEncoder.model_id, FakeEncoder.dim)
        assert reopened.load() and reopened.sync(cat).added == 0


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from store_fakes import FakeEncoder, quadrant_detector
    from store.ingestion import indexer as indexer_mod
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    indexer_mod.SAVE_EVERY_S = float(sys.argv[2])
    location = locate_index(Path(sys.argv[1]))
    with Catalog(location.catalog_path) as catalog:
        indexer = indexer_mod.Indexer(location, catalog, FakeEncoder(), region_detector=quadrant_detector,
                                      batch_size=2, decode_workers=2)
        for progress in indexer.run(captions=False):
            print(progress.phase, progress.done, flush=True)
    print("finished", flush=True)
    """
)


def run_child(archive: Path, script: Path, kill_after: int | None, save_every: float) -> bool:
    """Run an indexer process; SIGKILL it after `kill_after` progress lines. True if it finished."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "unit")]))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(archive), str(save_every)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    finished = False
    for lines, line in enumerate(proc.stdout, 1):
        finished = finished or line.startswith(b"finished")
        if kill_after is not None and lines >= kill_after:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    proc.stdout.close()
    return finished


def test_kill_storm_during_reindex_of_modified_files(tmp_path):
    archive = tmp_path / "archive"
    paths = make_archive(archive, 16)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    assert run_child(archive, script, None, 0.0)
    rng = random.Random(17)
    kills = 0
    for round_ in range(6):
        _modify(rng.sample(paths, 6), seed=round_)
        # a save after every batch (0) or never before the end (1e9): kills land before, in and after saves
        kills += not run_child(archive, script, rng.randint(2, 9), rng.choice([0.0, 1e9]))
        location = locate_index(archive)
        with Catalog(location.catalog_path) as cat:
            assert cat.integrity_ok()
            assert_equals_a_rebuilt_index(location, cat)  # what the next process would search
    assert kills >= 4
    assert run_child(archive, script, None, 0.0)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as cat:
        assert assert_equals_a_rebuilt_index(location, cat) == 3 * 16

"""Vector index: search, atomic save, repair and rebuild from the catalog, thread safety."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from store.errors import VectorIndexError
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex, index_file_name

DIM = 32


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, DIM))
    v = centres[rng.integers(0, 8, n)] + 0.3 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _catalog_with(tmp_path, vectors: np.ndarray, model_id: str = "m") -> tuple[Catalog, list[int]]:
    cat = Catalog(tmp_path / "catalog.db")
    ids = []
    with cat.transaction():
        for n in range(len(vectors)):
            file_id = cat.upsert_file(
                f"f{n}.jpg".encode(), size=1, mtime_ns=1, hash=f"h{n}", status="indexed"
            )
            ids.append(cat.ensure_file_item(file_id))
        cat.put_embeddings(model_id, ids, vectors)
    return cat, ids


def test_exact_and_hnsw_search_agree_on_the_nearest(tmp_path):
    vectors = _vectors(500)
    index = VectorIndex(tmp_path, "m", DIM, exact_threshold=0)
    index.add(np.arange(1, 501), vectors)
    exact = index.search(vectors[10], 5, exact=True)
    approx = index.search(vectors[10], 5, exact=False)
    assert exact[0][0] == 11 and approx[0][0] == 11
    assert exact[0][1] == pytest.approx(1.0, abs=2e-3)  # f16 storage
    scores = [s for _, s in exact]
    assert scores == sorted(scores, reverse=True)
    brute = np.argsort(-(vectors @ vectors[10]))[:5] + 1
    assert {k for k, _ in exact} == set(brute.tolist())  # order may differ on f16 near-ties
    assert len(set(k for k, _ in approx) & set(brute.tolist())) >= 4


def test_add_replaces_existing_keys_and_remove(tmp_path):
    index = VectorIndex(tmp_path, "m", DIM)
    v = _vectors(3)
    index.add([1, 2, 3], v)
    index.add([2], v[0:1])
    assert len(index) == 3
    assert {k for k, s in index.search(v[0], 3) if s > 0.99} == {1, 2}
    assert index.remove([2, 99]) == 1
    assert sorted(index.keys().tolist()) == [1, 3]
    with pytest.raises(VectorIndexError):
        index.add([5], np.zeros((1, DIM + 1), np.float32))
    with pytest.raises(VectorIndexError):
        index.search(np.zeros(DIM + 1, np.float32))


def test_save_is_atomic_and_reloads(tmp_path):
    index = VectorIndex(tmp_path, "clip@1", DIM)
    index.add([7, 8], _vectors(2))
    index.save()
    assert index.path.name == index_file_name("clip@1") == "vectors-clip_1.usearch"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".vectors-")] == []
    meta = json.loads(index.meta_path.read_text())
    assert meta["count"] == 2 and meta["model_id"] == "clip@1" and meta["dtype"] == "f16"
    again = VectorIndex(tmp_path, "clip@1", DIM)
    assert again.load()
    assert sorted(again.keys().tolist()) == [7, 8]


def test_open_repairs_a_stale_file(tmp_path):
    vectors = _vectors(20)
    cat, ids = _catalog_with(tmp_path, vectors)
    stale = VectorIndex(tmp_path, "m", DIM)
    stale.add([*ids[:5], 12345], np.vstack([vectors[:5], vectors[:1]]))  # 15 missing, one extra
    stale.save()
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert sorted(index.keys().tolist()) == sorted(ids)
    assert index.search(vectors[17], 1)[0][0] == ids[17]
    cat.close()


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "no-meta", "other-model", "other-dim", "other-dtype", "other-connectivity"],
)
def test_open_rebuilds_unusable_files(tmp_path, damage):
    vectors = _vectors(30)
    cat, ids = _catalog_with(tmp_path, vectors)
    good = VectorIndex(tmp_path, "m", DIM)
    good.add(ids, vectors)
    good.save()
    if damage == "garbage":
        good.path.write_bytes(b"\x00garbage" * 50)
    elif damage == "truncated":
        good.path.write_bytes(good.path.read_bytes()[:200])
    elif damage == "no-meta":
        good.meta_path.unlink()
    elif damage == "other-model":
        meta = json.loads(good.meta_path.read_text())
        good.meta_path.write_text(json.dumps(meta | {"model_id": "other"}))
    elif damage == "other-dim":
        meta = json.loads(good.meta_path.read_text())
        good.meta_path.write_text(json.dumps(meta | {"dim": 8}))

    # the last two: the file is fine, but the settings now ask for another dtype / graph degree
    wanted = {"other-dtype": {"dtype": "f32"}, "other-connectivity": {"connectivity": 32}}.get(damage, {})
    index = VectorIndex(tmp_path, "m", DIM, **wanted)
    assert index.load() is False
    report = index.sync(cat, rebuild=True)
    assert report.rebuilt and report.added == 30
    assert index.search(vectors[3], 1)[0][0] == ids[3]
    cat.close()


def test_sync_drops_invisible_items(tmp_path):
    vectors = _vectors(10)
    cat, ids = _catalog_with(tmp_path, vectors)
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    with cat.transaction():
        cat.mark_missing([cat.file_id(b"f0.jpg")])
    report = index.sync(cat)
    assert (report.added, report.removed) == (0, 1)
    assert ids[0] not in index.keys().tolist()
    cat.close()


def test_reader_index_catches_up_in_memory_but_never_saves(tmp_path, monkeypatch):
    import store.storage.vector_index as vi

    vectors = _vectors(10)
    cat, ids = _catalog_with(tmp_path, vectors[:6])
    writer = VectorIndex.open(tmp_path, "m", DIM, cat)
    writer.save()
    with cat.transaction():  # the indexer goes on: 4 more vectors, not saved yet
        for n in range(6, 10):
            file_id = cat.upsert_file(
                f"f{n}.jpg".encode(), size=1, mtime_ns=1, hash=f"h{n}", status="indexed"
            )
            ids.append(cat.ensure_file_item(file_id))
        cat.put_embeddings("m", ids[6:], vectors[6:])
    monkeypatch.setattr(vi, "VIEW_THRESHOLD_BYTES", 0)  # force the memory-mapped view
    reader = VectorIndex(tmp_path, "m", DIM, writable=False)
    assert reader.load() and reader._is_view
    report = reader.sync(cat)
    assert (report.rebuilt, report.added) == (False, 4)  # the 4 newer vectors were added in memory
    assert sorted(reader.keys().tolist()) == sorted(ids)
    assert reader.search(vectors[8], 1)[0][0] == ids[8]
    with pytest.raises(VectorIndexError, match="read-only"):
        reader.save()
    assert json.loads(writer.meta_path.read_text())["count"] == 6
    cat.close()


def test_concurrent_add_and_search(tmp_path):
    index = VectorIndex(tmp_path, "m", DIM, exact_threshold=50)
    vectors = _vectors(2000, seed=3)
    errors = []

    def writer():
        try:
            for start in range(0, 2000, 50):
                index.add(np.arange(start, start + 50) + 1, vectors[start : start + 50])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        try:
            for n in range(300):
                index.search(vectors[n % 2000], 5)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(index) == 2000
    assert index.search(vectors[1500], 1)[0][0] == 1501


def test_importing_the_index_before_onnxruntime_does_not_crash():
    # usearch's static libstdc++ once made a later `import onnxruntime` die with SIGSEGV.
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", "import store.storage.vector_index, usearch.index, onnxruntime; print('ok')"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr[-500:])


def test_vector_settings_are_validated():
    from models.errors import ConfigError
    from store.config import Settings

    Settings(vector_dtype="f32", vector_connectivity=32).validate()
    with pytest.raises(ConfigError, match="vector_dtype"):
        Settings(vector_dtype="f64").validate()
    with pytest.raises(ConfigError, match="vector_connectivity"):
        Settings(vector_connectivity=1).validate()


# -- issue 17: stale vectors after a crash, corrupt or foreign files ---------------------------------


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and r.name == "store.storage.vector_index"
    ]


def _holds(index: VectorIndex, keys, vectors: np.ndarray) -> bool:
    """Whether the index's vectors for `keys` are `vectors` (up to f16 rounding)."""
    keys = np.asarray(keys, np.uint64)
    got = np.asarray(index._index.get(keys, dtype=np.float32), np.float32).reshape(len(keys), DIM)
    cosine = np.sum(got * vectors, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(vectors, axis=1)
    return bool(np.all(cosine > 0.999))


def test_sync_readds_vectors_written_after_the_saved_generation(tmp_path):
    # A re-index of modified files commits new vectors for the same items, then the process is killed
    # before the index is saved: the file on disk still has the old vectors under the same keys.
    vectors = _vectors(40)
    cat, ids = _catalog_with(tmp_path, vectors)
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    index.save()
    changed = _vectors(10, seed=7)
    with cat.transaction():  # what the indexer commits for 10 re-indexed files
        cat.put_embeddings("m", ids[5:15], changed)
    # ...killed here: no save. The next process opens the old file with the new catalog.
    again = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert sorted(again.keys().tolist()) == sorted(ids)
    assert _holds(again, ids[5:15], changed)
    assert _holds(again, ids[15:], vectors[15:])
    assert again.search(changed[3], 1, exact=True)[0][0] == ids[8]
    again.save()  # and once saved, the file is current: nothing to re-add next time
    third = VectorIndex(tmp_path, "m", DIM)
    assert third.load()
    assert third.sync(cat).added == 0 and _holds(third, ids[5:15], changed)
    cat.close()


def test_catch_up_adds_only_newer_generations(tmp_path):
    vectors = _vectors(20)
    cat, ids = _catalog_with(tmp_path, vectors)
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert index.catch_up(cat).added == 0
    newer = _vectors(3, seed=5)
    with cat.transaction():
        cat.put_embeddings("m", ids[:3], newer)
        cat.mark_missing([cat.file_id(b"f19.jpg")])
        cat.put_embeddings("m", [ids[19]], newer[:1])  # written while invisible: must leave the index
    report = index.catch_up(cat)
    assert (report.added, report.removed) == (3, 1)
    assert _holds(index, ids[:3], newer) and ids[19] not in index.keys().tolist()
    cat.close()


def _saved(tmp_path, n: int = 30) -> tuple[Catalog, list[int], np.ndarray, VectorIndex]:
    vectors = _vectors(n)
    cat, ids = _catalog_with(tmp_path, vectors)
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    index.save()
    return cat, ids, vectors, index


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage-same-size", "zeros-same-size", "header-flipped", "huge", "graph-bytes", "vectors"],
)
def test_damaged_file_with_its_metadata_is_rebuilt_not_loaded(tmp_path, caplog, damage):
    # The metadata still describes the file's old size: usearch must never see these bytes. Before
    # checksums, "graph-bytes" (4 bytes of the HNSW graph changed) crashed the process with SIGSEGV
    # and "vectors" (other vectors in place of the stored ones) was used silently.
    cat, ids, vectors, saved = _saved(tmp_path, n=300)
    data = bytearray(saved.path.read_bytes())
    vectors_end = 8 + len(ids) * DIM * 2  # usearch layout: rows, row bytes, f16 matrix, header, graph
    rng = np.random.default_rng(1)
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage-same-size":
        data = bytearray(rng.integers(0, 256, len(data), dtype=np.uint8).tobytes())
    elif damage == "zeros-same-size":
        data = bytearray(len(data))
    elif damage == "header-flipped":
        for at in range(64, len(data), 97):
            data[at] ^= 0xFF
    elif damage == "huge":  # a header claiming billions of vectors
        data[:64] = b"\xff" * 64
    elif damage == "graph-bytes":
        for at in rng.integers(vectors_end, len(data), 4):
            data[int(at)] = int(rng.integers(0, 256))
    elif damage == "vectors":
        data[8:vectors_end] = _vectors(len(ids), seed=5).astype(np.float16).tobytes()
    saved.path.write_bytes(bytes(data))
    caplog.set_level("WARNING")
    index = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert sorted(index.keys().tolist()) == sorted(ids)
    assert _holds(index, ids, vectors)
    # The graph is walked (HNSW), as a search of a large archive would. It is approximate (and built
    # by several threads, so not the same twice): most of these self-queries find themselves first.
    queries = range(0, 300, 7)
    found = [[key for key, _ in index.search(vectors[n], 5, exact=False)] for n in queries]
    assert all(len(top) == 5 and set(top) <= set(ids) for top in found)
    assert sum(top[0] == ids[n] for n, top in zip(queries, found, strict=True)) >= 0.8 * len(found)
    assert len(_warnings(caplog)) == 1 and "rebuilding" in _warnings(caplog)[0]
    cat.close()


def test_file_from_another_archive_is_rebuilt(tmp_path, caplog):
    # Same model, same item ids 1..N, a valid file and metadata: but another catalog's vectors.
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    cat, ids, vectors, _ = _saved(tmp_path / "ours")
    theirs = Catalog(tmp_path / "theirs" / "catalog.db")
    with theirs.transaction():
        for n in range(len(ids)):
            file_id = theirs.upsert_file(
                f"g{n}.jpg".encode(), size=1, mtime_ns=1, hash=f"g{n}", status="indexed"
            )
            theirs.ensure_file_item(file_id)
        theirs.put_embeddings("m", ids, _vectors(len(ids), seed=42))
    other = VectorIndex.open(tmp_path / "theirs", "m", DIM, theirs)
    other.save()
    theirs.close()
    for name in (other.path.name, other.meta_path.name):
        (tmp_path / "ours" / name).write_bytes((tmp_path / "theirs" / name).read_bytes())
    caplog.set_level("WARNING")
    index = VectorIndex.open(tmp_path / "ours", "m", DIM, cat)
    assert _holds(index, ids, vectors)
    assert len(_warnings(caplog)) == 1 and "another catalog" in _warnings(caplog)[0]
    cat.close()


def test_file_with_replaced_vectors_is_rebuilt(tmp_path, caplog):
    # A consistent file + metadata for this very catalog whose vectors are not the catalog's.
    cat, ids, vectors, index = _saved(tmp_path)
    index.add(ids, _vectors(len(ids), seed=99))
    index.save()
    caplog.set_level("WARNING")
    again = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert _holds(again, ids, vectors)
    assert len(_warnings(caplog)) == 1 and "differ" in _warnings(caplog)[0]
    cat.close()


def test_file_newer_than_the_catalog_is_rebuilt(tmp_path, caplog):
    # e.g. the catalog was restored from a backup: the index has vectors the catalog never had.
    cat, ids, vectors, index = _saved(tmp_path)
    meta = json.loads(index.meta_path.read_text())
    index.meta_path.write_text(json.dumps(meta | {"generation": meta["generation"] + 5}))
    caplog.set_level("WARNING")
    again = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert _holds(again, ids, vectors)
    assert len(_warnings(caplog)) == 1 and "newer than the catalog" in _warnings(caplog)[0]
    cat.close()


def test_metadata_of_an_older_version_means_one_rebuild(tmp_path, caplog):
    cat, ids, vectors, index = _saved(tmp_path)
    meta = json.loads(index.meta_path.read_text())
    old = {k: meta[k] for k in ("model_id", "dim", "dtype", "connectivity", "bytes", "count")}
    index.meta_path.write_text(json.dumps(old))
    caplog.set_level("WARNING")
    again = VectorIndex.open(tmp_path, "m", DIM, cat)
    assert len(_warnings(caplog)) == 1
    assert _holds(again, ids, vectors)
    cat.close()


CORRUPT_GRAPHS = """
import sys
import numpy as np
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex

folder, dim, n = sys.argv[1], 32, 300
rng = np.random.default_rng(0)
vectors = rng.normal(size=(n, dim)).astype(np.float32)
cat = Catalog(f"{folder}/catalog.db")
with cat.transaction():
    ids = [cat.ensure_file_item(cat.upsert_file(f"f{i}".encode(), size=1, mtime_ns=1, hash=f"h{i}",
                                                status="indexed")) for i in range(n)]
    cat.put_embeddings("m", ids, vectors)
index = VectorIndex.open(folder, "m", dim, cat)
index.save()
good = index.path.read_bytes()
for seed in range(12):
    data, r = bytearray(good), np.random.default_rng(seed)
    for at in r.integers(8 + n * dim * 2, len(data), 4):  # 4 bytes of the HNSW graph
        data[int(at)] = int(r.integers(0, 256))
    index.path.write_bytes(bytes(data))
    again = VectorIndex.open(folder, "m", dim, cat)
    for i in range(0, n, 3):
        again.search(vectors[i], 10, exact=False)
    again.add(np.arange(10_000, 10_050), vectors[:50])
    again.remove(ids[:50])
    print("seed", seed, "ok", flush=True)
"""


def test_corrupt_graphs_never_crash_the_process(tmp_path):
    # Random bytes in the graph made usearch segfault (SIGSEGV) in most of these cases before the
    # file was checked; run in a child process so such a crash fails this test, not the whole run.
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    script = tmp_path / "corrupt.py"
    script.write_text(CORRUPT_GRAPHS)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], cwd=repo, capture_output=True, text=True,
        timeout=300, env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stdout[-300:], done.stderr[-300:])
    assert done.stdout.count(" ok") == 12

"""Vector index: search, atomic save, repair and rebuild from the catalog, thread safety."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from store.catalog import Catalog
from store.errors import VectorIndexError
from store.vector_index import VectorIndex, index_file_name

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
    import store.vector_index as vi

    vectors = _vectors(10)
    cat, ids = _catalog_with(tmp_path, vectors)
    writer = VectorIndex(tmp_path, "m", DIM)
    writer.add(ids[:6], vectors[:6])
    writer.save()
    monkeypatch.setattr(vi, "VIEW_THRESHOLD_BYTES", 0)  # force the memory-mapped view
    reader = VectorIndex.open(tmp_path, "m", DIM, cat, writable=False)
    assert sorted(reader.keys().tolist()) == sorted(ids)  # the 4 newer vectors were added in memory
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
        [sys.executable, "-c", "import store.vector_index, usearch.index, onnxruntime; print('ok')"],
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

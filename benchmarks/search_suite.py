"""Vector search suite: usearch HNSW vs exact numpy search on clustered, CLIP-like vectors.

Uniform random vectors make every index look bad (no structure) and every exact scan look typical;
real embeddings lie near a low-dimensional manifold in clusters. The data here is a Gaussian mixture
in a 24-dimensional latent space, lifted to 512 dimensions by a random linear map, plus small
isotropic noise, then L2-normalised like CLIP embeddings.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.records import Record
from store.storage.vector_index import EXACT_THRESHOLD, VectorIndex

SUITE = "search"
DIM = 512
LATENT_DIM = 24
QUERIES = 200
TOP_K = 10


def clustered_vectors(n: int, seed: int = 0, clusters: int = 2000) -> np.ndarray:
    """`n` L2-normalised float32 vectors from a Gaussian mixture with low intrinsic dimension."""
    rng = np.random.default_rng(seed)
    lift = rng.standard_normal((LATENT_DIM, DIM)).astype(np.float32) / np.sqrt(LATENT_DIM)
    centers = rng.standard_normal((clusters, LATENT_DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        labels = rng.integers(0, clusters, stop - start)
        latent = centers[labels] + 0.35 * rng.standard_normal((stop - start, LATENT_DIM)).astype(np.float32)
        block = latent @ lift + 0.05 * rng.standard_normal((stop - start, DIM)).astype(np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top_k(vectors: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """The numpy brute-force baseline: cosine = dot product on normalised vectors."""
    scores = vectors @ query
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def _latencies_ms(fn, queries: np.ndarray) -> np.ndarray:
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return np.array(times)


def measure(n: int) -> list[Record]:
    """Build rate, p50/p95 latency and recall@10 of usearch at `n` vectors, beside exact numpy search."""
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n / 1_000_000:g}M"
    vectors = clustered_vectors(n, seed=1)
    # Queries: items of the collection, slightly perturbed (a re-scan, a crop of a known object).
    rng = np.random.default_rng(3)
    queries = vectors[rng.choice(n, QUERIES, replace=False)]
    queries = queries + 0.02 * rng.standard_normal(queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    with tempfile.TemporaryDirectory(prefix="imago-bench-search-") as folder:
        index = VectorIndex(Path(folder), "bench", DIM)
        start = time.perf_counter()
        index.add(np.arange(n, dtype=np.uint64), vectors)
        build_rate = n / (time.perf_counter() - start)
        exact = [exact_top_k(vectors, q, TOP_K) for q in queries]
        approx = [[key for key, _ in index.search(q, TOP_K, exact=False)] for q in queries]
        ours = _latencies_ms(lambda q: index.search(q, TOP_K, exact=False), queries)
    hits = [len(set(a) & set(e.tolist())) / TOP_K for a, e in zip(approx, exact, strict=True)]
    recall = float(np.mean(hits))
    base = _latencies_ms(lambda q: exact_top_k(vectors, q, TOP_K), queries)
    latencies = [
        Record.measured(SUITE, f"search p{q}, {label}", float(np.percentile(ours, q)), "ms",
                        baseline=float(np.percentile(base, q)), higher_is_better=False)
        for q in (50, 95)
    ]  # fmt: skip
    return [
        Record.measured(SUITE, f"HNSW build rate, {label} vectors", build_rate, "vectors/s"),
        *latencies,
        Record.measured(SUITE, f"recall@10 vs exact, {label}", recall, "", baseline=1.0, target=0.95),
    ]


def crossover(sizes: tuple[int, ...] = (1000, 2000, 5000), queries: int = 50) -> list[Record]:
    """Per-query latency of VectorIndex's exact path vs its HNSW path at small sizes.

    The sizes where exact stops being faster justify `store.storage.vector_index.EXACT_THRESHOLD`."""
    records = []
    for n in sizes:
        vectors = clustered_vectors(n, seed=n, clusters=max(8, n // 100))
        with tempfile.TemporaryDirectory(prefix="imago-bench-crossover-") as folder:
            index = VectorIndex(Path(folder), "crossover", DIM)
            index.add(np.arange(n, dtype=np.uint64), vectors)
            timings = {}
            search = index.search
            for exact in (True, False):
                index.search(vectors[0], TOP_K, exact=exact)  # warm-up (exact path caches the matrix)
                timings[exact] = float(
                    np.mean(
                        _latencies_ms(lambda q, e=exact, s=search: s(q, TOP_K, exact=e), vectors[:queries])
                    )
                )
        records.append(Record.measured(
            SUITE, f"HNSW vs exact search at {n} vectors", timings[False], "ms", baseline=timings[True],
            higher_is_better=False, note=f"exact below {EXACT_THRESHOLD} vectors",
        ))  # fmt: skip
    return records


def run(quick: bool) -> list[Record]:
    sizes = [50_000] if quick else [100_000, 1_000_000]
    return crossover() + [record for n in sizes for record in measure(n)]

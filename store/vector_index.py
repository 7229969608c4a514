"""Approximate nearest-neighbour index (usearch HNSW, cosine) over one image model's vectors.

The catalog holds every vector, so the `.usearch` file is a rebuildable cache: `open()` reloads it
and then `sync()`s it with the catalog, adding what is missing (e.g. after the indexer was killed
between its commit and the next save), dropping what is no longer visible, and rebuilding from
scratch when the file is missing, corrupt, or built for another model/dimension/dtype.

Thread-safety: every public method takes the instance's lock, so the indexer may add while readers
search (usearch does not promise that concurrent add and search on one index are safe).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

# usearch's extension links its own copy of libstdc++ statically. Loaded before the system libstdc++,
# its unique (STB_GNU_UNIQUE) locale symbols appear to win, and a later `import onnxruntime` crashes
# (SIGSEGV in std::codecvt; usearch 2.26, onnxruntime 1.31, Linux). Loading the system libstdc++
# globally first keeps its own definitions in charge, whatever the import order elsewhere.
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)
from usearch.index import Index

from store.errors import VectorIndexError

if TYPE_CHECKING:
    from store.catalog import Catalog

logger = logging.getLogger(__name__)

# Below this many vectors a brute-force numpy search is exact and faster than HNSW, so small archives
# get exact results. Measured by `main.py bench search` (crossover records; 512-d, one thread, f16 HNSW,
# k=10): numpy 0.07 ms vs HNSW 0.18 ms at 1k, 0.09 vs 0.13 ms at 2k, 0.98 vs 0.11 ms at 5k.
EXACT_THRESHOLD = 2_500
# Indexes larger than this are memory-mapped (read-only) instead of loaded, when opened for reading.
VIEW_THRESHOLD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SyncReport:
    rebuilt: bool
    added: int
    removed: int


def index_file_name(model_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._") or "model"
    return f"vectors-{safe}.usearch"


class VectorIndex:
    """usearch index for one model id; keys are catalog item ids, scores are cosine similarities.

    `writable=False` is for readers (search, GUI): the file is memory-mapped when large, updates
    (e.g. `sync` catching up with a running indexer) stay in memory, and `save()` is refused."""

    def __init__(
        self,
        folder: Path,
        model_id: str,
        dim: int,
        *,
        dtype: str = "f16",
        connectivity: int = 16,
        exact_threshold: int = EXACT_THRESHOLD,
        writable: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.model_id = model_id
        self.dim = int(dim)
        self.dtype = dtype
        self.connectivity = int(connectivity)
        self.exact_threshold = exact_threshold
        self.writable = writable
        self.path = self.folder / index_file_name(model_id)
        self.meta_path = self.path.with_suffix(".json")
        self._lock = threading.RLock()
        self._index = self._new_index()
        self._exact: tuple[np.ndarray, np.ndarray] | None = None
        self._dirty = False
        self._is_view = False

    def _new_index(self) -> Index:
        return Index(ndim=self.dim, metric="cos", dtype=self.dtype, connectivity=self.connectivity)

    @classmethod
    def open(
        cls, folder: Path, model_id: str, dim: int, catalog: Catalog | None = None, **kwargs
    ) -> VectorIndex:
        """Load the index file (if usable) and bring it in line with `catalog` (if given)."""
        index = cls(folder, model_id, dim, **kwargs)
        loaded = index.load()
        if catalog is not None:
            index.sync(catalog, rebuild=not loaded)
        return index

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    @property
    def dirty(self) -> bool:
        return self._dirty

    # -- persistence ------------------------------------------------------------------------------

    def load(self) -> bool:
        """Load the saved index; False (and an empty index) when it is missing or unusable."""
        with self._lock:
            self._index = self._new_index()
            self._is_view = False
            self._exact = None
            if not self.path.exists():
                return False
            try:
                self._check_meta()
                size = self.path.stat().st_size
                view = not self.writable and size > VIEW_THRESHOLD_BYTES
                loaded = Index.restore(os.fspath(self.path), view=view)
                if loaded is None or loaded.ndim != self.dim:
                    raise VectorIndexError(f"{self.path} is not a {self.dim}-dimensional usearch index")
            except (VectorIndexError, ValueError, RuntimeError, OSError) as exc:
                logger.warning(
                    "vector index %s is unusable (%s); rebuilding from the catalog", self.path, exc
                )
                return False
            self._index = loaded
            self._is_view = view
            self._dirty = False
            return True

    def _check_meta(self) -> None:
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise VectorIndexError(f"{self.meta_path} is missing or unreadable: {exc}") from exc
        expected = {
            "model_id": self.model_id,
            "dim": self.dim,
            "dtype": self.dtype,
            "connectivity": self.connectivity,
        }
        for key, value in expected.items():
            if meta.get(key) != value:
                raise VectorIndexError(f"{self.path} was built with {key}={meta.get(key)!r}, not {value!r}")
        # A torn or truncated file is caught here, before usearch parses it.
        if meta.get("bytes") != self.path.stat().st_size:
            raise VectorIndexError(
                f"{self.path} has {self.path.stat().st_size} bytes, expected {meta.get('bytes')}"
            )

    def save(self) -> None:
        """Write the index atomically: temp file + os.replace, then the metadata the same way.

        Not allowed when opened with writable=False (readers may update in memory, never on disk)."""
        if not self.writable:
            raise VectorIndexError(f"vector index {self.path} was opened read-only")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".tmp", dir=self.folder)
            os.close(fd)
            try:
                self._index.save(tmp)
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                size = os.path.getsize(tmp)
                # Remove the old metadata first: a crash between the two replaces then leaves a file
                # without metadata (rebuilt), never a new file described by old metadata.
                self.meta_path.unlink(missing_ok=True)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            meta = {"model_id": self.model_id, "dim": self.dim, "dtype": self.dtype,
                    "connectivity": self.connectivity, "bytes": size, "count": len(self._index)}  # fmt: skip
            fd, tmp_meta = tempfile.mkstemp(prefix=".vectors-", suffix=".json.tmp", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(meta, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_meta, self.meta_path)
            self._dirty = False

    # -- contents ---------------------------------------------------------------------------------

    def keys(self) -> np.ndarray:
        with self._lock:
            n = len(self._index)
            return np.asarray(self._index.keys[0:n], dtype=np.uint64) if n else np.zeros(0, np.uint64)

    def add(self, keys: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64)
        if len(keys) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise VectorIndexError(
                f"expected vectors of shape ({len(keys)}, {self.dim}), got {vectors.shape}"
            )
        with self._lock:
            self._ensure_mutable()
            present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
            if present.any():
                self._index.remove(keys[present])
            self._index.add(keys, vectors)
            self._exact = None
            self._dirty = True

    def remove(self, keys: Sequence[int] | np.ndarray) -> int:
        keys = np.asarray(keys, dtype=np.uint64)
        if len(keys) == 0:
            return 0
        with self._lock:
            present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
            if not present.any():
                return 0
            self._ensure_mutable()
            self._index.remove(keys[present])
            self._exact = None
            self._dirty = True
            return int(present.sum())

    def _ensure_mutable(self) -> None:
        """A memory-mapped view cannot change: load it into memory first (readers catching up)."""
        if self._is_view:
            self._index = Index.restore(os.fspath(self.path), view=False)
            self._is_view = False

    def sync(self, catalog: Catalog, *, rebuild: bool = False) -> SyncReport:
        """Make the index hold exactly the catalog's visible vectors for this model."""
        wanted = catalog.visible_keys(self.model_id)
        with self._lock:
            if rebuild:
                self._index = self._new_index()
                self._exact = None
                present = np.zeros(0, np.uint64)
            else:
                present = self.keys()
            missing = np.setdiff1d(wanted, present, assume_unique=True)
            extra = np.setdiff1d(present, wanted, assume_unique=True)
            removed = self.remove(extra)
            added = 0
            for start in range(0, len(missing), 4096):
                keys, vectors = catalog.vectors(self.model_id, missing[start : start + 4096].tolist())
                if len(keys) and vectors.shape[1] != self.dim:
                    raise VectorIndexError(
                        f"catalog vectors for {self.model_id} have dimension {vectors.shape[1]}, "
                        f"not {self.dim}"
                    )
                self.add(keys, vectors)
                added += len(keys)
            if rebuild:
                self._dirty = True
        if rebuild or added or removed:
            logger.info(
                "vector index %s: rebuilt=%s added=%d removed=%d", self.path.name, rebuild, added, removed
            )
        return SyncReport(rebuilt=rebuild, added=added, removed=removed)

    # -- search -----------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int = 10, *, exact: bool | None = None) -> list[tuple[int, float]]:
        """The `k` nearest items to one query vector as (item id, cosine similarity), best first."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise VectorIndexError(
                f"query has dimension {query.shape[0]}, index {self.path.name} has {self.dim}"
            )
        with self._lock:
            n = len(self._index)
            if n == 0 or k <= 0:
                return []
            if exact if exact is not None else n <= self.exact_threshold:
                return self._exact_search(query, min(k, n))
            matches = self._index.search(query, min(k, n))
            return [
                (int(key), 1.0 - float(d)) for key, d in zip(matches.keys, matches.distances, strict=True)
            ]

    def _exact_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._exact is None:
            keys = self.keys()
            got = self._index.get(keys, dtype=np.float32)
            matrix = (
                np.vstack(got).astype(np.float32) if isinstance(got, tuple) else np.asarray(got, np.float32)
            )
            matrix = matrix.reshape(len(keys), self.dim)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._exact = (keys, matrix / np.maximum(norms, 1e-12))
        keys, matrix = self._exact
        qn = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = matrix @ qn
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(keys[i]), float(scores[i])) for i in top]

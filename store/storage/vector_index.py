"""Approximate nearest-neighbour index (usearch HNSW, cosine) over one image model's vectors.

The catalog holds every vector, so the `.usearch` file is a rebuildable cache: `open()` reloads it
and then `sync()`s it with the catalog, adding what is missing (e.g. after the indexer was killed
between its commit and the next save), re-adding what changed, dropping what is no longer visible,
and rebuilding from scratch when the file is missing, corrupt, or does not belong to the catalog.

Which vectors changed: every catalog write of vectors gets a new *vector generation* (schema v4); the
index knows the generation it is complete up to and saves it in its metadata, so a sync re-adds the
rows written after it, such as vectors of re-indexed files whose save was lost in a crash.

A damaged or foreign file is never handed to usearch (whose loader can crash the process on bad
bytes): the metadata written next to it (atomically, after it) records its size and CRC-32, the
catalog it was built from and its generation; after loading, sample vectors are compared with the
catalog's. Any mismatch means one warning line and a rebuild from the catalog.

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
import threading
import zlib
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
from store.storage.atomic import atomic_replace

if TYPE_CHECKING:
    from store.storage.catalog import Catalog

logger = logging.getLogger(__name__)

# Below this many vectors a brute-force numpy search is exact and faster than HNSW, so small archives
# get exact results. Measured by `main.py bench search` (crossover records; 512-d, one thread, f16 HNSW,
# k=10): numpy 0.07 ms vs HNSW 0.18 ms at 1k, 0.09 vs 0.13 ms at 2k, 0.98 vs 0.11 ms at 5k.
EXACT_THRESHOLD = 2_500
# Indexes larger than this are memory-mapped (read-only) instead of loaded, when opened for reading.
VIEW_THRESHOLD_BYTES = 256 * 1024 * 1024
META_FORMAT = 2  # 2: with crc32, generation and catalog_id (files without them are rebuilt once)
SAMPLE_VECTORS = 16  # vectors compared with the catalog's when a saved index is opened
SAMPLE_MIN_COSINE = 0.9  # f16/bf16/i8 storage keeps the same vector well above this
_CHUNK = 4 * 1024 * 1024


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
        # The vector generation of the catalog this index is complete up to (None: unknown, e.g. a
        # new index, or one filled by `add` alone), and the id of that catalog.
        self._generation: int | None = None
        self._catalog_id: str | None = None

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
            if loaded:
                problem = index._mismatch(catalog)
                if problem:
                    logger.warning(
                        "vector index %s does not match the catalog (%s); rebuilding from the catalog",
                        index.path, problem,
                    )  # fmt: skip
                    loaded = False
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
        """Load the saved index; False (and an empty index) when it is missing or unusable.

        The file reaches usearch only after its metadata, size and CRC-32 are checked."""
        with self._lock:
            self._index = self._new_index()
            self._is_view = False
            self._exact = None
            self._generation = None
            self._catalog_id = None
            if not self.path.exists():
                return False
            try:
                meta = self._check_meta()
                view = not self.writable and meta["bytes"] > VIEW_THRESHOLD_BYTES
                loaded = Index.restore(os.fspath(self.path), view=view)
                if loaded is None or loaded.ndim != self.dim:
                    raise VectorIndexError(f"{self.path} is not a {self.dim}-dimensional usearch index")
                if len(loaded) != meta["count"]:
                    raise VectorIndexError(f"{self.path} holds {len(loaded)} vectors, not {meta['count']}")
            except (VectorIndexError, ValueError, RuntimeError, OSError, MemoryError) as exc:
                logger.warning(
                    "vector index %s is unusable (%s); rebuilding from the catalog", self.path, exc
                )
                return False
            self._index = loaded
            self._is_view = view
            self._dirty = False
            self._generation = meta["generation"]
            self._catalog_id = meta["catalog_id"]
            return True

    def _check_meta(self) -> dict:
        """The metadata, when it describes this very file for this model and settings."""
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise VectorIndexError(f"{self.meta_path} is missing or unreadable: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
            raise VectorIndexError(f"{self.meta_path} is not format {META_FORMAT} metadata")
        expected = {
            "model_id": self.model_id,
            "dim": self.dim,
            "dtype": self.dtype,
            "connectivity": self.connectivity,
        }
        for key, value in expected.items():
            if meta.get(key) != value:
                raise VectorIndexError(f"{self.path} was built with {key}={meta.get(key)!r}, not {value!r}")
        for key in ("bytes", "count", "crc32", "generation"):
            if type(meta.get(key)) is not int or meta[key] < 0:
                raise VectorIndexError(f"{self.meta_path} has no valid {key!r}")
        if not isinstance(meta.get("catalog_id"), str | None):
            raise VectorIndexError(f"{self.meta_path} has no valid 'catalog_id'")
        # A torn, truncated or overwritten file is caught here, before usearch parses it.
        size = self.path.stat().st_size
        if meta["bytes"] != size:
            raise VectorIndexError(f"{self.path} has {size} bytes, expected {meta['bytes']}")
        crc = _crc32(self.path)
        if crc != meta["crc32"]:
            raise VectorIndexError(f"{self.path} has CRC-32 {crc:08x}, expected {meta['crc32']:08x}")
        return meta

    def _mismatch(self, catalog: Catalog) -> str | None:
        """Why the loaded index cannot belong to `catalog`'s current state, or None when it can."""
        if self._catalog_id != catalog.catalog_id:
            return f"built from another catalog ({self._catalog_id}, not {catalog.catalog_id})"
        newest = catalog.vector_generation()
        if self._generation is not None and self._generation > newest:
            return f"its vector generation {self._generation} is newer than the catalog's {newest}"
        with self._lock:
            keys = np.sort(self.keys())
            if not len(keys):
                return None
            picks = np.unique(np.linspace(0, len(keys) - 1, min(len(keys), SAMPLE_VECTORS)).astype(int))
            # Only vectors the index claims to be current for can be compared.
            ckeys, cvecs = catalog.vectors(
                self.model_id, keys[picks].tolist(), max_generation=self._generation
            )
            if not len(ckeys):
                return None
            if cvecs.shape[1] != self.dim:
                return f"catalog vectors have dimension {cvecs.shape[1]}, not {self.dim}"
            ivecs = self._vectors_of(ckeys)
        norms = np.linalg.norm(ivecs, axis=1) * np.linalg.norm(cvecs, axis=1)
        cosine = np.sum(ivecs * cvecs, axis=1) / np.maximum(norms, 1e-12)
        bad = int(np.sum(~(cosine >= SAMPLE_MIN_COSINE)))
        if bad:
            return f"{bad} of {len(ckeys)} sampled vectors differ from the catalog's"
        return None

    def _vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """float32 [len(keys), dim] of the stored vectors (NaN rows for keys not in the index)."""
        got = self._index.get(keys, dtype=np.float32)
        if isinstance(got, tuple):
            got = np.vstack([np.full(self.dim, np.nan, np.float32) if g is None else g for g in got])
        return np.asarray(got, np.float32).reshape(len(keys), self.dim)

    def save(self) -> None:
        """Write the index atomically: temp file + os.replace, then the metadata the same way.

        Not allowed when opened with writable=False (readers may update in memory, never on disk)."""
        if not self.writable:
            raise VectorIndexError(f"vector index {self.path} was opened read-only")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_replace(self.path, prefix=".vectors-") as tmp:
                self._index.save(str(tmp))
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                size = os.path.getsize(tmp)
                crc = _crc32(tmp)
                # Remove the old metadata first: a crash between the two replaces then leaves a file
                # without metadata (rebuilt), never a new file described by old metadata.
                self.meta_path.unlink(missing_ok=True)
            meta = {"format": META_FORMAT, "model_id": self.model_id, "dim": self.dim, "dtype": self.dtype,
                    "connectivity": self.connectivity, "bytes": size, "count": len(self._index),
                    "crc32": crc, "generation": self._generation or 0,
                    "catalog_id": self._catalog_id}  # fmt: skip
            with (
                atomic_replace(self.meta_path, prefix=".vectors-", suffix=".json.tmp") as tmp_meta,
                open(tmp_meta, "w", encoding="utf-8") as out,
            ):
                json.dump(meta, out)
                out.flush()
                os.fsync(out.fileno())
            _fsync_dir(self.folder)
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
        """A memory-mapped view cannot change: copy it into memory first (readers catching up). The
        copy is of the view, checked when loaded, not of whatever file is at the path now."""
        if self._is_view:
            self._index = self._index.copy()
            self._is_view = False

    def sync(self, catalog: Catalog, *, rebuild: bool = False) -> SyncReport:
        """Make the index hold exactly the catalog's visible vectors for this model, each as the
        catalog has it now: missing ones and those written after the index's generation are (re-)added,
        those no longer visible are removed. An index of unknown generation is rebuilt."""
        newest = catalog.vector_generation()  # read first: later writes are looked at again next time
        wanted = catalog.visible_keys(self.model_id)
        with self._lock:
            if rebuild or self._generation is None or self._catalog_id != catalog.catalog_id:
                rebuild = True
                self._index = self._new_index()
                self._is_view = False
                self._exact = None
                present = np.zeros(0, np.uint64)
                changed = np.zeros(0, np.uint64)
            else:
                present = self.keys()
                keys, visible = catalog.changed_keys(self.model_id, self._generation)
                changed = np.intersect1d(keys[visible], present)
            missing = np.union1d(np.setdiff1d(wanted, present), changed)
            extra = np.setdiff1d(present, wanted)
            removed = self.remove(extra)
            added = self._add_from(catalog, missing)
            self._generation = newest
            self._catalog_id = catalog.catalog_id
            if rebuild:
                self._dirty = True
        if rebuild or added or removed:
            logger.info(
                "vector index %s: rebuilt=%s added=%d removed=%d", self.path.name, rebuild, added, removed
            )
        return SyncReport(rebuilt=rebuild, added=added, removed=removed)

    def catch_up(self, catalog: Catalog) -> SyncReport:
        """Add the vectors written to the catalog since the index's generation (cheap: the indexer
        calls it after each batch's commit); a full `sync` when the generation is unknown."""
        with self._lock:
            if self._generation is None or self._catalog_id != catalog.catalog_id:
                return self.sync(catalog)
            newest = catalog.vector_generation()
            if newest == self._generation:
                return SyncReport(rebuilt=False, added=0, removed=0)
            keys, visible = catalog.changed_keys(self.model_id, self._generation)
            # An invisible row's old vector must not stay: the key would look current if it came back.
            removed = self.remove(keys[~visible])
            added = self._add_from(catalog, keys[visible])
            self._generation = newest
        return SyncReport(rebuilt=False, added=added, removed=removed)

    def _add_from(self, catalog: Catalog, keys: np.ndarray) -> int:
        added = 0
        for start in range(0, len(keys), 4096):
            found, vectors = catalog.vectors(self.model_id, keys[start : start + 4096].tolist())
            if len(found) and vectors.shape[1] != self.dim:
                raise VectorIndexError(
                    f"catalog vectors for {self.model_id} have dimension {vectors.shape[1]}, not {self.dim}"
                )
            self.add(found, vectors)
            added += len(found)
        return added

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
            matrix = self._vectors_of(keys)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._exact = (keys, matrix / np.maximum(norms, 1e-12))
        keys, matrix = self._exact
        qn = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = matrix @ qn
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(keys[i]), float(scores[i])) for i in top]


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _fsync_dir(folder: Path) -> None:
    """Make the renames in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

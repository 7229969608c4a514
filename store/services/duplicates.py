"""Near-duplicate groups across an archive, for curators cleaning up re-scans and copies.

Two kinds of group:
- exact: files with the same content hash (byte-identical copies);
- near: whole-file items whose image vectors have cosine >= `min_cosine` AND whose 64-bit difference
  hashes (dHash of the 9x8 grey thumbnail) differ in at most `max_hamming` bits. The vector test finds
  candidates cheaply through the vector index; the perceptual test rejects images that are merely
  about the same thing (two photos of one statue) but keeps re-scans, resized, recompressed, slightly
  cropped or colour-corrected copies. Pairs are joined transitively (union-find).

MAX_HAMMING was measured on 300 random Caltech-101 photos (dHash bits differing from the original):
JPEG q40, 50% resize, brightness x1.2, contrast x1.3, greyscale: all <= 10 (p99 <= 6); 2-degree
rotation: 97% <= 10; 5% crop on every side: 75% <= 10 (median 8). Between 44,850 pairs of
different photos: median 32 bits, 0.11% <= 10 (0.27% <= 12), before the CLIP cosine test removes
most of those. MIN_COSINE could not be measured here (no full-size CLIP weights are available
offline); 0.92 is a conservative value for ViT-B/32 image-image cosines and is a parameter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from store.errors import FileIndexError
from store.ingestion.decoder import decode_file
from store.storage.catalog import Catalog
from store.storage.thumbnails import ThumbnailCache
from store.storage.vector_index import VectorIndex
from store.storage.views import visible_file_items

logger = logging.getLogger(__name__)

MIN_COSINE = 0.92
MAX_HAMMING = 10
NEIGHBOURS = 16


@dataclass(frozen=True)
class DuplicateMember:
    item_id: int
    path: str
    score: float  # cosine similarity to the group's first member (1.0 for exact copies)
    hash: str | None = None  # content hash (names the thumbnail)

    def as_json(self) -> dict:
        return {"item_id": self.item_id, "path": self.path, "score": round(self.score, 6)}


@dataclass
class DuplicateGroup:
    kind: str  # "exact" or "near"
    members: list[DuplicateMember] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"kind": self.kind, "items": [m.as_json() for m in self.members]}


def dhash(image: Image.Image) -> int:
    """64-bit difference hash: brighter-than-right-neighbour bits of the 9x8 grey image."""
    grey = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.BILINEAR), dtype=np.int16)
    bits = (grey[:, 1:] > grey[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def find_duplicates(
    catalog: Catalog,
    index: VectorIndex | None,
    archive: Path,
    *,
    thumbnails: ThumbnailCache | None = None,
    min_cosine: float = MIN_COSINE,
    max_hamming: int = MAX_HAMMING,
    near: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[DuplicateGroup]:
    """Exact groups (same hash) first, then near groups, each listed by path."""
    info = {item_id: (path, digest, raw) for item_id, path, digest, raw in visible_file_items(catalog)}
    by_hash: dict[str, list[int]] = {}
    for item_id, (_, digest, _) in info.items():
        if digest:
            by_hash.setdefault(digest, []).append(item_id)
    groups = [
        DuplicateGroup("exact", [DuplicateMember(i, info[i][0], 1.0, info[i][1]) for i in ids])
        for ids in by_hash.values()
        if len(ids) > 1
    ]
    if not near or index is None:
        return groups

    # One representative per hash: near groups link distinct contents.
    representatives = [ids[0] for ids in by_hash.values()]
    hashes: dict[int, int | None] = {}

    def perceptual(item_id: int) -> int | None:
        if item_id not in hashes:
            hashes[item_id] = _dhash_of(archive, info[item_id], thumbnails)
        return hashes[item_id]

    links = _UnionFind()
    scores: dict[tuple[int, int], float] = {}
    keep = set(representatives)
    for start in range(0, len(representatives), 1000):
        keys, vectors = catalog.vectors(index.model_id, representatives[start : start + 1000])
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            for other, cosine in index.search(vector, NEIGHBOURS):
                if other == key or other not in keep or cosine < min_cosine:
                    continue
                a, b = min(key, other), max(key, other)
                if (a, b) in scores:
                    continue
                ha, hb = perceptual(a), perceptual(b)
                if ha is None or hb is None or hamming(ha, hb) > max_hamming:
                    continue
                scores[(a, b)] = cosine
                links.union(a, b)
        if progress is not None:
            progress(min(start + 1000, len(representatives)), len(representatives))
    members: dict[int, list[int]] = {}
    for x in sorted({x for pair in scores for x in pair}):
        members.setdefault(links.find(x), []).append(x)
    for _root, ids in sorted(members.items()):
        ids.sort(key=lambda i: info[i][0])
        keys, vecs = catalog.vectors(index.model_id, ids)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        sim = dict(zip(keys.tolist(), (vecs @ vecs[keys.tolist().index(ids[0])]).tolist(), strict=True))
        group = DuplicateGroup("near")
        for item_id in ids:
            score = float(sim.get(item_id, 0.0))
            group.members.append(DuplicateMember(item_id, info[item_id][0], score, info[item_id][1]))
        groups.append(group)
    return groups


def _dhash_of(
    archive: Path, info: tuple[str, str | None, bytes], thumbnails: ThumbnailCache | None
) -> int | None:
    path, digest, raw = info
    if thumbnails is not None and digest:
        thumb = thumbnails.get(digest)
        if thumb is not None:
            try:
                with Image.open(thumb) as image:
                    return dhash(image)
            except OSError:
                pass
    try:
        _, decoded = decode_file(os.path.join(os.fsencode(archive), raw), target_size=64, max_side=256)
    except (FileNotFoundError, FileIndexError) as exc:
        logger.warning("cannot compare %s for duplicates: %s", path, exc)
        return None
    return dhash(decoded.image)

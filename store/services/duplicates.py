"""Near-duplicate groups across an archive, for curators cleaning up re-scans and copies.

Two kinds of group:
- exact: files with the same content hash (byte-identical copies);
- near: whole-file items whose image vectors have cosine >= `min_cosine` AND whose 64-bit difference
  hashes (dHash of the 9x8 grey thumbnail) differ in at most `max_hamming` bits. The vector test finds
  candidates cheaply through the vector index; the perceptual test rejects images that are merely
  about the same thing (two photos of one statue) but keeps re-scans, resized, recompressed, slightly
  cropped or colour-corrected copies. Pairs are joined transitively (union-find), exact copies
included, so the groups are disjoint: each file is in one group at most.

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
from store.services.fusion import normalise
from store.storage.catalog import Catalog
from store.storage.thumbnails import ThumbnailCache
from store.storage.vector_index import VectorIndex
from store.storage.views import FileCopy, visible_file_items

logger = logging.getLogger(__name__)

MIN_COSINE = 0.92
MAX_HAMMING = 10
NEIGHBOURS = 16


@dataclass(frozen=True)
class DuplicateMember:
    copy: FileCopy
    score: float  # cosine similarity to the group's first member (1.0 for exact copies)

    item_id = property(lambda self: self.copy.item_id)
    path = property(lambda self: self.copy.path)
    hash = property(lambda self: self.copy.hash)  # content hash (names the thumbnail)

    def as_json(self) -> dict:
        return {"item_id": self.item_id, "path": self.path, "score": round(self.score, 6)}


@dataclass
class DuplicateGroup:
    """One set of copies: "exact" when all have the same content, else "near"; members by path."""

    kind: str
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
    """Disjoint groups, one per set of copies (a file is in one group at most): exact groups first,
    then near ones (which may hold exact copies too), each by its first path."""
    copies = {c.item_id: c for c in visible_file_items(catalog)}
    by_hash: dict[str, list[int]] = {}
    for copy in copies.values():
        if copy.hash:
            by_hash.setdefault(copy.hash, []).append(copy.item_id)
    links = _UnionFind()
    for ids in by_hash.values():
        for other in ids[1:]:
            links.union(ids[0], other)
    # One representative per content: near pairs link distinct contents, and vectors are theirs.
    representative = {i: ids[0] for ids in by_hash.values() for i in ids}
    if near and index is not None:
        _link_near(catalog, index, archive, copies, [ids[0] for ids in by_hash.values()], links,
                   thumbnails, min_cosine, max_hamming, progress)  # fmt: skip
    components: dict[int, list[int]] = {}
    for item_id in links.parent:
        components.setdefault(links.find(item_id), []).append(item_id)
    groups = []
    for ids in components.values():
        ids.sort(key=lambda i: copies[i].path)
        exact = len({copies[i].hash for i in ids}) == 1
        scores = dict.fromkeys(ids, 1.0) if exact else _scores(catalog, index, ids, representative)
        members = [DuplicateMember(copies[i], scores[i]) for i in ids]
        groups.append(DuplicateGroup("exact" if exact else "near", members))
    groups.sort(key=lambda g: (g.kind != "exact", g.members[0].path))
    return groups


def _link_near(
    catalog: Catalog, index: VectorIndex, archive: Path, copies: dict[int, FileCopy],
    representatives: list[int], links: _UnionFind, thumbnails: ThumbnailCache | None,
    min_cosine: float, max_hamming: int, progress: Callable[[int, int], None] | None,
) -> None:  # fmt: skip
    """Join the representatives (one item per content) that are near duplicates of each other."""
    keep = set(representatives)
    perceptual_hashes: dict[int, int | None] = {}

    def perceptual(item_id: int) -> int | None:
        if item_id not in perceptual_hashes:
            perceptual_hashes[item_id] = _dhash_of(archive, copies[item_id], thumbnails)
        return perceptual_hashes[item_id]

    seen: set[tuple[int, int]] = set()
    for start in range(0, len(representatives), 1000):
        keys, vectors = catalog.vectors(index.model_id, representatives[start : start + 1000])
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            for other, cosine in index.search(vector, NEIGHBOURS):
                pair = (min(key, other), max(key, other))
                if other == key or other not in keep or cosine < min_cosine or pair in seen:
                    continue
                seen.add(pair)
                ha, hb = perceptual(pair[0]), perceptual(pair[1])
                if ha is not None and hb is not None and hamming(ha, hb) <= max_hamming:
                    links.union(*pair)
        if progress is not None:
            progress(min(start + 1000, len(representatives)), len(representatives))


def _scores(
    catalog: Catalog, index: VectorIndex, ids: list[int], representative: dict[int, int]
) -> dict[int, float]:
    """Cosine similarity of each of `ids` (a near group: found through `index`) to the first, through
    their contents' representatives."""
    rep = {i: representative.get(i, i) for i in ids}
    keys, vecs = catalog.vectors(index.model_id, sorted(set(rep.values())))
    by_rep = dict(zip(keys.tolist(), normalise(vecs), strict=True))
    first = by_rep.get(rep[ids[0]])
    if first is None:
        return dict.fromkeys(ids, 0.0)
    return {i: float(by_rep[rep[i]] @ first) if rep[i] in by_rep else 0.0 for i in ids}


def _dhash_of(archive: Path, copy: FileCopy, thumbnails: ThumbnailCache | None) -> int | None:
    path, digest, raw = copy.path, copy.hash, copy.raw_path
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

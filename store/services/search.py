"""Search services over an indexed archive: find similar (item, external image, rectangle) and text search.

Text search fuses two ranked lists by weighted reciprocal rank fusion (RRF): CLIP text->image cosine
similarity from the vector index, and FTS5 keyword matches on file names, folders, captions, curator
descriptions and labels. Items matching every keyword of the query form the first tier, so exact
keyword/name matches always outrank images that merely look similar; within a tier the fused score
orders them.

Relevance cut-off: cosine scores are compared with the archive's own score distribution for the same
query vector (a fixed random sample of up to SAMPLE_SIZE item vectors; median and MAD as robust
location/scale). Only candidates at least CUTOFF_Z robust standard deviations above the median are
kept, so a query with three true hits returns about three images, not the top N of near-random
ones. `SearchResults.more` tells that further candidates exist; `all=True` returns them.

Thread-safety: a SearchService owns a read Catalog connection, so it belongs to one thread; the
vector index it holds is itself locked and may be shared.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.bundle import base_model_id
from models.errors import ImagoError, InputError
from store.errors import ArchiveError, FileIndexError
from store.ingestion.decoder import DecodedImage, decode_file
from store.ingestion.scanner import hash_bytes
from store.protocols import ImageEncoder, TextEncoder
from store.services.fusion import Ensemble, fuse, fused_candidates, normalise, open_ensemble, paired_sample
from store.services.keywords import MAX_QUERY_CHARS, keyword_matches, matched_columns, query_terms
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.filters import NO_FILTER, SearchFilter
from store.storage.vector_index import VectorIndex
from store.storage.views import file_items_with_hash, item_rows

logger = logging.getLogger(__name__)

RRF_K = 60  # the usual RRF constant (Cormack et al. 2009): damps the influence of the very top ranks
FTS_WEIGHT = 2.0  # a keyword match counts twice a vector rank in the fused score
CANDIDATES = 200  # vector candidates examined per query before the cut-off
SAMPLE_SIZE = 2000
MIN_SAMPLE = 8  # below this many vectors no distribution can be estimated: no cut-off
CUTOFF_Z = 3.0
MIN_SIGMA = 1e-3
FALLBACK_RESULTS = 3  # shown (marked as weak) when nothing passes the cut-off
MAX_TOP = 10_000
WEAK_REASON = "weak match: below the relevance cut-off"


@dataclass(frozen=True)
class SearchResult:
    """One hit: an item (whole file, or a region with its box), its score and why it matched."""

    item_id: int
    path: str  # relative to the archive root
    score: float
    region: tuple[int, int, int, int] | None  # (x, y, w, h) in pixels of the EXIF-transposed image
    why: list[str] = field(default_factory=list)
    file_id: int = field(default=0, compare=False)
    hash: str | None = field(default=None, compare=False)
    weak: bool = field(default=False, compare=False)  # below the relevance cut-off (a possible match)

    def as_json(self) -> dict:
        return {
            "item_id": self.item_id,
            "path": self.path,
            "score": round(float(self.score), 6),
            "region": list(self.region) if self.region is not None else None,
            "why": list(self.why),
        }


@dataclass(frozen=True)
class SearchResults:
    """Hits best first; `more` is True when candidates beyond the cut-off (or `top`) exist."""

    results: list[SearchResult]
    more: bool = False
    threshold: float | None = None  # the cosine cut-off used, when one applied

    def as_json(self) -> dict:
        return {"results": [r.as_json() for r in self.results]}

    def __len__(self) -> int:
        return len(self.results)

    def ids(self) -> list[int]:
        return [r.item_id for r in self.results]


def _check_top(top: int) -> int:
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise InputError(f"the number of results must be a positive integer, not {top!r}")
    return min(top, MAX_TOP)


# -- the service -----------------------------------------------------------------------------------


class SearchService:
    """Find-similar and text search over one archive's catalog and vector index.

    `model_id` names the image model whose vectors are searched; the encoders (optional: find
    similar by indexed item needs none) must produce vectors in that model's space. With an
    `ensemble`, find similar fuses a second image model's scores (store.services.fusion); text
    search uses the first model alone.
    """

    def __init__(
        self,
        catalog: Catalog,
        vector_index: VectorIndex,
        *,
        archive: Path | None = None,
        image_encoder: ImageEncoder | None = None,
        text_encoder: TextEncoder | None = None,
        ensemble: Ensemble | None = None,
    ) -> None:
        self.catalog = catalog
        self.vector_index = vector_index
        self.model_id = vector_index.model_id
        self.archive = Path(archive) if archive is not None else None
        self.image_encoder = image_encoder
        self.text_encoder = text_encoder
        self.ensemble = ensemble
        self._sample: np.ndarray | None = None
        self._pair_sample: tuple[np.ndarray, np.ndarray] | None = None
        base = base_model_id(self.model_id)
        for encoder in (image_encoder, text_encoder):
            # Another model's encoders are never compared with these vectors (see below and
            # _encode_image); the same model with another size means a broken bundle or index.
            same_model = encoder is not None and base_model_id(encoder.model_id) == base
            if same_model and encoder.dim != vector_index.dim:
                raise ImagoError(
                    f"model {encoder.model_id} gives {encoder.dim}-dimensional vectors, but the archive "
                    f"was indexed with {self.model_id} ({vector_index.dim} dimensions); re-index it"
                )
        # The text tower belongs to the image encoder's model; if the archive holds another model's
        # vectors, text vectors would be compared with an unrelated space.
        other_space = image_encoder is not None and base_model_id(image_encoder.model_id) != base
        if other_space and text_encoder is not None:
            logger.warning(
                "archive was indexed with %s, not %s: text search uses keywords only",
                self.model_id,
                image_encoder.model_id,
            )
            self.text_encoder = None

    @classmethod
    def open(
        cls,
        archive: Path,
        *,
        image_encoder: ImageEncoder | None = None,
        text_encoder: TextEncoder | None = None,
        model_id: str | None = None,
        ensemble_encoder: ImageEncoder | None = None,
        ensemble_weight: float = 0.5,
    ) -> SearchService:
        """Open an indexed archive for searching (its own read connection and an in-memory, synced
        copy of the vector index; nothing is written). With `ensemble_encoder`, find similar fuses
        that model's scores, when the archive has its vectors; `ensemble_weight` is the first model's."""
        location = locate_index(Path(archive), create=False)
        if not location.catalog_path.is_file():
            raise ArchiveError(f"{archive} has not been indexed yet (no {location.catalog_path})")
        catalog = Catalog(location.catalog_path, create=False)
        try:
            model_id, dim = pick_model(
                catalog, model_id or (image_encoder.model_id if image_encoder else None)
            )
            vindex = VectorIndex.open(location.path, model_id, dim, catalog)
            ensemble = None
            if ensemble_encoder is not None:
                ensemble = open_ensemble(catalog, location.path, model_id, ensemble_encoder, ensemble_weight)
            return cls(
                catalog,
                vindex,
                archive=location.archive,
                image_encoder=image_encoder,
                text_encoder=text_encoder,
                ensemble=ensemble,
            )
        except BaseException:
            catalog.close()
            raise

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> SearchService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- find similar -----------------------------------------------------------------------------

    def similar_to_item(
        self, item_id: int, *, top: int = 20, all: bool = False, duplicates: str = "group",
        filters: SearchFilter | None = None,
    ) -> SearchResults:  # fmt: skip
        """Items similar to an indexed item (excluding it). `duplicates`: "group" shows other files
        with the same content first, marked; "hide" leaves them out. `all`: no relevance cut-off."""
        rows = item_rows(self.catalog, [item_id])
        if not rows:
            raise InputError(f"no visible item with id {item_id} in {self.catalog.path}")
        keys, vectors = self.catalog.vectors(self.model_id, [item_id])
        if not len(keys):
            raise InputError(f"item {item_id} has no {self.model_id} vector yet (still being indexed?)")
        query = rows[item_id]
        second = None
        if self.ensemble is not None:  # None while the second model has not embedded the item yet
            found, second_vectors = self.catalog.vectors(self.ensemble.model_id, [item_id])
            second = second_vectors[0] if len(found) else None
        return self._similar(
            vectors[0], second, top=top, all=all, duplicates=duplicates, exclude={item_id},
            query_hash=query.hash if query.kind == "file" else None,  # a region is no copy of a file
            query_file=query.file_id, filters=filters,
        )  # fmt: skip

    def similar_to_region(
        self, item_id: int, bbox: tuple[int, int, int, int], *, top: int = 20, all: bool = False,
        duplicates: str = "group", filters: SearchFilter | None = None,
    ) -> SearchResults:  # fmt: skip
        """Items similar to a rectangle (full-size pixels) of an indexed item's file."""
        rows = item_rows(self.catalog, [item_id])
        if not rows:
            raise InputError(f"no visible item with id {item_id} in {self.catalog.path}")
        if self.archive is None:
            raise InputError("this search service was opened without an archive folder")
        row = rows[item_id]
        raw = self.catalog.file_raw_path(row.file_id)
        image = self._decode(os.path.join(os.fsencode(self.archive), raw), row.path)[1]
        if row.bbox is not None:  # a region item: the rectangle is relative to the region
            bbox = (bbox[0] + row.bbox[0], bbox[1] + row.bbox[1], bbox[2], bbox[3])
        vector, second = self._encode_image(image, bbox, row.path)
        return self._similar(vector, second, top=top, all=all, duplicates=duplicates, exclude=set(),
                             query_hash=None, query_file=None, filters=filters)  # fmt: skip

    def similar_to_image(
        self, path: Path, *, bbox: tuple[int, int, int, int] | None = None, top: int = 20,
        all: bool = False, duplicates: str = "group", filters: SearchFilter | None = None,
    ) -> SearchResults:  # fmt: skip
        """Items similar to an image file (anywhere; it is not added to the archive), or to a
        rectangle of it. Archive files with the same content are exact duplicates of the query."""
        data, image = self._decode(Path(path), str(path))
        vector, second = self._encode_image(image, bbox, str(path))
        return self._similar(
            vector, second, top=top, all=all, duplicates=duplicates, exclude=set(),
            query_hash=hash_bytes(data) if bbox is None else None, query_file=None, filters=filters,
        )  # fmt: skip

    def _decode(self, path: Path | bytes, shown: str) -> tuple[bytes, DecodedImage]:
        try:
            return decode_file(path, max_side=2048)
        except FileNotFoundError:
            raise InputError(f"image file not found: {shown}") from None
        except FileIndexError as exc:
            raise InputError(f"cannot use {shown} as a query image: {exc}") from exc

    def _encode_image(
        self, decoded: DecodedImage, bbox: tuple[int, int, int, int] | None, shown: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The query's vector, and the ensemble's second model's (None without one)."""
        if self.image_encoder is None:
            raise InputError("searching by image needs an image model (install a model bundle)")
        if self.image_encoder.model_id != self.model_id:
            raise ImagoError(
                f"the archive was indexed with {self.model_id}, but the image model is "
                f"{self.image_encoder.model_id}; re-index the archive or install that model"
            )
        image = decoded.image
        if bbox is not None:
            x, y, w, h = bbox
            if x >= decoded.width or y >= decoded.height:
                raise InputError(
                    f"rectangle {bbox} lies outside {shown} ({decoded.width}x{decoded.height} pixels)"
                )
            w, h = min(w, decoded.width - x), min(h, decoded.height - y)
            image = decoded.crop((x, y, w, h))
        vector = np.asarray(self.image_encoder.encode([image]), dtype=np.float32)[0]
        if self.ensemble is None or self.ensemble.encoder is None:
            return vector, None
        return vector, np.asarray(self.ensemble.encoder.encode([image]), dtype=np.float32)[0]

    def _similar(
        self, vector: np.ndarray, second: np.ndarray | None, *, top: int, all: bool, duplicates: str,
        exclude: set[int], query_hash: str | None, query_file: int | None, filters: SearchFilter | None,
    ) -> SearchResults:  # fmt: skip
        top = _check_top(top)
        filters = filters or NO_FILTER
        if duplicates not in ("group", "hide"):
            raise InputError(f"duplicates must be 'group' or 'hide', not {duplicates!r}")
        exact: list[SearchResult] = []
        if query_hash is not None:
            same = "exact duplicate: same file content as the query"
            ids = file_items_with_hash(self.catalog, query_hash)
            found = item_rows(self.catalog, ids, filters)
            exact = [
                SearchResult(i, found[i].path, 1.0, None, [same], found[i].file_id, found[i].hash)
                for i in ids
                if i in found and i not in exclude
            ]
        dup_ids = {r.item_id for r in exact}
        # At least one candidate beyond `top` (besides the query and its copies) tells whether `more` exist.
        k = max(CANDIDATES * (10 if filters.restricts else 1), top + 1) + len(exclude) + len(dup_ids)
        parts: dict[int, tuple[float, float]] = {}  # the two models' cosines of fused hits
        if self.ensemble is not None and second is not None:
            fused = fused_candidates(self.catalog, self.vector_index, self.ensemble, vector, second, k)
            hits = [(h.item_id, h.score) for h in fused if h.item_id not in exclude]
            parts = {h.item_id: (h.first, h.second) for h in fused}
            threshold = self._fused_threshold(vector, second)
        else:
            hits = [(i, s) for i, s in self.vector_index.search(vector, k) if i not in exclude]
            threshold = self._threshold(vector)
        hits = [(i, s) for i, s in hits if i not in dup_ids]
        rows = item_rows(self.catalog, [i for i, _ in hits], filters)
        hits = [(i, s) for i, s in hits if i in rows]
        kept, more = _apply_cutoff(hits, threshold, top, all)
        if filters.order == "date":
            kept.sort(key=lambda h: filters.newest_first(rows[h[0]]))
        results = []
        for item_id, score in kept:
            row = rows[item_id]
            why = [f"image similarity {score:.3f}"]
            if item_id in parts:
                why[0] += self.ensemble.describe(self.model_id, *parts[item_id])
            weak = threshold is not None and score < threshold
            if weak:
                why.append(WEAK_REASON)
            if query_file is not None and row.file_id == query_file:
                why.append("part of the same file as the query")
            results.append(
                SearchResult(item_id, row.path, float(score), row.bbox, why, row.file_id, row.hash, weak)
            )
        if duplicates == "group":  # the copies take places of `top`: hits they push out are `more`
            shown = max(top, len(exact))
            more = more or len(exact) + len(results) > shown
            results = (exact + results)[:shown]
        return SearchResults(results, more=more, threshold=threshold)

    # -- text search ------------------------------------------------------------------------------

    def search_text(
        self, query: str, *, top: int = 20, all: bool = False, filters: SearchFilter | None = None
    ) -> SearchResults:
        """Items matching a text query (any language the text tower reads), best first: items with
        every keyword first, then by fused rank; `all`: no relevance cut-off on vector matches."""
        top = _check_top(top)
        filters = filters or NO_FILTER
        if not isinstance(query, str) or not query.strip():
            raise InputError("the search text is empty")
        text = " ".join(query.split())[:MAX_QUERY_CHARS]
        terms = query_terms(query)
        vec_hits: list[tuple[int, float]] = []
        threshold = None
        if self.text_encoder is not None:
            vector = np.asarray(self.text_encoder.encode([text]), dtype=np.float32)[0]
            vec_hits = self.vector_index.search(  # one beyond `top` tells whether `more` exist
                vector, max(CANDIDATES * (10 if filters.restricts else 1), top + 1)
            )
            if filters.restricts:
                allowed = item_rows(self.catalog, [i for i, _ in vec_hits], filters)
                vec_hits = [(i, s) for i, s in vec_hits if i in allowed]
            threshold = self._threshold(vector)
        elif not terms:
            raise InputError(
                f"{query[:80]!r} has only common words and no text model is installed to search by meaning"
            )
        prefer = [i for i, _ in vec_hits]
        fts_all = keyword_matches(self.catalog, terms, "and", filters, prefer) if terms else []
        fts_any = []
        if len(terms) > 1 and not fts_all:
            fts_any = keyword_matches(self.catalog, terms, "or", filters, prefer)

        if fts_all or fts_any:  # keyword matches exist: vector matches must pass the cut-off
            vec_kept = vec_hits if all or threshold is None else [h for h in vec_hits if h[1] >= threshold]
            more = len(vec_kept) < len(vec_hits)
        else:
            vec_kept, more = _apply_cutoff(vec_hits, threshold, top, all)
        fused: dict[int, float] = {}
        for rank, item_id in enumerate(fts_all, 1):
            fused[item_id] = fused.get(item_id, 0.0) + FTS_WEIGHT / (RRF_K + rank)
        for rank, item_id in enumerate(fts_any, 1):
            fused[item_id] = fused.get(item_id, 0.0) + FTS_WEIGHT / 2 / (RRF_K + rank)
        vec_score = dict(vec_hits)
        vec_rank = {item_id: rank for rank, (item_id, _) in enumerate(vec_hits, 1)}
        relevant = set(fts_all) | set(fts_any) | {i for i, _ in vec_kept}
        for item_id in relevant:
            if item_id in vec_rank:
                fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (RRF_K + vec_rank[item_id])
        tier = {item_id: 0 if item_id in fts_all else 1 for item_id in relevant}
        order = sorted(relevant, key=lambda i: (tier[i], -fused[i], i))
        if len(order) > top:
            more = True
            order = order[:top]
        rows = item_rows(self.catalog, order)
        if filters.order == "date":
            order.sort(key=lambda i: filters.newest_first(rows[i]) if i in rows else (float("inf"), i))
        columns = matched_columns(self.catalog, order, terms) if terms else {}
        results = []
        for item_id in order:
            row = rows.get(item_id)
            if row is None:
                continue
            reasons: list[str] = []
            weak = False
            for column, matched in columns.get(item_id, []):
                kind = "keyword match" if item_id in fts_all else "partial keyword match"
                reasons.append(f"{kind} in {column}: {', '.join(matched)}")
            if item_id in vec_score:
                reasons.append(f"text-image similarity {vec_score[item_id]:.3f} (rank {vec_rank[item_id]})")
                below = threshold is not None and vec_score[item_id] < threshold
                weak = below and item_id not in fts_all and item_id not in fts_any
                if weak:
                    reasons.append(WEAK_REASON)
            results.append(
                SearchResult(
                    item_id, row.path, fused[item_id], row.bbox, reasons, row.file_id, row.hash, weak
                )
            )
        return SearchResults(results, more=more, threshold=threshold)

    # -- shared -----------------------------------------------------------------------------------

    def _threshold(self, vector: np.ndarray) -> float | None:
        """The cosine cut-off for `vector` over the archive's sample (see `_cutoff`)."""
        sample = self._background()
        return _cutoff(sample @ normalise(vector)) if len(sample) >= MIN_SAMPLE else None

    def _fused_threshold(self, vector: np.ndarray, second: np.ndarray) -> float | None:
        """The fused-score cut-off for a query's two vectors, over the same kind of sample."""
        if self._pair_sample is None:
            self._pair_sample = paired_sample(
                self.catalog, self.vector_index, self.ensemble.vector_index, SAMPLE_SIZE
            )
        a, b = self._pair_sample
        if len(a) < MIN_SAMPLE:
            return None
        return _cutoff(fuse(a @ normalise(vector), b @ normalise(second), self.ensemble.weight))

    def _background(self) -> np.ndarray:
        if self._sample is None:
            # sorted: the index's own key order differs between a loaded and a rebuilt index
            keys = np.sort(self.vector_index.keys())
            if len(keys) > SAMPLE_SIZE:
                keys = np.sort(np.random.default_rng(0).choice(keys, SAMPLE_SIZE, replace=False))
            _, matrix = self.catalog.vectors(self.model_id, keys.tolist())
            self._sample = normalise(matrix) if len(matrix) else matrix
        return self._sample


def _cutoff(scores: np.ndarray) -> float:
    """median + CUTOFF_Z * 1.4826 * MAD of the archive's sample scores for a query."""
    median = float(np.median(scores))
    sigma = 1.4826 * float(np.median(np.abs(scores - median)))
    return median + CUTOFF_Z * max(sigma, MIN_SIGMA)


def _apply_cutoff(
    hits: list[tuple[int, float]], threshold: float | None, top: int, all: bool
) -> tuple[list[tuple[int, float]], bool]:
    """(kept hits, whether more exist). Without `all`, keep those above `threshold` (or the best
    FALLBACK_RESULTS, marked weak by the caller, when none is), at most `top`."""
    if all or threshold is None:
        return hits[:top], len(hits) > top
    above = [h for h in hits if h[1] >= threshold]
    if not above:
        above = hits[: min(FALLBACK_RESULTS, top)]
    kept = above[:top]
    return kept, len(hits) > len(kept)


def pick_model(catalog: Catalog, wanted: str | None) -> tuple[str, int]:
    """The image model id (and dimension) whose vectors to search: `wanted` when the archive has
    vectors of it, else the model with the most vectors."""
    rows = catalog.embedding_models()
    if not rows:
        raise ArchiveError(f"{catalog.path} holds no image vectors yet; index the archive first")
    for model_id, dim, _ in rows:
        if model_id == wanted:
            return model_id, int(dim)
    if wanted is not None:
        logger.warning("archive has no %s vectors; searching %s vectors", wanted, rows[0][0])
    return rows[0][0], int(rows[0][1])

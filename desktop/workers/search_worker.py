"""Searches off the GUI thread: a `Searcher` owns the SearchService and runs on a one-thread TaskRunner.

A SearchService holds a Catalog connection, so it stays on the runner's one thread (it never expires);
requests are submitted to it in order and answers come back as `SearchOutcome` dataclasses. Each request
carries an id so the window can drop answers to queries the curator has already replaced. An answer also
says what the query was (its name, thumbnail and content hash, so the grid can show it and mark its
exact copies) and which photo on its page each region hit is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader

from desktop.workers.tasks import TaskRunner
from models.errors import BundleError, ImagoError
from models.loading import load_ensemble_encoder, load_search_encoders
from store.config import Settings
from store.ingestion.scanner import hash_file
from store.services.browse import region_places
from store.services.search import SearchFilter, SearchResult, SearchService
from store.storage.archive import locate_index
from store.storage.thumbnails import ThumbnailCache
from store.storage.views import item_rows

logger = logging.getLogger(__name__)

TOP = 200
TOP_ALL = 1000  # "Show more": the cut-off off, and room beyond TOP when all TOP passed it
QUERY_THUMB = 64  # pixels: the query chip's picture, read at about this size


@dataclass(frozen=True)
class SearchRequest:
    """What to look for: exactly one of text, item_id, image."""

    request_id: int
    archive: Path
    text: str | None = None
    item_id: int | None = None
    image: Path | None = None
    all: bool = False  # no relevance cut-off (the curator asked for more)
    filters: SearchFilter | None = None  # e.g. the facets' folder or category


@dataclass(frozen=True)
class QueryFacts:
    """The image a find-similar request asked about: its path (archive-relative for an item), region and
    place on its page, content hash (a whole file only: its exact copies in the results) and thumbnail."""

    path: str
    region: tuple[int, int, int, int] | None = None
    place: tuple[int, int] | None = None
    hash: str | None = None
    thumbnail: QImage | None = None


@dataclass(frozen=True)
class SearchOutcome:
    request: SearchRequest
    results: list[SearchResult] = field(default_factory=list)
    more: bool = False
    error: str | None = None
    query: QueryFacts | None = None  # a find-similar request's image
    places: dict[int, tuple[int, int]] = field(default_factory=dict)  # region hits: (n, of how many)


class Searcher:
    """Answers search requests; used only on the search runner's thread. `settings`: its own copy."""

    def __init__(self, models_dir: Path, settings: Settings) -> None:
        self.models_dir = models_dir
        self.settings = settings
        self._service: SearchService | None = None
        self._service_archive: Path | None = None
        self._thumbnails: ThumbnailCache | None = None  # the open archive's, for query thumbnails
        self._encoders: tuple | None = None

    def _encoders_or_none(self) -> tuple:
        if self._encoders is None:
            try:
                image_encoder, text_encoder = load_search_encoders(self.models_dir, self.settings)
            except BundleError as exc:
                logger.warning("searching without the CLIP model: %s", exc)
                return (None, None, None)
            # Outside the except: a mistyped ensemble model is an error to show, not image search off.
            ensemble = load_ensemble_encoder(self.models_dir, self.settings, image_encoder.model_id)
            self._encoders = (image_encoder, text_encoder, ensemble)
        return self._encoders

    def _service_for(self, archive: Path) -> SearchService:
        if self._service is not None and self._service_archive != archive:
            self.reset()
        if self._service is None:
            image_encoder, text_encoder, ensemble = self._encoders_or_none()
            self._service = SearchService.open(
                archive, image_encoder=image_encoder, text_encoder=text_encoder,
                ensemble_encoder=ensemble, ensemble_weight=self.settings.ensemble_weight,
            )  # fmt: skip
            self._service_archive = archive
        return self._service

    def reset(self) -> None:
        """Forget the open service (the index changed); the next request reopens it."""
        if self._service is not None:
            self._service.close()
        self._service = None
        self._service_archive = None
        self._thumbnails = None

    def reload_models(self, settings: Settings) -> None:
        self.settings = settings
        self._encoders = None
        self.reset()

    def answer(self, request: SearchRequest) -> SearchOutcome:
        try:
            service = self._service_for(request.archive)
            options = dict(top=TOP_ALL if request.all else TOP, all=request.all, filters=request.filters)
            if request.text is not None:
                found = service.search_text(request.text, **options)
            elif request.item_id is not None:
                found = service.similar_to_item(request.item_id, **options)
            else:
                found = service.similar_to_image(request.image, **options)
        except ImagoError as exc:
            return SearchOutcome(request, error=str(exc))
        except Exception as exc:  # an unexpected failure: logged with its traceback, shown as text
            logger.exception("search failed: %s", request)
            return SearchOutcome(request, error=f"search failed: {exc}")
        regions = [r.item_id for r in found.results if r.region is not None]
        places = region_places(service.catalog, [*regions, *([request.item_id] if request.item_id else [])])
        return SearchOutcome(request, list(found.results), found.more,
                             query=self._query(service, request, places), places=places)  # fmt: skip

    def _query(
        self, service: SearchService, request: SearchRequest, places: dict[int, tuple[int, int]]
    ) -> QueryFacts | None:
        """What the query image was; None for a text query (or when it cannot be read now)."""
        try:
            if request.image is not None:
                return QueryFacts(str(request.image), hash=hash_file(request.image),
                                  thumbnail=_read_small(str(request.image)))  # fmt: skip
            if request.item_id is None:
                return None
            row = item_rows(service.catalog, [request.item_id]).get(request.item_id)
            if row is None:
                return None
            place = places.get(row.item_id)
            thumbnail = None
            if row.hash is not None:
                if self._thumbnails is None:
                    folder = locate_index(request.archive, create=False).thumbnails_dir
                    self._thumbnails = ThumbnailCache(folder)
                thumbnail = _read_small(str(self._thumbnails.path(row.hash, row.bbox)))
            return QueryFacts(row.path, row.bbox, place, row.hash if row.kind == "file" else None, thumbnail)
        except (ImagoError, OSError) as exc:
            logger.warning("cannot describe the query %s: %s", request, exc)
            return None


def _read_small(path: str) -> QImage | None:
    """The image at `path`, read at about QUERY_THUMB pixels (JPEGs decode at that size); None when
    Qt cannot read it (e.g. a HEIC file)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(QSize(QUERY_THUMB, QUERY_THUMB), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return None if image.isNull() else image


class SearchWorker(QObject):
    """GUI-side handle: `submit(...)` returns the request; `answered(SearchOutcome)` comes back."""

    answered = Signal(object)

    def __init__(self, models_dir: Path, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(self, threads=1)
        self._searcher = Searcher(models_dir, settings)
        self._next_id = 0

    def submit(self, archive: Path, *, text: str | None = None, item_id: int | None = None,
               image: Path | None = None, all: bool = False,
               filters: SearchFilter | None = None) -> SearchRequest:  # fmt: skip
        self._next_id += 1
        request = SearchRequest(
            self._next_id, Path(archive), text, item_id, Path(image) if image else None, all, filters
        )
        self._runner.submit(lambda: self._searcher.answer(request), self.answered.emit)
        return request

    def index_changed(self) -> None:
        self._runner.submit(self._searcher.reset)

    def models_changed(self, settings: Settings) -> None:
        """Load the models again (with `settings`, a copy for the search thread) at the next search."""
        self._runner.submit(lambda: self._searcher.reload_models(settings))

    def shutdown(self) -> None:
        """Close the service on its own thread (sqlite connections are thread-bound) and wait for it."""
        self._runner.submit(self._searcher.reset)
        self._runner.wait()

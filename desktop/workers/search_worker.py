"""Searches off the GUI thread: a `Searcher` owns the SearchService and runs on a one-thread TaskRunner.

A SearchService holds a Catalog connection, so it stays on the runner's one thread (it never expires);
requests are submitted to it in order and answers come back as `SearchOutcome` dataclasses. Each request
carries an id so the window can drop answers to queries the curator has already replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.workers.tasks import TaskRunner
from models.errors import BundleError, ImagoError
from models.loading import load_search_encoders
from store.config import Settings
from store.services.search import SearchFilter, SearchResult, SearchService

logger = logging.getLogger(__name__)

TOP = 200


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
class SearchOutcome:
    request: SearchRequest
    results: list[SearchResult] = field(default_factory=list)
    more: bool = False
    error: str | None = None


class Searcher:
    """Answers search requests; used only on the search runner's thread. `settings`: its own copy."""

    def __init__(self, models_dir: Path, settings: Settings) -> None:
        self.models_dir = models_dir
        self.settings = settings
        self._service: SearchService | None = None
        self._service_archive: Path | None = None
        self._encoders: tuple | None = None

    def _encoders_or_none(self) -> tuple:
        if self._encoders is None:
            try:
                self._encoders = load_search_encoders(self.models_dir, self.settings)
            except BundleError as exc:
                logger.warning("searching without the CLIP model: %s", exc)
                return (None, None)
        return self._encoders

    def _service_for(self, archive: Path) -> SearchService:
        if self._service is not None and self._service_archive != archive:
            self.reset()
        if self._service is None:
            image_encoder, text_encoder = self._encoders_or_none()
            self._service = SearchService.open(
                archive, image_encoder=image_encoder, text_encoder=text_encoder
            )
            self._service_archive = archive
        return self._service

    def reset(self) -> None:
        """Forget the open service (the index changed); the next request reopens it."""
        if self._service is not None:
            self._service.close()
        self._service = None
        self._service_archive = None

    def reload_models(self, settings: Settings) -> None:
        self.settings = settings
        self._encoders = None
        self.reset()

    def answer(self, request: SearchRequest) -> SearchOutcome:
        try:
            service = self._service_for(request.archive)
            options = dict(top=TOP, all=request.all, filters=request.filters)
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
        return SearchOutcome(request, list(found.results), found.more)


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

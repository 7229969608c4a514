"""Searches off the GUI thread: a worker QObject living in its own QThread owns the SearchService.

A SearchService holds a Catalog connection, so it must stay on one thread; requests arrive through
queued signals and answers go back as `SearchOutcome` dataclasses. Each request carries an id so
the window can drop answers to queries the curator has already replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

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


class _SearchWorker(QObject):
    answered = Signal(object)

    def __init__(self, models_dir: Path, settings: Settings) -> None:
        super().__init__()
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

    @Slot()
    def reset(self) -> None:
        """Forget the open service (the index changed); the next request reopens it."""
        if self._service is not None:
            self._service.close()
        self._service = None
        self._service_archive = None

    @Slot()
    def reload_models(self) -> None:
        self._encoders = None
        self.reset()

    @Slot(object)
    def handle(self, request: SearchRequest) -> None:
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
            self.answered.emit(SearchOutcome(request, error=str(exc)))
            return
        except Exception as exc:  # an unexpected failure: logged with its traceback, shown as text
            logger.exception("search failed: %s", request)
            self.answered.emit(SearchOutcome(request, error=f"search failed: {exc}"))
            return
        self.answered.emit(SearchOutcome(request, list(found.results), found.more))


class SearchController(QObject):
    """GUI-side handle: `submit(...)` returns a request id; `answered(SearchOutcome)` comes back."""

    answered = Signal(object)
    _request = Signal(object)
    _reset = Signal()
    _reload = Signal()

    def __init__(self, models_dir: Path, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("imago-search")
        self._worker = _SearchWorker(models_dir, settings)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.handle)
        self._reset.connect(self._worker.reset)
        self._reload.connect(self._worker.reload_models)
        self._worker.answered.connect(self.answered)
        self._thread.finished.connect(self._worker.deleteLater)
        self._next_id = 0

    def submit(self, archive: Path, *, text: str | None = None, item_id: int | None = None,
               image: Path | None = None, all: bool = False,
               filters: SearchFilter | None = None) -> SearchRequest:  # fmt: skip
        self._next_id += 1
        request = SearchRequest(
            self._next_id, Path(archive), text, item_id, Path(image) if image else None, all, filters
        )
        if not self._thread.isRunning():  # started on first use; shutdown() must end it
            self._thread.start()
        self._request.emit(request)
        return request

    def index_changed(self) -> None:
        self._reset.emit()

    def models_changed(self) -> None:
        self._reload.emit()

    def shutdown(self) -> None:
        """Close the service on its own thread (sqlite connections are thread-bound), then stop."""
        if self._thread.isRunning():
            QMetaObject.invokeMethod(self._worker, "reset", Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait()

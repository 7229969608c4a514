"""Searching: text queries and "find similar" (to an item or an image file) in the search worker, the
answers shown in the grid, the relevance cut-off lifted on request."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from desktop.controllers.session import ArchiveSession
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import GridEntry
from desktop.widgets.problem_panel import problem_status
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from desktop.workers.search_worker import SearchOutcome, SearchRequest, SearchWorker

# Settings the search models are loaded with (models.loading.session_options).
SEARCH_MODEL_SETTINGS = {"device", "intra_op_threads"}


class SearchController(QObject):
    """Submits searches for the open archive (restricted by the facets) and shows the latest answer."""

    results_shown = Signal(object)  # SearchOutcome
    check_wanted = Signal()  # a search failed: perhaps on a vanished index
    shown = Signal()  # the grid's heading or contents changed: panels follow

    def __init__(self, session: ArchiveSession, grid: ThumbnailGrid, facets: FacetsPanel, heading: QLabel):
        super().__init__(session)
        self.session, self.grid, self.facets, self.heading = session, grid, facets, heading
        self.worker = SearchWorker(session.models_dir, session.settings_copy(), self)
        self.worker.answered.connect(self._on_answer)
        self.last_results: SearchOutcome | None = None
        self.last_request: SearchRequest | None = None
        self._request_id = 0
        for signal in (session.opened, session.lost):  # nothing read from the index stays on show
            signal.connect(self.reset)
        for signal in (session.opened, session.lost, session.back):  # its catalog connection goes
            signal.connect(self.worker.index_changed)

    @property
    def active(self) -> bool:
        """A search was asked for since the last reset (its answer may be on its way)."""
        return bool(self._request_id) and self.last_request is not None

    def search_text(self, text: str) -> None:
        self._submit(text=text)

    def find_similar_item(self, item_id: int) -> None:
        self._submit(item_id=item_id)

    def find_similar_file(self, path: Path) -> None:
        self._submit(image=Path(path))

    def show_more(self) -> None:
        """Repeat the last search without the relevance cut-off."""
        last = self.last_results
        if last is not None and not last.request.all:
            self.repeat(last.request, all=True)

    def repeat(self, request: SearchRequest | None = None, all: bool | None = None) -> None:
        """Ask the last question again (e.g. within the facets' new choice)."""
        request = request or self.last_request
        all = request.all if all is None else all
        self._submit(text=request.text, item_id=request.item_id, image=request.image, all=all)

    def reset(self) -> None:
        """Back to browsing: no search shown or awaited."""
        self.session.mode = "browse"
        self.last_results, self.last_request, self._request_id = None, None, 0

    def apply_settings(self, changed: set[str]) -> None:
        """New settings were saved (`changed`: their names): the search models follow them."""
        if changed & SEARCH_MODEL_SETTINGS:
            self.worker.models_changed(self.session.settings_copy())

    def query_title(self, request: SearchRequest) -> str:
        """How a search request is named in the window (translated)."""
        if request.text is not None:
            return f"“{request.text}”"
        if request.item_id is not None:
            return self.tr("similar to item #{id}").format(id=request.item_id)
        return self.tr("similar to {name}").format(name=request.image.name if request.image else "?")

    def _submit(self, **query) -> None:
        session = self.session
        if session.archive is None:
            session.say(self.tr("Open an archive first (File › Open archive…)"), 10_000)
            return
        if session.problem is not None:
            session.say(problem_status(session.problem.problem), 10_000)
            return
        filters = self.facets.filters()
        request = self.worker.submit(session.archive, filters=filters if filters.restricts else None, **query)
        self._request_id = request.request_id
        self.last_request = request
        session.say(self.tr("Searching {query}…").format(query=self.query_title(request)))

    def _on_answer(self, outcome: SearchOutcome) -> None:
        if outcome.request.request_id != self._request_id:
            return  # an older query the curator has replaced
        self.session.say("")
        self.session.mode = "results"
        self.last_results = outcome
        model = self.grid.model()
        if outcome.error:
            self.check_wanted.emit()
            model.set_entries([])
            self.heading.setText(f"{self.query_title(outcome.request)}: {outcome.error}")
        else:
            entries = [
                GridEntry(r.item_id, r.path, r.hash, r.region, r.score, list(r.why)) for r in outcome.results
            ]
            model.set_entries(entries)
            more = self.tr(" — more exist below the relevance cut-off") if outcome.more else ""
            found = self.tr("{query} — found: {count}").format(
                query=self.query_title(outcome.request), count=len(entries)
            )
            self.heading.setText(found + more + self.facets.restriction_note())
            if entries:
                self.grid.setCurrentIndex(model.index(0))
        self.shown.emit()
        self.results_shown.emit(outcome)

    @property
    def more_available(self) -> bool:
        """The shown results were cut off by relevance and more can be asked for."""
        last = self.last_results
        return self.session.mode == "results" and last is not None and last.more and not last.request.all

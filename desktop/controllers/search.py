"""Searching: text queries and "find similar" (to an item or an image file) in the search worker, the
answers shown in the grid, the relevance cut-off lifted on request.

Results explain themselves: the query is a chip above the grid, the heading counts strong matches (or
says there are none and the closest are shown), matches below the cut-off come after a line in the grid
and are dimmed, the query's exact copies are marked, and each hit has a bar for how well it matches."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from desktop.controllers.session import ArchiveSession
from desktop.widgets.browse_controls import BrowseControls
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import GridEntry
from desktop.widgets.problem_panel import problem_status
from desktop.widgets.query_chip import QueryChip
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from desktop.workers.search_worker import TOP, SearchOutcome, SearchRequest, SearchWorker

# Settings the search models are loaded with (models.loading.session_options).
SEARCH_MODEL_SETTINGS = {"device", "intra_op_threads"}


def result_entries(outcome: SearchOutcome) -> tuple[list[GridEntry], int | None]:
    """The grid's rows for an answer, and the row where the matches below the cut-off start (None: no
    strong match before them, or none below). Exact copies of the query come first, then the strong
    matches, then the possible ones, each in the service's order."""
    query_hash = outcome.query.hash if outcome.query else None
    ranked: dict[str, list] = {"exact": [], "strong": [], "possible": []}
    for r in outcome.results:
        exact = query_hash is not None and r.region is None and r.hash == query_hash
        ranked["exact" if exact else "possible" if r.weak else "strong"].append(r)
    best = max((r.score for r in ranked["strong"] + ranked["possible"]), default=0.0)
    entries = [
        GridEntry(r.item_id, r.path, r.hash, r.region, r.score, list(r.why), outcome.places.get(r.item_id),
                  match, 1.0 if match == "exact" else max(0.0, r.score) / best if best > 0 else None)
        for match, results in ranked.items()
        for r in results
    ]  # fmt: skip
    strong = len(ranked["exact"]) + len(ranked["strong"])
    return entries, strong if 0 < strong < len(entries) else None


class SearchController(QObject):
    """Submits searches for the open archive (restricted by the facets) and shows the latest answer."""

    results_shown = Signal(object)  # SearchOutcome
    check_wanted = Signal()  # a search failed: perhaps on a vanished index
    shown = Signal()  # the grid's heading or contents changed: panels follow
    similar_requested = Signal()  # a find-similar query (an image, not the search field's words)

    def __init__(
        self, session: ArchiveSession, grid: ThumbnailGrid, facets: FacetsPanel, heading: QLabel,
        chip: QueryChip | None = None, controls: BrowseControls | None = None,
    ):  # fmt: skip
        super().__init__(session)
        self.session, self.grid, self.facets, self.heading = session, grid, facets, heading
        self.chip, self.controls = chip or QueryChip(), controls or BrowseControls()
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
        self.similar_requested.emit()
        self._submit(item_id=item_id)

    def find_similar_file(self, path: Path) -> None:
        self.similar_requested.emit()
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
        self.chip.clear()
        self.grid.set_divider(None)
        self.controls.set_browsing(True)

    def apply_settings(self, changed: set[str]) -> None:
        """New settings were saved (`changed`: their names): the search models follow them."""
        if changed & SEARCH_MODEL_SETTINGS:
            self.worker.models_changed(self.session.settings_copy())

    def query_title(self, request: SearchRequest) -> str:
        """How a search request is named in the window (translated)."""
        if request.text is not None:
            return self.tr("“{text}”").format(text=request.text)
        return self.tr("similar to {name}").format(name=self._image_name(request))

    def _image_name(self, request: SearchRequest, outcome: SearchOutcome | None = None) -> str:
        """The query image's name: a dropped file's name, or the item's (as the grid names it)."""
        if request.image is not None:
            return request.image.name
        if outcome is not None and outcome.query is not None:
            query = outcome.query
            return GridEntry(request.item_id, query.path, None, query.region, place=query.place).name
        shown = next((e for e in self.grid.model().entries() if e.item_id == request.item_id), None)
        return shown.name if shown is not None else self.tr("the chosen image")

    def _show_chip(self, request: SearchRequest, outcome: SearchOutcome | None = None) -> None:
        if request.text is not None:
            self.chip.show_words(request.text)
        else:
            picture = outcome.query.thumbnail if outcome is not None and outcome.query else None
            self.chip.show_image(self._image_name(request, outcome), picture)

    def _submit(self, **query) -> None:
        session = self.session
        if session.archive is None:
            session.say(self.tr("Open an archive first (File › Open archive…)"), 10_000)
            return
        if session.problem is not None:
            session.say(problem_status(session.problem.problem), 10_000)
            return
        filters = self.controls.restrict(self.facets.filters())
        request = self.worker.submit(session.archive, filters=filters if filters.restricts else None, **query)
        self._request_id = request.request_id
        self.last_request = request
        self._show_chip(request)
        session.say(self.tr("Searching {query}…").format(query=self.query_title(request)))

    def _on_answer(self, outcome: SearchOutcome) -> None:
        if outcome.request.request_id != self._request_id:
            return  # an older query the curator has replaced
        self.session.say("")
        self.session.mode = "results"
        self.last_results = outcome
        self.controls.set_browsing(False)
        self._show_chip(outcome.request, outcome)
        model = self.grid.model()
        if outcome.error:
            self.check_wanted.emit()
            model.set_entries([])
            self.grid.set_divider(None)
            self.heading.setText(outcome.error)
        else:
            entries, divider = result_entries(outcome)
            model.set_entries(entries)
            self.grid.set_divider(divider)
            self.heading.setText(self._counts(entries, divider, outcome) + self._restrictions())
            if entries:
                self.grid.setCurrentIndex(model.index(0))
        self.shown.emit()
        self.results_shown.emit(outcome)

    def _restrictions(self) -> str:
        return self.facets.restriction_note() + self.controls.restriction_note()

    def _counts(self, entries: list[GridEntry], divider: int | None, outcome: SearchOutcome) -> str:
        """The heading: how many strong matches (and weaker ones below the line) are shown."""
        strong = sum(e.match != "possible" for e in entries)
        if not entries:
            text = self.tr("No matches")
        elif not strong:
            text = self.tr("No strong matches; the {count} closest shown").format(count=len(entries))
        else:
            text = self.tr("Strong matches: {count}").format(count=strong)
        if divider is not None:
            text += self.tr("; below the line, weaker ones: {count}").format(count=len(entries) - strong)
        if outcome.more and not outcome.request.all:
            if len(outcome.results) < TOP:  # the cut-off held them back
                text += self.tr(" — more below the relevance cut-off")
            else:  # all TOP shown, and others exist (above the cut-off too, perhaps)
                text += self.tr(" — more results exist")
        return text

    @property
    def more_available(self) -> bool:
        """The shown results were cut off by relevance and more can be asked for."""
        last = self.last_results
        return self.session.mode == "results" and last is not None and last.more and not last.request.all

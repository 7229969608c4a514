"""Results that explain themselves (query chip, honest counts, the cut-off's line, exact copies, match
bars) and items told apart (folder line, "photo n of m", thumbnail size, browse order, date range)."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest
from gui_fixtures import ARCHIVE_FILES, open_indexed
from PySide6.QtCore import QDate, QSettings, Qt
from store_fakes import FakeEncoder, make_image, quadrant_detector

from desktop.controllers.browse import read_browse
from desktop.controllers.search import result_entries
from desktop.main_window import MainWindow
from desktop.widgets import match_reasons
from desktop.widgets.browse_controls import SIZE_KEY
from desktop.widgets.grid_model import GridEntry
from desktop.workers.search_worker import QueryFacts, SearchOutcome, SearchRequest
from store import config
from store.ingestion.indexer import Indexer
from store.services.browse import region_places, visible_items
from store.services.search import WEAK_REASON, SearchResult
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.filters import SearchFilter

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def _hit(item_id: int, score: float, *, weak: bool = False, hash: str | None = None) -> SearchResult:
    why = [f"image similarity {score:.3f}"] + ([WEAK_REASON] if weak else [])
    return SearchResult(item_id, f"f/{item_id}.jpg", score, None, why, hash=hash, weak=weak)


def test_result_entries_put_copies_first_and_weak_matches_after_the_line():
    request = SearchRequest(1, config.user_data_dir(), item_id=9, all=True)
    results = [_hit(1, 1.0, hash="same"), _hit(2, 0.8), _hit(3, 0.2, weak=True), _hit(4, 0.4)]
    outcome = SearchOutcome(request, results, query=QueryFacts("q.jpg", hash="same"))
    entries, divider = result_entries(outcome)
    assert [(e.item_id, e.match) for e in entries] == [
        (1, "exact"),
        (2, "strong"),
        (4, "strong"),
        (3, "possible"),
    ]
    assert divider == 3
    assert [e.strength for e in entries] == [1.0, 1.0, 0.5, 0.25]  # relative to the best non-copy
    only_weak = SearchOutcome(request, [_hit(5, 0.3, weak=True), _hit(6, 0.1, weak=True)])
    assert result_entries(only_weak)[1] is None  # nothing strong: no line above everything


def test_regions_are_named_by_their_place_and_browse_orders(tmp_path):
    root = tmp_path / "archive"
    for n, rel in enumerate(["b/page.png", "a/zeta.png", "c/alpha.png"]):
        make_image(root / rel, n)
    os.utime(root / "c/alpha.png", (1_000_000_000, 1_000_000_000))  # 2001-09-09: the oldest
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeEncoder(), region_detector=quadrant_detector, decode_workers=1,
                thumbnails=False).index()  # fmt: skip
        regions = [i for i in visible_items(catalog) if i.region is not None]
        assert [i.place for i in regions if i.path == "b/page.png"] == [(1, 2), (2, 2)]
        assert region_places(catalog, [i.item_id for i in regions[:1]]) == {regions[0].item_id: (1, 2)}
        names = [i.path for i in visible_items(catalog, order="name") if i.region is None]
        assert names == ["c/alpha.png", "b/page.png", "a/zeta.png"]
        newest_first = [i.path for i in visible_items(catalog, order="modified") if i.region is None]
        assert newest_first[-1] == "c/alpha.png"
        old = SearchFilter(until=1_000_000_001)
        assert {i.path for i in visible_items(catalog, filters=old)} == {"c/alpha.png"}
    page = [e for e in read_browse(location.catalog_path, SearchFilter()) if e.path == "b/page.png"]
    entry = next(e for e in page if e.place == (2, 2))
    assert (entry.name, entry.folder) == ("page.png, photo 2 of 2", "b")


def test_match_reasons_name_labels_in_the_ui_language(monkeypatch):
    say = match_reasons.shown_reason
    assert say("keyword match in labels: dog") == "keyword match in labels: dog"
    assert say("partial keyword match in name: pagoda") == "partial keyword match in file name: pagoda"
    assert say("something new") == "something new"
    monkeypatch.setattr(match_reasons, "shown_language", lambda: "ru")
    assert say("keyword match in labels: dog, church") == "keyword match in labels: собака, церковь"


def test_an_ensemble_reason_reaches_the_translation(monkeypatch):
    from types import SimpleNamespace

    from store.services.fusion import Ensemble

    parts = Ensemble.describe(SimpleNamespace(model_id="dino", weight=0.5), "clip-b32", 0.8, 0.7)
    reason = "image similarity 0.812" + parts  # as store.services.search words it
    monkeypatch.setattr(match_reasons.QCoreApplication, "translate", lambda _context, text: f"[{text}]")
    assert match_reasons.shown_reason(reason) == f"[{reason}]"


def _answer(qtbot, window, outcome: SearchOutcome) -> None:
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS):
        window.search.worker.answered.emit(outcome)


def test_results_explain_themselves_and_clear(qtbot, models_dir, archive, tmp_path):
    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    browsed = window.grid_model.entries()
    # The query is a chip: the words of a text query.
    window.search_field.setText("pagoda")
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS) as shown:
        window.run_text_search()
    request = shown.args[0].request
    chip = window.query_chip
    assert chip.isVisible() and chip.name.text() == "“pagoda”" and not chip.picture.isVisible()
    assert not window.browse_controls.order_box.isEnabled()  # results come best first
    # Nothing above the cut-off: said so, not "found: 3".
    weak = [
        SearchResult(e.item_id, e.path, 0.1, None, [WEAK_REASON], hash=e.hash, weak=True) for e in browsed[:3]
    ]
    _answer(qtbot, window, SearchOutcome(request, weak, more=True))
    assert window.results_label.text().startswith("No strong matches; the 3 closest shown")
    assert window.results_label.text().endswith(" — more below the relevance cut-off")
    assert window.grid.divider_row is None and {e.match for e in window.grid_model.entries()} == {"possible"}
    tooltip = window.grid_model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Possible match (score 0.100)" in tooltip
    # "More results" across the cut-off: a line before the first weaker match.
    strong = [SearchResult(e.item_id, e.path, 0.9, None, ["image similarity 0.900"], hash=e.hash)
              for e in browsed[3:5]]  # fmt: skip
    _answer(qtbot, window, SearchOutcome(dataclasses.replace(request, all=True), weak + strong))
    assert window.grid.divider_row == 2 and [e.match for e in window.grid_model.entries()][1:3] == [
        "strong",
        "possible",
    ]
    assert "Strong matches: 2; below the line, weaker ones: 3" in window.results_label.text()
    assert not window.grid.grab().isNull()  # the line and the bars are drawn
    # Find similar to an item: its name and thumbnail, not its number.
    target = browsed[-1]
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS):
        window.find_similar_item(target.item_id)
    assert (chip.prefix.text(), chip.name.text()) == ("Similar to", target.path.rsplit("/", 1)[-1])
    assert chip.picture.isVisible()
    # The chip's ✕ goes back to browsing.
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        chip.clear_button.click()
    assert window.mode == "browse" and not chip.isVisible() and window.grid.divider_row is None
    # Opening another archive clears the search: its words, the chip, the results.
    window.search_field.setText("pagoda")
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS):
        window.run_text_search()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(archive / "pagoda.jpg", other / "one.jpg")
    assert window.open_archive(other)
    assert window.mode == "browse" and window.search_field.text() == "" and not chip.isVisible()
    assert window.browse_controls.order_box.isEnabled()
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        pass


def test_browse_order_date_range_and_thumbnail_size(qtbot, models_dir, archive, imago_home):
    for n, path in enumerate(sorted(p for p in archive.rglob("*") if p.is_file())):
        os.utime(path, (1_600_000_000 + n * 86_400,) * 2)  # each a day newer than the one before
    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    controls = window.browse_controls
    by_path = [e.path for e in window.grid_model.entries()]
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        controls.order_box.setCurrentIndex(controls.order_box.findData("modified"))
    assert [e.path for e in window.grid_model.entries()] == by_path[::-1]  # newest first
    # A date range restricts the browse list (and says so in the heading).
    controls.since.setDate(QDate(2020, 9, 14))
    controls.until.setDate(QDate(2020, 9, 16))
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS) as loaded:
        controls.dates.setChecked(True)
    assert 1 <= loaded.args[0] < ARCHIVE_FILES
    assert "; modified 2020-09-14 – 2020-09-16" in window.results_label.text()
    assert controls.dates_button.text() == "2020-09-14 – 2020-09-16"
    # The thumbnail size is the grid's, and the window remembers it.
    controls.size_slider.setValue(96)
    assert window.grid.iconSize().width() == 96 and window.grid_model.icon_size == 96
    window.close()
    state = QSettings(str(imago_home / "window.ini"), QSettings.Format.IniFormat)
    assert state.value(SIZE_KEY, type=int) == 96
    again = MainWindow(models_dir=models_dir)
    qtbot.addWidget(again)
    assert again.browse_controls.size_slider.value() == 96 and again.grid.iconSize().width() == 96


def test_grid_entry_names_regions_and_tooltips_say_strength():
    region = GridEntry(1, "scans/album_page.jpg", "h", (0, 0, 5, 5), place=(3, 6))
    assert (region.name, region.folder) == ("album_page.jpg, photo 3 of 6", "scans")
    assert GridEntry(2, "top.jpg", None).folder == ""


def test_a_full_page_of_strong_matches_says_more_exist_not_below_the_cut_off(
    qtbot, models_dir, archive, monkeypatch
):
    import desktop.controllers.search as controller_module

    window = open_indexed(qtbot, models_dir, archive)
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    browsed = window.grid_model.entries()
    monkeypatch.setattr(controller_module, "TOP", 3)
    window.search_field.setText("pagoda")
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS) as shown:
        window.run_text_search()
    strong = [SearchResult(e.item_id, e.path, 0.9, None, ["image similarity 0.900"], hash=e.hash)
              for e in browsed[:3]]  # fmt: skip
    _answer(qtbot, window, SearchOutcome(shown.args[0].request, strong, more=True))
    assert window.results_label.text().startswith("Strong matches: 3 — more results exist")


def test_a_first_search_by_item_answers_before_any_index_run_ends(tmp_path):
    """The search thread reads the query's thumbnail from the archive's cache; it must not depend on
    an index run having reset it first (it raised AttributeError: no answer came)."""
    import desktop.workers.search_worker as worker_module

    root = tmp_path / "archive"
    make_image(root / "a.png", 1)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeEncoder(), decode_workers=1, thumbnails=False).index()
        query = next(i.item_id for i in visible_items(catalog))
    searcher = worker_module.Searcher(tmp_path / "models", config.Settings())
    searcher._encoders = (None, None, None)  # by item: the catalog's vectors, no model needed
    outcome = searcher.answer(SearchRequest(1, root, item_id=query))
    assert outcome.error is None and outcome.query.path == "a.png"
    searcher.reset()


def test_show_more_turns_the_cut_off_off_and_reaches_beyond_the_first_page(tmp_path, monkeypatch):
    """`more` is also set when every one of the TOP results passed the cut-off and others exist:
    "Show more" (all) asks for more than TOP, not the same page again."""
    import desktop.workers.search_worker as worker_module

    root = tmp_path / "archive"
    for n in range(6):
        make_image(root / f"{n}.png", n)
    location = locate_index(root)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, FakeEncoder(), decode_workers=1, thumbnails=False).index()
        query = next(i.item_id for i in visible_items(catalog) if i.path == "0.png")
    monkeypatch.setattr(worker_module, "TOP", 2)
    searcher = worker_module.Searcher(tmp_path / "models", config.Settings())
    searcher._encoders = (None, None, None)  # by item: the catalog's vectors, no model needed
    first = searcher.answer(SearchRequest(1, root, item_id=query))
    assert len(first.results) <= 2 and first.more
    everything = searcher.answer(SearchRequest(2, root, item_id=query, all=True))
    assert len(everything.results) == 5 and not everything.more
    searcher.reset()

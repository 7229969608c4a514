"""Scenarios on the main window with the tiny CLIP bundle and a generated archive."""

from __future__ import annotations

import shutil

import pytest
from gui_fixtures import ARCHIVE_FILES, CLIP_TINY, FIXTURES, INDEX_TIMEOUT_MS, open_indexed
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow
from desktop.widgets.grid_model import EntryRole
from store.config import Settings
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

pytestmark = [
    pytest.mark.gui,
    # QDragEnterEvent has only the QPoint constructor, which PySide marks deprecated.
    pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning"),
]

TIMEOUT_MS = 30_000
PAUSE_WINDOW_MS = 2_000  # how long a paused indexing run is watched for progress it must not make


def _wait_results(qtbot, window, action):
    with qtbot.waitSignal(window.results_shown, timeout=TIMEOUT_MS) as shown:
        action()
    return shown.args[0]


def _drag_events(path) -> tuple[QMimeData, QDragEnterEvent, QDropEvent]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    return mime, QDragEnterEvent(QPoint(10, 10), *args), QDropEvent(QPointF(10, 10), *args)


def _paths(window) -> list[str]:
    return [e.path for e in window.grid_model.entries()]


def test_open_index_search_find_similar_describe(qtbot, models_dir, archive):
    window = open_indexed(qtbot, models_dir, archive)
    summary = window.last_index.summary
    assert summary.indexed == ARCHIVE_FILES and summary.failed == 0
    assert window.windowTitle() == "Imago — archive"
    assert not window.models_panel.isVisible() and window.splitter.isVisible()
    assert "Index up to date" in window.index_label.text()
    # The browse list follows the index: every file, in path order.
    qtbot.waitUntil(lambda: window.grid_model.rowCount() == ARCHIVE_FILES, timeout=TIMEOUT_MS)
    assert _paths(window)[:2] == ["airplane_palette.png", "album/generated2.png"]
    # Thumbnails come from the cache, off the GUI thread, for the rows the view paints.
    qtbot.waitUntil(lambda: window.grid_model.loaded_count() == ARCHIVE_FILES, timeout=TIMEOUT_MS)

    # Text search: the file name is a keyword match, so it ranks first.
    window.search_field.setText("pagoda")
    outcome = _wait_results(qtbot, window, lambda: qtbot.keyClick(window.search_field, Qt.Key.Key_Return))
    assert outcome.error is None
    assert _paths(window)[0] == "pagoda.jpg"
    tooltip = window.grid_model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith("pagoda.jpg\nStrong match (score ")
    assert "keyword match in file name: pagoda" in tooltip
    assert window.show_all_button.isVisible()
    # The cut-off hid weaker candidates: "More results" repeats the query without it.
    assert outcome.more and window.more_button.isVisible()
    shown_before = window.grid_model.rowCount()
    outcome = _wait_results(qtbot, window, window.more_button.click)
    assert outcome.request.all and outcome.request.text == "pagoda"
    assert window.grid_model.rowCount() == ARCHIVE_FILES > shown_before
    assert _paths(window)[0] == "pagoda.jpg" and not window.more_button.isVisible()

    # Right-click > Find similar on the first hit: results exclude the query item itself.
    entry = window.grid_model.index(0).data(EntryRole)
    menu = window.context_menu(entry)
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Find similar", "Find similar in this folder", "Open", "Show in file manager", "Copy path",
        "Export selection…", "Re-caption",
    ]  # fmt: skip
    find = next(a for a in menu.actions() if a.text() == "Find similar")
    outcome = _wait_results(qtbot, window, find.trigger)
    assert outcome.error is None and outcome.request.item_id == entry.item_id
    assert outcome.results and entry.item_id not in [r.item_id for r in outcome.results]
    assert all("image similarity" in e.why[0] for e in window.grid_model.entries())
    copy = next(a for a in menu.actions() if a.text() == "Copy path")
    copy.trigger()
    assert QApplication.clipboard().text() == str(archive / "pagoda.jpg")

    # Details of the selected result, then a description saved on focus-out.
    first = window.grid_model.index(0)
    target = first.data(EntryRole)
    window.grid.setCurrentIndex(window.grid_model.index(1))
    with qtbot.waitSignal(
        window.details_shown, timeout=TIMEOUT_MS, check_params_cb=lambda i: i == target.item_id
    ):
        window.grid.setCurrentIndex(first)
    details = window.details.details
    assert details.path == target.path and details.labels["category"] and details.labels["name"]
    assert len(details.labels["category"]) == 5
    assert target.path in window.details.title.text()
    # The preview has the thumbnail's menu, for the item it shows.
    preview_menu = window.preview_menu()
    assert [a.text() for a in preview_menu.actions() if a.text()][:2] == [
        "Find similar",
        "Find similar in this folder",
    ]
    qtbot.waitUntil(
        lambda: window.details.preview.pixmap() is not None and not window.details.preview.pixmap().isNull()
    )
    window.activateWindow()
    window.details.description.setFocus()
    qtbot.waitUntil(window.details.description.hasFocus)
    window.details.description.setPlainText("Zagorsk lithograph, 1890s")
    with qtbot.waitSignal(window.description_saved, timeout=TIMEOUT_MS):
        window.search_field.setFocus()
    with Catalog(window.catalog_path) as catalog:
        assert catalog.description(target.item_id) == "Zagorsk lithograph, 1890s"

    # Confirm the model's best category, reject its second one: the panel and the catalog follow.
    best, second = (label for label, _, _ in details.labels["category"][:2])
    with qtbot.waitSignal(window.labels_saved, timeout=TIMEOUT_MS):
        window.details.labels.buttons("category", best)["✓"].click()
    with qtbot.waitSignal(window.labels_saved, timeout=TIMEOUT_MS):
        window.details.labels.buttons("category", second)["✗"].click()
    shown = window.details.details.labels["category"]
    assert shown[0] == (best, None, "curator") and second not in [label for label, _, _ in shown]
    with Catalog(window.catalog_path) as catalog:
        assert catalog.rejected_labels(target.item_id, "category") == [second]
    assert window.details.description.toPlainText() == "Zagorsk lithograph, 1890s"

    # The description is searchable at once, and outranks everything else.
    window.search_field.setText("zagorsk")
    _wait_results(qtbot, window, window.run_text_search)
    assert _paths(window)[0] == target.path

    # Escaping back to browsing shows the whole archive again.
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS):
        window.show_all_button.click()
    assert window.grid_model.rowCount() == ARCHIVE_FILES and window.mode == "browse"


def test_drop_image_file_finds_similar(qtbot, models_dir, archive, tmp_path):
    window = open_indexed(qtbot, models_dir, archive)
    outside = tmp_path / "query" / "copy of pagoda.jpg"
    outside.parent.mkdir()
    shutil.copy(archive / "pagoda.jpg", outside)
    _mime, enter, drop = _drag_events(outside)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    # QApplication only routes a Drop during a real drag; deliver it to the window as the drag would.
    outcome = _wait_results(qtbot, window, lambda: window.event(drop))
    assert outcome.error is None and outcome.request.image == outside
    first = window.grid_model.entry(0)
    assert first.path == "pagoda.jpg" and first.why == ["exact duplicate: same file content as the query"]
    chip = window.query_chip
    assert chip.isVisible() and (chip.prefix.text(), chip.name.text()) == ("Similar to", "copy of pagoda.jpg")
    assert first.match == "exact" and not chip.picture.pixmap().isNull()  # the dropped file's thumbnail


def test_drop_on_search_field_searches_by_image(qtbot, models_dir, archive, tmp_path):
    window = open_indexed(qtbot, models_dir, archive)
    _mime, enter, drop = _drag_events(archive / "ewer_cmyk.jpg")
    QApplication.sendEvent(window.search_field, enter)  # through the window's event filter
    assert enter.isAccepted()
    _wait_results(qtbot, window, lambda: window.eventFilter(window.search_field, drop))
    assert window.search_field.text() == ""  # the URL was not pasted as text
    assert window.grid_model.entry(0).path == "ewer_cmyk.jpg"
    # Something that is not an image is refused.
    (tmp_path / "notes.txt").write_text("x")
    _mime, enter, _drop = _drag_events(tmp_path / "notes.txt")
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


@pytest.mark.parametrize("name", ["scan.jfif", "phone.HEIC"])
def test_dropped_file_with_a_suffix_the_scanner_indexes_is_taken(qtbot, tmp_path, name):
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    dropped = tmp_path / name
    dropped.write_bytes((FIXTURES / "images" / "pagoda.jpg").read_bytes())
    _mime, enter, drop = _drag_events(dropped)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.query_images.chosen, timeout=5_000) as chosen:
        window.event(drop)
    assert chosen.args == [dropped]


def test_pause_and_resume_indexing(qtbot, models_dir, archive):
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    steps = []
    window.open_archive(archive)  # starts the worker; the pause reaches the indexer before its first file
    window.pause_button.setChecked(True)
    worker = window.index_worker
    worker.progress.connect(steps.append)
    qtbot.waitUntil(lambda: any(p.phase == "index" and p.done == 1 for p in steps), timeout=INDEX_TIMEOUT_MS)

    def files_done() -> int:
        return max((p.done for p in steps if p.phase == "index"), default=0)

    at_pause = files_done()
    assert at_pause < ARCHIVE_FILES
    # Indexing really stops: for two seconds no file is reported done (unpaused, the other eight
    # tiny files take a fraction of that), and the worker is still there, blocked at its checkpoint.
    with pytest.raises(qtbot.TimeoutError):
        qtbot.waitUntil(lambda: files_done() > at_pause or not worker.isRunning(), timeout=PAUSE_WINDOW_MS)
    assert files_done() == at_pause and worker.isRunning() and worker.paused
    assert window.pause_button.text() == "Resume"
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.pause_button.setChecked(False)
    assert finished.args[0].summary.indexed == ARCHIVE_FILES
    assert files_done() == ARCHIVE_FILES  # resumed where it stopped
    assert not window.pause_button.isVisible()


def test_no_clip_notice_then_install_from_folder(qtbot, archive, tmp_path):
    models_dir = tmp_path / "models"
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    assert window.welcome.isVisible() and not window.search_field.isEnabled()
    # No bundle installed: the archive is shown and indexed at once with the built-in image model.
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.open_archive(archive)
    assert finished.args[0].summary.indexed == ARCHIVE_FILES and window.splitter.isVisible()
    assert window.models_panel.isVisible() and "needs a CLIP model bundle" in window.models_text.text()
    assert str(models_dir) in window.models_text.toolTip()
    assert window.models_panel.sizeHint().height() < 80  # one line, not a wall of text
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS):
        window.install_bundle_from(CLIP_TINY)  # CLIP leads once installed: the archive is embedded again
    assert (models_dir / "clip-tiny" / "manifest.json").is_file()
    with Catalog(locate_index(archive).catalog_path) as catalog:
        models = {m for (m,) in catalog.conn.execute("SELECT DISTINCT model_id FROM embeddings")}
    assert models == {"mobilenet-v2-imagenet@1", "clip-tiny@1"}
    assert not window.models_panel.isVisible() and window.splitter.isVisible()


def test_the_no_clip_notice_can_be_dismissed_for_good(qtbot, tmp_path):
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    window.show()
    assert window.models_panel.isVisible()
    window._dismiss_clip_notice()
    assert not window.models_panel.isVisible()
    again = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(again)
    again.show()
    assert not again.models_panel.isVisible()


def test_browsing_works_without_models(qtbot, models_dir, archive, tmp_path):
    first = open_indexed(qtbot, models_dir, archive)
    first.close()
    window = MainWindow(models_dir=tmp_path / "no-models")
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.items_loaded, timeout=TIMEOUT_MS) as loaded:
        window.open_archive(archive)
    assert loaded.args == [ARCHIVE_FILES]
    assert window.models_panel.isVisible() and window.splitter.isVisible()
    # Keyword search still works without the text model.
    window.search_field.setText("sunflower")
    outcome = _wait_results(qtbot, window, window.run_text_search)
    assert outcome.error is None and _paths(window) == ["sunflower_grey.jpg"]


def test_broken_bundle_install_is_reported(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("desktop.controllers.models.QMessageBox.warning", lambda *args: shown.append(args[2]))
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    window.show()
    (tmp_path / "not-a-bundle").mkdir()
    window.install_bundle_from(tmp_path / "not-a-bundle")
    qtbot.waitUntil(lambda: bool(shown), timeout=TIMEOUT_MS)
    assert "not a model bundle" in shown[0] and "not-a-bundle" in shown[0]
    assert window.models_panel.isVisible()


def test_recent_archives_and_window_state_persist(qtbot, archive, tmp_path, imago_home):
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    window.show()
    window.open_archive(archive)
    window.resize(700, 500)  # the offscreen screen is 800x600
    closed_size = window.size()
    window.close()
    assert Settings.load().recent_archives == [str(archive.resolve())]
    assert (imago_home / "window.ini").is_file()
    again = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(again)
    assert again.size() == closed_size != QSize(1280, 820)  # not the default size
    assert [a.text() for a in again.recent_menu.actions()] == [str(archive.resolve())]


def test_open_missing_folder_says_so(qtbot, tmp_path):
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    assert not window.open_archive(tmp_path / "nowhere")
    assert "Not a folder" in window.statusBar().currentMessage()
    assert window.archive is None


def test_paste_image_from_clipboard_finds_similar(qtbot, models_dir, archive, imago_home):
    window = open_indexed(qtbot, models_dir, archive)
    QApplication.clipboard().setImage(QImage(str(archive / "pagoda.jpg")))
    window.search_field.setFocus()
    outcome = _wait_results(
        qtbot,
        window,
        lambda: qtbot.keyClick(window.search_field, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier),
    )
    assert outcome.error is None and outcome.request.image.parent == imago_home / "pasted"
    assert window.search_field.text() == ""
    assert window.grid_model.entry(0).path == "pagoda.jpg"  # decoded pixels differ: not an exact duplicate
    # Plain text still pastes into the field.
    QApplication.clipboard().setText("steam locomotive")
    qtbot.keyClick(window.search_field, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.text() == "steam locomotive"
    window.close()
    assert list((imago_home / "pasted").iterdir()) == []  # pasted query images are not kept


def test_settings_dialog_saves_settings(qtbot, tmp_path, imago_home, monkeypatch):
    Settings(vector_dtype="i8").save()
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    dialog = window.open_settings()
    # What the device setting can use here, found off the GUI thread (CPU only on this machine).
    qtbot.waitUntil(lambda: "checking" not in dialog.device_found.text(), timeout=30_000)
    assert dialog.device_found.text().startswith("This computer:")
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.threads.setValue(3)
    dialog.caption_model.setCurrentIndex(dialog.caption_model.findData("git-large"))
    dialog.beams.setValue(4)
    dialog.language.setCurrentIndex(dialog.language.findData("ru"))
    assert dialog.watch.isChecked() and dialog.rescan.text() == "Never"
    dialog.watch.setChecked(False)
    dialog.rescan.setValue(15)
    assert dialog.index_dir.text() == "" and dialog.index_dir.placeholderText() == str(imago_home / "indexes")
    dialog.index_dir.setText(str(tmp_path / "indexes"))
    dialog.accept()
    saved = Settings.load()
    values = (saved.device, saved.intra_op_threads, saved.caption_model, saved.caption_beams, saved.language)
    assert values == ("cpu", 3, "git-large", 4, "ru")
    assert (saved.watch_archive, saved.rescan_minutes, saved.index_root) == (False, 15, tmp_path / "indexes")
    assert saved.vector_dtype == "i8"  # a setting the dialog does not show is kept
    assert window.settings.force_cpu  # the object the workers load models with
    again = window.open_settings()
    assert again.device.currentData() == "cpu" and again.beams.value() == 4
    assert not again.watch.isChecked() and again.rescan.text() == "15 min"
    assert again.index_dir.text() == str(tmp_path / "indexes")
    # A relative folder is refused with a message; the dialog stays open and nothing is saved.
    warnings = []
    monkeypatch.setattr(
        "desktop.dialogs.settings_dialog.QMessageBox.warning", lambda *args: warnings.append(args[2])
    )
    again.index_dir.setText("relative/folder")
    again.accept()
    assert again.isVisible() and "fallback_index_dir" in warnings[0]
    assert Settings.load().index_root == tmp_path / "indexes"
    again.reject()


def test_device_report_in_words(qapp):
    from desktop.dialogs.settings_dialog import describe_providers
    from models.session import ProviderProbe

    cpu = ProviderProbe("CPUExecutionProvider", True, "ok")
    assert describe_providers([ProviderProbe("CUDAExecutionProvider", True, "ok"), cpu]) == (
        "This computer: the GPU (CUDA) works."
    )
    broken = ProviderProbe("CUDAExecutionProvider", False, "libcudnn.so.9: cannot open shared object file")
    assert describe_providers([broken, cpu]) == "This computer: no usable GPU; models run on the CPU."
    assert describe_providers([cpu]) == "This computer: no GPU support; models run on the CPU."
    assert describe_providers([]) == "This computer: could not check the devices (see the log)."

"""Screenshots of the main window's states, for review and documentation.

    python -m desktop.screenshots OUT_DIR --archive DIR --bundle CLIP_BUNDLE_DIR

Works offscreen (QT_QPA_PLATFORM=offscreen) or under Xvfb. The archive is copied to a temporary
folder and a temporary IMAGO_HOME is used, so neither the archive nor the user's settings change.
The copy gets a `copies` folder with an exact and a resized copy of its first image and a file that
is no image, so the duplicates and failures states have something to show.
States: empty, no-models, install-models (how to get bundles), indexing (paused), browse, results
(text search), details (a region when the archive has one), similar (find similar), facets (a
folder and a category chosen), duplicates (the duplicates window, one file marked), failures (the
failed-files dialog), settings, index-damaged (catalog.db garbled while open), archive-unavailable
(the archive folder renamed away while a description was being typed: the edit is kept), then in
Russian: russian-welcome (recent archives), russian-details, russian-similar (the query chip),
russian (results and facets), russian-duplicates, russian-archive-unavailable and
russian-index-damaged. The archive comes back (and the index is built anew) after each of those
states.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication, QWidget

WAIT_MS = 120_000


def _wait(signal: SignalInstance, action: Callable[[], object], timeout_ms: int = WAIT_MS) -> list:
    """Run `action` and spin the event loop until `signal` fires (its arguments) or time runs out."""
    loop = QEventLoop()
    got: list = []

    def done(*args) -> None:
        got.extend(args)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(timeout_ms, loop.quit)
    action()
    if not got:
        loop.exec()
    signal.disconnect(done)
    if not got:
        raise TimeoutError(f"timed out waiting for {signal}")
    return got


def _until(predicate: Callable[[], bool], timeout_ms: int = WAIT_MS) -> None:
    """Spin the event loop until `predicate()` holds (polled every 50 ms)."""
    waited = 0
    while not predicate():
        if waited > timeout_ms:
            raise TimeoutError("timed out waiting for the window")
        _settle(50)
        waited += 50


def _settle(ms: int = 500) -> None:
    """Let thumbnails and previews arrive and the widgets repaint."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _add_troubles(archive: Path) -> None:
    """An exact copy, a resized copy and a non-image in `copies/` (of the temporary archive copy)."""
    first = min(p for p in archive.rglob("*.jpg") if ".imago" not in p.parts)
    copies = archive / "copies"
    copies.mkdir()
    shutil.copy(first, copies / first.name)
    with Image.open(first) as image:
        image.convert("RGB").resize((image.width * 3 // 4, image.height * 3 // 4)).save(
            copies / f"smaller {first.stem}.jpg", quality=80
        )
    (copies / "notes.jpg").write_text("a text file named like a picture\n", "utf-8")


def _duplicates(window):
    found = window.open_duplicates()
    _until(lambda: not found.busy.isVisible())
    found.resize(980, 640)
    rows = [found.tree.topLevelItem(0).child(i) for i in range(found.tree.topLevelItem(0).childCount())]
    if rows:
        found.tree.setCurrentItem(rows[-1])
        found.duplicate_action.trigger()
    return found


def _index_damaged(window) -> None:
    """Garble the open archive's catalog (its first 4 KiB) and wait for the window to say so."""
    with open(window.catalog_path, "r+b") as file:
        file.write(os.urandom(4096))
    _until(lambda: window.problem is not None)


def _index_rebuilt(window) -> None:
    _wait(window.index_finished, window.rebuild_button.click)
    if window.grid_model.rowCount() == 0:
        _wait(window.items_loaded, window.load_browse)


def _archive_unavailable(
    window, archive: Path, text: str = "Icon of the Virgin, typed while the share was away"
) -> Path:
    """Type a description, then rename the archive away; its new name (the edit is kept)."""
    if window.grid_model.rowCount() == 0:
        _wait(window.items_loaded, window.load_browse)
    _wait(window.details_shown, lambda: window.grid.setCurrentIndex(window.grid_model.index(1)))
    window.details.description.setPlainText(text)
    away = archive.with_name(archive.name + "-away")
    _wait(window.edit_kept, lambda: archive.rename(away))
    _until(lambda: window.problem is not None)
    return away


def _archive_back(window, away: Path, archive: Path) -> None:
    _wait(window.kept_edits_written, lambda: away.rename(archive))
    _until(lambda: window.index_worker is not None and window.last_index is not None)


def take(out: Path, archive: Path, bundle: Path, query: str) -> list[Path]:
    from desktop.main_window import MainWindow
    from desktop.translation import install_translators, remove_translators
    from models.bundle_install import install_bundle

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="imago-shots-"))
    os.environ["IMAGO_HOME"] = str(work / "home")
    shots: list[Path] = []

    def shot(window: QWidget, name: str) -> None:
        _settle()
        path = out / f"{len(shots) + 1:02d}-{name}.png"
        window.grab().save(str(path))
        shots.append(path)

    try:
        copy = work / archive.name
        shutil.copytree(archive, copy, ignore=shutil.ignore_patterns(".imago"))
        _add_troubles(copy)
        models = work / "models"
        window = MainWindow(models_dir=models)
        window.resize(1280, 820)
        window.show()
        shot(window, "empty")
        _wait(window.items_loaded, lambda: window.open_archive(copy))
        shot(window, "no-models")
        install = window.models.show_install()
        shot(install, "install-models")
        install.reject()

        install_bundle(bundle, models)
        window.close()
        window = MainWindow(models_dir=models)
        window.resize(1280, 820)
        window.show()
        window.open_archive(copy)
        window.pause_button.setChecked(True)
        _until(lambda: window.index_label.text().startswith("Indexing"))
        shot(window, "indexing-paused")
        _wait(window.index_finished, lambda: window.pause_button.setChecked(False))
        if window.grid_model.rowCount() == 0:
            _wait(window.items_loaded, window.load_browse)
        shot(window, "browse")

        window.search_field.setText(query)
        _wait(window.results_shown, window.run_text_search)
        shot(window, "results")

        _wait(window.items_loaded, window.show_browse)
        entries = window.grid_model.entries()
        row = next((i for i, e in enumerate(entries) if e.region), 0)
        _wait(window.details_shown, lambda: window.grid.setCurrentIndex(window.grid_model.index(row)))
        window.grid.scrollTo(window.grid_model.index(row))
        shot(window, "details")

        _wait(window.results_shown, lambda: window.find_similar_item(entries[row].item_id))
        shot(window, "similar")

        _wait(window.items_loaded, window.show_browse)
        folders = window.facets.folders
        folder = folders.topLevelItem(0).child(0)
        _wait(window.items_loaded, lambda: folders.itemClicked.emit(folder, 0))
        _until(lambda: window.facets.categories.topLevelItemCount() > 1)
        category = window.facets.categories.topLevelItem(1)
        _wait(window.items_loaded, lambda: window.facets.categories.itemClicked.emit(category, 0))
        shot(window, "facets")
        _wait(window.items_loaded, window.facets.clear_button.click)

        shot(_duplicates(window), "duplicates")
        window.duplicates_window.close()
        _wait(window.failures_shown, window.show_failures)
        shot(window.failures_dialog, "failures")
        window.failures_dialog.close()
        settings = window.open_settings()
        shot(settings, "settings")
        settings.reject()
        _index_damaged(window)
        shot(window, "index-damaged")
        _index_rebuilt(window)
        away = _archive_unavailable(window, copy)
        shot(window, "archive-unavailable")
        _archive_back(window, away, copy)
        window.close()

        translators = install_translators(QApplication.instance(), "ru")
        try:
            window = MainWindow(models_dir=models)
            window.resize(1280, 820)
            window.show()
            shot(window, "russian-welcome")  # the archives opened before, one click away
            _wait(window.index_finished, lambda: window.open_archive(copy))
            if window.grid_model.rowCount() == 0:
                _wait(window.items_loaded, window.load_browse)
            _wait(window.details_shown, lambda: window.grid.setCurrentIndex(window.grid_model.index(row)))
            shot(window, "russian-details")
            _wait(window.results_shown, lambda: window.find_similar_item(entries[row].item_id))
            shot(window, "russian-similar")
            window.search_field.setText(query)
            _wait(window.results_shown, window.run_text_search)
            shot(window, "russian")
            shot(_duplicates(window), "russian-duplicates")
            window.duplicates_window.close()
            _wait(window.items_loaded, window.show_browse)
            away = _archive_unavailable(window, copy, "Икона Богоматери, набрано, пока сетевой папки не было")
            shot(window, "russian-archive-unavailable")
            _archive_back(window, away, copy)
            _index_damaged(window)
            shot(window, "russian-index-damaged")
            window.close()
        finally:
            remove_translators(QApplication.instance(), translators)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--archive", type=Path, required=True, help="archive folder to show (copied)")
    parser.add_argument("--bundle", type=Path, required=True, help="CLIP bundle folder or zip to install")
    parser.add_argument("--query", default="pagoda", help="text search for the results shot")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    for path in take(args.out, args.archive.resolve(), args.bundle.resolve(), args.query):
        sys.stdout.write(f"{path}\n")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""GUI benchmark: the event loop's worst stall while indexing, memory in long browsing, cold start time.

A suite in the harness's format (`run(quick) -> list[Record]`, registered as "benchmarks.gui_suite:run");
also runnable alone: `python -m benchmarks.gui_suite [--quick]` prints the records as JSON.

- Stall: a 5 ms QTimer probe runs in the main window while it indexes N generated 640x480 JPEGs
  (N = 1000, 200 with --quick) with the full-size ViT-B/32 benchmark bundle; the figure is the
  longest gap between ticks beyond the interval (target < 100 ms).
- Memory: RSS growth from the first minute to the end of scripted browsing (benchmarks.gui_memory).
- Cold start: a fresh interpreter builds the application and the main window and shows it; the
  figure is the wall time from launching the process to the first shown frame (target < 2 s).
- Large grid: the main window's grid is given N entries (100,000; 20,000 with --quick) with a cached
  thumbnail each, then scrolled page by page and by jumps while thumbnails load in the pool; the
  figures are the time until the grid has laid them all out, the worst event-loop stall meanwhile
  (same probe), and the 95th percentile time of one scroll step's repaint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.records import Record

PROBE_MS = 5
SUITE = "gui"


class _StallProbe:
    """A PROBE_MS timer on the GUI thread; `gaps` are its ticks' delays beyond the interval (ms)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.gaps.append(self._clock.nsecsElapsed() / 1e6 - PROBE_MS)
        self._clock.restart()

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def worst(self) -> float:
        return max(0.0, max(self.gaps, default=0.0))


def _make_archive(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        cells = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(cells).resize((640, 480), Image.Resampling.BICUBIC)
        image.save(folder / f"folder{i % 10}-img{i:05d}.jpg", quality=85)


def measure_stall(count: int) -> tuple[float, float, int]:
    """(worst stall ms, 99th percentile gap ms, files indexed) while the window indexes `count` images."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from benchmarks.embed_suite import full_size_clip_bundle
    from desktop.main_window import MainWindow

    bundle, _ = full_size_clip_bundle()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="imago-bench-gui-") as tmp:
        models = Path(tmp) / "models"
        models.mkdir()
        (models / bundle.path.name).symlink_to(bundle.path, target_is_directory=True)
        archive = Path(tmp) / "archive"
        _make_archive(archive, count)
        window = MainWindow(models_dir=models)
        window.show()
        probe = _StallProbe()
        loop = QEventLoop()
        outcomes = []
        window.index_finished.connect(lambda outcome: (outcomes.append(outcome), loop.quit()))
        probe.start()
        window.open_archive(archive)
        loop.exec()
        probe.stop()
        window.close()
        app.processEvents()
    summary = outcomes[0].summary
    if summary is None:
        raise RuntimeError(f"indexing failed: {outcomes[0].error}")
    p99 = float(np.percentile(probe.gaps, 99)) if probe.gaps else 0.0
    return probe.worst, p99, summary.indexed


def _write_thumbnails(folder: Path, count: int) -> list:
    """`count` grid entries with distinct thumbnails in a cache under `folder` (one small JPEG's
    bytes copied to every cache path: reading them costs what reading real ones does)."""
    import io

    from desktop.widgets.grid_model import GridEntry
    from store.storage.thumbnails import ThumbnailCache

    cache = ThumbnailCache(folder)
    blob = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(blob, "JPEG")
    entries = []
    for i in range(count):
        digest = f"{i:032x}"
        path = cache.path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.getvalue())
        entries.append(GridEntry(i + 1, f"folder{i % 300}/img{i:06d}.jpg", digest))
    return [cache, entries]


def measure_large_grid(count: int, steps: int = 300) -> tuple[float, float, float]:
    """(seconds until `count` entries are laid out, worst stall ms, p95 scroll-step repaint ms)."""
    from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="imago-bench-grid-") as tmp:
        cache, entries = _write_thumbnails(Path(tmp) / "thumbs", count)
        window = MainWindow(models_dir=Path(tmp) / "models")
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        probe = _StallProbe()
        grid, bar = window.grid, window.grid.verticalScrollBar()
        probe.start()
        started = time.perf_counter()
        window.archive = Path(tmp)  # browsing an archive of `count` items, as after loading its catalog
        window.grid_model.set_thumbnails(cache)
        window.grid_model.set_entries(entries)
        window._update_panels()
        last = grid.model().index(count - 1, 0)
        while grid.visualRect(last).isEmpty() or bar.maximum() == 0:  # batched layout still running
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        laid_out = time.perf_counter() - started
        loaded = [0]
        window.grid_model.thumbnail_loaded.connect(lambda _row: loaded.__setitem__(0, loaded[0] + 1))
        rng = np.random.default_rng(3)
        repaints: list[float] = []
        step_loop = QEventLoop()
        done = [0]

        def scroll() -> None:
            if done[0] == steps:
                stepper.stop()
                step_loop.quit()
                return
            if done[0] % 3 == 2:
                bar.setValue(int(rng.integers(0, bar.maximum() + 1)))  # a jump, as dragging the handle
            else:
                bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
            begin = time.perf_counter()
            grid.viewport().repaint()
            repaints.append((time.perf_counter() - begin) * 1000)
            done[0] += 1

        stepper = QTimer()
        stepper.setInterval(16)  # about one step per frame
        stepper.timeout.connect(scroll)
        stepper.start()
        step_loop.exec()
        probe.stop()
        QThreadPool.globalInstance().waitForDone()  # thumbnail jobs must not outlive the window
        app.processEvents()
        window.close()
        app.processEvents()
    if not loaded[0]:
        raise RuntimeError("no thumbnail was loaded while scrolling: the grid was not painted")
    return laid_out, probe.worst, float(np.percentile(repaints, 95))


def offscreen_without_display(env: MutableMapping[str, str] = os.environ) -> None:
    """Qt's offscreen platform when there is no display (Linux without X11 or Wayland, as over ssh or
    in CI) and none was chosen: the suite then runs by itself instead of dying in Qt's xcb plugin."""
    no_display = not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and no_display and not env.get("QT_QPA_PLATFORM"):
        env["QT_QPA_PLATFORM"] = "offscreen"


def measure_cold_start() -> float:
    """Seconds from launching a fresh interpreter to the main window's first shown frame."""
    with tempfile.TemporaryDirectory(prefix="imago-bench-start-") as home:
        env = dict(os.environ, IMAGO_HOME=home)
        offscreen_without_display(env)
        start = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.gui_suite", "--cold-start-child"],
            env=env, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        shown = float(out.stdout.strip().splitlines()[-1])
    return shown - start


def _cold_start_child() -> None:
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow
    from store import config

    app = QApplication([sys.argv[0]])
    window = MainWindow(models_dir=config.models_dir())
    window.show()
    window.repaint()
    app.processEvents()
    sys.stdout.write(f"{time.time()}\n")
    window.close()


def run(quick: bool) -> list[Record]:
    offscreen_without_display()  # before the first Qt import
    count = 200 if quick else 1000
    worst, p99, indexed = measure_stall(count)
    records = [
        Record.measured(
            SUITE, f"worst event-loop stall while indexing {indexed} images", worst, "ms",
            higher_is_better=False, target=100, note=f"{PROBE_MS} ms timer probe; p99 gap {p99:.1f} ms",
        ),
    ]  # fmt: skip
    rows = 20_000 if quick else 100_000
    laid_out, grid_worst, step_p95 = measure_large_grid(rows)
    label = f"{rows // 1000}k items"
    records += [
        Record.measured(SUITE, f"grid of {label}: time until laid out", laid_out, "s",
                        higher_is_better=False),
        Record.measured(SUITE, f"worst event-loop stall, grid of {label} (layout, scrolling, thumbnails)",
                        grid_worst, "ms", higher_is_better=False, target=100),
        Record.measured(SUITE, f"scroll step repaint p95, grid of {label}", step_p95, "ms",
                        higher_is_better=False),
    ]  # fmt: skip
    start = measure_cold_start()
    records.append(
        Record.measured(
            SUITE, "cold start to a shown main window", start, "s", higher_is_better=False, target=2
        )
    )
    from benchmarks.gui_memory import GROWTH_TARGET_MB, measure_browsing_memory

    memory = measure_browsing_memory(1500 if quick else 3000, 180 if quick else 600, 60)
    note = (
        f"{memory.images} images, {memory.steps} steps (scroll, jump, details, search, similar); RSS "
        f"{memory.rss_start:.0f} MB at start, {memory.rss_first:.0f} after 1 min, {memory.rss_end:.0f} "
        f"at end, peak {memory.rss_peak:.0f} (benchmarks.gui_memory)"
    )
    metric = f"RSS growth from minute 1 to minute {memory.total_s / 60:.0f} of scripted browsing"
    records.append(
        Record.measured(SUITE, metric, memory.growth, "MB", higher_is_better=False,
                        target=GROWTH_TARGET_MB, note=note)
    )  # fmt: skip
    return records


if __name__ == "__main__":
    if "--cold-start-child" in sys.argv:
        _cold_start_child()
    else:
        for record in run("--quick" in sys.argv):
            sys.stdout.write(json.dumps(record.as_dict()) + "\n")

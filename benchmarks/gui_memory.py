"""GUI memory benchmark: does the window's RSS level off in long, ordinary browsing?

The main window indexes a generated archive (N distinct 240x180 JPEGs, with the tiny CLIP bundle
from the test fixtures: the model is not what is measured), then a script browses it as a curator
would, one step every STEP_MS: scrolling page by page and jumping to random places in the grid,
selecting items (details and preview), text searches in English and Russian, Find similar, and back
to all files. RSS is sampled as it goes; the figures are RSS after the first minute of browsing, at
the end, and the growth in between (target: at most GROWTH_TARGET_MB).

    python -m benchmarks.gui_memory [--minutes 10] [--first 60] [--images 3000]

prints the figures as JSON; `benchmarks.gui_suite.run` includes the record (shorter with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

STEP_MS = 100
GROWTH_TARGET_MB = 40.0  # RSS at the end may exceed RSS after the first minute by this much
QUERIES = ("red", "locomotive", "икона Богоматери", "portrait of a woman", "собор", "map of the city")
TINY_BUNDLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "models" / "clip-tiny"


@dataclass(frozen=True)
class BrowsingMemory:
    """RSS (MB) when browsing started, after `first_s` seconds of it and at the end (`total_s`)."""

    images: int
    first_s: float
    total_s: float
    steps: int
    rss_start: float
    rss_first: float
    rss_end: float
    rss_peak: float

    @property
    def growth(self) -> float:
        return self.rss_end - self.rss_first


def rss_mb() -> float:
    """This process's resident set size in MB (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def make_archive(folder: Path, count: int) -> None:
    """`count` distinct small JPEGs in 20 folders."""
    rng = np.random.default_rng(5)
    for i in range(count):
        sub = folder / f"box{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        cells = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
        image = Image.fromarray(cells).resize((240, 180), Image.Resampling.BILINEAR)
        image.save(sub / f"photo{i:05d}.jpg", quality=80)


def measure_browsing_memory(images: int, total_s: float, first_s: float = 60.0) -> BrowsingMemory:
    """Index `images` generated files in the main window, browse for `total_s` seconds; the RSS."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    home = os.environ.get("IMAGO_HOME")
    with tempfile.TemporaryDirectory(prefix="imago-bench-memory-") as tmp:
        os.environ["IMAGO_HOME"] = str(Path(tmp) / "home")  # settings, window state, kept edits
        try:
            return _browse(app, Path(tmp), images, total_s, first_s)
        finally:
            if home is None:
                os.environ.pop("IMAGO_HOME", None)
            else:
                os.environ["IMAGO_HOME"] = home


def _browse(app, tmp: Path, images: int, total_s: float, first_s: float) -> BrowsingMemory:
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.main_window import MainWindow
    from models.bundle_install import install_bundle

    models = tmp / "models"
    install_bundle(TINY_BUNDLE, models)
    archive = tmp / "archive"
    make_archive(archive, images)
    window = MainWindow(models_dir=models)
    window.resize(1280, 820)
    window.show()
    loop = QEventLoop()
    window.index_finished.connect(loop.quit)
    window.open_archive(archive)
    loop.exec()
    loop = QEventLoop()
    window.items_loaded.connect(lambda count: count >= images and loop.quit())
    QTimer.singleShot(120_000, loop.quit)  # a few files may have failed
    window.load_browse()
    loop.exec()

    rng = np.random.default_rng(11)
    grid, bar = window.grid, window.grid.verticalScrollBar()
    samples: list[tuple[float, float]] = []
    steps = [0]
    started = time.monotonic()

    def step() -> None:
        elapsed = time.monotonic() - started
        if not samples or elapsed - samples[-1][0] >= 1.0:
            samples.append((elapsed, rss_mb()))
        if elapsed >= total_s:
            stepper.stop()
            browse_loop.quit()
            return
        n = steps[0] = steps[0] + 1
        rows = window.grid_model.rowCount()
        if n % 150 == 0:
            window.show_browse()
        elif n % 60 == 0 and rows:
            entry = window.grid_model.entry(int(rng.integers(rows)))
            window.find_similar_item(entry.item_id)
        elif n % 45 == 0:
            window.search_field.setText(QUERIES[(n // 45) % len(QUERIES)])
            window.run_text_search()
        elif n % 7 == 0 and rows:
            window.grid.setCurrentIndex(window.grid_model.index(int(rng.integers(rows))))
        elif n % 3 == 0:
            bar.setValue(int(rng.integers(0, bar.maximum() + 1)))  # a jump, as dragging the handle
        else:
            bar.setValue(bar.value() + bar.pageStep() if bar.value() < bar.maximum() else 0)
        grid.viewport().update()

    browse_loop = QEventLoop()
    stepper = QTimer()
    stepper.setInterval(STEP_MS)
    stepper.timeout.connect(step)
    stepper.start()
    browse_loop.exec()
    window.close()
    app.processEvents()
    first = next((rss for t, rss in samples if t >= first_s), samples[-1][1])
    return BrowsingMemory(
        images=images, first_s=first_s, total_s=total_s, steps=steps[0], rss_start=samples[0][1],
        rss_first=first, rss_end=samples[-1][1], rss_peak=max(rss for _, rss in samples),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gui_memory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to browse")
    parser.add_argument("--first", type=float, default=60.0, help="seconds counted as the first minute")
    parser.add_argument("--images", type=int, default=3000, help="files in the generated archive")
    args = parser.parse_args(argv)
    result = measure_browsing_memory(args.images, args.minutes * 60, args.first)
    sys.stdout.write(json.dumps(asdict(result) | {"growth": round(result.growth, 1)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Child process of test_desktop_description_crash: opens an archive, types a description, says so.

    python tests/gui/description_typing_child.py MODELS_DIR ARCHIVE TEXT

Prints "typed ITEM_ID" once the text is typed into the description field (which keeps the focus),
then "saved ITEM_ID focus=0|1" when the window reports the description written, and then waits to
be killed: the parent kills it with SIGKILL, as a crash or power cut would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop.main_window import MainWindow  # noqa: E402

TIMEOUT_MS = 120_000


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait(signal, action) -> list:
    """Run `action`, then spin the event loop until `signal` fires; its arguments."""
    loop, got = QEventLoop(), []
    signal.connect(lambda *args: (got.append(args), loop.quit()))
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    action()
    if not got:
        loop.exec()
    if not got:
        raise TimeoutError(f"no {signal}")
    return list(got[0])


def main() -> None:
    models, archive, text = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = QApplication(sys.argv[:1])
    window = MainWindow(models_dir=models)
    window.show()
    window.activateWindow()
    wait(window.index_finished, lambda: window.open_archive(archive))
    if window.grid_model.rowCount() == 0:
        wait(window.items_loaded, window.load_browse)
    [item_id] = wait(window.details_shown, lambda: window.grid.setCurrentIndex(window.grid_model.index(0)))
    editor = window.details.description
    editor.setFocus()
    window.description_saved.connect(lambda saved: say(f"saved {saved} focus={int(editor.hasFocus())}"))
    QTest.keyClicks(editor, text)
    say(f"typed {item_id}")
    app.exec()  # until killed


if __name__ == "__main__":
    main()

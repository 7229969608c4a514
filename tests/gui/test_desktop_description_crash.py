"""A description being typed is written about a second after the last key, so a crash loses at most
that second: a child process types into the description field and is killed with SIGKILL."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store.storage.archive import locate_index
from store.storage.catalog import Catalog

pytestmark = pytest.mark.gui

CHILD = Path(__file__).with_name("description_typing_child.py")
TEXT = "Icon of the Virgin, Tikhvin type, 18th c."
TIMEOUT_S = 180


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line.strip())
    out.put(None)


def _next(lines: queue.Queue, prefix: str) -> str:
    """The child's next line starting with `prefix` (blocking on its output, with a timeout)."""
    while True:
        line = lines.get(timeout=TIMEOUT_S)
        if line is None:
            raise AssertionError(f"the child ended before saying {prefix!r}")
        if line.startswith(prefix):
            return line


def test_typed_description_survives_a_kill(models_dir, archive, imago_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", IMAGO_HOME=str(imago_home))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(models_dir), str(archive), TEXT],
        stdout=subprocess.PIPE, text=True, env=env, cwd=CHILD.parents[2],
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(child.stdout, lines), daemon=True).start()
    try:
        item_id = int(_next(lines, "typed ").split()[1])
        saved = _next(lines, "saved ").split()
        # Written while the field still had the focus: by the debounce, not on leaving the field.
        assert saved == ["saved", str(item_id), "focus=1"]
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=TIMEOUT_S) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with Catalog(locate_index(archive, create=False).catalog_path) as catalog:
        assert catalog.description(item_id) == TEXT

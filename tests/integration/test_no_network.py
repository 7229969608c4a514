"""No network, ever, from long-lived processes: the GUI and `index --watch` run for over 30 seconds
under strace (onnxruntime's telemetry once looked up its host about 9 s after import), while a new
photo arrives and is indexed. Any connect/sendto/sendmsg to an IPv4/IPv6 address fails the test.
The frozen app gets the same check in tests/packaging."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from network_trace import run_long_lived
from store_fakes import make_archive, make_image

REPO = Path(__file__).resolve().parents[2]
FIXTURE_MODELS = REPO / "tests" / "fixtures" / "models"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="strace is Linux-only")


def test_gui_and_index_watch_open_no_connection_in_30_seconds(strace, tmp_path):
    watched, shown = tmp_path / "watched", tmp_path / "shown"
    make_archive(watched, 3)
    make_archive(shown, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORT_")}  # nothing set from outside
    env.update(IMAGO_HOME=str(tmp_path / "home"), IMAGO_MODELS=str(FIXTURE_MODELS),
               QT_QPA_PLATFORM="offscreen")  # fmt: skip
    main = [sys.executable, str(REPO / "main.py")]
    sessions = run_long_lived(
        strace,
        {
            "index-watch": [*main, "index", str(watched), "--no-caption", "--watch", "--json"],
            "gui": [*main, "--debug", "gui", str(shown)],
        },
        env,
        tmp_path,
        while_running=lambda: make_image(watched / "arrived.png", 99),
    )
    for session in sessions:
        assert session.returncode == 0, f"{session.name} exited with {session.returncode}:\n{session.output}"
        assert session.network_calls == [], f"{session.name} reached for the network: {session.network_calls}"
    index_watch = next(s for s in sessions if s.name == "index-watch")
    summaries = [json.loads(line) for line in index_watch.output.splitlines() if line.startswith("{")]
    assert [s["indexed"] for s in summaries] == [3, 1]  # the watcher indexed the new photo
    gui = next(s for s in sessions if s.name == "gui")
    assert "GUI started" in gui.output and "received SIGTERM" in gui.output

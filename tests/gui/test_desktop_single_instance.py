"""Single instance: a second `imago --find-similar FILE` hands its request to the running window.

The acknowledgement round trip is covered by the subprocess test (a client in the same thread as the
server would block the server's event loop)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.app import startup_request
from desktop.main_window import MainWindow
from desktop.single_instance import InstanceServer, forward_request, server_name

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def test_server_name_is_per_data_dir(monkeypatch, tmp_path):
    first = server_name()
    monkeypatch.setenv("IMAGO_HOME", str(tmp_path / "other"))
    assert server_name() != first and server_name().startswith("imago-")


def test_forward_without_a_running_instance_returns_false(qapp):
    assert forward_request({"find_similar": "/x.jpg"}) is False


def test_second_launch_forwards_find_similar(qtbot, models_dir, archive, tmp_path, imago_home):
    window = MainWindow(models_dir=models_dir)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.index_finished, timeout=120_000):
        window.open_archive(archive)
    server = InstanceServer(window)
    server.request.connect(window.handle_request)
    assert server.listen()
    query = tmp_path / "sunflower query.jpg"
    query.write_bytes((archive / "sunflower_grey.jpg").read_bytes())

    env = dict(os.environ, IMAGO_HOME=str(imago_home), QT_QPA_PLATFORM="offscreen")
    with qtbot.waitSignal(window.results_shown, timeout=60_000) as shown:
        launch = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--find-similar", str(query)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        qtbot.waitUntil(lambda: launch.poll() is not None, timeout=60_000)
    assert launch.returncode == 0, launch.stderr.read().decode()
    outcome = shown.args[0]
    assert outcome.request.image == query and outcome.error is None
    assert window.grid_model.entry(0).path == "sunflower_grey.jpg"  # the exact duplicate comes first
    server.close()


def test_forwarded_archive_is_opened(qtbot, archive, tmp_path):
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    received = []
    server = InstanceServer(window, name=server_name() + "-t")
    server.request.connect(received.append)
    server.request.connect(window.handle_request)
    assert server.listen()
    # A malformed line is refused; the JSON request after it is handled.
    with qtbot.waitSignal(window.items_loaded, timeout=30_000):
        request = startup_request(archive, None)
        _send_raw(
            server.name, b"not json\n" + repr(request).encode() + b"\n" + json.dumps(request).encode() + b"\n"
        )
    assert received == [{"archive": str(archive)}]
    assert window.archive == archive.resolve()
    server.close()


def _send_raw(name: str, data: bytes) -> None:
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(1000)
    socket.write(data)
    socket.waitForBytesWritten(1000)
    socket.disconnectFromServer()

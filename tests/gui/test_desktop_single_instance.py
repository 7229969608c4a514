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
# The second launch, with generous socket timeouts: the app's 500 ms connect and 3 s reply are meant
# for an idle desktop, and on a loaded test machine a miss would open a second window instead.
SECOND_LAUNCH = (
    "import sys; import desktop.single_instance as si; "
    "si.CONNECT_TIMEOUT_MS = 30_000; si.REPLY_TIMEOUT_MS = 60_000; "
    "import main; sys.exit(main.main(sys.argv[1:]))"
)
LAUNCH_TIMEOUT_MS = 120_000


@pytest.fixture
def generous_connect(monkeypatch):
    """In-process forward_request calls get a generous connect timeout too."""
    import desktop.single_instance

    monkeypatch.setattr(desktop.single_instance, "CONNECT_TIMEOUT_MS", 30_000)
    monkeypatch.setattr(desktop.single_instance, "REPLY_TIMEOUT_MS", 60_000)


def test_server_name_is_per_data_dir(monkeypatch, tmp_path):
    first = server_name()
    monkeypatch.setenv("IMAGO_HOME", str(tmp_path / "other"))
    assert server_name() != first and server_name().startswith("imago-")


def test_forward_without_a_running_instance_returns_false(qapp, generous_connect):
    assert forward_request({"find_similar": "/x.jpg"}) is False  # refused at once, not after the timeout


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
    launch = None
    try:
        with qtbot.waitSignal(window.results_shown, timeout=LAUNCH_TIMEOUT_MS) as shown:
            launch = subprocess.Popen(
                [sys.executable, "-c", SECOND_LAUNCH, "--find-similar", str(query)],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            qtbot.waitUntil(lambda: launch.poll() is not None, timeout=LAUNCH_TIMEOUT_MS)
    finally:
        if launch is not None and launch.poll() is None:  # it opened a window of its own: end it
            launch.kill()
            launch.wait(timeout=30)
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

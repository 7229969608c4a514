"""Single instance: a second launch forwards its request to the running window through QLocalServer.

The protocol is one JSON object per line (`{"archive": ..., "find_similar": ...}`); the server answers
`ok`. The server name is per user and per data directory, so test runs (own IMAGO_HOME) and other
users never talk to each other's windows. QLocalServer is a Unix-domain socket on Linux and macOS (a
crashed instance leaves it behind: `listen` removes it) and a named pipe on Windows (gone with its process).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from store import config

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
REPLY_TIMEOUT_MS = 3000


def server_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    where = hashlib.sha256(os.fsencode(config.user_data_dir().resolve())).hexdigest()[:12]
    return f"imago-{user}-{where}"


def forward_request(request: dict, name: str | None = None) -> bool:
    """Send `request` to a running instance; True when it acknowledged it (then this one exits)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write((json.dumps(request) + "\n").encode("utf-8"))
    socket.waitForBytesWritten(REPLY_TIMEOUT_MS)
    acknowledged = False
    while socket.canReadLine() or socket.waitForReadyRead(REPLY_TIMEOUT_MS):
        if socket.canReadLine():
            acknowledged = bytes(socket.readLine()).strip() == b"ok"
            break
    socket.disconnectFromServer()
    logger.info("forwarded %s to the running instance: %s", request, acknowledged)
    return acknowledged


class InstanceServer(QObject):
    """Listens for requests from later launches and emits each as `request(dict)`."""

    request = Signal(dict)

    def __init__(self, parent: QObject | None = None, name: str | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        """Start listening; a stale socket left by a crashed instance is removed first."""
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        logger.warning("single-instance server %s not started: %s", self.name, self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine()).strip()
            try:
                request = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                logger.warning("ignoring a malformed single-instance request: %r", line[:200])
                socket.write(b"error\n")
                continue
            if not isinstance(request, dict):
                socket.write(b"error\n")
                continue
            socket.write(b"ok\n")
            socket.flush()
            self.request.emit(request)

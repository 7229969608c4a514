"""Test-wide fixtures: an isolated user data dir per test and a guard against network access."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

# Qt tests run without a display (CI has none); set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise AssertionError(f"test tried to open a network connection to {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that connects to a non-loopback address (nothing may download)."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture(autouse=True)
def imago_home(tmp_path_factory, monkeypatch):
    """Point IMAGO_HOME (settings, logs, models) at a fresh temp dir for every test."""
    home = tmp_path_factory.mktemp("imago-home")
    monkeypatch.setenv("IMAGO_HOME", str(home))
    monkeypatch.delenv("IMAGO_MODELS", raising=False)
    return home

"""Test-wide fixtures: an isolated user data dir per test, a guard against network access, and the
rule for the `export` marker (skip without torch, unless the run asked for export tests)."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
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


# Per-test limits (pytest-timeout) above the 300 s default of pyproject.toml, for tests that build
# the frozen app or export checkpoints; a test's own @pytest.mark.timeout wins.
LONG_TIMEOUTS_S = {"packaging": 1800, "export": 900}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("timeout"):  # pytest-timeout not installed: no limits at all
        return
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        limits = [s for marker, s in LONG_TIMEOUTS_S.items() if item.get_closest_marker(marker)]
        if limits:
            item.add_marker(pytest.mark.timeout(max(limits)))


EXPORT_MODULES = ("torch", "transformers")  # the [export] extra the parity tests need


def export_explicitly_selected(markexpr: str) -> bool:
    """True when `-m` names the export marker positively (`-m export`, `-m "export and not gui"`)."""
    return re.search(r"(?<!not )\bexport\b", markexpr) is not None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Export parity tests skip where torch/transformers are missing; where `-m export` selected them,
    the missing extra is a failure, so a run meant to check parity cannot pass by skipping all of it."""
    if item.get_closest_marker("export") is None:
        return
    missing = [name for name in EXPORT_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return
    message = f"the export tests need {', '.join(missing)} (pip install -e '.[export]')"
    if export_explicitly_selected(item.config.getoption("markexpr") or ""):
        pytest.fail(message + "; they were selected with -m export, so they cannot be skipped", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def strace() -> str:
    """strace is how the no-network tests (source and frozen) watch a process's network calls."""
    import shutil

    path = shutil.which("strace")
    if path is None:
        pytest.fail("the no-network tests need strace to watch for network calls: apt-get install strace")
    return path

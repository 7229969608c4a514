"""Helpers for the packaging tests: the frozen bundle's layout and running it under strace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 180

# A network call is any connect/sendto/sendmsg that names an IPv4/IPv6 address (AF_UNIX is local IPC:
# X11, D-Bus, Qt's single-instance QLocalServer).
_TRACED_CALLS = "trace=connect,sendto,sendmsg"
_NETWORK_CALL = re.compile(r"\b(connect|sendto|sendmsg)\(.*\bAF_INET6?\b")


@dataclass(frozen=True)
class FrozenApp:
    """A one-folder bundle: `root/imago` next to `root/_internal` (PyInstaller's `sys._MEIPASS`)."""

    root: Path

    @property
    def exe(self) -> Path:
        return self.root / ("imago.exe" if sys.platform == "win32" else "imago")

    @property
    def internal(self) -> Path:
        return self.root / "_internal"


@dataclass(frozen=True)
class Traced:
    """What a traced run of the frozen binary did."""

    returncode: int
    stdout: str
    stderr: str
    network_calls: list[str]


def frozen_env(home: Path) -> dict[str, str]:
    """A clean environment for the frozen binary: no PYTHONPATH, its own IMAGO_HOME, no display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "IMAGO_"))}
    env.update(IMAGO_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return env


def strace_command(strace: str, log: Path, argv: list[str]) -> list[str]:
    return [strace, "-f", "-qq", "-e", _TRACED_CALLS, "-e", "signal=none", "-o", str(log), *argv]


def network_calls(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if _NETWORK_CALL.search(line)]


def run_traced(strace: str, app: FrozenApp, args: list[str], home: Path, cwd: Path) -> Traced:
    """Run the frozen binary with `args` to completion under strace."""
    log = cwd / f"strace-{uuid.uuid4().hex}.log"
    result = subprocess.run(
        strace_command(strace, log, [str(app.exe), *args]),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=frozen_env(home),
        cwd=cwd,
    )
    return Traced(result.returncode, result.stdout, result.stderr, network_calls(log))


def traced_child(strace_pid: int) -> int:
    """The pid of the program strace started (signals must go to it, not to strace)."""
    children = Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split()
    assert len(children) == 1, f"strace has children {children}"
    return int(children[0])

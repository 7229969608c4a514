"""Helpers for the packaging tests: the frozen bundle's layout and running it under strace."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from network_trace import network_calls, strace_command, traced_child

__all__ = ["network_calls", "strace_command", "traced_child"]

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 180


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

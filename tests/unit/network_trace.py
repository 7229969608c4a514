"""Watching a process for network traffic with strace: the proof that Imago opens no connection.

A network call is any connect/sendto/sendmsg naming an IPv4/IPv6 address (AF_UNIX is local IPC, and
a DNS lookup shows up as a UDP connect/sendto to the resolver). Shared by the source-tree test
(tests/integration/test_no_network.py) and the frozen-app tests (tests/packaging).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRACED_CALLS = "trace=connect,sendto,sendmsg"
_NETWORK_CALL = re.compile(r"\b(connect|sendto|sendmsg)\(.*\bAF_INET6?\b")


def strace_command(strace: str, log: Path, argv: list[str]) -> list[str]:
    """`argv` run under strace, following threads and children, logging the traced calls to `log`."""
    return [strace, "-f", "-qq", "-e", TRACED_CALLS, "-e", "signal=none", "-o", str(log), *argv]


def network_calls(log: Path) -> list[str]:
    """The logged calls that reached for an IPv4/IPv6 address."""
    return [line for line in log.read_text(errors="replace").splitlines() if _NETWORK_CALL.search(line)]


def traced_child(strace_pid: int) -> int:
    """The pid of the program strace started (signals must go to it, not to strace)."""
    children = Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split()
    assert len(children) == 1, f"strace has children {children}"
    return int(children[0])


LONG_RUN_S = 32.0  # onnxruntime's telemetry looked its host up about 9 s after import; stay well past it


@dataclass
class TracedSession:
    """What a long-lived traced process did before SIGTERM ended it."""

    name: str
    returncode: int
    output: str
    network_calls: list[str]


def run_long_lived(
    strace: str, commands: dict[str, list[str]], env: dict[str, str], cwd: Path, *,
    while_running: Callable[[], None] | None = None, duration_s: float = LONG_RUN_S,
) -> list[TracedSession]:  # fmt: skip
    """Start each command under strace at once, call `while_running` after a third of the time, end
    each with SIGTERM after `duration_s`, and report what each did (exit status, output, net calls)."""
    started: dict[str, tuple[subprocess.Popen, Path, Any]] = {}
    try:
        for name, argv in commands.items():
            log = cwd / f"strace-{name}.log"
            out = open(cwd / f"output-{name}.txt", "wb")  # noqa: SIM115 - closed below
            proc = subprocess.Popen(
                strace_command(strace, log, argv), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
            )
            started[name] = (proc, log, out)
        deadline = time.monotonic() + duration_s
        time.sleep(duration_s / 3)  # a long-lived process is the point: there is nothing to wait for
        if while_running is not None:
            while_running()
        time.sleep(max(0.0, deadline - time.monotonic()))
        for proc, _, _ in started.values():
            if proc.poll() is None:
                os.kill(traced_child(proc.pid), signal.SIGTERM)
        sessions = []
        for name, (proc, log, out) in started.items():
            proc.wait(timeout=120)
            out.close()
            text = (cwd / f"output-{name}.txt").read_text(errors="replace")
            sessions.append(TracedSession(name, proc.returncode, text, network_calls(log)))
        return sessions
    finally:
        for proc, _, out in started.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()

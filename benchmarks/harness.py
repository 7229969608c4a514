"""Runs benchmark suites, each in its own process (so peak memory is per suite), and writes reports."""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import resource
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.records import Record, machine_record
from models.errors import ImagoError

logger = logging.getLogger(__name__)

# name -> "module:function"; each function takes `quick: bool` and returns a list of Records.
SUITES: dict[str, str] = {
    "embed": "benchmarks.embed_suite:run",
    "index": "benchmarks.index_suite:run",
    "search": "benchmarks.search_suite:run",
    "query": "benchmarks.text_query_suite:run",
    "caption": "benchmarks.caption_suite:run",
    "quality": "benchmarks.quality_suite:run",
    "subphotos": "benchmarks.subphoto_suite:run",
    "real": "benchmarks.real_model_suite:run",
    "gui": "benchmarks.gui_suite:run",
}


class SuiteUnavailable(ImagoError):
    """A suite cannot run here (missing bundle, data set or extra); the reason is reported, not hidden."""


@dataclass
class SuiteResult:
    name: str
    records: list[Record]
    peak_rss_mib: float
    seconds: float
    error: str | None = None


def _run_in_child(spec: str, quick: bool, conn) -> None:
    module_name, func_name = spec.split(":")
    try:
        suite: Callable[[bool], list[Record]] = getattr(importlib.import_module(module_name), func_name)
        records = [r.as_dict() for r in suite(quick)]
        conn.send(("ok", records, None))
    except SuiteUnavailable as exc:
        conn.send(("unavailable", [], str(exc)))
    except Exception as exc:  # report any failure of a suite without losing the others
        logger.exception("suite %s failed", spec)
        conn.send(("error", [], f"{type(exc).__name__}: {exc}"))
    finally:
        conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def _exit_description(code: int | None) -> str:
    """How a child process ended, from multiprocessing's exitcode (-N: killed by signal N)."""
    if code is None:
        return "did not end"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code}"


def run_suite(name: str, quick: bool, suites: dict[str, str] | None = None) -> SuiteResult:
    """Run one suite in a fresh process; its peak RSS is that process's own."""
    suites = SUITES if suites is None else suites
    if name not in suites:
        raise ImagoError(f"unknown benchmark suite {name!r}; known: {', '.join(suites)}")
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    start = time.perf_counter()
    process = ctx.Process(target=_run_in_child, args=(suites[name], quick, child))
    process.start()
    child.close()
    try:
        status, records, message = parent.recv()
    except EOFError:
        status, records, message = "error", [], None
    try:
        peak = parent.recv()
    except EOFError:
        peak = 0.0
    process.join()
    if status == "error" and message is None:  # it died before reporting: say how
        message = f"suite process {_exit_description(process.exitcode)} before reporting"
    seconds = time.perf_counter() - start
    result_records = [Record(**r) for r in records]
    if status == "unavailable":
        result_records = [Record(name, "skipped", None, "", note=message)]
    elif status == "error":
        result_records = [Record(name, "failed", None, "", note=message)]
    return SuiteResult(name, result_records, peak, seconds, None if status == "ok" else message)


def run(
    names: Iterable[str],
    quick: bool,
    progress: Callable[[str], None] = lambda _: None,
) -> list[dict]:
    """Run the named suites (all of SUITES when none is named); JSON-ready records."""
    names = list(names) or list(SUITES)
    out: list[dict] = [machine_record()]
    for name in names:
        progress(f"running suite {name}{' (quick)' if quick else ''}")
        result = run_suite(name, quick)
        out.extend(r.as_dict() for r in result.records)
        out.append(Record.measured("memory", f"peak RSS, {name} suite", result.peak_rss_mib, "MiB").as_dict())
        progress(
            f"suite {name} done in {result.seconds:.0f} s" + (f" ({result.error})" if result.error else "")
        )
    return out


def write_json(records: list[dict], path: Path) -> None:
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def to_markdown(records: list[dict]) -> str:
    """A table: suite, metric, ours, baseline, ratio, target, met; the machine described above it."""
    machine = next((r for r in records if r["suite"] == "machine"), None)
    lines = []
    if machine:
        lines.append(
            f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
            f"{machine['platform']}, Python {machine['python']}, onnxruntime {machine['onnxruntime']} "
            f"({', '.join(machine['providers'])})"
        )
        lines.append("")
    lines.append("| suite | metric | ours | baseline | ratio | target | met |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in records:
        if r["suite"] == "machine":
            continue
        value = "—" if r["value"] is None else f"{r['value']:g} {r['unit']}".strip()
        baseline = "" if r["baseline_value"] is None else f"{r['baseline_value']:g} {r['unit']}".strip()
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        metric = r["metric"] + (f" ({r['note']})" if r.get("note") else "")
        lines.append(
            f"| {r['suite']} | {metric} | {value} | {baseline} | {ratio} | {r['target'] or ''} | {met} |"
        )
    return "\n".join(lines) + "\n"

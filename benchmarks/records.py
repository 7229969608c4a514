"""Benchmark records and the machine description they are reported with."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass


@dataclass
class Record:
    """One measured figure, optionally beside a baseline measured in the same run.

    `ratio` is ours / baseline in the direction where higher is better (for a latency,
    baseline / ours), so a ratio above 1 always means Imago is ahead.
    """

    suite: str
    metric: str
    value: float | None
    unit: str
    baseline_value: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str | None = None

    @classmethod
    def measured(
        cls,
        suite: str,
        metric: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        higher_is_better: bool = True,
        target: float | None = None,
        target_on: str = "value",
        note: str | None = None,
    ) -> Record:
        """Build a record, computing ratio and, when `target` is given, whether it is met.

        `target_on` says what the target applies to: "value" or "ratio".
        """
        ratio = None
        if baseline is not None and value and baseline:
            ratio = value / baseline if higher_is_better else baseline / value
        met = None
        target_text = None
        if target is not None:
            subject = ratio if target_on == "ratio" else value
            better = ">=" if higher_is_better or target_on == "ratio" else "<="
            target_text = f"{'ratio ' if target_on == 'ratio' else ''}{better} {target:g}"
            if subject is not None:
                met = subject >= target if better == ">=" else subject <= target
        return cls(
            suite, metric, _round(value), unit, _round(baseline), _round(ratio), target_text, met, note
        )

    def as_dict(self) -> dict:
        return asdict(self)


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def machine_record() -> dict:
    """The `{"suite": "machine", ...}` record: CPU, cores, memory, onnxruntime and its providers."""
    import onnxruntime

    from models.session import probe_providers

    return {
        "suite": "machine",
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "providers": [p.provider for p in probe_providers() if p.usable],
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None

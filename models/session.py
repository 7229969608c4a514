"""onnxruntime session factory: picks execution providers that actually work, with explicit threads.

Providers are tried in preference order (CUDA, then CPU), filtered by what onnxruntime reports and by
what actually loads: onnxruntime-gpu lists CUDAExecutionProvider even when the CUDA/cuDNN libraries are
missing, and then silently runs on the CPU. We detect that by looking at the providers the created
session really uses, and log one clear line saying what was chosen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from models.errors import ModelLoadError
from resources import resource_path

logger = logging.getLogger(__name__)

# onnxruntime's own C++ log prints a screenful for every provider that fails to load; we report
# provider choices ourselves, in one line, so keep its log to fatal errors.
ort.set_default_logger_severity(4)

PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
PROBE_MODEL = "probe/identity.onnx"


@dataclass(frozen=True)
class SessionOptions:
    """How to create sessions: `force_cpu` skips GPUs; `intra_op_threads` 0 lets onnxruntime choose."""

    force_cpu: bool = False
    intra_op_threads: int = 0


# Providers that failed to run a session in this process (e.g. CUDA libraries missing): not retried,
# so the fallback costs one failed load and one warning per process, not one per model.
_unusable: set[str] = set()


def candidate_providers(force_cpu: bool = False) -> list[str]:
    """Preferred providers that this onnxruntime build offers and that have not failed, best first."""
    available = set(ort.get_available_providers())
    wanted = ("CPUExecutionProvider",) if force_cpu else PREFERRED_PROVIDERS
    return [p for p in wanted if p in available and (p not in _unusable or p == "CPUExecutionProvider")]


def _session_options(options: SessionOptions) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = options.intra_op_threads
    so.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: the indexer decodes images on the same cores
    # while the model runs, and spinning threads starved it (e2e indexing 0.73x -> see BENCHMARKS.md).
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 4
    return so


def create_session(model: Path | bytes, options: SessionOptions | None = None) -> ort.InferenceSession:
    """Create an InferenceSession on the best provider that really loads, falling back to the CPU."""
    options = options or SessionOptions()
    name = str(model) if isinstance(model, Path) else "<in-memory model>"
    if isinstance(model, Path) and not model.is_file():
        raise ModelLoadError(f"model file not found: {model}")
    source = str(model) if isinstance(model, Path) else model
    providers = candidate_providers(options.force_cpu)
    last_error: Exception | None = None
    for index, provider in enumerate(providers):
        try:
            session = ort.InferenceSession(source, _session_options(options), providers=providers[index:])
        except Exception as exc:  # onnxruntime raises several unrelated exception types
            last_error = exc
            logger.debug("provider %s failed for %s: %s", provider, name, exc)
            continue
        used = session.get_providers()[0]
        if used != provider:
            _unusable.update(providers[index : providers.index(used)] if used in providers else [provider])
            # Normal on a computer without an NVIDIA GPU: one line in the log, not a console warning
            # on every command (`doctor` shows the providers).
            logger.info("%s is not usable (GPU libraries missing or no GPU); running on %s", provider, used)
        logger.info("onnxruntime session for %s on %s", name, used)
        return session
    raise ModelLoadError(f"onnxruntime cannot load {name}: {last_error}")


@dataclass(frozen=True)
class ProviderProbe:
    provider: str
    usable: bool
    detail: str


def probe_providers() -> list[ProviderProbe]:
    """Try a tiny session on each available provider; report whether it really ran there."""
    model = resource_path(PROBE_MODEL).read_bytes()
    results = []
    for provider in ort.get_available_providers():
        try:
            # Without enable_fallback=0, onnxruntime retries a failing provider on others and print()s
            # a banner about it (swapping sys.stdout to hide it is not safe off the main thread).
            session = ort.InferenceSession(
                model, _session_options(SessionOptions()), providers=[provider], enable_fallback=0
            )
            used = session.get_providers()[0]
            usable = used == provider
            detail = "ok" if usable else f"fell back to {used}"
        except Exception as exc:  # same reason as above
            usable, detail = (
                False,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            )
        results.append(ProviderProbe(provider, usable, detail))
    return results

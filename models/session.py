"""onnxruntime sessions: a factory that picks execution providers that actually work, with explicit
threads, and the lazily created, locked session every model class holds.

Providers are tried in preference order (CUDA, then CPU), filtered by what onnxruntime reports and by
what actually loads: onnxruntime-gpu lists CUDAExecutionProvider even when the CUDA/cuDNN libraries are
missing, and then silently runs on the CPU. We detect that by looking at the providers the created
session really uses, and log one clear line saying what was chosen. The device setting decides what
happens then: "auto" falls back to the CPU, "gpu" raises DeviceError, "cpu" never tries the GPU.

onnxruntime-gpu finds system-wide CUDA and cuDNN by itself, but not the pip-installed ones (the nvidia-*
packages that `onnxruntime-gpu[cuda,cudnn]` brings): those are preloaded before the first GPU session.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import logging
import re
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import onnxruntime as ort

from models.errors import BundleError, DeviceError, InferenceError, InputError, ModelLoadError
from resources import resource_path

logger = logging.getLogger(__name__)

# onnxruntime's own C++ log prints a screenful for every provider that fails to load; we report
# provider choices ourselves, in one line, so keep its log to fatal errors.
ort.set_default_logger_severity(4)

PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
GPU_PROVIDERS = ("CUDAExecutionProvider",)
# Full float32 on the GPU, as the reference (transformers on torch) computes: onnxruntime's CUDA provider
# otherwise rounds MatMul and Conv inputs to TF32 on Ampere and later GPUs, which changed vectors by
# up to 1e-3, flipped beam-search captions and the order of labels (tools/gpu/check.py).
PROVIDER_OPTIONS = {"CUDAExecutionProvider": {"use_tf32": "0"}}
# Operators of integer-quantised graphs (QDQ, QLinear*, dynamic int8). The CUDA provider has no kernels
# for most of them: it computes QDQ graphs in float (the shipped MobileNet's top label changed on 6% of
# photos) and leaves dynamic int8 MatMuls on the CPU, no faster than the CPU alone (BENCHMARKS.md, "GPU").
# With device "auto" such graphs run on the CPU, where onnxruntime's integer arithmetic is exact.
INTEGER_OPS = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
    "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearSoftmax",
    "MatMulInteger", "ConvInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul",
})  # fmt: skip
DEVICES = ("auto", "cpu", "gpu")
PROBE_MODEL = "probe/identity.onnx"
T = TypeVar("T")


@dataclass(frozen=True)
class SessionOptions:
    """How to create sessions. `device`: "auto" (the GPU when it works, else the CPU), "cpu", or "gpu"
    (the GPU or DeviceError); `force_cpu` is device "cpu". `intra_op_threads` 0 lets onnxruntime choose.
    """

    force_cpu: bool = False
    intra_op_threads: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.force_cpu:
            object.__setattr__(self, "device", "cpu")
        object.__setattr__(self, "force_cpu", self.device == "cpu")


_gpu_libraries_lock = threading.Lock()
_gpu_libraries_tried = False


@functools.cache
def nvidia_driver_present() -> bool:
    """Whether the NVIDIA driver's library loads: without it no CUDA session can run, so nothing is
    prepared for one (no CUDA libraries preloaded, no graph parsed for its operators)."""
    name = {"win32": "nvcuda.dll", "darwin": None}.get(sys.platform, "libcuda.so.1")
    if name is None:
        return False
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def _pip_cuda_runtime() -> Path | None:
    """The CUDA runtime that pip's nvidia-* packages put beside onnxruntime (where preload_dlls looks),
    if its major version is the one this onnxruntime was built for (torch may bring another)."""
    try:
        from onnxruntime.capi.build_and_package_info import cuda_version
    except ImportError:
        return None
    folder = Path(ort.__file__).resolve().parent.parent / "nvidia"
    major = str(cuda_version).split(".")[0]
    pattern = f"cudart64_{major}*.dll" if sys.platform == "win32" else f"libcudart.so.{major}*"
    return next(folder.rglob(pattern), None) if major and folder.is_dir() else None


def load_gpu_libraries() -> None:
    """Preload pip-installed CUDA and cuDNN libraries, once per process, so that CUDAExecutionProvider
    can use them. Only with the NVIDIA driver and a matching CUDA runtime from pip: otherwise
    onnxruntime.preload_dlls would print "Failed to load" lines to stdout (into `--json` output)."""
    global _gpu_libraries_tried
    with _gpu_libraries_lock:
        if _gpu_libraries_tried:
            return
        _gpu_libraries_tried = True
        preload = getattr(ort, "preload_dlls", None)  # onnxruntime >= 1.21
        if preload is None or not set(GPU_PROVIDERS) & set(ort.get_available_providers()):
            return
        runtime = _pip_cuda_runtime()
        if runtime is None or not nvidia_driver_present():
            return
        try:
            preload()
        except Exception as exc:  # a broken CUDA install must not stop the CPU from working
            logger.info("could not preload the CUDA libraries beside %s: %s", runtime, exc)


# Providers that failed to run a session in this process (e.g. CUDA libraries missing): not retried,
# so the fallback costs one failed load and one warning per process, not one per model.
_unusable: set[str] = set()


def candidate_providers(force_cpu: bool = False) -> list[str]:
    """Preferred providers that this onnxruntime build offers and that have not failed, best first."""
    available = set(ort.get_available_providers())
    wanted = ("CPUExecutionProvider",) if force_cpu else PREFERRED_PROVIDERS
    return [p for p in wanted if p in available and (p not in _unusable or p == "CPUExecutionProvider")]


def _provider_options(providers: list[str]) -> list[dict[str, str]]:
    return [dict(PROVIDER_OPTIONS.get(provider, {})) for provider in providers]


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
    """Create an InferenceSession on the best provider that really loads: with device "auto" falling back
    to the CPU, with device "gpu" on the GPU or raising DeviceError."""
    options = options or SessionOptions()
    name = str(model) if isinstance(model, Path) else "<in-memory model>"
    if isinstance(model, Path) and not model.is_file():
        raise ModelLoadError(f"model file not found: {model}")
    source = str(model) if isinstance(model, Path) else model
    if options.device != "cpu":
        load_gpu_libraries()
    if options.device == "auto" and _gpu_candidate() and is_integer_quantised(model):
        logger.info("%s is integer-quantised: it runs on the CPU, where its arithmetic is exact", name)
        options = replace(options, device="cpu")
    if options.device == "gpu":
        return _create_on_gpu(source, name, options)
    providers = candidate_providers(options.force_cpu)
    failed: dict[str, Exception] = {}
    for index, provider in enumerate(providers):
        try:
            # enable_fallback=0: a provider that fails raises here (the next one is tried below) instead
            # of onnxruntime printing a banner to stdout and retrying on its own. It also stops
            # onnxruntime from re-running a failed GPU run on the CPU: that run raises InferenceError.
            session = ort.InferenceSession(
                source,
                _session_options(options),
                providers=providers[index:],
                provider_options=_provider_options(providers[index:]),
                enable_fallback=0,
            )
        except Exception as exc:  # onnxruntime raises several unrelated exception types
            failed[provider] = exc
            logger.debug("provider %s failed for %s: %s", provider, name, exc)
            continue
        used = session.get_providers()[0]
        if used != provider:
            failed[provider] = RuntimeError("GPU libraries missing or no GPU")
        for gone, exc in failed.items():
            # Only now is it the provider's fault (the model loads elsewhere). Normal on a computer
            # without an NVIDIA GPU: one line in the log, not a console warning on every command.
            _unusable.add(gone)
            logger.info("%s is not usable (%s); running on %s", gone, _failure_reason(exc), used)
        logger.info("onnxruntime session for %s on %s", name, used)
        return session
    last_error = failed.get(providers[-1]) if providers else None
    raise ModelLoadError(f"onnxruntime cannot load {name}: {last_error}")


def _gpu_candidate() -> bool:
    return any(p in GPU_PROVIDERS for p in candidate_providers()) and nvidia_driver_present()


def is_integer_quantised(model: Path | bytes) -> bool:
    """Whether the graph (not its subgraphs) uses integer-quantised operators (INTEGER_OPS)."""
    import onnx  # only where a GPU could be used: parsing costs a fraction of a second per model

    try:
        graph = (
            onnx.load(str(model), load_external_data=False)
            if isinstance(model, Path)
            else onnx.load_from_string(model)
        ).graph
    except Exception:  # onnxruntime reports an unreadable model, with its file name, just after
        return False
    return any(node.op_type in INTEGER_OPS for node in graph.node)


def _failure_reason(exc: Exception) -> str:
    """One readable line for a provider that failed: onnxruntime's CUDA errors span many lines of C++."""
    text = str(exc)
    cuda = re.search(r"(?:CUDA|CUDNN|CUBLAS) failure \d+: [^;\n]+", text)
    if cuda:
        return cuda.group(0).strip()
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _create_on_gpu(source: str | bytes, name: str, options: SessionOptions) -> ort.InferenceSession:
    """A session on the first GPU provider, never a silent CPU fallback (the settings say device: gpu)."""

    def refuse(reason: str) -> DeviceError:
        return DeviceError(
            f"the GPU was asked for in the settings (device: gpu) but {reason}: choose auto or cpu"
        )

    available = ort.get_available_providers()
    gpus = [p for p in GPU_PROVIDERS if p in available]
    if not gpus:
        raise refuse(f"this onnxruntime has no GPU provider (it offers {', '.join(available) or 'none'})")
    provider = gpus[0]
    if provider in _unusable:
        raise refuse(f"{provider} did not work earlier in this run (GPU libraries missing or no GPU)")
    try:
        # CPU stays listed for the few operators the GPU provider lacks; enable_fallback=0 keeps
        # onnxruntime from retrying the whole session on the CPU when the GPU provider fails.
        providers = [provider, "CPUExecutionProvider"]
        session = ort.InferenceSession(
            source,
            _session_options(options),
            providers=providers,
            provider_options=_provider_options(providers),
            enable_fallback=0,
        )
    except Exception as exc:  # onnxruntime raises several unrelated exception types
        raise refuse(f"{provider} cannot load {name}: {_failure_reason(exc)}") from exc
    used = session.get_providers()[0]
    if used != provider:
        _unusable.add(provider)
        raise refuse(f"{provider} is not usable (GPU libraries missing or no GPU; it would run on {used})")
    logger.info("onnxruntime session for %s on %s", name, used)
    return session


@dataclass(frozen=True)
class ProviderProbe:
    provider: str
    usable: bool
    detail: str


def probe_providers() -> list[ProviderProbe]:
    """Try a tiny session on each provider Imago uses that onnxruntime offers; report whether it really
    ran there. (onnxruntime-gpu also lists TensorRT, which Imago never asks for.)"""
    model = resource_path(PROBE_MODEL).read_bytes()
    load_gpu_libraries()
    results = []
    available = ort.get_available_providers()
    for provider in [p for p in PREFERRED_PROVIDERS if p in available]:
        try:
            # Without enable_fallback=0, onnxruntime retries a failing provider on others and print()s
            # a banner about it (swapping sys.stdout to hide it is not safe off the main thread).
            session = ort.InferenceSession(
                model,
                _session_options(SessionOptions()),
                providers=[provider],
                provider_options=_provider_options([provider]),
                enable_fallback=0,
            )
            used = session.get_providers()[0]
            usable = used == provider
            detail = "ok" if usable else f"fell back to {used}"
        except Exception as exc:  # same reason as above
            usable, detail = False, _failure_reason(exc)
        results.append(ProviderProbe(provider, usable, detail))
    return results


_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
}


def _held_weakly(fn: Callable[..., T]) -> Callable[[], Callable[..., T]]:
    """`fn` back on each call; a bound method is held by a weak reference, so a model that keeps a
    Lazy of its own method is no reference cycle and frees its sessions as soon as it is dropped."""
    if inspect.ismethod(fn):
        return weakref.WeakMethod(fn)
    return lambda: fn


class Lazy(Generic[T]):
    """A value made by `factory` on the first `get()`, once, under a lock (so it is thread-safe);
    `close()` drops it and the next `get()` makes it again. A factory that raises leaves nothing made."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = _held_weakly(factory)
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._factory()()
            return self._value

    def close(self) -> None:
        with self._lock:
            self._value = None


class LazySession(Lazy[ort.InferenceSession]):
    """An onnxruntime session of the graph at `path`, created on first use (thread-safe; onnxruntime's
    `run` may be called from several threads), with its input names, dtypes and shapes.

    `check(session)`, when given, runs once after creation and raises BundleError when the graph does not
    fit its bundle (the session is then not kept).
    """

    def __init__(
        self,
        path: Path,
        options: SessionOptions | None = None,
        check: Callable[[ort.InferenceSession], None] | None = None,
    ) -> None:
        super().__init__(self._create)
        self.path = Path(path)
        self.options = options
        self._check = None if check is None else _held_weakly(check)
        self.input_types: dict[str, type] = {}
        self.input_shapes: dict[str, list] = {}

    @property
    def _session(self) -> ort.InferenceSession | None:
        """The session once created; None before the first use and after `close()`."""
        return self._value

    def _create(self) -> ort.InferenceSession:
        session = create_session(self.path, self.options)
        for arg in session.get_inputs():
            if arg.type not in _NUMPY_TYPES:
                raise BundleError(f"{self.path}: input {arg.name!r} has unsupported type {arg.type}")
            self.input_types[arg.name] = _NUMPY_TYPES[arg.type]
            self.input_shapes[arg.name] = list(arg.shape)
        if self._check is not None:
            self._check()(session)
        return session

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's first output for `feeds`, each cast to the dtype its input takes."""
        session = self.get()
        missing = sorted(set(self.input_types) - set(feeds))
        if missing:
            raise InferenceError(f"{self.path} needs inputs {missing}; this encoder feeds {sorted(feeds)}")
        typed = {name: feeds[name].astype(dtype, copy=False) for name, dtype in self.input_types.items()}
        try:
            return session.run(None, typed)[0]
        except Exception as exc:  # onnxruntime's own exception types; report them as ours
            shapes = {name: value.shape for name, value in typed.items()}
            raise InferenceError(f"{self.path} failed on inputs {shapes}: {exc}") from exc

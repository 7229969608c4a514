from pathlib import Path

import numpy as np
import pytest

from models.errors import DeviceError, InputError, ModelLoadError
from models.session import (
    SessionOptions,
    candidate_providers,
    create_session,
    is_integer_quantised,
    probe_providers,
)
from resources import resource_path


def test_create_session_runs_the_probe_model():
    session = create_session(resource_path("probe", "identity.onnx"), SessionOptions(intra_op_threads=1))
    (out,) = session.run(None, {"x": np.array([3.5], dtype=np.float32)})
    assert out.tolist() == [3.5]
    assert session.get_providers()[0] in candidate_providers()


def test_force_cpu_uses_only_the_cpu_provider():
    assert candidate_providers(force_cpu=True) == ["CPUExecutionProvider"]
    session = create_session(
        resource_path("probe", "identity.onnx").read_bytes(), SessionOptions(force_cpu=True)
    )
    assert session.get_providers() == ["CPUExecutionProvider"]


def test_missing_model_names_the_file(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model file not found: .*nothing\.onnx"):
        create_session(tmp_path / "nothing.onnx")


def test_corrupt_model_names_the_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match=r"bad\.onnx"):
        create_session(bad)


def test_probe_reports_the_cpu_as_usable():
    probes = {p.provider: p for p in probe_providers()}
    assert probes["CPUExecutionProvider"].usable and probes["CPUExecutionProvider"].detail == "ok"


def test_probe_reports_fallen_back_providers_and_skips_those_imago_never_uses(monkeypatch):
    """A provider whose session silently runs on the CPU is not usable; TensorRT, which onnxruntime-gpu
    lists but Imago never asks for, is not probed (its failure was a long C++ line in `doctor`)."""
    import models.session as session_module

    monkeypatch.setattr(
        session_module.ort,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "TensorrtExecutionProvider", "CPUExecutionProvider"],
    )
    real = session_module.ort.InferenceSession

    def session(source, options, providers, **kwargs):
        if providers == ["CPUExecutionProvider"] and kwargs.get("enable_fallback") != 0:
            raise AssertionError("onnxruntime's own fallback prints a banner")
        # onnxruntime-gpu without CUDA libraries: the session quietly runs on the CPU
        return real(source, options, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setattr(session_module.ort, "InferenceSession", session)
    probes = [(p.provider, p.usable, p.detail) for p in probe_providers()]
    assert probes == [
        ("CUDAExecutionProvider", False, "fell back to CPUExecutionProvider"),
        ("CPUExecutionProvider", True, "ok"),
    ]


def test_a_provider_that_fell_back_is_not_retried(monkeypatch, caplog):
    import models.session as session_module

    monkeypatch.setattr(session_module, "_unusable", set())
    monkeypatch.setattr(
        session_module.ort,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    real = session_module.ort.InferenceSession
    asked = []

    class FallingBack:
        """Behaves as onnxruntime-gpu does without CUDA libraries: silently runs on the CPU."""

        def __init__(self, source, options, providers, provider_options, enable_fallback):
            asked.append(providers)
            self._session = real(source, options, providers=["CPUExecutionProvider"])

        def get_providers(self):
            return self._session.get_providers()

    monkeypatch.setattr(session_module.ort, "InferenceSession", FallingBack)
    model = resource_path("probe", "identity.onnx")
    with caplog.at_level("INFO", logger="models.session"):
        create_session(model)
        create_session(model)
    assert asked == [["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]]
    # Said once, in the log only: no console warning on every command of a computer without a GPU.
    said = [r for r in caplog.records if "is not usable" in r.getMessage()]
    assert [(r.levelname, "CUDAExecutionProvider" in r.getMessage()) for r in said] == [("INFO", True)]


class FakeOrt:
    """onnxruntime offering `available` providers; its sessions report running on `runs_on` (None: the
    GPU provider fails to start). Records the providers each session asked for."""

    def __init__(self, monkeypatch, available, runs_on):
        import models.session as session_module

        monkeypatch.setattr(session_module, "_unusable", set())
        monkeypatch.setattr(session_module.ort, "get_available_providers", lambda: list(available))
        monkeypatch.setattr(session_module.ort, "InferenceSession", self.session)
        self.asked = []
        self.provider_options = []
        self.enable_fallback = []
        self.runs_on = runs_on

    def session(self, source, options, providers, provider_options=None, enable_fallback=1):
        self.asked.append(providers)
        self.enable_fallback.append(enable_fallback)
        self.provider_options.append(
            dict(zip(providers, provider_options or [{}] * len(providers), strict=True))
        )
        runs_on = "CPUExecutionProvider" if providers == ["CPUExecutionProvider"] else self.runs_on
        if runs_on is None:
            raise RuntimeError("CUDA failure 100: no CUDA-capable device is detected")
        fake = type("FakeSession", (), {})()
        fake.get_providers = lambda: list(dict.fromkeys([runs_on, "CPUExecutionProvider"]))
        return fake


GPU_AND_CPU = ["CUDAExecutionProvider", "CPUExecutionProvider"]
PROBE = resource_path("probe", "identity.onnx")


def test_device_gpu_without_a_gpu_provider_is_a_clear_error(monkeypatch):
    fake = FakeOrt(monkeypatch, ["CPUExecutionProvider"], "CPUExecutionProvider")
    message = r"\(device: gpu\) but this onnxruntime has no GPU provider .*: choose auto or cpu"
    with pytest.raises(DeviceError, match=message):
        create_session(PROBE, SessionOptions(device="gpu"))
    assert fake.asked == []


@pytest.mark.parametrize(
    ("runs_on", "reason"),
    [("CPUExecutionProvider", "CUDAExecutionProvider is not usable"), (None, "no CUDA-capable device")],
)
def test_device_gpu_never_falls_back_to_the_cpu(monkeypatch, runs_on, reason):
    """onnxruntime-gpu without CUDA libraries runs on the CPU, or the GPU provider fails: both refused."""
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, runs_on)
    with pytest.raises(DeviceError, match=rf"device: gpu.*{reason}.*: choose auto or cpu"):
        create_session(PROBE, SessionOptions(device="gpu"))
    assert fake.asked == [GPU_AND_CPU]
    with pytest.raises(DeviceError, match="device: gpu"):  # asked again: refused again, never the CPU
        create_session(PROBE, SessionOptions(device="gpu"))


def test_a_gpu_that_fails_to_start_is_explained_in_one_line(monkeypatch):
    """onnxruntime's CUDA errors are many lines of C++; the setting's error and `doctor` show the cause."""
    import models.session as session_module

    cpp = (
        "/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:154 std::conditional_t<THRW, void, "
        "onnxruntime::common::Status> onnxruntime::CudaCall(ERRTYPE, const char*) CUDA failure 100: no "
        "CUDA-capable device is detected ; GPU=-1 ; hostname=vm ; file=cuda_execution_provider.cc\n\n"
    )

    def session(source, options, providers, **kwargs):
        if providers[0] == "CUDAExecutionProvider":
            raise RuntimeError(cpp)
        return FakeOrt.session(fake, source, options, providers, **kwargs)

    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CPUExecutionProvider")
    monkeypatch.setattr(session_module.ort, "InferenceSession", session)
    with pytest.raises(DeviceError) as refused:
        create_session(PROBE, SessionOptions(device="gpu"))
    assert str(refused.value).endswith(
        "cannot load "
        + str(PROBE)
        + ": CUDA failure 100: no CUDA-capable device is detected: choose auto or cpu"
    )
    probes = {p.provider: (p.usable, p.detail) for p in probe_providers()}
    assert probes == {
        "CUDAExecutionProvider": (False, "CUDA failure 100: no CUDA-capable device is detected"),
        "CPUExecutionProvider": (True, "ok"),
    }


def test_the_probe_asks_for_the_gpu_as_sessions_do(monkeypatch):
    """`doctor` must not call the GPU usable with options the real sessions then fail on."""
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    probe_providers()
    assert fake.provider_options[0] == {"CUDAExecutionProvider": {"use_tf32": "0"}}


def test_device_gpu_runs_on_a_working_gpu(monkeypatch):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    session = create_session(PROBE, SessionOptions(device="gpu"))
    assert session.get_providers()[0] == "CUDAExecutionProvider" and fake.asked == [GPU_AND_CPU]


@pytest.mark.parametrize("device", ["auto", "gpu"])
def test_the_gpu_computes_in_full_float32(monkeypatch, device):
    """TF32 (onnxruntime's CUDA default on Ampere and later) changed vectors and beam-search captions."""
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    create_session(PROBE, SessionOptions(device=device))
    assert fake.provider_options == [{"CUDAExecutionProvider": {"use_tf32": "0"}, "CPUExecutionProvider": {}}]


def test_device_auto_falls_back_to_the_cpu_with_a_log_line(monkeypatch, caplog):
    """A GPU provider that fails to start (CUDA installed, no usable GPU) costs one log line with the
    reason and is not tried again; onnxruntime's own fallback, which prints a banner, is off."""
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, None)
    with caplog.at_level("INFO", logger="models.session"):
        session = create_session(PROBE, SessionOptions(device="auto"))
        create_session(PROBE, SessionOptions(device="auto"))
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert fake.asked == [GPU_AND_CPU, ["CPUExecutionProvider"], ["CPUExecutionProvider"]]
    assert fake.enable_fallback == [0, 0, 0]
    said = [r.getMessage() for r in caplog.records if "is not usable" in r.getMessage()]
    assert said == [
        "CUDAExecutionProvider is not usable (CUDA failure 100: no CUDA-capable device is detected); "
        "running on CPUExecutionProvider"
    ]


def test_a_model_no_provider_loads_does_not_turn_the_gpu_off(monkeypatch, tmp_path):
    """A corrupt model fails on every provider: that is the model's fault, not the GPU's."""
    import models.session as session_module

    FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")

    def failing(source, options, providers, **kwargs):
        raise RuntimeError("INVALID_PROTOBUF : Load model failed")

    monkeypatch.setattr(session_module.ort, "InferenceSession", failing)
    with pytest.raises(ModelLoadError, match="INVALID_PROTOBUF"):
        create_session(PROBE, SessionOptions(device="auto"))
    assert session_module._unusable == set()


def test_device_cpu_never_asks_for_the_gpu(monkeypatch):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    session = create_session(PROBE, SessionOptions(device="cpu"))
    assert session.get_providers() == ["CPUExecutionProvider"] and fake.asked == [["CPUExecutionProvider"]]


class FakePreload:
    """onnxruntime.preload_dlls, with pip's nvidia-* packages (a matching CUDA runtime) beside
    onnxruntime or not, and the NVIDIA driver or not."""

    def __init__(self, monkeypatch, tmp_path, *, pip_cuda: bool, fails: bool = False, driver: bool = True):
        import models.session as session_module

        runtime = tmp_path / "site-packages" / "nvidia" / "cu13" / "lib" / "libcudart.so.13"
        monkeypatch.setattr(session_module, "_gpu_libraries_tried", False)
        monkeypatch.setattr(session_module, "_pip_cuda_runtime", lambda: runtime if pip_cuda else None)
        monkeypatch.setattr(session_module, "nvidia_driver_present", lambda: driver)
        monkeypatch.setattr(session_module.ort, "preload_dlls", self, raising=False)
        self.calls = 0
        self.fails = fails

    def __call__(self):
        self.calls += 1
        if self.fails:
            raise RuntimeError("Invalid parameter of directory")


def test_pip_installed_cuda_is_preloaded_once_before_the_first_gpu_session(monkeypatch, tmp_path):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    preload = FakePreload(monkeypatch, tmp_path, pip_cuda=True)
    create_session(PROBE, SessionOptions(device="auto"))
    create_session(PROBE, SessionOptions(device="gpu"))
    assert preload.calls == 1 and len(fake.asked) == 2


@pytest.mark.parametrize(
    ("device", "available", "pip_cuda", "driver"),
    [
        ("cpu", GPU_AND_CPU, True, True),  # the CPU never loads CUDA
        ("auto", ["CPUExecutionProvider"], True, True),  # onnxruntime without a GPU provider
        ("auto", GPU_AND_CPU, False, True),  # system-wide CUDA, none, or torch's of another major version
        ("auto", GPU_AND_CPU, True, False),  # no NVIDIA driver: preload_dlls would print its failures
    ],
)
def test_cuda_is_not_preloaded_where_it_cannot_help(
    monkeypatch, tmp_path, device, available, pip_cuda, driver
):
    FakeOrt(monkeypatch, available, "CPUExecutionProvider")
    preload = FakePreload(monkeypatch, tmp_path, pip_cuda=pip_cuda, driver=driver)
    create_session(PROBE, SessionOptions(device=device))
    assert preload.calls == 0


def test_a_failing_preload_leaves_the_cpu_working(monkeypatch, tmp_path, caplog):
    FakeOrt(monkeypatch, GPU_AND_CPU, None)
    preload = FakePreload(monkeypatch, tmp_path, pip_cuda=True, fails=True)
    with caplog.at_level("INFO", logger="models.session"):
        session = create_session(PROBE, SessionOptions(device="auto"))
    assert preload.calls == 1 and session.get_providers() == ["CPUExecutionProvider"]
    assert any("could not preload the CUDA libraries" in r.getMessage() for r in caplog.records)


def test_the_provider_probe_preloads_pip_installed_cuda(monkeypatch, tmp_path):
    FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    preload = FakePreload(monkeypatch, tmp_path, pip_cuda=True)
    probe_providers()
    assert preload.calls == 1


SHIPPED_MODEL = resource_path("models", "mobilenet-v2-imagenet", "model.onnx")  # uint8 QDQ graph


def test_integer_quantised_graphs_run_on_the_cpu_with_device_auto(monkeypatch, caplog):
    """The CUDA provider computes QDQ graphs in float: the shipped model's labels changed on the GPU."""
    import models.session as session_module

    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    monkeypatch.setattr(session_module, "nvidia_driver_present", lambda: True)
    with caplog.at_level("INFO", logger="models.session"):
        session = create_session(SHIPPED_MODEL, SessionOptions(device="auto"))
    assert session.get_providers() == ["CPUExecutionProvider"] and fake.asked == [["CPUExecutionProvider"]]
    assert any("is integer-quantised: it runs on the CPU" in r.getMessage() for r in caplog.records)
    create_session(PROBE, SessionOptions(device="auto"))  # a float graph still goes to the GPU
    assert fake.asked[-1] == GPU_AND_CPU


def test_device_gpu_runs_integer_quantised_graphs_on_the_gpu_as_asked(monkeypatch):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    create_session(SHIPPED_MODEL, SessionOptions(device="gpu"))
    assert fake.asked == [GPU_AND_CPU]


@pytest.mark.parametrize(
    ("available", "driver"),
    [(["CPUExecutionProvider"], True), (GPU_AND_CPU, False)],  # no GPU provider; onnxruntime-gpu, no driver
)
def test_graphs_are_not_parsed_where_no_gpu_can_be_used(monkeypatch, available, driver):
    """Most curators' computers: parsing a model (up to a second for a large one) would buy nothing."""
    import models.session as session_module

    FakeOrt(monkeypatch, available, "CPUExecutionProvider")
    monkeypatch.setattr(session_module, "nvidia_driver_present", lambda: driver)
    monkeypatch.setattr(session_module, "is_integer_quantised", lambda model: pytest.fail("parsed"))
    create_session(SHIPPED_MODEL, SessionOptions(device="auto"))


@pytest.mark.parametrize(
    ("graph", "integer"),
    [
        (("models", "mobilenet-v2-imagenet", "model.onnx"), True),  # QLinearConv, QuantizeLinear...
        (("probe", "identity.onnx"), False),
    ],
)
def test_integer_quantised_graphs_are_recognised(graph, integer):
    assert is_integer_quantised(resource_path(*graph)) is integer
    assert is_integer_quantised(resource_path(*graph).read_bytes()) is integer


def test_the_int8_clip_tower_is_integer_quantised():
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "clip-tiny"
    assert is_integer_quantised(fixtures / "image_int8.onnx") and not is_integer_quantised(
        fixtures / "image.onnx"
    )


def test_session_options_device_values():
    assert SessionOptions().device == "auto" and not SessionOptions().force_cpu
    assert SessionOptions(force_cpu=True) == SessionOptions(device="cpu")
    assert SessionOptions(device="cpu").force_cpu and not SessionOptions(device="gpu").force_cpu
    with pytest.raises(InputError, match="device must be one of auto, cpu, gpu"):
        SessionOptions(device="tpu")


@pytest.mark.parametrize("device", ["auto", "cpu", "gpu"])
def test_model_loading_passes_the_device_setting(device):
    from models.loading import session_options
    from store.config import Settings

    options = session_options(Settings(device=device, intra_op_threads=3))
    assert (options.device, options.intra_op_threads) == (device, 3)


def test_a_dropped_model_frees_its_sessions_at_once():
    """Models keep lazy sessions of their own methods; a reference cycle would keep a dropped model's
    sessions (hundreds of MB) alive until the garbage collector happens to run."""
    import gc
    import weakref

    from PIL import Image

    from models.bundle import load_bundle
    from models.captioner import GitCaptioner
    from models.clip import ClipImageEncoder, ClipTextEncoder

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "models"
    clip = load_bundle(fixtures / "clip-tiny")
    image = Image.new("RGB", (40, 30), (200, 40, 10))
    gc.disable()
    try:
        git = load_bundle(fixtures / "git-tiny-base")
        encoders = [ClipImageEncoder(clip), ClipTextEncoder(clip), GitCaptioner(git)]
        encoders[0].encode([image])
        encoders[1].encode(["a red square"])
        encoders[2].load()
        sessions = [
            weakref.ref(encoders[0]._session.get()),
            weakref.ref(encoders[1]._session.get()),
            weakref.ref(encoders[2]._image_session),
            weakref.ref(encoders[2]._decoder_session),
        ]
        del encoders
        assert [ref() is None for ref in sessions] == [True] * 4
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("installed", "found"),
    [
        ("nvidia/cu13/lib/libcudart.so.13", True),
        ("nvidia/cuda_runtime/lib/libcudart.so.12", False),
        (None, False),
    ],
)
def test_pip_cuda_counts_only_for_the_cuda_onnxruntime_was_built_for(monkeypatch, tmp_path, installed, found):
    """torch's CUDA wheels may put another CUDA major version there: preloading it would only fail."""
    import onnxruntime.capi.build_and_package_info as build_info

    import models.session as session_module

    site = tmp_path / "site-packages"
    (site / "onnxruntime").mkdir(parents=True)
    if installed:
        (site / installed).parent.mkdir(parents=True)
        (site / installed).write_bytes(b"")
    monkeypatch.setattr(session_module.ort, "__file__", str(site / "onnxruntime" / "__init__.py"))
    monkeypatch.setattr(session_module.sys, "platform", "linux")
    monkeypatch.setattr(build_info, "cuda_version", "13.0", raising=False)
    assert (session_module._pip_cuda_runtime() is not None) is found

import numpy as np
import pytest

from models.errors import DeviceError, InputError, ModelLoadError
from models.session import SessionOptions, candidate_providers, create_session, probe_providers
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


def test_probe_reports_fallen_back_and_failing_providers_as_unusable(monkeypatch):
    """A provider whose session silently runs on the CPU, or fails to start, is not usable."""
    import models.session as session_module

    monkeypatch.setattr(
        session_module.ort,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "TensorrtExecutionProvider", "CPUExecutionProvider"],
    )
    real = session_module.ort.InferenceSession

    def session(source, options, providers, **kwargs):
        if providers == ["TensorrtExecutionProvider"]:
            raise RuntimeError("libnvinfer.so.10: cannot open shared object file\nmore detail")
        # onnxruntime-gpu without CUDA libraries: the session quietly runs on the CPU
        return real(source, options, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setattr(session_module.ort, "InferenceSession", session)
    probes = [(p.provider, p.usable, p.detail) for p in probe_providers()]
    assert probes == [
        ("CUDAExecutionProvider", False, "fell back to CPUExecutionProvider"),
        ("TensorrtExecutionProvider", False, "libnvinfer.so.10: cannot open shared object file"),
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

        def __init__(self, source, options, providers):
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
        self.runs_on = runs_on

    def session(self, source, options, providers, **kwargs):
        self.asked.append(providers)
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


def test_device_gpu_runs_on_a_working_gpu(monkeypatch):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    session = create_session(PROBE, SessionOptions(device="gpu"))
    assert session.get_providers()[0] == "CUDAExecutionProvider" and fake.asked == [GPU_AND_CPU]


def test_device_auto_falls_back_to_the_cpu_with_a_log_line(monkeypatch, caplog):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, None)
    with caplog.at_level("INFO", logger="models.session"):
        session = create_session(PROBE, SessionOptions(device="auto"))
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert fake.asked == [GPU_AND_CPU, ["CPUExecutionProvider"]]
    assert any("on CPUExecutionProvider" in r.getMessage() for r in caplog.records)


def test_device_cpu_never_asks_for_the_gpu(monkeypatch):
    fake = FakeOrt(monkeypatch, GPU_AND_CPU, "CUDAExecutionProvider")
    session = create_session(PROBE, SessionOptions(device="cpu"))
    assert session.get_providers() == ["CPUExecutionProvider"] and fake.asked == [["CPUExecutionProvider"]]


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
    from pathlib import Path

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

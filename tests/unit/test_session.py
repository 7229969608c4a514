import numpy as np
import pytest

from models.errors import ModelLoadError
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

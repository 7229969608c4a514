import sys

from resources import resource_path


def test_resource_path_from_source():
    assert resource_path("probe", "identity.onnx").is_file()
    assert (resource_path("sample-archive") / "ATTRIBUTION.md").is_file()


def test_resource_path_in_pyinstaller_bundle(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("probe", "identity.onnx") == tmp_path / "resources" / "probe" / "identity.onnx"

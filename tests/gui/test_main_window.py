import pytest

from desktop.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_empty_state_explains_how_to_get_models(qtbot, tmp_path):
    window = MainWindow(models_dir=tmp_path / "models", archive=tmp_path / "archive")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert "No model bundles installed" in window.empty_state.text()
    assert "models install" in window.empty_state.text()
    assert not window.search_field.isEnabled()
    assert window.windowTitle() == "Imago — archive"


def test_installed_bundles_enable_search(qtbot, tmp_path):
    bundle = tmp_path / "models" / "clip-vit-b32"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text("{}")
    window = MainWindow(models_dir=tmp_path / "models")
    qtbot.addWidget(window)
    assert window.search_field.isEnabled()
    assert "clip-vit-b32" in window.empty_state.text()

import json

import pytest

from models.errors import ConfigError
from store import config
from store.config import Settings


def test_imago_home_and_models_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGO_HOME", str(tmp_path / "home"))
    assert config.user_data_dir() == tmp_path / "home"
    assert config.models_dir() == tmp_path / "home" / "models"
    assert config.settings_path() == tmp_path / "home" / "settings.json"
    monkeypatch.setenv("IMAGO_MODELS", str(tmp_path / "bundles"))
    assert config.models_dir() == tmp_path / "bundles"


def test_default_location_without_override(monkeypatch):
    monkeypatch.delenv("IMAGO_HOME")
    assert config.user_data_dir().name == "Imago"


def test_missing_file_gives_defaults():
    assert Settings.load() == Settings()


def test_save_and_load_round_trip():
    settings = Settings(device="cpu", intra_op_threads=2, recent_archives=["/data/архив"])
    settings.save()
    loaded = Settings.load()
    assert loaded == settings
    assert loaded.force_cpu


def test_watching_and_index_folder_settings_round_trip(tmp_path):
    defaults = Settings()
    assert defaults.watch_archive and defaults.rescan_minutes == 0
    assert defaults.index_root == config.user_data_dir() / "indexes" == config.default_index_root()
    settings = Settings(watch_archive=False, rescan_minutes=30, fallback_index_dir=str(tmp_path / "idx"))
    settings.save()
    loaded = Settings.load()
    assert (loaded.watch_archive, loaded.rescan_minutes) == (False, 30)
    assert loaded.index_root == tmp_path / "idx"


def test_unknown_keys_are_ignored():
    config.settings_path().parent.mkdir(parents=True, exist_ok=True)
    config.settings_path().write_text(json.dumps({"device": "gpu", "from_a_newer_version": 1}))
    assert Settings.load().device == "gpu"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read settings file"),
        ("[1, 2]", "does not hold a JSON object"),
        ('{"device": "tpu"}', "setting 'device'"),
        ('{"intra_op_threads": -1}', "setting 'intra_op_threads'"),
        ('{"caption_beams": 0}', "setting 'caption_beams'"),
        ('{"watch_archive": "yes"}', "setting 'watch_archive'"),
        ('{"rescan_minutes": -5}', "setting 'rescan_minutes'"),
        ('{"rescan_minutes": 1.5}', "setting 'rescan_minutes'"),
        ('{"rescan_minutes": 20000}', "setting 'rescan_minutes'"),
        ('{"fallback_index_dir": "relative/indexes"}', "setting 'fallback_index_dir'"),
        ('{"fallback_index_dir": 3}', "setting 'fallback_index_dir'"),
        ('{"ensemble_model": 3}', "setting 'ensemble_model'"),
        ('{"ensemble_weight": 1.5}', "setting 'ensemble_weight'"),
        ('{"ensemble_weight": -0.1}', "setting 'ensemble_weight'"),
        ('{"ensemble_weight": "0.5"}', "setting 'ensemble_weight'"),
        ('{"ensemble_weight": true}', "setting 'ensemble_weight'"),
        ('{"ensemble_weight": NaN}', "setting 'ensemble_weight'"),
    ],
)
def test_bad_settings_file_names_the_problem(content, message):
    config.settings_path().parent.mkdir(parents=True, exist_ok=True)
    config.settings_path().write_text(content)
    with pytest.raises(ConfigError, match=message):
        Settings.load()


def test_ensemble_settings_default_to_none_and_round_trip():
    assert (Settings().ensemble_model, Settings().ensemble_weight) == ("", 0.5)
    Settings(ensemble_model="mobilenet-v2-imagenet", ensemble_weight=1).save()
    loaded = Settings.load()
    assert (loaded.ensemble_model, loaded.ensemble_weight) == ("mobilenet-v2-imagenet", 1)

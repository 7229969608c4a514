"""Application settings and the paths Imago uses.

Settings live in `settings.json` in the user data directory. Two environment variables override the
locations, which tests and portable installs rely on:

- `IMAGO_HOME`: the user data directory (settings, logs, read-only-archive indexes by default, bench
  cache);
- `IMAGO_MODELS`: the model bundle directory (default `<IMAGO_HOME>/models`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from models.errors import ConfigError
from store.storage.atomic import atomic_replace

logger = logging.getLogger(__name__)

APP_NAME = "Imago"
SETTINGS_FILE = "settings.json"
DEVICES = ("auto", "cpu", "gpu")  # what they mean: models.session.SessionOptions
VECTOR_DTYPES = ("f16", "f32", "bf16", "i8")
MAX_RESCAN_MINUTES = 7 * 24 * 60


def user_data_dir() -> Path:
    """The per-user data directory: `$IMAGO_HOME` if set, else the platform's standard location."""
    override = os.environ.get("IMAGO_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """Where model bundles are installed: `$IMAGO_MODELS` if set, else `<user data dir>/models`."""
    override = os.environ.get("IMAGO_MODELS")
    if override:
        return Path(override).expanduser()
    return user_data_dir() / "models"


def default_index_root() -> Path:
    """Where read-only archives' indexes go unless the settings name another folder."""
    return user_data_dir() / "indexes"


@dataclass
class Settings:
    """User-editable settings, persisted as JSON. Unknown keys in the file are ignored."""

    device: str = "auto"  # auto: the GPU when it works, else the CPU; cpu; gpu: the GPU or an error
    intra_op_threads: int = 0  # 0: let onnxruntime choose (physical cores)
    caption_model: str = "git-base"
    caption_beams: int = 1
    language: str = "auto"
    recent_archives: list[str] = field(default_factory=list)
    vector_dtype: str = "f16"  # usearch scalar type of the HNSW index: f16, f32, bf16 or i8
    vector_connectivity: int = 16  # HNSW graph degree (M)
    watch_archive: bool = True  # index changes as file-system events report them
    rescan_minutes: int = 0  # periodic full rescan, for shares that send no change events; 0: off
    fallback_index_dir: str = ""  # indexes of read-only archives; "": <user data dir>/indexes
    # A second image model (bundle name or folder) indexed beside the first; find similar fuses the
    # two models' scores. "": none.
    ensemble_model: str = ""
    # w in w * cosine(first model) + (1 - w) * cosine(ensemble_model). An even split, not a measured
    # value: `imago eval DATASET --ensemble BUNDLE --pick-weight` measures one on a labelled folder.
    ensemble_weight: float = 0.5

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field."""
        if self.device not in DEVICES:
            raise ConfigError(f"setting 'device' must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if not isinstance(self.intra_op_threads, int) or self.intra_op_threads < 0:
            raise ConfigError(
                f"setting 'intra_op_threads' must be a whole number >= 0, not {self.intra_op_threads!r}"
            )
        if not isinstance(self.caption_beams, int) or self.caption_beams < 1:
            raise ConfigError(
                f"setting 'caption_beams' must be a whole number >= 1, not {self.caption_beams!r}"
            )
        if self.vector_dtype not in VECTOR_DTYPES:
            raise ConfigError(
                f"setting 'vector_dtype' must be one of {', '.join(VECTOR_DTYPES)}, not {self.vector_dtype!r}"
            )
        if not isinstance(self.vector_connectivity, int) or not 2 <= self.vector_connectivity <= 256:
            raise ConfigError(
                "setting 'vector_connectivity' must be a whole number from 2 to 256, "
                f"not {self.vector_connectivity!r}"
            )
        if not isinstance(self.watch_archive, bool):
            raise ConfigError(f"setting 'watch_archive' must be true or false, not {self.watch_archive!r}")
        minutes = self.rescan_minutes
        if not isinstance(minutes, int) or not 0 <= minutes <= MAX_RESCAN_MINUTES:
            raise ConfigError(
                f"setting 'rescan_minutes' must be a whole number from 0 to {MAX_RESCAN_MINUTES} "
                f"(0: no rescans), not {minutes!r}"
            )
        folder = self.fallback_index_dir
        if not isinstance(folder, str) or (folder and not Path(folder).expanduser().is_absolute()):
            raise ConfigError(
                f"setting 'fallback_index_dir' must be an absolute folder path or empty, not {folder!r}"
            )
        if not isinstance(self.ensemble_model, str):
            raise ConfigError(
                f"setting 'ensemble_model' must be a model bundle's name or folder, or empty, "
                f"not {self.ensemble_model!r}"
            )
        weight = self.ensemble_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
            raise ConfigError(f"setting 'ensemble_weight' must be a number from 0 to 1, not {weight!r}")

    @property
    def index_root(self) -> Path:
        """The folder holding the indexes of read-only archives."""
        return Path(self.fallback_index_dir).expanduser() if self.fallback_index_dir else default_index_root()

    @property
    def force_cpu(self) -> bool:
        """Whether models run on the CPU only (device "cpu")."""
        return self.device == "cpu"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings from `path` (default: the user settings file); missing file -> defaults."""
        path = path or settings_path()
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"settings file {path} does not hold a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        settings = cls(**{k: v for k, v in raw.items() if k in known})
        settings.validate()
        return settings

    def save(self, path: Path | None = None) -> None:
        """Write settings atomically (temp file + rename), so a crash never leaves half a file."""
        self.validate()
        path = path or settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_replace(path, prefix=".settings-") as tmp, tmp.open("w", encoding="utf-8") as out:
            json.dump(dataclasses.asdict(self), out, indent=2, ensure_ascii=False)


def settings_path() -> Path:
    return user_data_dir() / SETTINGS_FILE


def log_dir() -> Path:
    return user_data_dir() / "logs"

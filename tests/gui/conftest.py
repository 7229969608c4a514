"""Fixtures for the GUI tests: a generated archive and the tiny CLIP bundle installed in IMAGO_HOME."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from gui_fixtures import CLIP_TINY, FIXTURES
from PIL import Image

from models.bundle_install import install_bundle
from store import config


@pytest.fixture
def archive(tmp_path) -> Path:
    """Five real photos (various modes) and four generated PNG/JPEG files, two in a subfolder."""
    root = tmp_path / "archive"
    (root / "album").mkdir(parents=True)
    for image in sorted((FIXTURES / "images").glob("*.*g")):
        shutil.copy(image, root / image.name)
    rng = np.random.default_rng(7)
    for i, (folder, suffix) in enumerate([("", "png"), ("", "jpg"), ("album", "png"), ("album", "jpg")]):
        pixels = rng.integers(0, 255, (48 + 8 * i, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / folder / f"generated{i}.{suffix}")
    return root


@pytest.fixture
def models_dir() -> Path:
    """The test's IMAGO_HOME models folder with the tiny CLIP bundle installed."""
    folder = config.models_dir()
    install_bundle(CLIP_TINY, folder)
    return folder
